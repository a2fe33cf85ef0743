"""Reads behind the console's "my work": cases in given states, soonest due first, a page at a time.

A work list at 100,000 open cases cannot compute every case's next due date to sort them. These
reads walk the open deadlines in due order through ``ix_deadline_open_due`` (migration 0019),
join each to its case, keep the cases in the wanted states and scope, and stop after a page.
Counts per state are one ``GROUP BY``. Reads only; nothing here writes, and nothing here knows
what a role may do (the caller names the states).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from storage.connections import Database, deadline_t, record_t, state_t
from storage.records import record_of
from storage.values import StoredRecord

OPEN = ("active", "expired")  # a paused deadline is not running: it is not due


@dataclass(frozen=True, slots=True, kw_only=True)
class Waiting:
    """Which cases a work list holds: ``main`` (definition, state) pairs of the main track,
    ``tracks`` (definition, track, state) of the parallel ones, and the scope."""

    main: Sequence[tuple[str, str]] = ()
    tracks: Sequence[tuple[str, str, str]] = ()
    units: Sequence[str] | None = None  # responsible or originating unit in these
    unit: str | None = None  # responsible or originating unit is this one
    kind: str | None = None
    in_state: tuple[str | None, str] | None = None  # and in this (track, state); None: the main track


@dataclass(frozen=True, slots=True)
class DueRow:
    """A case on the list with the open deadline that put it there (the case's soonest)."""

    record: StoredRecord
    due_at: dt.datetime | None
    deadline: str | None


def _where(waiting: Waiting) -> list[Any]:
    # One test per table, not one per state: a case in a listed track state of another of the
    # definitions comes along, and the caller's check of what may be done now turns it away.
    either: list[Any] = []
    if waiting.main:
        either.append(sa.tuple_(record_t.c.definition_name, record_t.c.state).in_(list(waiting.main)))
    if waiting.tracks:
        either.append(
            sa.and_(
                record_t.c.definition_name.in_(sorted({d for d, _, _ in waiting.tracks})),
                sa.exists().where(
                    state_t.c.record_id == record_t.c.id,
                    sa.tuple_(state_t.c.track, state_t.c.state).in_(
                        sorted({(t, s) for _, t, s in waiting.tracks})
                    ),
                ),
            )
        )
    where: list[Any] = [sa.or_(*either) if either else sa.false()]
    if waiting.main and not waiting.tracks:  # lets ix_record_state_unit find them
        where.append(record_t.c.state.in_(sorted({s for _, s in waiting.main})))
    if waiting.units is not None:
        wanted = list(waiting.units)
        where.append(sa.or_(record_t.c.responsible_unit.in_(wanted), record_t.c.originating_unit.in_(wanted)))
    if waiting.unit is not None:
        u = waiting.unit
        where.append(sa.or_(record_t.c.responsible_unit == u, record_t.c.originating_unit == u))
    if waiting.kind is not None:
        where.append(record_t.c.kind == waiting.kind)
    if waiting.in_state is not None:
        track, state = waiting.in_state
        if track is None:
            where.append(record_t.c.state == state)
        else:
            where.append(
                sa.exists().where(
                    state_t.c.record_id == record_t.c.id, state_t.c.track == track, state_t.c.state == state
                )
            )
    return where


def open_deadlines_by_due(due_by: dt.datetime | None = None) -> sa.Select[Any]:
    """The walk of ``by_due``: open deadlines, soonest first, read from ``ix_deadline_open_due``."""
    walk = (
        sa.select(deadline_t.c.record_id, deadline_t.c.due_at, deadline_t.c.name)
        .where(deadline_t.c.closed_at.is_(None), deadline_t.c.status.in_(OPEN))
        .order_by(deadline_t.c.due_at, deadline_t.c.record_id)
    )
    return walk if due_by is None else walk.where(deadline_t.c.due_at <= due_by)


def _holds(waiting: Waiting, case: StoredRecord) -> bool:
    """What ``_where`` asks, of a case read already."""
    units = (case.responsible_unit, case.originating_unit)
    if waiting.units is not None and not set(units) & set(waiting.units):
        return False
    if waiting.unit is not None and waiting.unit not in units:
        return False
    if waiting.kind is not None and case.kind != waiting.kind:
        return False
    tracks = case.tracks or {}
    if waiting.in_state is not None:
        track, state = waiting.in_state
        if (case.state if track is None else tracks.get(track)) != state:
            return False
    name = case.definition_name
    return (name, case.state) in set(waiting.main) or any(
        d == name and tracks.get(t) == s for d, t, s in waiting.tracks
    )


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class WorkList:
    """The work-list reads of one database."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def by_due(
        self, waiting: Waiting, *, due_by: dt.datetime | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[DueRow], int]:
        """Up to ``limit`` cases with an open deadline, soonest due first, from the ``offset``-th
        open deadline of the walk on; and the offset to go on from (``-1`` at the end).

        A case with several open deadlines comes once, at its soonest. ``due_by`` keeps the
        deadlines due by then. The walk reads the open deadlines alone, in index order, a chunk
        at a time, then those chunks' cases by id with the filters: two plain indexed reads that
        every planner runs the same way (a join let SQLite read every case of the unit through
        the unit's index and sort them all: 0.8 s at 100,000)."""
        walk = open_deadlines_by_due(due_by)
        found: list[DueRow] = []
        seen: set[str] = set()
        chunk = max(limit * 4, 100)
        with self.db.reading() as c:
            while True:
                steps = c.execute(walk.limit(chunk).offset(offset)).all()
                ids = sorted({record_id for record_id, _, _ in steps} - seen)
                cases, soonest = self._cases(c, waiting, ids)
                for n, (record_id, due_at, name) in enumerate(steps):
                    case = cases.get(record_id)
                    if case is None or record_id in seen or due_at > soonest[record_id]:
                        continue  # out of the list, listed already, or listed at its soonest deadline
                    seen.add(record_id)
                    found.append(DueRow(case, _aware(due_at), name))
                    if len(found) == limit:
                        return found, offset + n + 1
                if len(steps) < chunk:
                    return found, -1
                offset += chunk

    @staticmethod
    def _cases(
        c: sa.Connection, waiting: Waiting, ids: Sequence[str]
    ) -> tuple[dict[str, StoredRecord], dict[str, dt.datetime]]:
        """The cases of ``ids`` that ``waiting`` holds, read by primary key and tested here (a
        filtered read let SQLite prefer the unit's index over the key), and each one's soonest
        open due time."""
        if not ids:
            return {}, {}
        cases = {}
        for row in c.execute(sa.select(record_t).where(record_t.c.id.in_(ids))):
            case = record_of(row._mapping)
            if _holds(waiting, case):
                cases[case.id] = case
        soonest_q = (
            sa.select(deadline_t.c.record_id, sa.func.min(deadline_t.c.due_at))
            .where(
                deadline_t.c.record_id.in_(sorted(cases)),
                deadline_t.c.closed_at.is_(None),
                deadline_t.c.status.in_(OPEN),
            )
            .group_by(deadline_t.c.record_id)
        )
        soonest = {str(r[0]): r[1] for r in c.execute(soonest_q)} if cases else {}
        return cases, soonest

    def scope_size(self, waiting: Waiting) -> int | None:
        """At most how many cases the scope of ``waiting`` holds (its units; ``None``: the whole
        database), counted from the unit indexes alone."""
        scopes = [list(u) for u in (waiting.units, [waiting.unit] if waiting.unit else None) if u is not None]
        if not scopes:
            return None
        narrowest = min(scopes, key=len)
        total = 0
        with self.db.reading() as c:
            for column in (record_t.c.responsible_unit, record_t.c.originating_unit):
                q = sa.select(sa.func.count()).select_from(record_t).where(column.in_(narrowest))
                total += int(c.execute(q).scalar_one())
        return total

    def by_case(
        self, waiting: Waiting, *, due_by: dt.datetime | None = None, limit: int = 50, offset: int = 0
    ) -> list[DueRow]:
        """The same list as ``by_due`` then ``undated``, read from the cases' side: the cases in
        scope, ordered by their soonest open due time (none last), then id. For a scope of few
        cases in a large database, where walking every open deadline would read them all."""
        soonest = (
            sa.select(sa.func.min(deadline_t.c.due_at))
            .where(
                deadline_t.c.record_id == record_t.c.id,
                deadline_t.c.closed_at.is_(None),
                deadline_t.c.status.in_(OPEN),
            )
            .scalar_subquery()
        )
        q = sa.select(record_t, soonest.label("w_due")).where(*_where(waiting))
        if due_by is not None:
            q = q.where(soonest <= due_by)
        q = q.order_by(soonest.is_(None), soonest, record_t.c.id).limit(limit).offset(offset)
        with self.db.reading() as c:
            rows = c.execute(q).all()
            names: dict[tuple[str, Any], str] = {}
            ids = [row.id for row in rows if row.w_due is not None]
            if ids:
                open_q = sa.select(deadline_t.c.record_id, deadline_t.c.due_at, deadline_t.c.name).where(
                    deadline_t.c.record_id.in_(ids),
                    deadline_t.c.closed_at.is_(None),
                    deadline_t.c.status.in_(OPEN),
                )
                for record_id, due_at, name in c.execute(open_q.order_by(deadline_t.c.name)):
                    names.setdefault((record_id, due_at), name)
        return [
            DueRow(
                record_of(row._mapping),
                None if row.w_due is None else _aware(row.w_due),
                names.get((row.id, row.w_due)),
            )
            for row in rows
        ]

    def undated(self, waiting: Waiting, *, limit: int = 50, offset: int = 0) -> list[StoredRecord]:
        """Cases without an open deadline, by id: they come after every dated one."""
        none_open = ~sa.exists().where(
            deadline_t.c.record_id == record_t.c.id,
            deadline_t.c.closed_at.is_(None),
            deadline_t.c.status.in_(OPEN),
        )
        q = sa.select(record_t).where(*_where(waiting), none_open).order_by(record_t.c.id)
        with self.db.reading() as c:
            return [record_of(r._mapping) for r in c.execute(q.limit(limit).offset(offset))]

    def counts(self, states: Sequence[str], waiting: Waiting) -> dict[str, int]:
        """How many cases in each main state of ``states`` are in the scope of ``waiting`` (its
        units, unit and kind; not its states). Two reads, one per unit column, so that the
        count of a unit's cases is read from ``ix_record_state_unit`` alone (an ``OR`` of the
        two columns made SQLite fetch every row: 0.13 s at 100,000)."""
        if not states:
            return {}
        wanted = sorted(set(states))
        scopes: list[list[str] | None] = []
        if waiting.units is not None:
            scopes.append(list(waiting.units))
        if waiting.unit is not None:
            scopes.append([waiting.unit])
        base: list[Any] = [record_t.c.state.in_(wanted)]
        if waiting.kind is not None:
            base.append(record_t.c.kind == waiting.kind)
        if not scopes:
            reads = [base]
        else:
            # responsible unit in every scope; else the originating unit in every scope
            by_responsible = [record_t.c.responsible_unit.in_(u) for u in scopes if u is not None]
            by_originating = [record_t.c.originating_unit.in_(u) for u in scopes if u is not None]
            reads = [
                [*base, *by_responsible],
                [*base, *by_originating, sa.not_(sa.and_(*by_responsible))],
            ]
        found: dict[str, int] = {}
        with self.db.reading() as c:
            for where in reads:
                q = sa.select(record_t.c.state, sa.func.count()).where(*where).group_by(record_t.c.state)
                for state, n in c.execute(q):
                    found[state] = found.get(state, 0) + int(n)
        return found

    def counts_matching(self, waiting: Waiting) -> dict[str, int]:
        """How many cases ``waiting`` holds, by main state, testing each case's tracks: for a
        list narrowed to one parallel track's state, where ``counts`` would count too many."""
        q = sa.select(record_t.c.state, sa.func.count()).where(*_where(waiting)).group_by(record_t.c.state)
        with self.db.reading() as c:
            return {state: int(n) for state, n in c.execute(q)}
