"""What the engine counts for a unit and a period: the measures indicator formulas read.

Every measure is counted from the engine's own cases, generically by kind, deadline name, event
name and main state, so a new kind of case (complaint, commitment) is counted the day its
definition is loaded: ``open_<kind>`` and ``overdue_<kind>`` (as the case stood at the period's
end, rebuilt from its history), ``cases_<kind>``, ``new_<kind>``, ``state_<kind>_<state>``,
``due_``/``ontime_``/``late_<deadline>`` and ``…_<kind>_<deadline>`` (deadlines falling due in
the period), ``event_<event>``
and ``event_<event>_<field>_<value>`` (events fired in the period), and ``input_<measure>``
(figures reported from outside). Reads only, through the engine's public methods.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from definitions.jurisdictions import Jurisdiction
from storage.values import ReportInputRow
from workflow.core.report_periods import ReportPeriod, parse_period
from workflow.engine.facade import Engine
from workflow.engine.views import DeadlineView, HistoryEntry, RecordView

SHANGHAI = ZoneInfo("Asia/Shanghai")
PAGE = 500
_WORD = re.compile(r"^[a-z0-9_]{1,40}$")
ON_TIME = frozenset({"met"})
LATE = frozenset({"met_late", "expired"})
RUNNING = frozenset({"active", "paused"})


def instant(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in China's time."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=SHANGHAI)


@dataclass(slots=True, kw_only=True)
class CaseFacts:
    """One case as the reports need it: its unit, kind, deadlines and history."""

    id: str
    unit: str
    superior: str | None
    kind: str
    created_at: dt.datetime
    deadlines: Sequence[DeadlineView]
    history: Sequence[HistoryEntry]
    as_of: dict[dt.datetime, RecordView | None] = field(default_factory=dict)


def _unit_field(engine: Engine, view: RecordView) -> tuple[str | None, str | None]:
    name, _, version = view.definition.partition("@")
    definition = engine.registry.get(name, int(version))
    unit_field = definition.index.responsible_unit
    unit = view.data.get(unit_field) if unit_field else None
    superior = view.data.get("superior_unit")
    return (str(unit) if unit else None), (str(superior) if superior else None)


def _pages(engine: Engine, *, definition: str | None = None, unit: str | None = None) -> Iterator[RecordView]:
    offset = 0
    while True:
        page = engine.query(limit=PAGE, offset=offset, definition=definition, unit=unit)
        yield from page
        if len(page) < PAGE:
            return
        offset += PAGE


def cases_in_scope(engine: Engine, place: Jurisdiction, units: Mapping[str, object]) -> list[CaseFacts]:
    """The cases of a jurisdiction: those run on its own definitions, and those of the units of
    its directory whatever definition they run on (supervision rounds, complaints, commitments)."""
    own = sorted({d.name for d in engine.registry.all() if d.jurisdiction in place.definitions})
    views = [v for name in own for v in _pages(engine, definition=name)]
    views += [v for code in sorted(units) for v in _pages(engine, unit=code)]
    found: dict[str, CaseFacts] = {}
    for view in views:
        unit, superior = _unit_field(engine, view)
        if unit is None or view.id in found:
            continue
        full = engine.get(view.id)
        found[view.id] = CaseFacts(
            id=view.id,
            unit=unit,
            superior=superior,
            kind=view.kind,
            created_at=view.created_at,
            deadlines=full.deadlines,
            history=engine.history(view.id),
        )
    return list(found.values())


def _as_of(engine: Engine, case: CaseFacts, when: dt.datetime) -> RecordView | None:
    if when not in case.as_of:
        case.as_of[when] = engine.state_at(case.id, when) if case.created_at < when else None
    return case.as_of[when]


def _deadline_measures(
    kind: str, deadlines: Sequence[DeadlineView], start: dt.datetime, end: dt.datetime
) -> Counter[str]:
    """``due_/ontime_/late_<deadline>`` over every kind, and ``…_<kind>_<deadline>`` for one kind
    (a complaint's ``verification`` is not a record's)."""
    counts: Counter[str] = Counter()
    for deadline in deadlines:
        if not start <= deadline.due_at < end or deadline.status == "cancelled":
            continue
        names = (deadline.name, f"{kind}_{deadline.name}")
        counts.update(f"due_{n}" for n in names)
        if deadline.status in ON_TIME and (deadline.closed_at is None or deadline.closed_at <= end):
            counts.update(f"ontime_{n}" for n in names)
        elif deadline.status in LATE or deadline.status in RUNNING:
            counts.update(f"late_{n}" for n in names)
    return counts


def _event_measures(history: Sequence[HistoryEntry], start: dt.datetime, end: dt.datetime) -> Counter[str]:
    counts: Counter[str] = Counter()
    for entry in history:
        if not start <= entry.occurred_at < end:
            continue
        counts[f"event_{entry.event}"] += 1
        for key, value in entry.payload.items():
            if isinstance(value, str) and _WORD.match(key) and _WORD.match(value):
                counts[f"event_{entry.event}_{key}_{value}"] += 1
    return counts


def case_measures(engine: Engine, case: CaseFacts, start: dt.datetime, end: dt.datetime) -> Counter[str]:
    """What one case adds to its unit's measures for the period [start, end)."""
    counts: Counter[str] = Counter()
    if case.created_at >= end:
        return counts
    kind = case.kind
    counts[f"cases_{kind}"] += 1
    if case.created_at >= start:
        counts[f"new_{kind}"] += 1
    view = _as_of(engine, case, end)
    if view is not None:
        name, _, version = view.definition.partition("@")
        definition = engine.registry.get(name, int(version))
        final = definition.main.states[view.state].final if view.state in definition.main.states else False
        is_open = view.active if kind == "record" else not final
        counts[f"open_{kind}"] += int(is_open)
        counts[f"overdue_{kind}"] += int(view.overdue and is_open)
        counts[f"state_{kind}_{view.state}"] += 1
    counts.update(_deadline_measures(kind, case.deadlines, start, end))
    counts.update(_event_measures(case.history, start, end))
    return counts


def input_measures(rows: Sequence[ReportInputRow], period: ReportPeriod) -> dict[str, Counter[str]]:
    """Reported figures per unit: those of the period and of the shorter periods inside it."""
    by_unit: dict[str, Counter[str]] = {}
    for row in rows:
        reported = parse_period(row.period)
        if reported is not None and period.contains(reported):
            by_unit.setdefault(row.unit, Counter())[f"input_{row.measure}"] += row.value
    return by_unit
