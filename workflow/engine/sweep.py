"""The sweep: do what is due — expire deadlines, fire reminder rungs — one item per transaction.

Each item is claimed with a row lock that other engine processes skip (PostgreSQL
``FOR UPDATE SKIP LOCKED``; SQLite's write lock serialises sweeps), and fired in the same
transaction, so a process killed mid-item leaves it for the next sweep. Unique keys (history
sequence, reminder per rung and due date) make a second firing impossible even if two sweeps
raced. The cost is one indexed look-up per due item, however many deadlines are pending.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from storage.errors import StorageBusy
from storage.store import UnitOfWork
from storage.values import StoredDeadline
from workflow.core import ladders
from workflow.core.values import EXPIRED_EVENT, REMINDER_EVENT, Command
from workflow.engine.commands import SYSTEM, Commands
from workflow.errors import Conflict, TransitionNotAllowed, WorkflowError
from workflow.log import get_logger

log = get_logger("chengxin.sweep")

LATE_AFTER = dt.timedelta(minutes=15)  # a rung fired later than this after its time is recorded as late


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepResult:
    fired: int
    skipped: int
    errors: Sequence[str]


def sweep(commands: Commands, *, limit: int = 1000) -> SweepResult:
    """Fire up to ``limit`` due items, each in its own transaction; see the module docstring."""
    now = commands.clock.now()
    fired = skipped = 0
    errors: list[str] = []
    failed: set[int] = set()  # items that failed this sweep are not claimed again in it
    while fired + skipped + len(errors) < limit:
        claimed: StoredDeadline | None = None
        try:
            with commands.store.command(lock=True) as uow:
                claimed = uow.claim_due(now, exclude=sorted(failed))
                if claimed is None:
                    break
                outcome = fire_due(commands, uow, claimed, now)
        except (Conflict, StorageBusy) as exc:
            # Another writer got there first; the item is looked at again by the next sweep.
            failed.add(claimed.id if claimed else -1)
            skipped += 1
            log.info("sweep item deferred", deadline_id=claimed.id if claimed else None, reason=str(exc))
            continue
        except WorkflowError as exc:
            failed.add(claimed.id if claimed else -1)
            errors.append(f"{claimed.record_id}/{claimed.name}: {exc}" if claimed else str(exc))
            log.error("sweep item failed", deadline_id=claimed.id if claimed else None, error=str(exc))
            continue
        if outcome:
            fired += 1
        else:
            skipped += 1
    return SweepResult(fired=fired, skipped=skipped, errors=errors)


def fire_due(commands: Commands, uow: UnitOfWork, row: StoredDeadline, now: dt.datetime) -> bool:
    """Fire the one thing due on a claimed deadline: its expiry, else its latest due rung.
    False when nothing was due after all (the row's next look is moved on)."""
    loaded = uow.load(row.record_id)
    if loaded is None:
        return False
    record = loaded.record
    definition = commands.registry.get(record.definition_name, record.definition_version)
    spec = definition.deadlines.get(row.name)

    def fire(command: Command) -> None:
        commands.apply(record.id, command, uow=uow, loaded=loaded)

    if row.status == "active" and row.due_at <= now:
        event = spec.on_expiry_event if spec and spec.on_expiry_event else EXPIRED_EVENT
        try:
            fire(Command(event=event, actor=SYSTEM, deadline=row.name))
        except TransitionNotAllowed:  # the state moved on; the deadline still expires
            fire(Command(event=EXPIRED_EVENT, actor=SYSTEM, deadline=row.name))
        return True
    calendar = commands.registry.calendar(definition)
    chosen, superseded = (
        ladders.choose(definition, calendar, spec, row.status, row.due_at, row.reminded, now)
        if spec is not None
        else (None, [])
    )
    if chosen is None or spec is None:
        upcoming = ladders.next_at(definition, calendar, spec, row.status, row.due_at, row.reminded)
        uow.set_next_at(row.id, upcoming if spec is not None else None)
        return False
    payload = {
        "deadline": row.name,
        "rung": chosen.rung.name,
        "scheduled_at": chosen.at.isoformat(),
        "late": (now - chosen.at) > LATE_AFTER,
        "superseded": [r.rung.name for r in superseded],
    }
    fire(Command(event=REMINDER_EVENT, actor=SYSTEM, deadline=row.name, payload=payload))
    return True
