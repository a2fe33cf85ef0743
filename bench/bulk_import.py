"""Bulk import (issue 15, target 3): ``chengxin record import`` of a generated JSON Lines file, end to end.

    python -m bench.bulk_import --records N [--backend sqlite|postgresql] [--json OUT]

Generates a realistic file of N existing records (national definition: every main state an old
system holds, parallel tracks in their states, since-dates, documents with their SHA-256, a
share of civil servants with ID numbers), then times the CLI importing it into an empty database,
each run a child process of its own so its CPU time and peak RSS are its own:

1. N records: records/s, wall, CPU, peak RSS;
2. N/10 records into another empty database: peak RSS again (memory flat: the two peaks);
3. kill and resume: an import of min(N, 20,000) records is killed (SIGKILL) half-way through,
   run again, and the database must then hold every record exactly once, verified by
   ``chengxin audit verify``.

Prints a Markdown summary for BENCHMARKS.md; ``--json OUT`` writes every figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import report

ACTOR = ["--actor", "migration", "--role", "verifier", "--unit", "credit-office"]
SUBJECT_KINDS = ["government", "department", "township", "purchaser", "civil_servant"]
SOURCES = ["judgment", "administrative_penalty", "breach_of_contract", "arrears", "judgment_defaulter"]
DOMAINS = ["procurement", "ppp", "tendering", "investment_attraction", "government_debt", "township", "other"]
UNITS = [f"unit-{i:03d}" for i in range(200)]


def _code(rng: random.Random) -> str:
    from stdnum.cn import uscc

    body = (
        "91"
        + "".join(rng.choice("0123456789") for _ in range(6))
        + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    )
    return body + uscc.calc_check_digit(body)


def _id_number(rng: random.Random) -> str:
    from stdnum.cn import ric

    body = f"110105{rng.randint(1960, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(100, 999)}"
    return body + ric.calc_check_digit(body + "0")


def _state(rng: random.Random) -> tuple[str, dict[str, str]]:
    """A main state an old system holds, with the parallel tracks' states (weights: most records
    are recorded and running)."""
    main = rng.choices(
        ["recorded", "verifying", "submitted", "repaired", "revoked", "rejected", "archived"],
        weights=[70, 8, 5, 7, 3, 4, 3],
    )[0]
    tracks: dict[str, str] = {}
    if main == "recorded":
        tracks["publication"] = rng.choice(["published", "published", "not_published", "pending_decision"])
        tracks["rectification"] = rng.choice(
            ["explanation_due", "rectifying", "rectifying", "report_under_review", "accepted"]
        )
        tracks["sanctions"] = rng.choice(["in_force", "in_force", "mitigated"])
        if rng.random() < 0.05:
            tracks["objection"] = "pending"
    elif main == "repaired":
        tracks = {"publication": "withdrawn", "sanctions": "lifted"}
    elif main == "revoked":
        tracks = {"publication": "withdrawn", "sanctions": "lifted", "restoration": "not_required"}
    return main, tracks


def row(index: int, rng: random.Random, codes: list[str], today: dt.date) -> dict[str, Any]:
    kind = rng.choice(SUBJECT_KINDS)
    finding = today - dt.timedelta(days=rng.randint(20, 900))
    main, tracks = _state(rng)
    fields: dict[str, Any] = {
        "subject_kind": kind,
        "subject_name": f"某单位{index:07d}",
        "responsible_unit": rng.choice(UNITS),
        "finding_unit": rng.choice(UNITS),
        "source_type": rng.choice(SOURCES),
        "document_number": f"（{finding.year}）津0103民初{index}号",
        "finding_date": finding.isoformat(),
        "facts": "拖欠中小企业款项，经催告后仍未支付；" * rng.randint(1, 4),
        "domain": rng.choice(DOMAINS),
        "severity": rng.choice(["general", "general", "serious", "minor"]),
        "documents": [
            {"name": f"判决书{index}.pdf", "sha256": hashlib.sha256(f"doc{index}".encode()).hexdigest()}
        ],
    }
    if kind == "civil_servant":
        fields["subject_id_number"] = _id_number(rng)
        fields["employer"] = "某区人民政府办公室"
        fields["disciplinary_sanction"] = rng.choice(["warning", "demerit", "major_demerit"])
    else:
        fields["subject_code"] = rng.choice(codes)
    main_since = finding + dt.timedelta(days=rng.randint(0, 15))
    since: dict[str, str] = {"main": main_since.isoformat()}
    if tracks.get("rectification") in {"rectifying", "report_under_review"}:
        since["rectification"] = min(today, main_since + dt.timedelta(days=rng.randint(5, 20))).isoformat()
    return {
        "source_id": f"OLD-{index:08d}",
        "state": main,
        "tracks": tracks,
        "since": since,
        "fields": fields,
    }


def generate(path: Path, records: int, *, seed: int = 20261201, today: dt.date | None = None) -> int:
    """Write ``records`` rows to ``path`` (JSON Lines); returns its size in bytes."""
    rng = random.Random(seed)
    today = today or dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()  # the day in China
    codes = [_code(rng) for _ in range(5000)]
    with path.open("w", encoding="utf-8") as handle:
        for index in range(records):
            handle.write(json.dumps(row(index, rng, codes, today), ensure_ascii=False) + "\n")
    return path.stat().st_size


# ------------------------------------------------------------------------------ children


def _child(argv: list[str]) -> int:
    """``_child OUT -- CLI ARGS``: run the CLI in this process, then write its exit code, CPU
    time and peak RSS to OUT."""
    out, cli = argv[0], argv[2:]
    from workflow.cli import main as cli_main

    started = time.perf_counter()
    code = 0
    try:
        sys.argv = ["chengxin", *cli]
        cli_main()
    except SystemExit as exc:
        code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
    usage = resource.getrusage(resource.RUSAGE_SELF)
    Path(out).write_text(
        json.dumps(
            {
                "exit": code,
                "wall": time.perf_counter() - started,
                "cpu": usage.ru_utime + usage.ru_stime,
                "peak_rss_mib": usage.ru_maxrss / 1024,
            }
        ),
        encoding="utf-8",
    )
    return 0


def _cli(folder: Path, name: str, *args: str) -> dict[str, Any]:
    out = folder / f"{name}.json"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.bulk_import", "_child", str(out), "--", *args],
        cwd=report.ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {"exit": -1}
    result["process_wall"] = time.perf_counter() - started
    result["stdout"] = done.stdout
    result["stderr_lines"] = done.stderr.splitlines()[:5]
    return result


def _count(url: str, table: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return int(c.execute(sa.text(f"select count(*) from {table}")).scalar_one())
    finally:
        engine.dispose()


def _timed_import(folder: Path, name: str, url: str, file: Path, records: int) -> dict[str, Any]:
    init = _cli(folder, f"{name}-init", "init", "--db", url)
    if init["exit"] != 0:
        raise SystemExit(f"init failed: {init}")
    run = _cli(folder, name, "record", "import", str(file), "--db", url, *ACTOR, "--json")
    summary = json.loads(run["stdout"]) if run["exit"] == 0 and run["stdout"].strip() else {}
    return {
        "records": records,
        "exit": run["exit"],
        "imported": summary.get("imported"),
        "bad": summary.get("bad"),
        "wall_s": run["wall"],
        "cpu_s": run["cpu"],
        "peak_rss_mib": run["peak_rss_mib"],
        "records_per_s": records / run["wall"] if run["wall"] else 0.0,
        "cpu_ms_per_record": 1000 * run["cpu"] / records if records else 0.0,
        "in_db": _count(url, "record"),
        "errors": run["stderr_lines"],
    }


def _kill_and_resume(folder: Path, url: str, file: Path, records: int, expected_s: float) -> dict[str, Any]:
    """Kill an import half-way (SIGKILL), run it again; every record must be there once."""
    _cli(folder, "resume-init", "init", "--db", url)
    args = [
        sys.executable,
        "-m",
        "workflow.cli",
        "record",
        "import",
        str(file),
        "--db",
        url,
        *ACTOR,
        "--json",
    ]
    process = subprocess.Popen(args, cwd=report.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + max(expected_s, 5) * 3
    before = 0
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        try:
            before = _count(url, "record_import")
        except Exception:  # the schema may not be there yet, or the file is locked
            continue
        if before >= records // 2:
            break
    process.send_signal(signal.SIGKILL)
    process.wait()
    at_kill = _count(url, "record_import")
    second = _cli(folder, "resume", "record", "import", str(file), "--db", url, *ACTOR, "--json")
    summary = json.loads(second["stdout"]) if second["stdout"].strip() else {}
    verify = _cli(folder, "resume-verify", "audit", "verify", "--db", url, "--json")
    in_db, sources = _count(url, "record"), _count(url, "record_import")
    return {
        "records": records,
        "imported_before_kill": at_kill,
        "second_run_imported": summary.get("imported"),
        "second_run_skipped": summary.get("skipped"),
        "records_in_db": in_db,
        "source_rows": sources,
        "exactly_once": in_db == records == sources,
        "verify_exit": verify["exit"],
    }


def run(records: int, backend: str, *, folder: Path) -> dict[str, Any]:
    from bench.scratch import scratch

    small = max(records // 10, 1)
    resume_n = min(records, 20_000)
    big_file, small_file, resume_file = folder / "big.jsonl", folder / "small.jsonl", folder / "resume.jsonl"
    started = time.perf_counter()
    size = generate(big_file, records)
    generate(small_file, small, seed=7)
    generate(resume_file, resume_n, seed=11)
    generated_s = time.perf_counter() - started
    result: dict[str, Any] = {
        "backend": backend,
        "file_bytes": size,
        "generate_s": generated_s,
        "load_start": report.load(),
    }
    with scratch(backend, "import") as where:
        result["large"] = _timed_import(folder, "large", where.url, big_file, records)
    with scratch(backend, "import-small") as where:
        result["small"] = _timed_import(folder, "small", where.url, small_file, small)
    with scratch(backend, "import-resume") as where:
        expected = resume_n / max(result["large"]["records_per_s"], 1.0)
        result["resume"] = _kill_and_resume(folder, where.url, resume_file, resume_n, expected)
    result["load_end"] = report.load()
    return result


def markdown(result: dict[str, Any], command: str) -> str:
    large, small, resume = result["large"], result["small"], result["resume"]
    lines = [
        f"Command: `{command}`",
        "",
        *report.machine(None),
        f"- backend {result['backend']}; load average at start {result['load_start']}, at end {result['load_end']}",
        f"- file: {large['records']:,} records, {result['file_bytes'] / 1024**2:.0f} MiB JSON Lines "
        f"(generated in {result['generate_s']:.0f} s, not timed)",
        "",
        "| run | records | wall s | records/s | CPU s | CPU ms/record | peak RSS MiB | in DB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, r in (("import", large), ("import (1/10 size)", small)):
        lines.append(
            f"| {label} | {r['records']:,} | {r['wall_s']:.1f} | {r['records_per_s']:,.0f} | {r['cpu_s']:.1f} "
            f"| {r['cpu_ms_per_record']:.3f} | {r['peak_rss_mib']:.0f} | {r['in_db']:,} |"
        )
    lines += [
        "",
        f"Kill and resume ({resume['records']:,} records): killed with {resume['imported_before_kill']:,} imported; "
        f"the second run imported {resume['second_run_imported']}, skipped {resume['second_run_skipped']}; "
        f"{resume['records_in_db']:,} records and {resume['source_rows']:,} source rows in the database "
        f"(exactly once: {'yes' if resume['exactly_once'] else 'NO'}); `audit verify` exit {resume['verify_exit']}.",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["_child"]:
        return _child(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench.bulk_import", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--json", dest="json_out", default=None, help="write every figure to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="chengxin-bench-import-") as folder:
        result = run(args.records, args.backend, folder=Path(folder))
    command = "python -m bench.bulk_import " + " ".join(argv)
    result["command"] = command
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(markdown(result, command))
    return 0 if result["large"]["exit"] == 0 and result["resume"]["exactly_once"] else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main(sys.argv[1:]))
