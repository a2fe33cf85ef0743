"""``chengxin serve``: the long-running engine process, driven by APScheduler 3.

Two interval jobs, never one job per deadline: the sweep (expire due deadlines, fire due
reminder rungs, each item in its own transaction) every few seconds, and the supervision
schedules (open due rounds, catching up on missed periods) every few minutes. Several
``serve`` processes may share one PostgreSQL database: the sweep's row locks and the unique
keys keep every item to one firing. On a drill database the process follows the simulated
clock that ``chengxin clock advance`` moves.
"""

from __future__ import annotations

import datetime as dt
import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

import structlog
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from workflow.clock import ManualClock, parse_when
from workflow.engine import Engine

log = structlog.get_logger("chengxin.serve")


def _follow_drill_clock(engine: Engine) -> None:
    if engine.simulated and isinstance(engine.clock, ManualClock):
        stored = parse_when(engine.store.meta()["simulated_now"])
        if stored > engine.clock.now():
            engine.clock.set(stored)


def run_once(engine: Engine, *, limit: int = 1000) -> dict[str, Any]:
    """One pass of everything the service does: follow the drill clock, open rounds, sweep."""
    _follow_drill_clock(engine)
    rounds = engine.open_due_rounds()
    swept = engine.sweep(limit=limit)
    extra: dict[str, Any] = {}
    for hook in AFTER_SWEEP:
        extra.update(hook(engine))
    return {
        "rounds_opened": len(rounds.opened),
        "fired": swept.fired,
        "skipped": swept.skipped,
        "errors": swept.errors,
        **extra,
    }


# Jobs other issues add to every pass (the outbox dispatcher registers itself here).
AFTER_SWEEP: list[Callable[[Engine], dict[str, Any]]] = []


def _guarded(name: str, job: Callable[[], Any]) -> Callable[[], None]:
    def run() -> None:
        try:
            result = job()
            log.info(f"{name} done", result=result)
        except Exception:  # a failed pass must not stop the service; the next pass retries
            log.exception(f"{name} failed")

    return run


def serve(engine: Engine, *, sweep_seconds: float = 30.0, rounds_seconds: float = 300.0) -> None:
    """Run until SIGINT or SIGTERM."""
    scheduler = BlockingScheduler(timezone=dt.UTC)

    def sweep() -> dict[str, Any]:
        _follow_drill_clock(engine)
        result = engine.sweep()
        out: dict[str, Any] = {"fired": result.fired, "skipped": result.skipped, "errors": len(result.errors)}
        for hook in AFTER_SWEEP:
            out.update(hook(engine))
        return out

    def rounds() -> dict[str, Any]:
        _follow_drill_clock(engine)
        return {"opened": len(engine.open_due_rounds().opened)}

    scheduler.add_job(
        _guarded("sweep", sweep),
        IntervalTrigger(seconds=sweep_seconds),
        id="sweep",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        _guarded("rounds", rounds),
        IntervalTrigger(seconds=rounds_seconds),
        id="rounds",
        max_instances=1,
        coalesce=True,
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping", signal=signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info(
        "serving", sweep_seconds=sweep_seconds, rounds_seconds=rounds_seconds, simulated=engine.simulated
    )
    _guarded("rounds", rounds)()
    _guarded("sweep", sweep)()
    scheduler.start()
