"""Deadline sweep at scale: 1,000 due items among 10k / 100k / 1M pending, beside APScheduler.

    python -m bench.sweep [--pending 10000 100000 1000000] [--due 1000]

For each size, in child processes (so each peak RSS is its own):

* **chengxin** — a drill database (SQLite, WAL, ``synchronous=FULL``) holds ``due`` records whose
  written-explanation deadline has expired (made through the engine) and ``pending`` deadline
  rows not due for years (copies of a real deadline row, spread over filler records, written in
  bulk). One ``engine.sweep()`` fires every due item, each in its own transaction.
* **APScheduler 3.11** — the same ``pending`` + ``due`` deadlines as date jobs in its
  ``SQLAlchemyJobStore`` on SQLite (copies of a real pickled job, written in bulk); a
  ``BackgroundScheduler`` runs until the ``due`` jobs have run.

Times are wall-clock seconds of the firing alone; peak RSS is the child's. Nothing here is
carried over from an earlier run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 5, 11, 9, 0, tzinfo=SH)
SWEEP_AT = dt.datetime(2026, 5, 26, 9, 0, tzinfo=SH)  # the explanations (due 05-25 17:00) have expired
FILLERS = 1000


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fields(index: int) -> dict[str, Any]:
    from bench.lifecycle import FIELDS

    return {
        **FIELDS,
        "subject_name": f"某区第{index}单位",
        "responsible_unit": f"unit-{index % 97}",
        "superior_unit": "gov",
        "document_number": f"（2026）津0103民初{index}号",
    }


def _engine_child(db: Path, pending: int, due: int) -> dict[str, Any]:
    from workflow import Actor, Engine, ManualClock
    from workflow.cli.logs import configure

    os.environ["CHENGXIN_LOG_LEVEL"] = "ERROR"
    configure()
    url = f"sqlite:///{db}"
    Engine.init(url, simulated_start=START)[0].close()
    clock = ManualClock(START)
    engine = Engine.open(url, clock=clock)
    recorder = Actor(id="li.lei", role="recorder", unit="court-3")
    verifier = Actor(id="wang.fang", role="verifier", unit="credit-office")
    made = time.perf_counter()
    # Each such record has two things due at the sweep: the latest rung of its written-explanation
    # ladder (superseding the earlier ones) and that deadline's expiry, which marks it overdue.
    for index in range(max(due // 2, 1)):
        rid = engine.register("national", _fields(index), actor=recorder, submit=True).id
        engine.fire(rid, "accept", actor=verifier)
        engine.fire(rid, "confirm", actor=verifier, comment="核查属实")
        engine.fire(rid, "publish", actor=verifier)
    setup_engine = time.perf_counter() - made
    # Pending: copies of a real open deadline, not due for years, spread over filler records.
    bulk = time.perf_counter()
    raw = sqlite3.connect(db)
    raw.execute("PRAGMA journal_mode=WAL")
    columns = [r[1] for r in raw.execute("PRAGMA table_info(deadline)")]
    template = dict(
        zip(
            columns,
            raw.execute("select * from deadline where name = 'retention' limit 1").fetchone(),
            strict=True,
        )
    )
    record_columns = [r[1] for r in raw.execute("PRAGMA table_info(record)")]
    record = dict(zip(record_columns, raw.execute("select * from record limit 1").fetchone(), strict=True))
    raw.executemany(
        f"insert into record ({','.join(record_columns)}) values ({','.join('?' * len(record_columns))})",
        ([{**record, "id": f"FILL-{n:05d}"}[c] for c in record_columns] for n in range(FILLERS)),
    )
    far = (dt.datetime(2031, 5, 8, 9, 0, tzinfo=dt.UTC)).strftime("%Y-%m-%d %H:%M:%S.%f")

    def rows() -> Any:
        for n in range(pending):
            row = {
                **template,
                "id": None,
                "record_id": f"FILL-{n % FILLERS:05d}",
                "started_seq": 1000 + n // FILLERS,
            }
            row["next_at"] = row["due_at"] = far
            yield [row[c] for c in columns]

    raw.executemany(
        f"insert into deadline ({','.join(columns)}) values ({','.join('?' * len(columns))})", rows()
    )
    raw.commit()
    raw.close()
    setup_bulk = time.perf_counter() - bulk
    clock.set(SWEEP_AT)
    before = _peak_mib()
    started = time.perf_counter()
    result = engine.sweep(limit=10 * due)
    after_sweep = _peak_mib()
    seconds = time.perf_counter() - started
    overdue = len(engine.query(overdue=True, limit=10 * due))
    engine.close()
    return {
        "pending": pending,
        "due": due,
        "fired": result.fired,
        "errors": len(result.errors),
        "overdue_records": overdue,
        "seconds": seconds,
        "items_per_s": result.fired / seconds,
        "peak_rss_mib": after_sweep,
        "peak_rss_before_sweep_mib": before,
        "fired_events": sorted(set(_fired_events(url))),
        "setup_engine_s": setup_engine,
        "setup_bulk_s": setup_bulk,
    }


def _fired_events(url: str) -> list[str]:
    """What the sweep wrote into the histories (event and rung), to show what was fired."""
    import sqlalchemy as sa

    from storage.connections import event_t

    engine = sa.create_engine(url)
    with engine.connect() as c:
        rows = c.execute(
            sa.select(event_t.c.event, event_t.c.payload).where(event_t.c.actor == "system")
        ).all()
    engine.dispose()
    return [f"{event}:{(payload or {}).get('rung', '')}" for event, payload in rows]


def _noop() -> None:
    pass


def _apscheduler_child(db: Path, pending: int, due: int) -> dict[str, Any]:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    url = f"sqlite:///{db}"
    now = dt.datetime.now(dt.UTC)
    store = SQLAlchemyJobStore(url=url)
    seed = BackgroundScheduler(jobstores={"default": store}, timezone=dt.UTC)
    seed.start(paused=True)
    seed.add_job(_noop, "date", run_date=now + dt.timedelta(days=3650), id="seed")
    seed.shutdown(wait=False)
    raw = sqlite3.connect(db)
    state = raw.execute("select job_state from apscheduler_jobs where id = 'seed'").fetchone()[0]
    raw.execute("delete from apscheduler_jobs")
    bulk = time.perf_counter()
    # A pickled job names its own id and run date; the store orders and selects by the columns,
    # so copies of the seed's state behave as many jobs for the look-ups measured here.
    import pickle

    seed_state = pickle.loads(state)

    from apscheduler.triggers.date import DateTrigger

    def jobs(count: int, when: dt.datetime, prefix: str) -> Any:
        trigger = DateTrigger(run_date=when, timezone=dt.UTC)
        for n in range(count):
            job = dict(
                seed_state, id=f"{prefix}{n}", next_run_time=when, trigger=trigger, misfire_grace_time=None
            )
            yield f"{prefix}{n}", when.timestamp(), pickle.dumps(job, pickle.HIGHEST_PROTOCOL)

    raw.executemany(
        "insert into apscheduler_jobs values (?,?,?)", jobs(pending, now + dt.timedelta(days=3650), "p")
    )
    raw.executemany(
        "insert into apscheduler_jobs values (?,?,?)", jobs(due, now - dt.timedelta(seconds=5), "d")
    )
    raw.commit()
    raw.close()
    setup = time.perf_counter() - bulk
    ran = threading.Semaphore(0)
    count = {"n": 0}
    lock = threading.Lock()

    def listener(_event: Any) -> None:
        with lock:
            count["n"] += 1
            if count["n"] == due:
                ran.release()

    from apscheduler.events import EVENT_JOB_EXECUTED

    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=url)},
        timezone=dt.UTC,
        job_defaults={"misfire_grace_time": None, "coalesce": False},
        executors={"default": {"type": "threadpool", "max_workers": 4}},
    )
    scheduler.add_listener(listener, EVENT_JOB_EXECUTED)
    before = _peak_mib()
    started = time.perf_counter()
    scheduler.start()
    finished = ran.acquire(timeout=3600)
    seconds = time.perf_counter() - started
    scheduler.shutdown(wait=False)
    return {
        "pending": pending,
        "due": due,
        "fired": count["n"],
        "finished": finished,
        "seconds": seconds,
        "items_per_s": count["n"] / seconds,
        "peak_rss_mib": _peak_mib(),
        "rss_before_mib": before,
        "setup_bulk_s": setup,
    }


def _child(argv: list[str]) -> int:
    kind, db, pending, due, out = argv
    run = _engine_child if kind == "engine" else _apscheduler_child
    result = run(Path(db), int(pending), int(due))
    Path(out).write_text(json.dumps(result))
    return 0


def _run(kind: str, pending: int, due: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="chengxin-sweep-") as folder:
        db, out = Path(folder) / f"{kind}.db", Path(folder) / "result.json"
        subprocess.run(
            [sys.executable, "-m", "bench.sweep", "_child", kind, str(db), str(pending), str(due), str(out)],
            check=True,
        )
        return dict(json.loads(out.read_text()))


def main(argv: list[str]) -> int:
    if argv and argv[0] == "_child":
        return _child(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench.sweep")
    parser.add_argument("--pending", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--due", type=int, default=1000)
    args = parser.parse_args(argv)
    print(f"command: python -m bench.sweep --pending {' '.join(map(str, args.pending))} --due {args.due}")
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {dt.date.today().isoformat()}\n")  # noqa: DTZ011 - the report's date
    print(
        "| pending | chengxin sweep s | fired | items/s | peak RSS MiB | APScheduler s | ran | jobs/s | peak RSS MiB | chengxin ÷ APScheduler time |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for pending in args.pending:
        engine = _run("engine", pending, args.due)
        aps = _run("apscheduler", pending, args.due)
        print(
            f"| {pending:,} | {engine['seconds']:.2f} | {engine['fired']} | {engine['items_per_s']:.0f} | "
            f"{engine['peak_rss_mib']:.0f} | {aps['seconds']:.2f} | {aps['fired']} | {aps['items_per_s']:.0f} | "
            f"{aps['peak_rss_mib']:.0f} | {engine['seconds'] / aps['seconds']:.2f} |",
            flush=True,
        )
        print(f"<!-- engine {json.dumps(engine)} apscheduler {json.dumps(aps)} -->", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
