"""``python -m bench``: chengxin beside its peers, and the engine-core benchmarks, as Markdown for ``BENCHMARKS.md``.

    python -m bench steps   [--records N] [--rounds R] [--backend …] [--peers DIR]   steps/s beside the peers, in rounds
    python -m bench all     [--records N] [--rounds R] [--quick] [--skip X …]        every target of issue 15 in one run
    python -m bench replay  [--records N] …                                          verify and replay events/s
    python -m bench profile [--records N] [--output DIR]                             where the time goes (pyinstrument)

``steps`` and ``all`` run the contenders in rounds, interleaved, each round in a rotated order,
each contender a child process of its own: on SQLite the peers of ``../shared/peers`` (raw
``sqlite3``, transitions + SQLModel, SpiffWorkflow reloading its JSON; their environment is made
by ``bench.peers`` outside the project's ``.venv``), the raw ``sqlite3`` baseline writing the
engine's own rows, and chengxin; on PostgreSQL raw ``psycopg``, chengxin with one worker and two
worker processes at once on distinct records. ``all`` adds verify on both backends, memory at two
sizes, the deadline sweep among many pending (``bench.sweep``) and the bulk import
(``python -m bench.bulk_import``, when that module is in the tree), then the targets table.

The parent process only creates and removes scratch databases and prints; each measurement
runs in a child (``_steps``, ``_init``, ``_verify``, ``_baseline``, ``_profile``) so its peak RSS is
its own. Every figure printed is one this run measured; nothing is carried over from earlier runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import report

ROOT = report.ROOT
SKIPPABLE = (
    "peers",
    "spiff",
    "orm",
    "raw",
    "baseline",
    "sqlite",
    "postgresql",
    "workers",
    "verify",
    "memory",
    "sweep",
    "import",
)
QUICK = {
    "records": 60,
    "rounds": 1,
    "small": 20,
    "traced": 5,
    "spiff_records": 60,
    "import_records": 500,
    "sweep_pending": 2_000,
    "sweep_due": 50,
}


# ------------------------------------------------------------------------------ workers


def _write(path: str, value: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(value, ensure_ascii=False, default=str), encoding="utf-8")


def _worker(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench (worker)")
    parser.add_argument("kind", choices=["_steps", "_init", "_verify", "_baseline", "_profile"])
    parser.add_argument("--output", default="")
    parser.add_argument("--url", default="")
    parser.add_argument("--out", required=True)
    parser.add_argument("--records", type=int, default=0)
    parser.add_argument("--traced", type=int, default=0)
    parser.add_argument("--sweep", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--fresh", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--barrier", default="")
    parser.add_argument("--log", default="json")
    parser.add_argument("--label", default="")
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--dsn", default="")
    parser.add_argument("--schema", default="")
    args = parser.parse_args(argv)
    from bench import lifecycle

    lifecycle.configure_logging(args.log)
    if args.kind == "_steps":
        result = lifecycle.run(
            args.url,
            records=args.records,
            traced=args.traced,
            do_sweep=args.sweep,
            label=args.label,
            fresh=args.fresh,
            offset=args.offset,
            barrier=args.barrier,
        )
    elif args.kind == "_init":
        lifecycle.init(args.url)
        result = {"url": args.url}
    elif args.kind == "_profile":
        from bench import profiling

        result = profiling.run(args.url, records=args.records, output=args.output or None, label=args.label)
    elif args.kind == "_verify":
        from bench import verification

        result = verification.run(args.url)
    else:
        from bench import baseline

        template = lifecycle.template()
        if args.backend == "sqlite":
            result = baseline.sqlite(args.dsn, template, args.records)
        else:
            result = baseline.postgresql(args.dsn, args.schema, template, args.records)
    _write(args.out, result)
    return 0


def _command(folder: Path, name: str, *argv: str) -> tuple[list[str], Path]:
    out = folder / f"{name}.json"
    return [sys.executable, "-m", "bench", *argv, "--out", str(out)], out


def _child(folder: Path, name: str, *argv: str) -> dict[str, Any]:
    command, out = _command(folder, name, *argv)
    completed = subprocess.run(command, cwd=ROOT, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"benchmark child failed ({completed.returncode}): {shlex.join(command)}")
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- pipeline


def _baseline(args: argparse.Namespace, backend: str, folder: Path, when: str) -> dict[str, Any]:
    from bench.scratch import scratch

    driver = "sqlite3" if backend == "sqlite" else "psycopg"
    _say(f"{backend}: raw {driver} baseline with the engine's rows ({when}), {args.records} records …")
    with scratch(backend, "raw") as db:
        result = _child(
            folder,
            f"{backend}-baseline-{when}",
            "_baseline",
            "--backend",
            backend,
            "--dsn",
            db.dsn,
            "--schema",
            db.schema or "",
            "--records",
            str(args.records),
        )
    result["driver"] = driver
    return result


def _steps_argv(args: argparse.Namespace, url: str, size: int, label: str) -> list[str]:
    return [
        "_steps",
        "--url",
        url,
        "--records",
        str(size),
        "--traced",
        str(args.traced),
        "--sweep" if args.sweep else "--no-sweep",
        "--log",
        args.log,
        "--label",
        label,
    ]


def _engine_run(args: argparse.Namespace, backend: str, folder: Path, size: int, tag: str) -> dict[str, Any]:
    """One engine run of ``size`` records on a fresh database, then verify over it if asked."""
    from bench.scratch import scratch

    label = f"{backend[:2]}{size}{tag}"
    _say(f"{backend}: chengxin, {size} records through the national happy path …")
    with scratch(backend, f"n{size}") as db:
        run: dict[str, Any] = {
            "steps": _child(folder, f"{label}-steps", *_steps_argv(args, db.url, size, f"{backend} n={size}"))
        }
        if args.verify and not tag:
            _say(f"{backend}: verify and replay over {size} records …")
            run["verify"] = _child(folder, f"{label}-verify", "_verify", "--url", db.url)
    return run


def _two_workers(args: argparse.Namespace, folder: Path, tag: str) -> dict[str, Any]:
    """Two worker processes at once on one PostgreSQL database, each on records of its own."""
    from bench.scratch import scratch

    each = max(1, args.records // 2)
    _say(f"postgresql: chengxin, two workers at once, {each} records each …")
    with scratch("postgresql", "w2") as db, tempfile.TemporaryDirectory(prefix="chengxin-bench-go-") as go:
        _child(folder, f"w2{tag}-init", "_init", "--url", db.url)
        running = []
        for worker in range(2):
            argv = _steps_argv(args, db.url, each, f"worker {worker + 1}")
            argv[argv.index("--traced") + 1] = "0"
            argv[argv.index("--sweep")] = "--no-sweep"
            argv += ["--no-fresh", "--offset", str(worker * each), "--barrier", go]
            command, out = _command(folder, f"w2{tag}-{worker}", *argv)
            running.append((subprocess.Popen(command, cwd=ROOT), out, command))
        deadline = time.monotonic() + 600
        while len(list(Path(go).glob("ready-*"))) < 2:
            if any(p.poll() is not None for p, _, _ in running) or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        (Path(go) / "go").touch()
        workers = []
        for process, out, command in running:
            if process.wait() != 0:
                raise SystemExit(f"benchmark child failed ({process.returncode}): {shlex.join(command)}")
            workers.append(json.loads(out.read_text(encoding="utf-8")))
    start = min(w["wall_start"] for w in workers)
    end = max(w["wall_end"] for w in workers)
    return {
        "workers": 2,
        "records": each * 2,
        "steps": sum(w["steps"] for w in workers),
        "seconds": end - start,
        "cpu_seconds": sum(w["cpu_seconds"] for w in workers),
        "per_worker": [{"steps": w["steps"], "seconds": w["seconds"]} for w in workers],
    }


def _contenders(args: argparse.Namespace, backend: str, peers: Any) -> list[str]:
    from bench.peers import CONTENDERS

    keys: list[str] = []
    if backend == "sqlite":
        if peers is not None and "peers" not in args.skip:
            keys += [k for k in CONTENDERS if k not in args.skip]
        if "baseline" not in args.skip:
            keys.append("baseline")
        keys.append("chengxin")
    else:
        if "baseline" not in args.skip:
            keys.append("baseline")
        keys.append("chengxin")
        if "workers" not in args.skip:
            keys.append("chengxin2")
    return keys


def _rounds(args: argparse.Namespace, backend: str, folder: Path, peers: Any) -> dict[str, Any]:
    """The contenders of ``backend`` in ``args.rounds`` rounds, each round in a rotated order."""
    from bench import peers as peer_scripts

    keys = _contenders(args, backend, peers)
    rounds: list[dict[str, Any]] = []
    runs: dict[str, dict[str, Any]] = {}
    for number in range(args.rounds):
        shift = number % len(keys)
        order = keys[shift:] + keys[:shift]
        entry: dict[str, Any] = {"order": order}
        last = number == args.rounds - 1
        for key in order:
            tag = "" if last else f"-r{number}"
            if key == "chengxin":
                run = _engine_run(args, backend, folder, args.records, tag)
                entry[key] = run["steps"]
                if last:
                    runs[str(args.records)] = run
            elif key == "chengxin2":
                entry[key] = _two_workers(args, folder, f"-r{number}")
            elif key == "baseline":
                entry[key] = _baseline(args, backend, folder, f"round {number + 1}")
            else:
                size = args.spiff_records if key == "spiff" else args.records
                _say(f"{backend}: {peer_scripts.CONTENDERS[key][3]}, {size} records …")
                entry[key] = peer_scripts.run(
                    peers, key, size, folder / "peers-data", folder / f"peer-{key}-r{number}.json"
                )
                if "error" in entry[key]:
                    _say(f"{backend}: {entry[key]['error']}")
        rounds.append(entry)
    return {"rounds": rounds, "runs": runs}


def _backend_run(args: argparse.Namespace, backend: str, folder: Path, peers: Any) -> dict[str, Any]:
    """The rounds, then (``all``) the smaller run for memory; verify rides on the last round's database."""
    result = _rounds(args, backend, folder, peers)
    if args.small and "memory" not in args.skip:
        result["runs"][str(args.small)] = _engine_run(args, backend, folder, args.small, "")
    return result


def _sweep(args: argparse.Namespace) -> dict[str, Any]:
    from bench import sweep

    _say(f"sweep: {args.sweep_due} due among {args.sweep_pending} pending (bench.sweep) …")
    try:
        return sweep._run("engine", args.sweep_pending, args.sweep_due)
    except (subprocess.CalledProcessError, OSError, ValueError) as exc:
        return {"skipped": f"bench.sweep failed: {exc}"}


IMPORT_KEYS = ("records", "seconds", "records_per_s", "cpu_s", "peak_rss_mib")


def import_figures(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The figures the report shows, from the JSON ``bench.bulk_import`` wrote; None if they are not there.

    Either flat (``IMPORT_KEYS``), or its timed run under ``large`` (``records``, ``wall_s``,
    ``records_per_s``, ``cpu_s``, ``peak_rss_mib``) with ``small`` (the same at 1/10 size) and
    ``resume`` (``exactly_once`` after a kill) beside it.
    """
    if all(k in raw for k in IMPORT_KEYS):
        return raw
    large = raw.get("large")
    if not isinstance(large, dict) or not {
        "records",
        "wall_s",
        "records_per_s",
        "cpu_s",
        "peak_rss_mib",
    } <= set(large):
        return None
    figures: dict[str, Any] = {
        "records": large["records"],
        "seconds": large["wall_s"],
        "records_per_s": large["records_per_s"],
        "cpu_s": large["cpu_s"],
        "peak_rss_mib": large["peak_rss_mib"],
    }
    small = raw.get("small")
    if isinstance(small, dict) and {"records", "peak_rss_mib"} <= set(small):
        figures["small"] = {"records": small["records"], "peak_rss_mib": small["peak_rss_mib"]}
    resume = raw.get("resume")
    if isinstance(resume, dict) and "exactly_once" in resume:
        figures["exactly_once"] = bool(resume["exactly_once"])
    return figures


def _bulk_import(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """``python -m bench.bulk_import --records N --backend sqlite --json OUT`` as a child.

    Its Markdown goes to stderr with the progress lines; its JSON is read by ``import_figures``
    (kept whole in ``--json`` under ``raw``).
    """
    if not (ROOT / "bench" / "bulk_import.py").is_file():
        return {"skipped": "bench/bulk_import.py is not in this tree"}
    out = folder / "bulk-import.json"
    command = [sys.executable, "-m", "bench.bulk_import", "--records", str(args.import_records)]
    command += ["--backend", "sqlite", "--json", str(out)]
    _say(f"bulk import: {shlex.join(command[1:])} …")
    done = subprocess.run(command, cwd=ROOT, stdout=sys.stderr, check=False)
    if not out.is_file():
        return {"skipped": f"bench.bulk_import wrote no JSON (exit {done.returncode})"}
    raw: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    figures = import_figures(raw)
    if figures is None:
        return {"skipped": f"bench.bulk_import's JSON lacks {', '.join(IMPORT_KEYS)}", "raw": raw}
    return {**figures, "exit": done.returncode, "raw": raw}


# -------------------------------------------------------------------------------- main


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmarks of the chengxin engine core (Markdown output)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("steps", "persisted lifecycle steps/s beside the peers and the raw drivers, in rounds"),
        ("replay", "replay-and-verify events/s over a database filled by the step run"),
        (
            "all",
            "every target of issue 15: steps beside the peers, PostgreSQL workers, verify, memory, sweep, import",
        ),
    ):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument(
            "--records", type=int, default=None, help="records driven through, 8 steps each (default 10000)"
        )
        sub.add_argument(
            "--rounds", type=int, default=None, help="rounds of the interleaved contenders (default 2)"
        )
        sub.add_argument(
            "--quick", action="store_true", help="a smoke run: tiny sizes, one round (figures mean nothing)"
        )
        sub.add_argument(
            "--skip",
            action="append",
            default=[],
            choices=SKIPPABLE,
            metavar="PART",
            help=f"leave out a part (repeatable): {', '.join(SKIPPABLE)}",
        )
        sub.add_argument(
            "--peers",
            default=None,
            help="the peers' folder (default: CHENGXIN_PEERS_DIR, else ../shared/peers)",
        )
        sub.add_argument(
            "--spiff-records", type=int, default=None, help="records for SpiffWorkflow (default: --records)"
        )
        sub.add_argument(
            "--small",
            type=int,
            default=None,
            help="also run at this smaller size to compare memory (default 2000 for 'all', else 0 = off)",
        )
        sub.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
        sub.add_argument(
            "--import-records", type=int, default=None, help="bulk import size (default 1000000)"
        )
        sub.add_argument(
            "--sweep-pending", type=int, default=None, help="pending deadlines (default 1000000)"
        )
        sub.add_argument(
            "--sweep-due", type=int, default=None, help="due deadlines among them (default 1000)"
        )
        sub.add_argument(
            "--traced", type=int, default=None, help="extra lifecycles run under tracemalloc (default 200)"
        )
        sub.add_argument(
            "--sweep",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="let publication expire and archive through run_due after the timed steps (default on)",
        )
        sub.add_argument(
            "--log",
            choices=["json", "off"],
            default="json",
            help="json: the engine's production JSON log lines at INFO, to /dev/null (default); off: WARNING",
        )
        sub.add_argument("--json", type=Path, default=None, help="also write the raw results to this file")
    sub = commands.add_parser(
        "profile",
        help="the step loop and verify under pyinstrument: where the time goes",
        description="the step loop and verify under pyinstrument (pip install pyinstrument)",
    )
    sub.add_argument("--records", type=int, default=300, help="lifecycles profiled (default 300)")
    sub.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    sub.add_argument("--log", choices=["json", "off"], default="json")
    sub.add_argument("--output", type=Path, default=None, help="also write pyinstrument's full trees here")
    return parser


def _profile(args: argparse.Namespace, argv: list[str]) -> int:
    from bench.scratch import pg_problem, scratch

    print(f"Command: `{shlex.join(['python', '-m', 'bench', *argv])}`\n")
    print(*report.machine(None), sep="\n")
    print()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory(prefix="chengxin-bench-results-") as folder:
        for backend in backends:
            if backend == "postgresql" and (problem := pg_problem()) is not None:
                print(f"- postgresql: skipped — {problem}\n")
                continue
            with scratch(backend, "prof") as db:
                result = _child(
                    Path(folder),
                    f"{backend}-profile",
                    "_profile",
                    "--url",
                    db.url,
                    "--records",
                    str(args.records),
                    "--log",
                    args.log,
                    "--label",
                    backend,
                    *(["--output", str(args.output.resolve())] if args.output else []),
                )
            print(result["markdown"])
    return 0


def _sizes(args: argparse.Namespace) -> str | None:
    """Fill the defaults (``--quick`` ones if asked); a problem with the sizes, or None."""
    defaults: dict[str, int] = {
        "records": 10_000,
        "rounds": 2,
        "small": 2_000 if args.command == "all" else 0,
        "traced": 200,
        "import_records": 1_000_000,
        "sweep_pending": 1_000_000,
        "sweep_due": 1_000,
    }
    if args.quick:
        defaults.update(QUICK)
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.spiff_records is None:
        args.spiff_records = defaults.get("spiff_records", args.records)
    for key in ("records", "rounds", "spiff_records", "import_records", "sweep_pending", "sweep_due"):
        if getattr(args, key) < 1:
            return f"--{key.replace('_', '-')} 必须至少为 1 / must be at least 1 (got {getattr(args, key)})"
    if args.small and args.small >= args.records:
        return f"--small ({args.small}) 必须小于 --records / must be smaller than --records ({args.records})"
    return None


def _peers(args: argparse.Namespace, backends: list[str], results: dict[str, Any]) -> Any:
    """The peers ready to run (``bench.peers.Peers``), or None with the reason in ``results``."""
    from bench import peers as peer_scripts

    if "sqlite" not in backends or args.command == "replay":
        return None
    if "peers" in args.skip:
        results["peers"] = {"skipped": "left out (--skip peers)"}
        return None
    ready = peer_scripts.prepare(args.peers, log=_say)
    if isinstance(ready, str):
        _say(f"peers: {ready}")
        results["peers"] = {"skipped": ready}
        return None
    results["peers"] = {"folder": str(ready.folder), "env": str(ready.env), "made": ready.made}
    return ready


def main(argv: list[str]) -> int:
    if argv and argv[0].startswith("_"):
        return _worker(argv)
    args = _parser().parse_args(argv)
    if args.command == "profile":
        return _profile(args, argv)
    problem = _sizes(args)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    full = args.command == "all"
    args.verify = args.command in {"replay", "all"} and "verify" not in args.skip
    if args.command == "replay":
        args.rounds, args.skip = 1, [*args.skip, "peers", "baseline", "workers"]
    command = shlex.join(["python", "-m", "bench", *argv])
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    backends = [b for b in backends if b not in args.skip]

    from bench.scratch import pg_problem, pg_server_version

    pg_version = None
    results: dict[str, Any] = {
        "settings": {
            k: getattr(args, k)
            for k in (
                "records",
                "rounds",
                "spiff_records",
                "small",
                "traced",
                "import_records",
                "sweep_pending",
                "sweep_due",
                "skip",
                "quick",
            )
        }
    }
    # the code measured is the code at the start: commits made during a long run do not count
    os.environ.setdefault("CHENGXIN_BENCH_SOURCE", report.source())
    started, load_before, date_before = time.perf_counter(), report.load(), report.now()
    peers = _peers(args, backends, results)
    for backend in ("sqlite", "postgresql"):
        if backend not in backends:
            results[backend] = {"skipped": "left out (--skip / --backend)"}
    if "postgresql" in backends:
        pg = pg_problem()
        if pg is not None:
            if args.backend == "postgresql":
                print(pg, file=sys.stderr)
                return 1
            results["postgresql"] = {"skipped": pg}
            backends.remove("postgresql")
        else:
            pg_version = pg_server_version()
    with tempfile.TemporaryDirectory(prefix="chengxin-bench-results-") as name:
        folder = Path(name)
        for backend in backends:
            results[backend] = _backend_run(args, backend, folder, peers)
        if full:
            results["sweep"] = (
                {"skipped": "left out (--skip sweep)"} if "sweep" in args.skip else _sweep(args)
            )
            results["import"] = (
                {"skipped": "left out (--skip import)"}
                if "import" in args.skip
                else _bulk_import(args, folder)
            )
    environment = report.machine(pg_version)
    environment.append(
        f"- wall time of the whole run: {time.perf_counter() - started:,.0f} s, from {date_before}; load average "
        f"(1, 5, 15 min) at start {load_before}, at end {report.load()} — other work on the machine slows "
        "every contender alike"
    )
    print(report.render(command, environment, results, full=full))
    if args.json:
        args.json.write_text(json.dumps({"command": command, "results": results}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
