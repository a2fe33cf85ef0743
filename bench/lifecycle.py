"""The step benchmark: records driven through the happy path of ``national`` on a simulated clock.

Each record is registered, submitted, accepted, confirmed, published, explained, reported on
and its rectification accepted — eight commands, each one persisted transition (one step).
Then the clock jumps past the end of the publication period and past the retention period,
and ``Engine.run_due`` lets both expire (``expire_publication`` and ``archive``): two more
steps per record, counted apart because the sweep is a different code path. Only this
module's ``run`` is timed; it runs in a child process of its own (see ``bench.__main__``).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
import tracemalloc
from typing import Any
from zoneinfo import ZoneInfo

from workflow.testing import MONDAY, ORGANISATION

SH = ZoneInfo("Asia/Shanghai")
T0 = MONDAY
PUBLICATION_OVER = dt.datetime(2027, 5, 10, 17, 1, tzinfo=SH)  # 一般, 2026 regime: at most 1 year
RETENTION_OVER = dt.datetime(2031, 5, 9, 9, 0, tzinfo=SH)  # 5 years from 认定之日 2026-05-08
STEP = dt.timedelta(seconds=1)  # simulated time between two commands

FIELDS = ORGANISATION
HAPPY_PATH = (
    "register",
    "submit",
    "accept",
    "confirm",
    "publish",
    "submit_explanation",
    "submit_rectification_report",
    "accept_rectification",
)
SWEEP_EVENTS = ("expire_publication", "archive")
RECORD_JSON = ("tracks", "data", "actors")
EVENT_JSON = ("changes", "payload", "effects")


def configure_logging(mode: str) -> None:
    """``json``: production logging (JSON lines at INFO) into /dev/null; ``off``: WARNING only."""
    import logging

    if mode == "off":
        logging.getLogger("chengxin").setLevel(logging.WARNING)
        return
    from workflow.cli import logs

    # the production JSON lines, written to /dev/null (the file stays open for the process)
    logs.configure(stream=open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


def drive(engine: Any, clock: Any, index: int) -> int:
    """One record through the eight commands of the happy path; returns the steps fired."""
    from workflow.testing import RECORDER as recorder
    from workflow.testing import SUBJECT as subject
    from workflow.testing import VERIFIER as verifier

    fields = {**FIELDS, "document_number": f"（2026）津0103民初{index}号"}
    clock.advance(STEP)
    record_id = engine.register("national", fields, actor=recorder).id
    commands: tuple[tuple[str, Any, dict[str, Any], str], ...] = (
        ("submit", recorder, {}, ""),
        ("accept", verifier, {}, ""),
        ("confirm", verifier, {}, "核查属实，予以记录"),
        ("publish", verifier, {}, ""),
        ("submit_explanation", subject, {"explanation": "因资金调度不及时，未按判决支付工程款。"}, ""),
        ("submit_rectification_report", subject, {"report": "已全额支付工程款及利息。"}, ""),
        ("accept_rectification", verifier, {}, "整改到位"),
    )
    for event, actor, payload, comment in commands:
        clock.advance(STEP)
        engine.fire(record_id, event, actor=actor, payload=payload, comment=comment)
    return 1 + len(commands)


def sweep(engine: Any, to: dt.datetime) -> tuple[int, int, list[str]]:
    """Move the drill clock to ``to`` and run the sweep until nothing more fires; (fired, skipped, errors)."""
    engine.advance_clock(to)
    fired = skipped = 0
    errors: list[str] = []
    while True:
        result = engine.sweep(limit=1000)
        fired += result.fired
        skipped += result.skipped
        errors.extend(result.errors)
        if result.fired == 0:
            return fired, skipped, errors


def _progress(label: str, done: int, total: int, started: float, steps: int) -> None:
    elapsed = time.perf_counter() - started
    print(
        f"  [{label}] {done}/{total} records, {steps / elapsed:,.0f} steps/s",
        file=sys.stderr,
        flush=True,
    )


def _row_sizes(engine: Any) -> dict[str, float]:
    """Average text length of the JSON columns the engine wrote, for comparison with the baseline."""
    import sqlalchemy as sa

    from storage.connections import event_t, record_t

    def text(column: Any) -> Any:
        return sa.func.coalesce(sa.func.length(sa.cast(column, sa.Text)), 0)

    with engine.store.db.reading() as c:
        record = c.execute(
            sa.select(sa.func.avg(text(record_t.c.tracks) + text(record_t.c.data) + text(record_t.c.actors)))
        ).scalar()
        event = c.execute(
            sa.select(
                sa.func.avg(
                    text(event_t.c.changes)
                    + text(event_t.c.payload)
                    + text(event_t.c.effects)
                    + text(event_t.c.comment)
                )
            ).where(event_t.c.event.in_(HAPPY_PATH))
        ).scalar()
    return {"record_json": float(record or 0), "event_json": float(event or 0)}


def _stored_texts(engine: Any, record_id: str) -> dict[str, Any]:
    """The JSON columns of one record exactly as the engine stored them, as text."""
    import sqlalchemy as sa

    from storage.connections import event_t, record_t

    def texts(table: Any, names: tuple[str, ...]) -> list[Any]:
        return [sa.cast(table.c[name], sa.Text) for name in names]

    with engine.store.db.reading() as c:
        record = c.execute(sa.select(*texts(record_t, RECORD_JSON)).where(record_t.c.id == record_id)).one()
        events = c.execute(
            sa.select(event_t.c.event, *texts(event_t, EVENT_JSON))
            .where(event_t.c.record_id == record_id, event_t.c.event.in_(HAPPY_PATH))
            .order_by(event_t.c.seq)
        ).all()
    return {
        "record": dict(zip(RECORD_JSON, record, strict=True)),
        "events": [dict(zip(EVENT_JSON, row[1:], strict=True)) for row in events],
    }


def _template(engine: Any, record_id: str) -> dict[str, Any]:
    """The rows of one finished record, which the raw baselines write again for every record."""
    record = engine.store.records.get(record_id)
    events = engine.stored_history(record_id)
    return {
        "stored_text": _stored_texts(engine, record_id),
        "record": {"tracks": dict(record.tracks), "data": dict(record.data), "actors": dict(record.actors)},
        "events": [
            {
                "event": e.event,
                "changes": [list(c) for c in e.changes],
                "actor": e.actor,
                "role": e.role,
                "unit": e.unit,
                "payload": dict(e.payload),
                "comment": e.comment,
                "effects": dict(e.effects),
            }
            for e in events
            if e.event in HAPPY_PATH
        ],
    }


def template() -> dict[str, Any]:
    """The happy-path rows of one record, written by the engine into a throwaway SQLite file."""
    import tempfile

    from workflow import Engine, ManualClock

    with tempfile.TemporaryDirectory(prefix="chengxin-bench-template-") as folder:
        url = f"sqlite:///{folder}/template.db"
        Engine.init(url, simulated_start=T0)[0].close()
        clock = ManualClock(T0)
        engine = Engine.open(url, clock=clock)
        try:
            drive(engine, clock, 0)
            return _template(engine, engine.query(limit=1)[0].id)
        finally:
            engine.close()


def init(url: str) -> None:
    """Make an empty drill database at ``url`` (for workers that share one)."""
    from workflow import Engine

    Engine.init(url, simulated_start=T0)[0].close()


def _wait(barrier: str, label: str) -> None:
    """Say this worker is ready (a file ``ready-<label>``), then wait until ``go`` appears."""
    from pathlib import Path

    folder = Path(barrier)
    (folder / f"ready-{label.replace(' ', '_').replace('/', '_')}").touch()
    deadline = time.monotonic() + 600
    while not (folder / "go").exists():
        if time.monotonic() > deadline:
            raise SystemExit("bench worker: no start signal within 10 minutes")
        time.sleep(0.005)


def run(
    url: str,
    *,
    records: int,
    traced: int,
    do_sweep: bool,
    label: str,
    fresh: bool = True,
    offset: int = 0,
    barrier: str = "",
) -> dict[str, Any]:
    """Run the step benchmark on ``url`` and return what was measured.

    ``fresh``: initialise the drill database first (else it exists: other workers share it).
    ``offset``: the first record's index, so that workers drive distinct records. ``barrier``:
    a folder where the worker says it is ready and waits for the signal to start (see ``_wait``).
    """
    from bench.memory import current_rss, peak_rss
    from workflow import Engine, ManualClock

    if fresh:
        init(url)
    clock = ManualClock(T0)
    engine = Engine.open(url, clock=clock)
    out: dict[str, Any] = {"records": records, "rss_start": current_rss()}
    try:
        if barrier:
            _wait(barrier, label)
        samples = [(0, current_rss())]
        every = max(1, records // 10)
        steps = 0
        started, cpu, wall = time.perf_counter(), time.process_time(), time.time()
        for index in range(offset, offset + records):
            steps += drive(engine, clock, index)
            if (index - offset + 1) % every == 0:
                samples.append((index - offset + 1, current_rss()))
                _progress(label, index - offset + 1, records, started, steps)
        elapsed = time.perf_counter() - started
        out.update(
            steps=steps,
            seconds=elapsed,
            cpu_seconds=time.process_time() - cpu,
            wall_start=wall,
            wall_end=wall + elapsed,
            rss_samples=samples,
            peak_rss_steps=peak_rss(),
        )
        out["row_sizes"] = _row_sizes(engine)

        # The same happy path for a few more records under tracemalloc, untimed: its peak shows
        # what one command allocates while the database already holds ``records`` records.
        tracemalloc.start()
        for index in range(offset + records, offset + records + traced):
            drive(engine, clock, index)
        _current, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out.update(traced_records=traced, tracemalloc_peak_steps=traced_peak)

        if do_sweep:
            started, cpu = time.perf_counter(), time.process_time()
            fired_pub, skipped_pub, errors_pub = sweep(engine, PUBLICATION_OVER)
            fired_arc, skipped_arc, errors_arc = sweep(engine, RETENTION_OVER)
            out.update(
                sweep_steps=fired_pub + fired_arc,
                sweep_seconds=time.perf_counter() - started,
                sweep_cpu_seconds=time.process_time() - cpu,
                sweep_skipped=skipped_pub + skipped_arc,
                sweep_errors=(errors_pub + errors_arc)[:5],
                peak_rss_sweep=peak_rss(),
            )
        out.update(_check(engine, records + traced, do_sweep))
    finally:
        engine.close()
    return out


def _count(engine: Any, table: str) -> int:
    import sqlalchemy as sa

    with engine.store.db.reading() as c:
        return int(c.execute(sa.text(f"select count(*) from {table}")).scalar_one())


def _check(engine: Any, records: int, swept: bool) -> dict[str, Any]:
    """What the database holds afterwards, so a run that silently did less cannot pass as fast."""
    import sqlalchemy as sa

    from storage.connections import deadline_t, event_t, outbox_t, record_t

    def count(table: Any) -> int:
        return int(c.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

    with engine.store.db.reading() as c:
        states = dict(
            c.execute(sa.select(record_t.c.state, sa.func.count()).group_by(record_t.c.state)).tuples().all()
        )
        found_events, outbox_rows, deadline_rows = count(event_t), count(outbox_t), count(deadline_t)
    expected_events = records * (len(HAPPY_PATH) + (len(SWEEP_EVENTS) if swept else 0))
    return {
        "states": states,
        "history_rows": found_events,
        "history_rows_expected": expected_events,
        "outbox_rows": outbox_rows,
        "deadline_rows": deadline_rows,
    }
