"""The console's "my work" page under load: server time of ``GET /console/`` for a responsible
unit with N open records, through the ASGI app in-process (no network in the figure).

    python -m bench.console --records 2000 [--repeat 20]
    python -m bench.console --records 100000 --db /var/tmp/console-100k.db --reuse
    python -m bench.console --records 100000 --db COPY.db --reuse --second-unit 300

Records are written by the engine (registered, accepted and confirmed: each owes an explanation),
all for one responsible unit, into a throwaway SQLite file, or into ``--db`` which is kept;
``--reuse`` measures a kept file again without seeding it. On a shared machine the engine writes
about 25 records a second, so ``--engine-records N`` writes N through the engine and copies their
rows (record, tracks, deadlines, history; new ids) up to ``--records``: the copies are what the
page reads, identical in shape, but their history chains do not verify.
Prints p50/p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import sqlite3
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from workflow import Engine, ManualClock
from workflow.api import create_app
from workflow.console import mount
from workflow.testing import MONDAY, ORGANISATION, RECORDER, SUBJECT, VERIFIER

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "bench password"


def copy_rows(path: Path, total: int) -> None:
    """Copy the records in the SQLite file ``path`` (with their tracks, deadlines and history)
    under new ids until there are ``total``."""
    db = sqlite3.connect(path)
    try:
        originals = [row[0] for row in db.execute("SELECT id FROM record ORDER BY id")]
        wanted = total - len(originals)
        if wanted <= 0:
            return
        counter = itertools.count()
        pairs = [
            (old, f"SX20260511-C{next(counter):06d}")
            for old in itertools.islice(itertools.cycle(originals), wanted)
        ]
        db.execute("CREATE TEMP TABLE copy_of (old TEXT, new TEXT PRIMARY KEY)")
        db.executemany("INSERT INTO copy_of VALUES (?, ?)", pairs)
        for table, key, skip, blank in (
            ("record", "id", (), ()),
            ("record_state", "record_id", (), ()),
            ("deadline", "record_id", ("id",), ()),
            ("record_event", "record_id", ("id",), ("idempotency_key",)),
        ):
            columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})") if r[1] not in skip]
            chosen = ", ".join("c.new" if c == key else "NULL" if c in blank else f"t.{c}" for c in columns)
            db.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"SELECT {chosen} FROM {table} t JOIN copy_of c ON t.{key} = c.old"
            )
        db.commit()
    finally:
        db.close()


def seed(url: str, records: int) -> tuple[Engine, float]:
    """A new database at ``url`` with ``records`` open records of one unit, and the seconds taken."""
    Engine.init(url, simulated_start=MONDAY)[0].close()
    clock = ManualClock(MONDAY)
    engine = Engine.open(url, clock=clock)
    started = time.perf_counter()
    for n in range(records):
        rid = engine.register("national", ORGANISATION, actor=RECORDER, submit=True).id
        engine.fire(rid, "accept", actor=VERIFIER)
        engine.fire(rid, "confirm", actor=VERIFIER, comment="核查属实")
        if n and n % 10000 == 0:
            print(f"seeded {n} in {time.perf_counter() - started:.0f} s", flush=True)
    seeded = time.perf_counter() - started
    engine.accounts.create(
        name="unit", password=PASSWORD, person=SUBJECT.id, roles=["subject"], unit=SUBJECT.unit
    )
    return engine, seeded


def move_to_second_unit(path: Path, records: int) -> None:
    """Give ``records`` of the cases (column and data) to a second unit, ``nankai-zjw``, with an
    account ``few``: a unit that holds few of a large database's cases."""
    db = sqlite3.connect(path)
    try:
        db.execute(
            "UPDATE record SET responsible_unit = 'nankai-zjw', "
            "data = json_set(data, '$.responsible_unit', 'nankai-zjw') "
            "WHERE id IN (SELECT id FROM record WHERE responsible_unit = 'hexi-zjw' ORDER BY id LIMIT ?)",
            (records,),
        )
        db.commit()
    finally:
        db.close()


def measure(engine: Engine, repeat: int, account: str = "unit") -> list[float]:
    """Milliseconds of ``repeat`` views of "my work", signed in as ``account``, fastest first."""
    client = TestClient(mount(create_app(engine, cors=())), base_url="https://bench")
    client.post("/console/sign-in", data={"name": account, "password": PASSWORD})
    client.get("/console/")  # warm-up: templates compiled, definitions loaded
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        answer = client.get("/console/")
        times.append((time.perf_counter() - t) * 1000)
        assert answer.status_code == 200
    return sorted(times)


def run(path: Path, args: argparse.Namespace, reuse: bool) -> None:
    url = f"sqlite:///{path}"
    if reuse:
        copy_rows(path, args.records)  # a kept file with fewer records is topped up
        if args.second_unit:
            move_to_second_unit(path, args.second_unit)
        engine, how = Engine.open(url, clock=ManualClock(MONDAY)), "reused"
        if args.second_unit and "few" not in {u.name for u in engine.accounts.list()}:
            engine.accounts.create(
                name="few", password=PASSWORD, person="wu.hao", roles=["subject"], unit="nankai-zjw"
            )
    else:
        through = min(args.engine_records or args.records, args.records)
        engine, seeded = seed(url, through)
        how = f"{through} seeded through the engine in {seeded:.0f} s"
        if through < args.records:
            engine.close()
            started = time.perf_counter()
            copy_rows(path, args.records)
            how += f", copied up to {args.records} in {time.perf_counter() - started:.0f} s"
            engine = Engine.open(url, clock=ManualClock(MONDAY))
    try:
        clock = engine.clock
        assert isinstance(clock, ManualClock)
        clock.advance(dt.timedelta(hours=1))
        if args.profile:
            profile(engine)
        for account in ("unit", "few") if args.second_unit else ("unit",):
            times = measure(engine, args.repeat, account)
            p95 = times[max(0, round(0.95 * len(times)) - 1)]
            mine = engine.count(unit="nankai-zjw" if account == "few" else "hexi-zjw")
            print(
                f"my work, {mine} of {engine.count()} records for the signed-in unit ({how}): "
                f"p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms over {args.repeat} requests"
            )
    finally:
        engine.close()


def profile(engine: Engine) -> None:
    """Print where one view of "my work" spends its time (pyinstrument)."""
    from pyinstrument import Profiler

    client = TestClient(mount(create_app(engine, cors=())), base_url="https://bench")
    client.post("/console/sign-in", data={"name": "unit", "password": PASSWORD})
    client.get("/console/")
    with Profiler() as profiler:
        client.get("/console/")
    print(profiler.output_text(color=False, show_all=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.console")
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument(
        "--engine-records", type=int, help="write only these through the engine, copy the rest"
    )
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--db", type=Path, help="SQLite file to seed and keep (default: a throwaway)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure --db again without seeding it (copying rows up to --records)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a pyinstrument profile of one view first"
    )
    parser.add_argument(
        "--second-unit",
        type=int,
        default=0,
        help="with --reuse: give this many cases to a second unit (account 'few') and measure both",
    )
    args = parser.parse_args(argv)
    if args.db is not None:
        reuse = args.reuse and args.db.exists()
        for leftover in (args.db, Path(f"{args.db}-wal"), Path(f"{args.db}-shm")):
            if not reuse:
                leftover.unlink(missing_ok=True)
        run(args.db, args, reuse)
        return 0
    with tempfile.TemporaryDirectory(prefix="chengxin-bench-console-") as folder:
        run(Path(folder) / "console.db", args, False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
