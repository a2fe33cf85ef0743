"""Finding cases the way a caseworker asks: filters checked against the definitions (a mistyped
state is refused with the states there are), a page with its total, each case's next due date,
days overdue and responsible unit, counts per unit and state, and the tasks an actor may do now.

Reads only: nothing here writes. ``Engine.search`` is the one instance.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from storage.values import StoredRecord
from workflow.core.values import Actor
from workflow.engine import inputs
from workflow.engine.clock import SHANGHAI, Clock, parse_when
from workflow.engine.registry import Registry
from workflow.engine.views import EventOption, RecordView, record_view
from workflow.errors import ArgumentInvalid

if TYPE_CHECKING:  # a read on the driver alone (workflow.engine.reading) lists without a Store
    from storage.store import Store

SORTS = ("created", "updated", "due", "id")
COUNT_BY = {"unit": "responsible_unit", "state": "state", "definition": "definition_name", "kind": "kind"}
_WITHIN = re.compile(r"^\s*(\d{1,4})\s*(wd|d)\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class ListedCase:
    """A case in a list: its view, the earliest open deadline, how many days past it, the unit."""

    view: RecordView
    next_due: dt.datetime | None
    next_deadline: str | None  # the deadline's Chinese label
    days_overdue: int  # calendar days since the next due date passed (0: not yet)
    responsible_unit: str | None

    def to_json(self) -> dict[str, Any]:
        """The case's own JSON with the list's columns beside it."""
        return {
            **self.view.to_json(),
            "next_due": self.next_due.isoformat() if self.next_due else None,
            "next_deadline": self.next_deadline,
            "days_overdue": self.days_overdue,
            "responsible_unit": self.responsible_unit,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CasePage:
    """One page of a case query and where it sits in the whole."""

    items: Sequence[ListedCase]
    total: int
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        following = self.offset + len(self.items)
        return following if following < self.total else None

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "next_offset": self.next_offset,
            "records": [i.to_json() for i in self.items],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Task:
    """Something an actor may do now on a case: the case, the events, the due date."""

    case: ListedCase
    events: Sequence[EventOption]

    def to_json(self) -> dict[str, Any]:
        return {**self.case.to_json(), "events": [e.to_json() for e in self.events]}


class Search:
    """Case queries for people: ``page``, ``counts`` and ``tasks``."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        clock: Clock,
        events_for: Callable[[str, Actor], list[EventOption]],
    ) -> None:
        self._store, self._registry, self._clock, self._events_for = store, registry, clock, events_for

    # ------------------------------------------------------------------ filters

    def states(self, definition: str | None = None) -> list[str]:
        """Every state a ``state`` filter may name: main-track states bare, others as ``track:state``."""
        chosen = [self._registry.select(definition)] if definition else self._registry.all()
        found: dict[str, None] = {}
        for d in chosen:
            for track in d.tracks.values():
                for name in track.states:
                    found[name if track.name == d.main_track else f"{track.name}:{name}"] = None
        return sorted(found)

    def due_limit(self, due_before: str | None, due_within: str | None) -> dt.datetime | None:
        """The time ``--due-before DATE`` or ``--due-within 5wd|10d`` stands for (the end of that
        day, Asia/Shanghai; working days on the official calendar).

        Raises:
            ArgumentInvalid: not a date, or not a number of days followed by ``wd`` or ``d``.
        """
        if due_before is not None and due_within is not None:
            raise ArgumentInvalid("due_within", "只能给出 due_before 或 due_within 之一 (give one of them)")
        if due_before is not None:
            try:
                day = dt.date.fromisoformat(due_before.strip())
            except ValueError:
                raise ArgumentInvalid(
                    "due_before", f"{due_before!r} 不是日期 (not a date such as 2026-12-31)"
                ) from None
            return _end_of(day)
        if due_within is None:
            return None
        match = _WITHIN.match(due_within)
        if match is None:
            raise ArgumentInvalid(
                "due_within", f"{due_within!r}: 写作 5wd（工作日 working days）或 10d（自然日 days）"
            )
        count, unit = int(match.group(1)), match.group(2).lower()
        today = self._clock.now().astimezone(SHANGHAI).date()
        if unit == "d":
            return _end_of(today + dt.timedelta(days=count))
        return _end_of(self._registry.base_calendar().add_working_days(today, count).due)

    def _filters(self, filters: Mapping[str, Any]) -> dict[str, Any]:
        """The storage filters of a page: every value checked, the state against the definitions."""
        state = inputs.optional_text("state", filters.get("state"), limit=2 * inputs.CODE + 1)
        definition = inputs.optional_text("definition", filters.get("definition"), limit=inputs.CODE)
        subject = inputs.optional_text("subject", filters.get("subject"), limit=inputs.NAME)
        main_state = track_state = None
        if state:
            allowed = self.states(definition)
            if state not in allowed and state.rpartition(":")[2] not in allowed:
                raise ArgumentInvalid(
                    "state", f"{state!r} 不是已知状态 (not a known state); allowed: {', '.join(allowed)}"
                )
            track, _, name = state.rpartition(":")
            chosen = [self._registry.select(definition)] if definition else self._registry.all()
            if not track or track in {d.main_track for d in chosen}:
                main_state = name
            else:
                track_state = (track, name)
        return {
            "main_state": main_state,
            "track_state": track_state,
            "unit": inputs.optional_text("unit", filters.get("unit"), limit=inputs.CODE),
            "subject": subject.strip() if subject else None,
            "overdue_at": self._clock.now()
            if inputs.flag("overdue", filters.get("overdue", False))
            else None,
            "active": inputs.optional_flag("active", filters.get("active")),
            "definition": definition,
            "kind": inputs.optional_text("kind", filters.get("kind"), limit=inputs.CODE),
            "due_before": filters.get("due_before"),
        }

    # ------------------------------------------------------------------ reads

    def page(self, *, sort: str = "created", limit: int = 100, offset: int = 0, **filters: Any) -> CasePage:
        """One page of the cases matching ``filters`` (``state``, ``unit``, ``subject``, ``overdue``,
        ``active``, ``definition``, ``kind``, ``due_before`` as a time), with the total.

        Raises:
            ArgumentInvalid: a filter of the wrong type or size, an unknown state or sort.
            DefinitionNotFound: ``definition`` names no definition.
        """
        sort, limit, offset = page_arguments(sort, limit, offset)
        where = self._filters(filters)
        rows = self._store.records.query(**where, sort=sort, limit=limit, offset=offset)
        total = self._store.records.count(**where)
        return CasePage(items=self._listed(rows), total=total, offset=offset, limit=limit)

    def counts(self, by: Sequence[str], **filters: Any) -> list[tuple[tuple[Any, ...], int]]:
        """How many matching cases there are per ``unit``, ``state``, ``definition`` or ``kind``.

        Raises:
            ArgumentInvalid: an unknown grouping, or a filter as in ``page``.
        """
        unknown = [b for b in by if b not in COUNT_BY]
        if unknown or not by:
            raise ArgumentInvalid("by", f"{', '.join(unknown) or '(none)'}; allowed: {', '.join(COUNT_BY)}")
        return self._store.records.count_by([COUNT_BY[b] for b in by], **self._filters(filters))

    def tasks(self, actor: Actor, *, limit: int = 50, scan: int = 2000, **filters: Any) -> list[Task]:
        """What ``actor`` may do now, across open cases, due soonest first: every case among the
        first ``scan`` open ones (by due date) where at least one event is available to them.

        Raises:
            ArgumentInvalid: a filter as in ``page``.
        """
        actor = inputs.actor(actor)
        where = self._filters({"active": None, **filters})
        rows = self._store.records.query(**where, sort="due", limit=scan, offset=0)
        found: list[Task] = []
        for case in self._listed(rows):
            state = self._registry.get(*_key(case.view.definition)).main.states.get(case.view.state)
            if state is not None and state.final:
                continue
            events = [e for e in self._events_for(case.view.id, actor) if e.available]
            if events:
                found.append(Task(case=case, events=events))
                if len(found) >= limit:
                    break
        return found

    def _listed(self, rows: Sequence[StoredRecord]) -> list[ListedCase]:
        due = self._store.records.next_due([r.id for r in rows])
        return listed(rows, due, self._registry, self._clock.now())


def page_arguments(sort: str, limit: int, offset: int) -> tuple[str, int, int]:
    """A page's order, size and start, checked.

    Raises:
        ArgumentInvalid: an unknown sort, a size or start out of range.
    """
    if sort.removeprefix("-") not in SORTS:
        raise ArgumentInvalid("sort", f"{sort!r}; allowed: {', '.join(SORTS)} (a leading '-' reverses)")
    limit = inputs.integer("limit", limit, low=1, high=inputs.UNITS * 10)
    offset = inputs.integer("offset", offset, low=0, high=inputs.INT64[1])
    return sort, limit, offset


def listed(
    rows: Sequence[StoredRecord],
    due: Mapping[str, tuple[dt.datetime, str]],
    registry: Registry,
    now: dt.datetime,
) -> list[ListedCase]:
    """The cases of a page with their next due date (``due``: the earliest open deadline of each,
    by id), days overdue at ``now`` and responsible unit."""
    today = now.astimezone(SHANGHAI).date()
    found: list[ListedCase] = []
    for row in rows:
        definition = registry.get(row.definition_name, row.definition_version)
        when, name = due.get(row.id, (None, None))
        late = (today - when.astimezone(SHANGHAI).date()).days if when is not None else 0
        spec = definition.deadlines.get(name) if name else None
        found.append(
            ListedCase(
                view=record_view(definition, row),
                next_due=when,
                next_deadline=spec.label if spec else name,
                days_overdue=max(late, 0) if when is not None and when < now else 0,
                responsible_unit=row.responsible_unit,
            )
        )
    return found


def _key(definition: str) -> tuple[str, int]:
    name, _, version = definition.partition("@")
    return name, int(version)


def _end_of(day: dt.date) -> dt.datetime:
    return parse_when((day + dt.timedelta(days=1)).isoformat()) - dt.timedelta(microseconds=1)
