"""What the engine hands back to callers: read-only views of records, history and deadlines.

Views carry Chinese labels beside the codes so the CLI, an HTTP API and embedding services
show the same words. Personal data is already masked here; views never hold ORM rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from definitions.model import Definition
from storage.values import CommandWrite, StoredDeadline, StoredEvent, StoredRecord
from workflow.core.values import INTERNAL_LABELS, LINKS


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackView:
    track: str
    track_label: str
    state: str
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadlineView:
    name: str
    label: str
    status: str
    started_at: dt.datetime
    due_at: dt.datetime
    provisional: bool
    extended: int
    remaining: int | None
    explanation: Sequence[str]
    legal_basis: str
    closed_at: dt.datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordView:
    """A case as callers see it: states with their Chinese labels, data, marks and deadlines."""

    id: str
    kind: str
    definition: str
    definition_title: str
    state: str
    state_label: str
    tracks: Sequence[TrackView]
    data: Mapping[str, Any]
    marks: Sequence[str]
    active: bool
    overdue: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deadlines: Sequence[DeadlineView] = ()
    links: Sequence[Mapping[str, str]] = ()  # cases opened by or opening this one (``core.values.Link``)

    def to_json(self) -> dict[str, Any]:
        return _json_object(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEntry:
    seq: int
    event: str
    event_label: str
    occurred_at: dt.datetime
    actor: str
    role: str
    unit: str
    changes: Sequence[tuple[str, str | None, str | None]]
    payload: Mapping[str, Any]
    comment: str
    effects: Mapping[str, Any]
    definition: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        return _json_object(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class EventOption:
    """An event an actor might fire now, and why not if they may not."""

    event: str
    label: str
    roles: Sequence[str]
    available: bool
    reason: str
    payload_fields: Sequence[str]
    comment_required: bool
    legal_basis: str

    def to_json(self) -> dict[str, Any]:
        return _json_object(self)


def _json_object(view: Any) -> dict[str, Any]:
    result: dict[str, Any] = _jsonable(asdict(view))
    return result


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def deadline_view(definition: Definition, row: StoredDeadline) -> DeadlineView:
    spec = definition.deadlines.get(row.name)
    return DeadlineView(
        name=row.name,
        label=spec.label if spec else row.name,
        status=row.status,
        started_at=row.started_at,
        due_at=row.due_at,
        provisional=row.provisional,
        extended=row.extended,
        remaining=row.remaining,
        explanation=tuple(row.basis.get("explanation", ())),
        legal_basis=spec.legal_basis if spec else "",
        closed_at=row.closed_at,
    )


def tracks_view(definition: Definition, tracks: Mapping[str, str]) -> list[TrackView]:
    return [
        TrackView(
            track=name,
            track_label=definition.tracks[name].label,
            state=tracks[name],
            label=definition.label_of(name, tracks[name]),
        )
        for name in definition.tracks
        if name in tracks
    ]


def marks_of(definition: Definition, tracks: Mapping[str, str]) -> list[str]:
    return [
        mark
        for name, state in tracks.items()
        if name in definition.tracks
        and state in definition.tracks[name].states
        and (mark := definition.tracks[name].states[state].mark)
    ]


_STATE_VIEWS: dict[
    tuple[str, str, tuple[tuple[str, str], ...]], tuple[tuple[TrackView, ...], tuple[str, ...]]
] = {}


def _state_view(
    definition: Definition, tracks: Mapping[str, str]
) -> tuple[tuple[TrackView, ...], tuple[str, ...]]:
    """The labelled tracks and the marks of a combination of states, remembered per definition
    version: a few dozen combinations occur, and every command returns a view of one."""
    key = (definition.key, definition.sha256, tuple(tracks.items()))
    found = _STATE_VIEWS.get(key)
    if found is None:
        found = (tuple(tracks_view(definition, tracks)), tuple(marks_of(definition, tracks)))
        if len(_STATE_VIEWS) < 10_000:
            _STATE_VIEWS[key] = found
    return found


def record_view(
    definition: Definition, record: StoredRecord, deadlines: Sequence[StoredDeadline] = ()
) -> RecordView:
    tracks, marks = _state_view(definition, record.tracks)
    return RecordView(
        id=record.id,
        kind=record.kind,
        definition=definition.key,
        definition_title=definition.title,
        state=record.state,
        state_label=definition.label_of(definition.main_track, record.state),
        tracks=list(tracks),
        data={k: v for k, v in record.data.items() if k != LINKS},
        marks=list(marks),
        active=record.active,
        overdue=record.overdue,
        version=record.version,
        created_at=record.created_at,
        updated_at=record.updated_at,
        deadlines=tuple(deadline_view(definition, d) for d in deadlines),
        links=tuple(dict(link) for link in record.data.get(LINKS, ())),
    )


def history_entry(definition: Definition | None, event: StoredEvent) -> HistoryEntry:
    spec = definition.events.get(event.event) if definition else None
    label = spec.label if spec else INTERNAL_LABELS.get(event.event, event.event)
    return HistoryEntry(
        seq=event.seq,
        event=event.event,
        event_label=label,
        occurred_at=event.occurred_at,
        actor=event.actor,
        role=event.role,
        unit=event.unit,
        changes=tuple((str(c[0]), c[1], c[2]) for c in event.changes),
        payload=dict(event.payload),
        comment=event.comment,
        effects=dict(event.effects),
        definition=f"{event.definition_name}@{event.definition_version}",
        hash=event.hash,
    )


def view_after(
    definition: Definition, write: CommandWrite, deadlines: Sequence[StoredDeadline]
) -> RecordView:
    """The case as a command left it, from what it wrote and the deadlines it read (no read
    back): the same view ``Engine.get`` gives afterwards."""
    return record_view(definition, write.record.record, deadlines_after(write, deadlines))


def deadlines_after(write: CommandWrite, deadlines: Sequence[StoredDeadline]) -> list[StoredDeadline]:
    """The case's deadlines once ``write`` is committed, from the rows it read (no read back).

    A row the write inserts has no id yet: it gets a placeholder, ``-(n + 1)`` for the n-th
    deadline inserted since ``deadlines`` were read from the database, which is how a later
    write of the same commit names it (``storage.store.UnitOfWork.commit``).
    """
    updates = {u.id: u.values for u in write.deadline_updates}
    after = [dataclasses.replace(row, **updates[row.id]) if row.id in updates else row for row in deadlines]
    placeholders = sum(1 for row in deadlines if row.id < 0)
    for index, insert in enumerate(write.deadline_inserts):
        after.append(
            StoredDeadline(
                id=-1 - placeholders - index,
                record_id=write.record.record.id,
                name=insert.name,
                started_seq=write.event.seq,
                status=insert.status,
                started_at=insert.started_at,
                due_at=insert.due_at,
                unit=insert.unit,
                amount=insert.amount,
                extended=0,
                paused_at=insert.paused_at,
                remaining=insert.remaining,
                provisional=insert.provisional,
                basis=insert.basis,
                closed_at=None,
                closed_seq=None,
                next_at=insert.next_at,
            )
        )
    return after
