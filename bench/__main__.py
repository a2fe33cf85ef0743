"""``python -m bench``: run the engine-core benchmarks and print Markdown for ``BENCHMARKS.md``.

    python -m bench steps   [--records N] [--backend sqlite|postgresql|both] …   steps/s and the raw baselines
    python -m bench replay  [--records N] …                                    verify and replay events/s
    python -m bench all     [--records N] [--small M] …                        everything, memory at two sizes
    python -m bench profile [--records N] [--output DIR]                       where the time goes (pyinstrument)

The parent process only creates and removes scratch databases and prints; each measurement
runs in a child (``_steps``, ``_verify``, ``_baseline``, ``_profile``) so its peak RSS is its own. Every
figure printed is one this run measured; nothing is carried over from earlier runs.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import report

ROOT = report.ROOT


# ------------------------------------------------------------------------------ workers


def _write(path: str, value: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(value, ensure_ascii=False, default=str), encoding="utf-8")


def _worker(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench (worker)")
    parser.add_argument("kind", choices=["_steps", "_verify", "_baseline", "_profile"])
    parser.add_argument("--output", default="")
    parser.add_argument("--url", default="")
    parser.add_argument("--out", required=True)
    parser.add_argument("--records", type=int, default=0)
    parser.add_argument("--traced", type=int, default=0)
    parser.add_argument("--sweep", action=argparse.BooleanOptionalAction, default=True)
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
            args.url, records=args.records, traced=args.traced, do_sweep=args.sweep, label=args.label
        )
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


def _child(folder: Path, name: str, *argv: str) -> dict[str, Any]:
    out = folder / f"{name}.json"
    command = [sys.executable, "-m", "bench", *argv, "--out", str(out)]
    completed = subprocess.run(command, cwd=ROOT, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"benchmark child failed ({completed.returncode}): {shlex.join(command)}")
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


# ----------------------------------------------------------------------------- pipeline


def _baseline(args: argparse.Namespace, backend: str, folder: Path, when: str) -> dict[str, Any]:
    from bench.scratch import scratch

    driver = "sqlite3" if backend == "sqlite" else "psycopg"
    print(
        f"{backend}: raw {driver} baseline ({when} the engine run), {args.baseline_records} records …",
        file=sys.stderr,
        flush=True,
    )
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
            str(args.baseline_records),
        )
    result["driver"] = driver
    return result


def _engine_run(args: argparse.Namespace, backend: str, folder: Path, size: int) -> dict[str, Any]:
    from bench.scratch import scratch

    label = f"{backend[:2]}{size}"
    print(f"{backend}: {size} records through the national happy path …", file=sys.stderr, flush=True)
    with scratch(backend, f"n{size}") as db:
        run: dict[str, Any] = {
            "steps": _child(
                folder,
                f"{label}-steps",
                "_steps",
                "--url",
                db.url,
                "--records",
                str(size),
                "--traced",
                str(args.traced),
                "--sweep" if args.sweep else "--no-sweep",
                "--log",
                args.log,
                "--label",
                f"{backend} n={size}",
            )
        }
        if args.verify:
            print(f"{backend}: verify and replay over {size} records …", file=sys.stderr, flush=True)
            run["verify"] = _child(folder, f"{label}-verify", "_verify", "--url", db.url)
    return run


def _backend_run(args: argparse.Namespace, backend: str, folder: Path) -> dict[str, Any]:
    """The small run (if any), then the main run bracketed by a raw baseline before and after it.

    Disk flush rates drift on shared machines; a baseline on each side of the engine run shows
    how much, and the ratio is taken against their mean.
    """
    runs: dict[str, dict[str, Any]] = {}
    result: dict[str, Any] = {"runs": runs}
    if args.small:
        runs[str(args.small)] = _engine_run(args, backend, folder, args.small)
    if args.baseline:
        result["baseline_before"] = _baseline(args, backend, folder, "before")
    runs[str(args.records)] = _engine_run(args, backend, folder, args.records)
    if args.baseline:
        result["baseline_after"] = _baseline(args, backend, folder, "after")
    return result


# -------------------------------------------------------------------------------- main


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmarks of the chengxin engine core (Markdown output)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("steps", "persisted lifecycle steps/s against the raw driver baselines"),
        ("replay", "replay-and-verify events/s over a database filled by the step run"),
        ("all", "steps, baselines, verify and replay, and memory at two database sizes"),
    ):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("--records", type=int, default=10_000, help="records driven through (default 10000)")
        sub.add_argument(
            "--small",
            type=int,
            default=2_000 if name == "all" else 0,
            help="also run at this smaller size to compare memory (default 2000 for 'all', else 0 = off)",
        )
        sub.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
        sub.add_argument(
            "--baseline-records",
            type=int,
            default=None,
            help="records the raw baseline writes, 8 steps each (default: --records)",
        )
        sub.add_argument(
            "--traced", type=int, default=200, help="extra lifecycles run under tracemalloc (default 200)"
        )
        sub.add_argument(
            "--sweep",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="let publication expire and archive through run_due (default on)",
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


def main(argv: list[str]) -> int:
    if argv and argv[0].startswith("_"):
        return _worker(argv)
    args = _parser().parse_args(argv)
    if args.command == "profile":
        return _profile(args, argv)
    args.baseline = args.command in {"steps", "all"}
    args.verify = args.command in {"replay", "all"}
    args.baseline_records = args.baseline_records or args.records
    if args.small and args.small >= args.records:
        raise SystemExit(f"--small ({args.small}) must be smaller than --records ({args.records})")
    command = shlex.join(["python", "-m", "bench", *argv])
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]

    from bench.scratch import pg_problem, pg_server_version

    pg_version = None
    results: dict[str, Any] = {}
    if "postgresql" in backends:
        problem = pg_problem()
        if problem is not None:
            if args.backend == "postgresql":
                raise SystemExit(problem)
            results["postgresql"] = {"skipped": problem}
            backends.remove("postgresql")
        else:
            pg_version = pg_server_version()
    started, load_before = time.perf_counter(), report.load()
    with tempfile.TemporaryDirectory(prefix="chengxin-bench-results-") as folder:
        for backend in backends:
            results[backend] = _backend_run(args, backend, Path(folder))
    environment = report.machine(pg_version)
    environment.append(
        f"- wall time of the whole run: {time.perf_counter() - started:,.0f} s; load average (1, 5, 15 min) "
        f"at start {load_before}, at end {report.load()} — other work on the machine slows engine and "
        "baseline alike"
    )
    tables = report.Report(records=args.records, baseline_records=args.baseline_records)
    for backend, result in results.items():
        tables.add(backend, result)
    print(tables.markdown(command, environment))
    if args.json:
        args.json.write_text(json.dumps({"command": command, "results": results}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
