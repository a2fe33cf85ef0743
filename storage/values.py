"""Frozen values that cross the storage boundary: what the store returns and what it writes.

The engine never sees an ORM row. A command's whole effect is one ``CommandWrite``, which the
store commits in one transaction or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, NamedTuple, TypeVar, overload

import orjson


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRecord:
    """A case's row: its projection (``state`` is its main track) and the indexed columns."""

    id: str
    kind: str
    definition_name: str
    definition_version: int
    state: str
    tracks: Mapping[str, str]
    data: Mapping[str, Any]
    actors: Mapping[str, Any]
    subject_name: str | None
    subject_code: str | None
    subject_key: str | None
    responsible_unit: str | None
    originating_unit: str | None
    severity: str | None
    case_date: dt.date | None
    active: bool
    overdue: bool
    version: int
    head_hash: str
    created_at: dt.datetime
    updated_at: dt.datetime


RECORD_COLUMNS: tuple[str, ...] = tuple(StoredRecord.__dataclass_fields__)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEvent:
    record_id: str
    seq: int
    event: str
    changes: Sequence[Sequence[str | None]]
    actor: str
    role: str
    unit: str
    payload: Mapping[str, Any]
    comment: str
    effects: Mapping[str, Any]
    definition_name: str
    definition_version: int
    occurred_at: dt.datetime
    idempotency_key: str | None
    prev_hash: str
    hash: str
    mac: str | None = None  # HMAC of ``hash`` under the history key, when one is configured


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDeadline:
    id: int
    record_id: str
    name: str
    started_seq: int
    status: str
    started_at: dt.datetime
    due_at: dt.datetime
    unit: str
    amount: int
    extended: int
    paused_at: dt.datetime | None
    remaining: int | None
    provisional: bool
    basis: Mapping[str, Any]
    closed_at: dt.datetime | None
    closed_seq: int | None
    next_at: dt.datetime | None = None
    reminded: Sequence[str] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadlineInsert:
    name: str
    status: str
    started_at: dt.datetime
    due_at: dt.datetime
    unit: str
    amount: int
    provisional: bool
    basis: Mapping[str, Any]
    paused_at: dt.datetime | None = None
    remaining: int | None = None
    next_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadlineUpdate:
    id: int
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxInsert:
    cause: str
    template: str
    recipient_unit: str
    context: Mapping[str, Any]
    message_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReminderInsert:
    deadline_id: int
    rung: str
    due_at: dt.datetime
    scheduled_at: dt.datetime
    outcome: str  # sent | superseded


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordWrite:
    """The case's row after a command; ``expected_version`` is None for a new case."""

    record: StoredRecord
    expected_version: int | None
    unchanged: frozenset[str] = frozenset()  # columns the command leaves as they were (not rewritten)


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandWrite:
    """Everything one command writes, committed in one transaction or not at all."""

    record: RecordWrite
    event: StoredEvent
    track_changes: Sequence[tuple[str, str | None, str | None]] = ()  # parallel tracks (not the main one)
    deadline_inserts: Sequence[DeadlineInsert] = ()
    deadline_updates: Sequence[DeadlineUpdate] = ()
    outbox: Sequence[OutboxInsert] = ()
    personal: Mapping[str, str] = field(default_factory=dict)
    purge_personal: bool = False
    reminders: Sequence[ReminderInsert] = ()
    webhook: WebhookEvent | None = None  # fanned out to the matching subscriptions on commit


@dataclass(frozen=True, slots=True)
class Loaded:
    """A case as a command reads it: its row and its deadlines (closed ones too), one snapshot."""

    record: StoredRecord
    deadlines: Sequence[StoredDeadline]

    @property
    def open(self) -> list[StoredDeadline]:
        """The deadlines still running, paused or expired but unmet."""
        return [d for d in self.deadlines if d.closed_at is None]


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxRow:
    """A queued mail (or webhook) and where its delivery stands."""

    id: int
    cause: str
    record_id: str | None
    template: str
    recipient_unit: str
    context: Mapping[str, Any]
    status: str  # queued | sending | sent | failed | dead
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    message_id: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    claimed_at: dt.datetime | None
    claim_token: str | None = None  # the claim of the dispatcher sending it (``sending`` only)
    channel: str = "mail"  # mail | webhook (``recipient_unit`` then holds the subscription's id)


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEvent:
    """A transition as webhooks announce it: its event name, its kind of case, and the JSON body
    every matching subscription is sent (queued with the transition, one row per subscription)."""

    event: str
    kind: str
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSubscriptionRow:
    """A webhook subscription: where deliveries go, of which event types, signed with ``secret``."""

    id: int
    name: str
    url: str
    events: Sequence[str]
    secret: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitRow:
    """A unit of the directory: its name, superior and the addresses of its contact people."""

    code: str
    name: str
    superior: str | None
    emails: Sequence[str]
    contact: str | None
    jurisdiction: str | None = None
    level: str | None = None
    updated_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportInputRow:
    """A figure reported from outside the engine for one unit, period and measure."""

    jurisdiction: str
    period: str
    unit: str
    measure: str
    value: int
    source: str
    reported_by: str
    reported_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReminderRow:
    """One reminder rung fired (or recorded as superseded) for one due date of a deadline."""

    id: int
    deadline_id: int
    record_id: str
    rung: str
    due_at: dt.datetime
    scheduled_at: dt.datetime
    fired_at: dt.datetime
    outcome: str  # sent | superseded
    seq: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredHolidayTable:
    """A year's holiday arrangement loaded into the database, as its YAML text."""

    year: int
    provisional: bool
    source: str
    body: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDefinition:
    """The resolved text of a definition version used by cases, with its SHA-256."""

    name: str
    version: int
    sha256: str
    body: str


class _RawRow(NamedTuple):
    """The columns of a history row as verification reads them, in the order it selects them."""

    record_id: str
    seq: int
    event: str
    changes_json: str
    actor: str
    role: str
    unit: str
    payload_json: str
    comment: str
    effects_json: str
    definition_name: str
    definition_version: int
    at_iso: str  # the UTC time as the hash writes it: 2026-05-11T01:00:00.000000+00:00
    idempotency_key: str | None
    prev_hash: str
    hash: str
    mac: str | None


T = TypeVar("T")


class _parsed(Generic[T]):
    """``functools.cached_property`` without its lock (Python 3.11 takes one lock for every
    instance, a cost verification pays on each of millions of rows; a row is read by one thread)."""

    def __init__(self, parse: Callable[[Any], T]) -> None:
        self.parse = parse
        self.name = parse.__name__
        self.__doc__ = parse.__doc__

    @overload
    def __get__(self, row: None, owner: type | None = None) -> _parsed[T]: ...
    @overload
    def __get__(self, row: object, owner: type | None = None) -> T: ...
    def __get__(self, row: object | None, owner: type | None = None) -> T | _parsed[T]:
        if row is None:
            return self
        value = row.__dict__[self.name] = self.parse(row)  # later reads find it there
        return value


class RawEvent(_RawRow):
    """A history row as stored: its JSON columns kept as text and parsed only when asked for.

    Verification reads every row of the history; most rows need only their hash recomputed,
    which the canonical text allows without parsing (``workflow.core.history.raw_event_hash``). The
    row is a tuple (built from the driver's row in one call); the parsed views are cached on it.
    """

    ORDER = _RawRow._fields

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> RawEvent:
        """From the columns in ``ORDER`` (``mac`` may be left off); cheaper than keyword
        construction for millions of rows."""
        if len(row) != len(cls.ORDER):
            if len(row) != len(cls.ORDER) - 1:
                raise ValueError(f"a history row has {len(cls.ORDER)} columns, not {len(row)}")
            row = (*row, None)
        return tuple.__new__(cls, row)

    @_parsed
    def occurred_at(self) -> dt.datetime:
        """The time; a stored text without an offset is UTC, as every time in the database."""
        at = dt.datetime.fromisoformat(self.at_iso)
        return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)

    @_parsed
    def changes(self) -> Sequence[Sequence[str | None]]:
        loaded: Sequence[Sequence[str | None]] = orjson.loads(self.changes_json)  # lists, as stored
        return loaded

    @_parsed
    def payload(self) -> Mapping[str, Any]:
        loaded: Mapping[str, Any] = orjson.loads(self.payload_json)
        return loaded

    @_parsed
    def effects(self) -> Mapping[str, Any]:
        loaded: Mapping[str, Any] = orjson.loads(self.effects_json)
        return loaded

    def mentions(self, text: str) -> bool:
        """Whether the effects' text contains ``text`` (a cheap test before parsing them)."""
        return text in self.effects_json


@dataclass(frozen=True, slots=True, kw_only=True)
class Unreadable:
    """A stored row, or one of its columns, that cannot be read as what the engine writes there.

    Verification reports it as a finding and goes on with the other rows and cases.
    """

    table: str
    record_id: str
    row: str  # which row: "seq 3", "id 17", "track publication"
    column: str
    value: str  # the stored value as Python shows it, cut short
    reason: str


class RawDeadline(NamedTuple):
    """A deadline row as verification reads it: every time as UTC ISO text the way a history row's
    time is written (``2026-05-11T01:00:00.000000+00:00``; a time stored in another form is handed
    on as stored), JSON columns as their stored text, the rest as the driver reads it (``provisional``
    is 0 or 1 on SQLite). Parsed only when it does not match what the history implies."""

    id: int
    record_id: str
    name: str
    started_seq: int
    status: str
    started_at: str
    due_at: str
    unit: str
    amount: int
    extended: int
    paused_at: str | None
    remaining: int | None
    provisional: bool | int
    basis: str
    closed_at: str | None
    closed_seq: int | None
    next_at: str | None
    reminded: str


class RawReminder(NamedTuple):
    """A reminder log row as verification reads it (times as in ``RawDeadline``)."""

    id: int
    record_id: str
    deadline_id: int
    rung: str
    due_at: str
    outcome: str
    fired_at: str
    seq: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseRows:
    """Everything stored about one case that drives its behaviour, as verification reads it.

    ``record`` is None when the case row is gone or cannot be read (``unreadable`` says which).
    """

    id: str
    record: StoredRecord | None
    events: Sequence[RawEvent]
    states: Sequence[tuple[str, str]] = ()  # (track, state) of the parallel tracks (``record_state``)
    deadlines: Sequence[RawDeadline] = ()
    reminders: Sequence[RawReminder] = ()
    personal: Mapping[str, str] = field(default_factory=dict)
    unreadable: Sequence[Unreadable] = ()
    complete: bool = True  # False when only the case row and its history were read
