"""Bytes written per step: WAL frames of one engine command beside one raw baseline step (SQLite).

    python -m bench.wal [--records 40]

With ``synchronous=FULL`` every page a transaction dirties is appended to the WAL and flushed at
COMMIT, so the pages per step set the floor of a step's time that no CPU saving removes. Both
sides start from an empty WAL and write without automatic checkpoints, so the WAL's growth is
exactly what their commits appended: the engine driving ``records`` records through the happy
path (``bench.lifecycle``), and the raw baseline (``bench.baseline``) writing the same number of
steps.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

WAL_HEADER, FRAME_HEADER = 32, 24


def _frames(db: Path) -> tuple[int, int]:
    """(frames in the WAL, page size)."""
    with sqlite3.connect(db) as connection:
        page = int(connection.execute("PRAGMA page_size").fetchone()[0])
    size = Path(f"{db}-wal").stat().st_size
    return (size - WAL_HEADER) // (page + FRAME_HEADER), page


def engine(folder: Path, records: int) -> dict[str, Any]:
    from bench import lifecycle
    from workflow import Engine, ManualClock

    db = folder / "engine.db"
    url = f"sqlite:///{db}"
    Engine.init(url, simulated_start=lifecycle.T0)[0].close()
    clock = ManualClock(lifecycle.T0)
    opened = Engine.open(url, clock=clock)
    try:
        with opened.store.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        steps = sum(lifecycle.drive(opened, clock, index) for index in range(records))
        frames, page = _frames(db)
    finally:
        opened.close()
    return {"steps": steps, "frames": frames, "page_size": page}


def baseline(folder: Path, records: int) -> dict[str, Any]:
    from bench import baseline as raw
    from bench import lifecycle

    db = folder / "raw.db"
    template = lifecycle.template()
    # A second connection held open keeps the baseline's close from checkpointing the WAL away.
    holder = sqlite3.connect(db)
    try:
        holder.execute("PRAGMA journal_mode=WAL")
        holder.execute("select count(*) from sqlite_master").fetchone()  # opens the WAL index
        result = raw.sqlite(str(db), template, records, wal_autocheckpoint=0)
        frames, page = _frames(db)
    finally:
        holder.close()
    return {"steps": result["steps"], "frames": frames, "page_size": page}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wal", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=40, help="records driven on each side (8 steps each)")
    args = parser.parse_args(argv)
    from bench import lifecycle

    lifecycle.configure_logging("off")
    with tempfile.TemporaryDirectory(prefix="chengxin-bench-wal-") as folder:
        sides = {
            "chengxin": engine(Path(folder), args.records),
            "raw sqlite3": baseline(Path(folder), args.records),
        }
    print(f"Command: `python -m bench.wal --records {args.records}`\n")
    print("| writer | steps | WAL frames | frames per step | KiB per step |")
    print("|---|---:|---:|---:|---:|")
    for name, side in sides.items():
        per_step = side["frames"] / side["steps"]
        kib = per_step * (side["page_size"] + FRAME_HEADER) / 1024
        print(f"| {name} | {side['steps']:,} | {side['frames']:,} | {per_step:.1f} | {kib:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
