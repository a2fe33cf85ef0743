"""Wall time of the ``chengxin`` command line: ``--help``, ``record show ID`` and ``record list``,
beside ``python -c pass`` measured in the same run.

    python -m bench.startup [--repeat 9] [--json results.json] [--baseline /path/to/other/checkout]

Each command runs as a fresh process (as a caseworker runs it: ``python -m workflow.cli``, the
same code as the installed ``chengxin`` script) against a SQLite database made for the run in a
temporary folder, holding one submitted record. The commands run interleaved, ``repeat`` rounds,
so a busy minute on a shared machine slows every one of them alike; the table gives the median
and the fastest run of each, the median CPU time (user + system), and the one-minute load
average before and after. Bytecode is written and used (``PYTHONDONTWRITEBYTECODE`` is dropped),
as for an installed package; the definitions cache lives in the run's folder, filled by the
set-up commands. ``--baseline`` times the same commands of another checkout (its
``PYTHONPATH``) in the same rounds, e.g. the commit before this work. The targets (issue 14):
``--help`` under 0.3 s, a read under 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"chengxin --help": 0.3, "chengxin record show ID": 0.5, "chengxin record list": 0.5}
SUBMIT = [
    "record", "submit", "-d", "national", "--actor", "li.lei", "--role", "recorder", "--unit", "court-3",
    "-s", "subject_kind=department", "-s", "subject_name=某区住房和建设委员会",
    "-s", "subject_code=91110000600037341L", "-s", "responsible_unit=hexi-zjw",
    "-s", "superior_unit=hexi-gov", "-s", "finding_unit=court-3", "-s", "source_type=judgment",
    "-s", "document_number=（2026）津0103民初1234号", "-s", "finding_date=2026-05-08",
    "-s", "facts=拖欠工程款", "-s", "domain=procurement", "-s", "severity=一般", "--json",
]  # fmt: skip


def cli(*args: str) -> list[str]:
    """``chengxin ARGS`` as the installed script runs it (works for checkouts without ``__main__``)."""
    return [sys.executable, "-c", "from workflow.cli import main; main()", *args]


def timed(command: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run (in ``cwd``, a folder with no code:
    ``-c`` would import from the current one). CPU time moves less than wall time when other
    work shares the machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--baseline", type=Path, help="another checkout to time beside this one")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "CHENGXIN_DATABASE_URL": f"sqlite:///{folder}/bench.db"}
        env["CHENGXIN_MAIL_DIR"] = f"{folder}/mail"
        env["CHENGXIN_CACHE_DIR"] = f"{folder}/cache"  # filled by init and submit, as by a first command
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its bytecode compiled
        env["PYTHONPATH"] = os.pathsep.join(
            [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")]
        )
        subprocess.run(cli("init"), env=env, cwd=folder, check=True, capture_output=True)
        done = subprocess.run(cli(*SUBMIT), env=env, cwd=folder, check=True, capture_output=True, text=True)
        record_id = json.loads(done.stdout)["id"]
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "chengxin --help": cli("--help"),
            "chengxin record show ID": cli("record", "show", record_id),
            "chengxin record list": cli("record", "list"),
        }
        envs = dict.fromkeys(commands, env)
        if options.baseline is not None:
            other = {**env, "PYTHONPATH": str(options.baseline.resolve())}
            for name in list(commands)[1:]:
                commands[f"{name} (baseline)"] = commands[name]
                envs[f"{name} (baseline)"] = other
        load_before = os.getloadavg()[0]
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(options.repeat):
            for name, command in commands.items():
                wall, used = timed(command, envs[name], folder)
                times[name].append(wall)
                cpu[name].append(used)
        load_after = os.getloadavg()[0]
    print(f"{options.repeat} runs each, interleaved; load average {load_before:.2f} → {load_after:.2f}")
    print(f"{'command':<37} {'median s':>9} {'best s':>8} {'CPU s':>7} {'target s':>9}")
    results = {}
    for name, runs in times.items():
        target = TARGETS.get(name)
        median, used = statistics.median(runs), statistics.median(cpu[name])
        results[name] = {
            "median": median,
            "best": min(runs),
            "cpu_median": used,
            "target": target,
            "runs": runs,
            "cpu": cpu[name],
        }
        shown = f"{target:.1f}" if target else ""
        print(f"{name:<37} {median:>9.3f} {min(runs):>8.3f} {used:>7.3f} {shown:>9}")
    if options.json:
        options.json.write_text(json.dumps({"load": [load_before, load_after], "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
