"""Due times of deadlines: periods from a definition turned into UTC instants, with their reasons.

Pure: the working-day calendar and the time the clock started are handed in. A period is
counted on local dates (Asia/Shanghai unless the definition says otherwise) and falls due at
the definition's ``deadline_time`` on its last day (民法典 art. 203: where there are business
hours, the period ends when business stops).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from definitions.model import DeadlineSpec, Definition, Period
from workflow.core.calendar import DueDate, WorkingCalendar

UTC = dt.UTC


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_date(definition: Definition, when: dt.datetime) -> dt.date:
    return when.astimezone(_zone(definition.timezone)).date()


def at_local_time(definition: Definition, day: dt.date, clock_time: dt.time) -> dt.datetime:
    """``day`` at ``clock_time`` in the definition's time zone, as a UTC instant."""
    return dt.datetime.combine(day, clock_time, tzinfo=_zone(definition.timezone)).astimezone(UTC)


def due_instant(definition: Definition, day: dt.date) -> dt.datetime:
    """The instant a period whose last day is ``day`` ends."""
    return at_local_time(definition, day, definition.deadline_time)


@dataclass(frozen=True, slots=True, kw_only=True)
class Due:
    """A computed due time and everything needed to explain it and to pause it later."""

    due_at: dt.datetime
    unit: str  # working_days | days
    amount: int
    provisional: bool
    basis: Mapping[str, Any]


def resolve_period(definition: Definition, period: Period, data: Mapping[str, Any]) -> Period | None:
    """Turn a period that depends on the record into a plain one; None when it cannot apply.

    A period read from a field that is empty, a publication period for a severity without one,
    or a ``by_field`` period for an unlisted value does not apply: the deadline is not started.
    """
    if period.field_days is not None:
        value = data.get(period.field_days)
        return Period(days=int(value)) if isinstance(value, int) and value > 0 else None
    if period.field_working_days is not None:
        value = data.get(period.field_working_days)
        return Period(working_days=int(value)) if isinstance(value, int) and value > 0 else None
    if period.publication is not None:
        finding = data.get("finding_date")
        severity = data.get("severity")
        if not isinstance(finding, str) or not isinstance(severity, str):
            return None
        regime = definition.publication_regime(dt.date.fromisoformat(finding))
        bounds = regime.periods.get(severity) if regime else None
        if bounds is None:
            return None
        return bounds.max if period.publication == "max" else bounds.min
    if period.by_field is not None:
        value = data.get(period.by_field)
        return period.by_value.get(value) if isinstance(value, str) else None
    return period


def add_plain(calendar: WorkingCalendar, start: dt.date, period: Period) -> DueDate:
    if period.working_days:
        return calendar.add_working_days(start, period.working_days)
    return calendar.add_period(start, days=period.days, months=period.months, years=period.years)


def period_end(start: dt.date, period: Period) -> dt.date:
    """The plain calendar end of a period, without moving off days off (for minimum periods)."""
    return start + relativedelta(days=period.days, months=period.months, years=period.years)


def _count(period: Period) -> dict[str, int]:
    """The plain amounts of a resolved period, so the due date can be recomputed later."""
    amounts = (
        ("working_days", period.working_days),
        ("days", period.days),
        ("months", period.months),
        ("years", period.years),
    )
    return {unit: amount for unit, amount in amounts if amount}


_EXPLAINED: dict[DueDate, tuple[str, ...]] = {}


def _explained(due: DueDate) -> list[str]:
    """``due.explain()``, worked out once per due date (a fresh list each time)."""
    found = _EXPLAINED.get(due)
    if found is None:
        found = tuple(due.explain())
        if len(_EXPLAINED) < 10_000:
            _EXPLAINED[due] = found
    return list(found)


def _basis(
    spec_label: str, legal_basis: str, due: DueDate, period: Period, anchor: str | None
) -> dict[str, Any]:
    # What the definition already says (label, legal basis) is not repeated here: the basis
    # holds what the calendar contributed, so the due date can be explained and recomputed.
    basis: dict[str, Any] = {
        "count": _count(period),
        "start": due.start.isoformat(),
        "rule": due.rule,
        "explanation": _explained(due),
    }
    if anchor:
        basis["anchor"] = anchor
    return basis


def start_deadline(
    definition: Definition,
    calendar: WorkingCalendar,
    spec: DeadlineSpec,
    data: Mapping[str, Any],
    started_at: dt.datetime,
) -> Due | None:
    """The due time of a deadline starting now, or None when its period does not apply to this record."""
    period = resolve_period(definition, spec.period, data)
    if period is None:
        return None
    anchor = next((name for name in spec.anchor if isinstance(data.get(name), str)), None)
    start = dt.date.fromisoformat(data[anchor]) if anchor else local_date(definition, started_at)
    due = add_plain(calendar, start, period)
    unit, amount = (
        ("working_days", period.working_days) if period.working_days else ("days", (due.due - start).days)
    )
    return Due(
        due_at=due_instant(definition, due.due),
        unit=unit,
        amount=amount,
        provisional=due.provisional,
        basis=_basis(spec.label, spec.legal_basis, due, period, anchor),
    )


def remaining(
    definition: Definition, calendar: WorkingCalendar, unit: str, due_at: dt.datetime, at: dt.datetime
) -> int:
    """What is left of a period when its clock stops at ``at``: working days or calendar days."""
    today = local_date(definition, at)
    last = local_date(definition, due_at)
    if unit == "working_days":
        return calendar.working_days_between(today, last) if last > today else 0
    return max((last - today).days, 0)


def resume(
    definition: Definition,
    calendar: WorkingCalendar,
    spec: DeadlineSpec,
    unit: str,
    left: int,
    at: dt.datetime,
) -> Due:
    """The new due time when a paused clock runs again with ``left`` units remaining."""
    period = Period(working_days=left) if unit == "working_days" else Period(days=left)
    start = local_date(definition, at)
    due = add_plain(calendar, start, period)
    basis = _basis(spec.label, spec.legal_basis, due, period, None)
    basis["resumed"] = True
    return Due(
        due_at=due_instant(definition, due.due),
        unit=unit,
        amount=left,
        provisional=due.provisional,
        basis=basis,
    )


def extend(
    definition: Definition,
    calendar: WorkingCalendar,
    spec: DeadlineSpec,
    basis_before: Mapping[str, Any],
    extra: int,
) -> Due:
    """The due time moved on by ``extra`` working days (counted on from the same start day).

    Adding working days is associative, so the extended deadline is the original start plus
    the original and extra working days together; that keeps it recomputable from its basis.
    """
    start = dt.date.fromisoformat(str(basis_before["start"]))
    total = int(basis_before.get("count", {}).get("working_days", 0)) + extra
    due = calendar.add_working_days(start, total)
    basis = _basis(spec.label, spec.legal_basis, due, Period(working_days=total), basis_before.get("anchor"))
    basis["extended_by"] = extra
    return Due(
        due_at=due_instant(definition, due.due),
        unit="working_days",
        amount=extra,
        provisional=due.provisional,
        basis=basis,
    )


def recompute(
    definition: Definition, calendar: WorkingCalendar, spec: DeadlineSpec, basis_before: Mapping[str, Any]
) -> Due:
    """The same period from the same start, under the calendar as it is known now."""
    count = dict(basis_before.get("count", {}))
    period = Period(**count)
    start = dt.date.fromisoformat(str(basis_before["start"]))
    due = add_plain(calendar, start, period)
    basis = _basis(spec.label, spec.legal_basis, due, period, basis_before.get("anchor"))
    for key in ("resumed", "extended_by"):
        if key in basis_before:
            basis[key] = basis_before[key]
    unit, amount = (
        ("working_days", period.working_days) if period.working_days else ("days", (due.due - start).days)
    )
    return Due(
        due_at=due_instant(definition, due.due),
        unit=unit,
        amount=amount,
        provisional=due.provisional,
        basis=basis,
    )


def extension_limit(definition: Definition, spec: DeadlineSpec) -> int | None:
    """The most working days a deadline may reach with its extensions, or None if it cannot be extended."""
    if spec.extendable_to is None:
        return None
    limit = resolve_period(definition, spec.extendable_to, {})
    return limit.working_days if limit is not None else None
