"""CPU per persisted step, and where it goes: ``python -m bench.step_profile``.

Drives ``--records`` records through the eight happy-path commands of ``national``
(``bench.lifecycle.drive``) on a fresh SQLite or PostgreSQL database and prints steps/s, wall
and CPU milliseconds per step (``time.process_time``), and the statements per step the
engine sent to the driver. With ``--profile`` the loop runs a second time under cProfile
and the functions with the most own time are printed, with the cumulative time of the
write path's phases (load, decide, write set, commit, log).

    python -m bench.step_profile --records 1000
    python -m bench.step_profile --records 300 --profile
    python -m bench.step_profile --backend postgresql --records 300
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

USAGE: list[float] = [0.0, 0.0]  # user and system CPU seconds of the last loop
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PHASES = (
    ("Engine.fire / register", "facade.py", ("fire", "register")),
    ("Commands.apply / create", "commands.py", ("apply", "create")),
    ("decide", "decide.py", ("decide",)),
    ("writeset.build", "writeset.py", ("build",)),
    ("UnitOfWork.load", "store.py", ("load",)),
    ("UnitOfWork.commit", "store.py", ("commit",)),
    ("driver commit", "~", ("<method 'commit' of 'sqlite3.Connection' objects>",)),
    ("Commands._log", "commands.py", ("_log",)),
    ("view_after", "views.py", ("view_after",)),
)


def _engine(backend: str, folder: str) -> tuple[Any, Any, Any]:
    from bench.lifecycle import T0
    from workflow import Engine, ManualClock

    if backend == "sqlite":
        url = f"sqlite:///{folder}/steps.db"
        cleanup = None
    else:
        import uuid

        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as c:
            c.execute(f'create schema "{schema}"')
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"

        def cleanup() -> None:
            with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as c:
                c.execute(f'drop schema "{schema}" cascade')

    Engine.init(url, simulated_start=T0)[0].close()
    clock = ManualClock(T0)
    return Engine.open(url, clock=clock), clock, cleanup


def _loop(engine: Any, clock: Any, start: int, records: int) -> tuple[int, float, float]:
    from bench.lifecycle import drive

    steps = 0
    before = resource.getrusage(resource.RUSAGE_SELF)
    wall, cpu = time.perf_counter(), time.process_time()
    for index in range(start, start + records):
        steps += drive(engine, clock, index)
    after = resource.getrusage(resource.RUSAGE_SELF)
    USAGE[:] = [after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime]
    return steps, time.perf_counter() - wall, time.process_time() - cpu


def _phase_table(stats: pstats.Stats, steps: int) -> list[str]:
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    lines = ["| phase | cumulative s | µs per step |", "|---|---:|---:|"]
    for label, suffix, names in PHASES:
        total = 0.0
        for (filename, _line, function), (_cc, _nc, _tt, ct, _callers) in raw.items():
            if function in names and filename.endswith(suffix):
                total += ct
        lines.append(f"| {label} | {total:.3f} | {total / steps * 1e6:,.0f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--profile", action="store_true", help="a second loop under cProfile")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)

    from bench.lifecycle import configure_logging

    configure_logging("json")
    with tempfile.TemporaryDirectory(prefix="chengxin-step-profile-", dir=os.environ.get("TMPDIR")) as folder:
        engine, clock, cleanup = _engine(args.backend, folder)
        try:
            _loop(engine, clock, 0, args.warmup)
            steps, wall, cpu = _loop(engine, clock, args.warmup, args.records)
            print(f"load average: {Path('/proc/loadavg').read_text().strip()}")
            print(
                f"{args.backend}: {args.records} records, {steps} steps in {wall:.2f} s: "
                f"{steps / wall:,.0f} steps/s, {wall / steps * 1e3:.3f} ms/step wall, "
                f"{cpu / steps * 1e3:.3f} ms/step CPU "
                f"(user {USAGE[0] / steps * 1e3:.3f}, system {USAGE[1] / steps * 1e3:.3f})"
            )
            if args.profile:
                profiler = cProfile.Profile()
                start = args.warmup + args.records
                profiler.enable()
                psteps, pwall, _ = _loop(engine, clock, start, args.records)
                profiler.disable()
                stats = pstats.Stats(profiler)
                print(f"\nunder cProfile: {psteps} steps in {pwall:.2f} s\n")
                print("\n".join(_phase_table(stats, psteps)))
                print()
                stats.sort_stats("tottime").print_stats(args.top)
        finally:
            engine.close()
            if cleanup is not None:
                cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
