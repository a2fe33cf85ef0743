"""``chengxin serve``: the long-running engine process, driven by APScheduler 3.

``start`` runs the jobs in a background thread (beside the HTTP API under ``chengxin serve
--port``) with a ``Heartbeat`` that ``/ready`` reads; ``serve`` runs them alone until a signal.

Two interval jobs, never one job per deadline: the sweep (expire due deadlines, fire due
reminder rungs, each item in its own transaction) every few seconds, and the supervision
schedules (open due rounds and due ledger checks, catching up on missed periods) every few
minutes; and, when the caller hands one in, a checkpoint job (``workflow.audit.take_checkpoint``)
on its own interval. Several
``serve`` processes may share one PostgreSQL database: the sweep's row locks and the unique
keys keep every item to one firing. On a drill database the process follows the simulated
clock that ``chengxin clock advance`` moves.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from workflow.engine.facade import Engine
from workflow.errors import WorkflowError
from workflow.log import get_logger
from workflow.runtime.commitments import open_due_commitment_checks
from workflow.runtime.dispatch import Dispatcher
from workflow.runtime.ledgers import open_due_checks
from workflow.runtime.rounds import open_due_rounds
from workflow.runtime.webhooks import WebhookDispatcher

log = get_logger("chengxin.serve")


def run_once(
    engine: Engine,
    dispatcher: Dispatcher | None = None,
    *,
    limit: int = 1000,
    webhooks: WebhookDispatcher | None = None,
) -> dict[str, Any]:
    """One pass of everything the service does: follow the drill clock, sweep, open rounds, open
    the ledger and commitment checks that fell due, send mail, deliver webhooks. The sweep goes first: after
    downtime, the explanations and checks that fell overdue meanwhile are marked overdue before a
    round counts them and before the next check takes an expired one's place."""
    engine.follow_clock()
    swept = engine.sweep(limit=limit)
    rounds = open_due_rounds(engine)
    checks = open_due_checks(engine)
    commitment_checks = open_due_commitment_checks(engine)
    result: dict[str, Any] = {
        "rounds_opened": len(rounds.opened),
        "checks_opened": len(checks.opened),
        "commitment_checks_opened": len(commitment_checks.opened),
        "fired": swept.fired,
        "skipped": swept.skipped,
        "errors": list(swept.errors),
    }
    if dispatcher is not None:
        mail = dispatcher.run()
        result["mail"] = mail.as_dict()
        result["errors"].extend(mail.errors)
        result["notes"] = list(mail.notes)
    if webhooks is not None:
        delivered = webhooks.run()
        result["webhooks"] = delivered.as_dict()
        result["errors"].extend(delivered.errors)
    return result


def _guarded(name: str, job: Callable[[], Any]) -> Callable[[], None]:
    def run() -> None:
        try:
            result = job()
            log.info(f"{name} done", result=result)
        except WorkflowError as exc:  # what a user must act on: one line, no traceback
            log.error(f"{name} failed", error=str(exc))
        except Exception:  # a failed pass must not stop the service; the next pass retries
            log.exception(f"{name} failed")

    return run


class Heartbeat:
    """When the scheduler of this process last finished a sweep, for ``/ready``."""

    def __init__(self, sweep_seconds: float) -> None:
        self.sweep_seconds = sweep_seconds
        self.last: float | None = None
        self.scheduler: BackgroundScheduler | None = None

    def beat(self) -> None:
        self.last = time.monotonic()

    def alive(self) -> tuple[bool, str]:
        """Whether the scheduler runs and swept within three of its intervals (at least a minute)."""
        if self.scheduler is None or not self.scheduler.running:
            return False, "调度未运行 (the scheduler is not running)"
        if self.last is None:
            return False, "调度尚未完成首次巡检 (no sweep finished yet)"
        ago = time.monotonic() - self.last
        if ago > max(3 * self.sweep_seconds, 60.0):
            return False, f"上次巡检在 {ago:.0f} 秒前 (the last sweep finished {ago:.0f}s ago)"
        return True, f"调度运行中，上次巡检 {ago:.0f} 秒前 (last sweep {ago:.0f}s ago)"


def start(
    engine: Engine,
    dispatcher: Dispatcher | None = None,
    *,
    sweep_seconds: float = 30.0,
    rounds_seconds: float = 300.0,
    checkpoint: Callable[[], Any] | None = None,
    checkpoint_seconds: float = 3600.0,
    webhooks: WebhookDispatcher | None = None,
    heartbeat: Heartbeat | None = None,
) -> BackgroundScheduler:
    """Do one pass of every job now, then start the scheduler that repeats them on their
    intervals in a thread of its own; the caller stops it with ``shutdown(wait=True)``."""
    scheduler = BackgroundScheduler(timezone=dt.UTC)

    def sweep() -> dict[str, Any]:
        try:
            engine.follow_clock()
            result = engine.sweep()
            out: dict[str, Any] = {
                "fired": result.fired,
                "skipped": result.skipped,
                "errors": len(result.errors),
            }
            if dispatcher is not None:
                out["mail"] = dispatcher.run().as_dict()
            if webhooks is not None:
                out["webhooks"] = webhooks.run().as_dict()
            return out
        finally:
            if heartbeat is not None:
                heartbeat.beat()

    def rounds() -> dict[str, Any]:
        engine.follow_clock()
        engine.sweep()  # what fell overdue is marked before a round counts it
        opened = len(open_due_rounds(engine).opened)
        return {
            "opened": opened,
            "checks_opened": len(open_due_checks(engine).opened),
            "commitment_checks_opened": len(open_due_commitment_checks(engine).opened),
        }

    log.info(
        "serving",
        sweep_seconds=sweep_seconds,
        rounds_seconds=rounds_seconds,
        checkpoint_seconds=checkpoint_seconds if checkpoint is not None else None,
        simulated=engine.simulated,
    )
    _guarded("sweep", sweep)()
    _guarded("rounds", rounds)()
    if checkpoint is not None:
        _guarded("checkpoint", checkpoint)()
    options = {"max_instances": 1, "coalesce": True}
    scheduler.add_job(_guarded("sweep", sweep), IntervalTrigger(seconds=sweep_seconds), id="sweep", **options)
    scheduler.add_job(
        _guarded("rounds", rounds), IntervalTrigger(seconds=rounds_seconds), id="rounds", **options
    )
    if checkpoint is not None:
        scheduler.add_job(
            _guarded("checkpoint", checkpoint),
            IntervalTrigger(seconds=checkpoint_seconds),
            id="checkpoint",
            **options,
        )
    scheduler.start()
    if heartbeat is not None:
        heartbeat.scheduler = scheduler
    return scheduler


def serve(
    engine: Engine,
    dispatcher: Dispatcher | None = None,
    *,
    sweep_seconds: float = 30.0,
    rounds_seconds: float = 300.0,
    checkpoint: Callable[[], Any] | None = None,
    checkpoint_seconds: float = 3600.0,
    webhooks: WebhookDispatcher | None = None,
) -> None:
    """Run until SIGINT or SIGTERM: the sweep (and the outbox) every ``sweep_seconds``, the
    supervision schedules every ``rounds_seconds``, and ``checkpoint`` (if given) at start and
    every ``checkpoint_seconds``. A stop lets the job in progress finish."""
    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping", signal=signum)
        stopping.set()  # only a flag: the main thread stops the scheduler once its work is done

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler = start(
        engine,
        dispatcher,
        sweep_seconds=sweep_seconds,
        rounds_seconds=rounds_seconds,
        checkpoint=checkpoint,
        checkpoint_seconds=checkpoint_seconds,
        webhooks=webhooks,
    )
    try:
        stopping.wait()
    finally:
        scheduler.shutdown(wait=True)
        log.info("stopped")
