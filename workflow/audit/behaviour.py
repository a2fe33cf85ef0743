"""What a case's history implies for the tables that drive its behaviour, compared with what they
hold: the case row (every column, the indexed ones and ``kind`` included), its parallel tracks
(``record_state``), its deadlines (start, due, pauses, extensions, status, closing, when the sweep
looks next), its reminder log, and the keyed digest a person is found by.

The deadlines come from the history's deadline effects, interpreted by
``workflow.core.effects.apply`` as the engine interprets them when it writes the rows
(``implied``, ``compare_deadlines``); when the sweep looks next comes from the ladders, as the
engine and the sweep work it out.

Verification reads every deadline of every case, and parsing every history row's effects would
cost it more than everything else it does. Most cases' deadlines only ever started and ended,
each once: ``confirmed`` shows those rows right on the stored text, by writing each row back
into the effect text the engine would have hashed for it and finding that text in the history
row (``storage.values.RawDeadline`` keeps the times and JSON as stored text for this). Anything
it cannot show that way goes through ``implied`` and ``compare_deadlines``, which alone decide
what is reported. Pure: the rows are handed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from definitions.model import Definition
from storage.values import RECORD_COLUMNS, CaseRows, RawDeadline, RawEvent, RawReminder, StoredRecord
from workflow.audit.rows import READ_ERRORS, EventRow, shown
from workflow.core import effects, ladders
from workflow.core.calendar import WorkingCalendar
from workflow.core.fold import Problem, Projection
from workflow.core.values import DeadlineEffect, OpenDeadline
from workflow.engine import writeset

# The columns of a deadline row the history decides, in ``RawDeadline`` order (after its key).
DEADLINE_COLUMNS = RawDeadline._fields[4:]
# The columns of the case row a finding names without their value (too long).
LONG = frozenset({"data", "actors", "tracks"})
LOOKED_AT = frozenset({"active", "expired"})  # the statuses ``ladders.next_at`` looks at; others: None
SORTED = orjson.OPT_SORT_KEYS


def utc_text(value: dt.datetime) -> str:
    """A time as a history row's time is written: ``2026-05-11T01:00:00.000000+00:00``."""
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


class _Instance:
    """One deadline row as the history writes it: its start, and what happened to it after.

    ``state`` stays None while the deadline has only started (and perhaps closed): then its row
    follows from the start effect alone.
    """

    __slots__ = (
        "closed_at",
        "closed_seq",
        "outcome",
        "start",
        "start_event",
        "started_at",
        "started_seq",
        "state",
    )

    def __init__(
        self, started_seq: int, start: Mapping[str, Any], start_event: EventRow, started_at: str
    ) -> None:
        self.started_seq = started_seq
        self.start = start
        self.start_event = start_event
        self.started_at = started_at  # as ``utc_text`` writes it
        self.state: OpenDeadline | None = None
        self.outcome: str | None = None
        self.closed_at: str | None = None
        self.closed_seq: int | None = None

    def materialised(self) -> OpenDeadline:
        if self.state is None:
            started = effects.apply(None, DeadlineEffect.from_json(self.start), self.start_event.occurred_at)
            assert started is not None, "a start effect starts a deadline"
            self.state = started
        return self.state


@dataclass(frozen=True, slots=True)
class Implied:
    """The deadline rows and reminder log rows a history implies."""

    deadlines: dict[tuple[str, int], _Instance]
    reminders: list[tuple[tuple[str, int], str, str, str, str, int]]


def implied(events: Iterable[EventRow]) -> Implied:
    """Every deadline the history started (open or closed) and every reminder it logged."""
    running: dict[str, _Instance] = {}
    every: dict[tuple[str, int], _Instance] = {}
    reminders: list[tuple[tuple[str, int], str, str, str, str, int]] = []
    for event in events:
        if isinstance(event, RawEvent) and '"deadlines":' not in event.effects_json:
            continue  # most rows touch no deadline: their effects need not be parsed
        seq = event.seq
        at = utc_text(event.occurred_at)
        for stored in event.effects.get("deadlines", ()):
            name, action = stored["name"], stored["action"]
            if action == "start":
                running[name] = every[(name, seq)] = _Instance(seq, stored, event, at)
                continue
            instance = running.get(name)
            if instance is None:
                continue  # an effect on a deadline that is not running changes no row
            if action == "close":
                instance.outcome = stored.get("outcome") or "met"
                instance.closed_at, instance.closed_seq = at, seq
                del running[name]
                continue
            state = instance.materialised()
            if action == "remind" and instance.started_seq != seq:
                key = (name, instance.started_seq)
                due = utc_text(state.due_at)
                reminders.append((key, stored.get("rung") or "", due, "sent", at, seq))
                reminders.extend(
                    (key, str(rung), due, "superseded", at, seq) for rung in stored.get("superseded", ())
                )
            after = effects.apply(state, DeadlineEffect.from_json(stored), event.occurred_at)
            if after is not None:
                instance.state = after
    return Implied(deadlines=every, reminders=reminders)


def purged(events: Iterable[EventRow]) -> bool:
    """Whether the history purged the case's personal data."""
    for event in events:
        if isinstance(event, RawEvent):
            if '"purge_personal_data":true' in event.effects_json:
                return True
        elif event.effects.get("purge_personal_data"):
            return True
    return False


def confirmed(
    definition: Definition,
    calendar: WorkingCalendar,
    events: Sequence[EventRow],
    rows: Sequence[RawDeadline],
    reminders: Sequence[RawReminder],
) -> bool:
    """Whether the deadline rows are exactly what the history implies, shown on the stored text
    alone; False means only that ``compare_deadlines`` must decide.

    It shows it for a history whose deadline effects are all starts and ends, each deadline
    started once and no reminder logged: every row, written back into the start effect (and the
    end effect) the engine would have hashed for it, is found verbatim in the history row of its
    ``started_seq`` (and ``closed_seq``); and the history has as many starts as there are rows and
    as many ends as there are closed rows. In canonical JSON a quote inside a string is escaped,
    so an effect's text can only be found where the engine wrote that effect.
    """
    if reminders:
        return False
    counted = _starts_and_ends(events)
    if counted is None or counted[0] != len(rows):
        return False
    closed = 0
    names: set[str] = set()
    for row in rows:
        if row.name in names:  # started more than once
            return False
        names.add(row.name)
        shown = _shown(definition, calendar, events, row)
        if shown is None:
            return False
        closed += shown == "closed"
    return closed == counted[1]


def _starts_and_ends(events: Sequence[EventRow]) -> tuple[int, int] | None:
    """How many deadlines the history starts and ends; None when it does anything else to one."""
    starts = ends = 0
    for event in events:
        if type(event) is not RawEvent:
            return None
        text = event.effects_json
        if '"deadlines":' not in text:
            continue
        started, ended = text.count('"action":"start"'), text.count('"action":"close"')
        if text.count('"action":"') != started + ended:
            return None  # a pause, an extension, a reminder …: for compare_deadlines
        starts += started
        ends += ended
    return starts, ends


def _shown(
    definition: Definition, calendar: WorkingCalendar, events: Sequence[EventRow], row: RawDeadline
) -> str | None:
    """ "open" or "closed" when the row, written back into the start effect (and the end effect)
    the engine would have hashed, is in the history row that started it (and ended it), nothing but
    its start and end happened to it, and when the sweep looks next is what the history says;
    None otherwise. Verification asks it of every deadline row: the row is unpacked once."""
    (
        _id,
        _record_id,
        name,
        seq,
        status,
        started_at,
        due,
        unit,
        amount,
        extended,
        paused_at,
        remaining,
        provisional,
        basis,
        closed_at,
        ended_at,
        next_at,
        reminded,
    ) = row
    if type(seq) is not int or not 0 < seq <= len(events) or type(due) is not str or len(due) != 32:
        return None
    start = events[seq - 1]
    if (
        type(start) is not RawEvent
        or started_at != start.at_iso
        or extended != 0
        or paused_at is not None
        or remaining is not None
        or reminded != "[]"
        or not (type(provisional) is bool or (type(provisional) is int and provisional in (0, 1)))
        or type(basis) is not str
        or type(amount) is not int
        # text that canonical JSON writes between quotes as it is (no escapes): a name
        or type(name) is not str
        or not name.isidentifier()
        or type(unit) is not str
        or not unit.isidentifier()
    ):
        return None
    # The start effect as ``DeadlineEffect.to_json`` and canonical JSON write it (keys sorted).
    effect = (
        f'{{"action":"start","amount":{amount}'
        + (f',"basis":{basis}' if basis != "{}" else "")
        + f',"due_at":"{due[:19] + due[26:] if due[19:26] == ".000000" else due}","name":"{name}"'
        + (',"provisional":true' if provisional else "")
        + f',"unit":"{unit}"}}'
    )
    if effect not in start.effects_json:
        return None
    if ended_at is None:
        if status != "active" or closed_at is not None:
            return None
    else:
        if type(ended_at) is not int or not seq < ended_at <= len(events):
            return None
        end = events[ended_at - 1]
        if type(end) is not RawEvent or closed_at != end.at_iso:
            return None
        if type(status) is str and status.isidentifier():  # as canonical JSON writes it, without orjson
            closing = f'{{"action":"close","name":"{name}","outcome":"{status}"}}'
        else:
            closing = orjson.dumps(
                {"action": "close", "name": name, "outcome": status}, option=SORTED
            ).decode()
        if closing not in end.effects_json:
            return None
    parsed = dt.datetime.fromisoformat(due)  # raises for a due time that is not one
    if status in LOOKED_AT:
        if next_at != _next_at(definition, calendar, name, status, parsed, ()):
            return None
    elif next_at is not None:
        return None
    return "open" if ended_at is None else "closed"


def _next_at(
    definition: Definition,
    calendar: WorkingCalendar,
    name: str,
    status: str,
    due: dt.datetime,
    reminded: Sequence[str],
) -> str | None:
    if status not in LOOKED_AT:
        return None
    found = ladders.next_at(definition, calendar, definition.deadlines.get(name), status, due, reminded)
    return utc_text(found) if found is not None else None


def _expected_values(
    definition: Definition, calendar: WorkingCalendar, instance: _Instance
) -> dict[str, Any]:
    """A deadline row's values as the history implies them, through ``effects.apply``."""
    state = instance.materialised()
    status = instance.outcome or state.status
    spec = definition.deadlines.get(state.name)
    closed_at = dt.datetime.fromisoformat(instance.closed_at) if instance.closed_at else None
    return {
        "status": status,
        "started_at": state.started_at,
        "due_at": state.due_at,
        "unit": state.unit,
        "amount": state.amount,
        "extended": state.extended,
        "paused_at": state.paused_at,
        "remaining": state.remaining,
        "provisional": state.provisional,
        "basis": dict(state.basis),
        "closed_at": closed_at,
        "closed_seq": instance.closed_seq,
        "next_at": ladders.next_at(definition, calendar, spec, status, state.due_at, state.reminded),
        "reminded": tuple(state.reminded),
    }


class _Unreadable(Exception):
    def __init__(self, column: str, value: Any) -> None:
        super().__init__(column)
        self.column, self.value = column, value


def _time(column: str, value: Any) -> dt.datetime | None:
    if value is None:
        return None
    try:
        found = dt.datetime.fromisoformat(value)
    except READ_ERRORS as exc:
        raise _Unreadable(column, value) from exc
    return found if found.tzinfo is not None else found.replace(tzinfo=dt.UTC)


def _json(column: str, value: Any) -> Any:
    try:
        return orjson.loads(value)
    except READ_ERRORS as exc:
        raise _Unreadable(column, value) from exc


def _stored_values(row: RawDeadline) -> dict[str, Any]:
    """A deadline row's values as Python values (``_Unreadable`` names a column that is not)."""
    values: dict[str, Any] = dict(zip(DEADLINE_COLUMNS, row[4:], strict=True))
    for name in ("started_at", "due_at", "paused_at", "closed_at", "next_at"):
        values[name] = _time(name, values[name])
    values["basis"] = _json("basis", values["basis"])
    reminded = _json("reminded", values["reminded"])
    values["reminded"] = tuple(reminded) if isinstance(reminded, list) else reminded
    values["provisional"] = (
        bool(values["provisional"]) if values["provisional"] in (0, 1) else values["provisional"]
    )
    return values


def _compare_deadline(
    definition: Definition, calendar: WorkingCalendar, record_id: str, instance: _Instance, row: RawDeadline
) -> Problem | None:
    where = f"deadline {row.name} (started at row {row.started_seq})"
    try:
        stored = _stored_values(row)
    except _Unreadable as exc:
        return Problem(
            record_id, "unreadable", f"{where}: {exc.column} {shown(exc.value)} is not what the engine writes"
        )
    expected = _expected_values(definition, calendar, instance)
    differs = [column for column in DEADLINE_COLUMNS if stored[column] != expected[column]]
    if not differs:
        return None
    found = ", ".join(f"{c} {_show(stored[c])} (history: {_show(expected[c])})" for c in differs[:3])
    return Problem(record_id, "projection", f"{where}: {found}")


def compare_deadlines(
    definition: Definition,
    calendar: WorkingCalendar,
    record_id: str,
    found: Implied,
    rows: Sequence[RawDeadline],
    reminders: Sequence[RawReminder],
) -> list[Problem]:
    """The deadline rows and the reminder log against what the history implies."""
    problems: list[Problem] = []
    by_key: dict[tuple[str, int], RawDeadline] = {}
    for row in rows:
        key = (row.name, row.started_seq)
        if key in by_key or key not in found.deadlines:
            where = f"deadline row {shown(row.name)} (started at row {shown(row.started_seq)})"
            problems.append(Problem(record_id, "projection", f"{where} has no start in the history"))
            continue
        by_key[key] = row
    for key, instance in found.deadlines.items():
        kept = by_key.get(key)
        if kept is None:
            problems.append(
                Problem(record_id, "projection", f"deadline {key[0]} started at row {key[1]} has no row")
            )
            continue
        problem = _compare_deadline(definition, calendar, record_id, instance, kept)
        if problem is not None:
            problems.append(problem)
    if reminders or found.reminders:
        problems.extend(_compare_reminders(record_id, found, by_key, reminders))
    return problems


def _compare_reminders(
    record_id: str,
    found: Implied,
    by_key: Mapping[tuple[str, int], RawDeadline],
    reminders: Sequence[RawReminder],
) -> list[Problem]:
    ids = {row.id: key for key, row in by_key.items()}

    def stored(parse: bool) -> list[tuple[Any, ...]]:
        rows = [
            (ids.get(r.deadline_id, ("?", r.deadline_id)), r.rung, r.due_at, r.outcome, r.fired_at, r.seq)
            for r in reminders
        ]
        return sorted((_parsed(r) for r in rows) if parse else rows, key=repr)

    if stored(parse=False) == sorted(found.reminders, key=repr):
        return []
    try:
        same = stored(parse=True) == sorted((_parsed(r) for r in found.reminders), key=repr)
    except _Unreadable as exc:
        return [
            Problem(
                record_id, "unreadable", f"deadline_reminder: {exc.column} {shown(exc.value)} is not a time"
            )
        ]
    if same:
        return []
    return [
        Problem(
            record_id,
            "projection",
            f"the reminder log ({len(reminders)} rows) does not match the reminders in the history "
            f"({len(found.reminders)})",
        )
    ]


def _parsed(row: tuple[Any, ...]) -> tuple[Any, ...]:
    key, rung, due, outcome, fired, seq = row
    return key, rung, _time("due_at", due), outcome, _time("fired_at", fired), seq


def _show(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return utc_text(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def expected_record(
    definition: Definition, record: StoredRecord, projection: Projection, events: Sequence[EventRow]
) -> StoredRecord | str:
    """The case row the history implies (its ``subject_key`` taken as stored: ``subject_key``
    checks it), or why there is none (the history leaves no main state the definition knows)."""
    main = projection.tracks.get(definition.main_track)
    if main is None or main not in definition.main.states:
        return f"the history leaves the main track in no state of {definition.key}"
    last = events[-1]
    return writeset.record_row(
        definition,
        record_id=record.id,
        tracks=projection.tracks,
        data=projection.data,
        actors=projection.actors,
        subject_key=record.subject_key,
        version=len(events),
        head_hash=last.hash,
        created_at=events[0].occurred_at,
        updated_at=last.occurred_at,
    )


def compare_record(record: StoredRecord, expected: StoredRecord) -> list[Problem]:
    if record == expected:  # every column at once; the columns one by one only to word a finding
        return []
    problems = []
    for name in RECORD_COLUMNS:
        stored = getattr(record, name)
        value = getattr(expected, name)
        if stored != value:
            detail = "(differs)" if name in LONG else _show(value)
            problems.append(
                Problem(record.id, "projection", f"stored {name} does not match its history: {detail}")
            )
    return problems


def compare_states(
    record_id: str, definition: Definition, projection: Projection, stored: Sequence[tuple[str, str]]
) -> list[Problem]:
    """``record_state`` holds the parallel tracks (not the main one) the history leaves active."""
    expected = [(t, s) for t, s in projection.tracks.items() if t != definition.main_track]
    if len(stored) == len(expected) and set(stored) == set(expected):
        return []
    extra = sorted(set(stored) - set(expected), key=repr)
    missing = sorted(set(expected) - set(stored), key=repr)
    return [
        Problem(
            record_id,
            "projection",
            f"record_state does not match the history: stored but not implied {extra}, implied but not "
            f"stored {missing}",
        )
    ]


def compare_subject_key(
    definition: Definition,
    case: CaseRows,
    projection: Projection,
    keyer: Callable[[str], str] | None,
) -> list[Problem]:
    """The keyed digest a person is found by (credit checks) follows the ID number kept outside the
    history: there while the history holds a (masked) number and it was not purged, else absent."""
    record = case.record
    assert record is not None
    field_name = definition.index.subject_id_number
    held = field_name is not None and bool(projection.data.get(field_name)) and not purged(case.events)
    if not held:
        if record.subject_key is not None:
            return [
                Problem(record.id, "projection", "stored subject_key, but the history holds no ID number")
            ]
        return []
    assert field_name is not None
    number = case.personal.get(field_name)
    if not isinstance(number, str):
        return [Problem(record.id, "projection", f"the personal data of {field_name} is gone (not purged)")]
    if record.subject_key is None or (keyer is not None and keyer(number) != record.subject_key):
        return [Problem(record.id, "projection", "stored subject_key does not match the ID number")]
    return []
