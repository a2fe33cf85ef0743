"""Reminder ladders: when each rung of a deadline's ladder falls due, and what the sweep does next.

A rung ``before`` N working days fires at the reminder time (09:00 by default) of the Nth
working day before the due day; ``due`` on the morning of the due day; ``overdue`` at the
moment the deadline expires (or N working days later); ``escalate`` N working days after the
due day. Before/due rungs belong to a running deadline, overdue/escalate rungs to an expired
one that is still unmet. Pure: the calendar is handed in.

``next_at`` is the one instant the sweep looks at: the earliest of the deadline's expiry (while
it runs) and its next unfired rung. When the engine was down and several rungs have passed,
only the latest fires; the earlier ones are recorded as superseded, never sent in a burst.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from definitions.model import DeadlineSpec, Definition, Rung
from workflow.core.calendar import WorkingCalendar
from workflow.core.periods import at_local_time, local_date

RUNNING_KINDS = frozenset({"before", "due"})
LATE_KINDS = frozenset({"overdue", "escalate"})


def rung_time(
    definition: Definition, calendar: WorkingCalendar, rung: Rung, due_at: dt.datetime
) -> dt.datetime:
    """The instant a rung falls due for a deadline due at ``due_at``."""
    due_day = local_date(definition, due_at)
    if rung.kind == "before":
        return at_local_time(
            definition, calendar.working_days_before(due_day, rung.working_days), definition.reminder_time
        )
    if rung.kind == "due":
        return min(at_local_time(definition, due_day, definition.reminder_time), due_at)
    if rung.working_days == 0:
        return due_at
    later = calendar.add_working_days(due_day, rung.working_days).due
    return at_local_time(definition, later, definition.reminder_time)


def _applies(rung: Rung, status: str) -> bool:
    return rung.kind in (
        RUNNING_KINDS if status == "active" else LATE_KINDS if status == "expired" else frozenset()
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RungDue:
    rung: Rung
    at: dt.datetime


def pending_rungs(
    definition: Definition,
    calendar: WorkingCalendar,
    spec: DeadlineSpec,
    status: str,
    due_at: dt.datetime,
    reminded: Sequence[str],
) -> list[RungDue]:
    """The rungs of the deadline's ladder not fired yet for this due date, in time order."""
    if spec.ladder is None or status not in {"active", "expired"}:
        return []
    ladder = definition.ladders[spec.ladder]
    found = [
        RungDue(rung=rung, at=rung_time(definition, calendar, rung, due_at))
        for rung in ladder.rungs
        if rung.name not in reminded and _applies(rung, status)
    ]
    return sorted(found, key=lambda item: item.at)


def next_at(
    definition: Definition,
    calendar: WorkingCalendar,
    spec: DeadlineSpec | None,
    status: str,
    due_at: dt.datetime,
    reminded: Sequence[str],
) -> dt.datetime | None:
    """When the sweep must next look at this deadline; None when nothing more can happen."""
    if status not in {"active", "expired"}:
        return None
    # A running deadline is looked at again when it expires at the latest; its overdue rungs
    # become pending only then.
    candidates = [due_at] if status == "active" else []
    if spec is not None:
        candidates.extend(r.at for r in pending_rungs(definition, calendar, spec, status, due_at, reminded))
    return min(candidates) if candidates else None


def choose(
    definition: Definition,
    calendar: WorkingCalendar,
    spec: DeadlineSpec,
    status: str,
    due_at: dt.datetime,
    reminded: Sequence[str],
    now: dt.datetime,
) -> tuple[RungDue | None, list[RungDue]]:
    """The rung to fire now (the latest one due) and the earlier due ones it supersedes.

    Rungs of the other phase that were never fired (a ``before`` rung of a deadline that has
    meanwhile expired) are superseded too, so the history says why they never went out.
    """
    due = [r for r in pending_rungs(definition, calendar, spec, status, due_at, reminded) if r.at <= now]
    if not due:
        return None, []
    other_status = "expired" if status == "active" else "active"
    stale = [
        r
        for r in pending_rungs(definition, calendar, spec, other_status, due_at, reminded)
        if r.at <= now and status == "expired"
    ]
    return due[-1], [*stale, *due[:-1]]
