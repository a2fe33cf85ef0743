"""The decision of an import: a case brought in from an office's old system with its current
state, its dates and its documents, as the first event of its history (``@import``).

Pure, like ``decide``: the imported row is the command's payload (``fields``, ``tracks``,
``since``, ``source``), checked by the definition's rules when it comes in and taken as stored
when a history is replayed. The running deadlines of the imported state are planned by the same
code the engine plans them with (``deadline_plan.imported_deadlines``), counted from the day
each track entered its state. No mail is queued: the sweep's reminders take over from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from definitions.model import Definition
from workflow.core.calendar import WorkingCalendar
from workflow.core.deadline_plan import imported_deadlines
from workflow.core.fields import CleanPayload, check_record_complete, clean_payload
from workflow.core.periods import local_date
from workflow.core.values import IMPORT_EVENT, Command, Decision
from workflow.errors import PayloadInvalid

PAYLOAD_KEYS = ("fields", "tracks", "since", "source")


def _invalid(field: str, problem: str) -> PayloadInvalid:
    return PayloadInvalid(IMPORT_EVENT, field, problem)


def check_tracks(definition: Definition, given: Mapping[str, Any]) -> dict[str, str]:
    """The imported state of every track, the tracks not given at their initial state.

    The main state must be a state of the definition; the parallel tracks given must be those
    that run while the main track is there, each in one of its states.

    Raises:
        PayloadInvalid: naming the track and what is allowed.
    """
    main_track = definition.main_track
    main = given.get(main_track)
    states = definition.main.states
    if not isinstance(main, str) or main not in states:
        raise _invalid(
            "state",
            f"{main!r} 不是 {definition.key} 的状态 (not a state of the definition); allowed: {', '.join(states)}",
        )
    tracks = {main_track: main}
    for name, spec in definition.tracks.items():
        if name == main_track:
            continue
        running = main in spec.active_while.get(main_track, ())
        state = given.get(name)
        if not running:
            if state is not None:
                raise _invalid(
                    f"state.{name}",
                    f"轨道 {name} 在主状态 {main} 下不运行 (the track does not run while the case is {main})",
                )
            continue
        if state is None:
            tracks[name] = spec.initial
        elif not isinstance(state, str) or state not in spec.states:
            raise _invalid(
                f"state.{name}",
                f"{state!r} 不是轨道 {name} 的状态 (not a state of the track); allowed: {', '.join(spec.states)}",
            )
        else:
            tracks[name] = state
    unknown = [name for name in given if name not in definition.tracks]
    if unknown:
        raise _invalid(
            f"state.{unknown[0]}", f"没有此轨道 (no such track); tracks: {', '.join(definition.tracks)}"
        )
    return {name: tracks[name] for name in definition.tracks if name in tracks}


def check_since(
    definition: Definition,
    tracks: Mapping[str, str],
    given: Mapping[str, Any],
    data: Mapping[str, Any],
    today: dt.date,
) -> dict[str, str]:
    """The day each track entered its imported state (ISO dates), checked for consistency: not
    after today, not before the case's own date (``index.case_date``); a track without one
    entered its state when the main track did.

    Raises:
        PayloadInvalid: a date that does not parse or does not fit.
    """
    case_field = definition.index.case_date
    case_text = data.get(case_field) if case_field else None
    case_day = dt.date.fromisoformat(case_text) if isinstance(case_text, str) else None
    if case_day is not None and case_day > today:
        raise _invalid(case_field or "case_date", f"{case_day} 晚于今天 {today} (is after today)")
    unknown = [name for name in given if name not in tracks]
    if unknown:
        raise _invalid(
            f"since.{unknown[0]}",
            f"该轨道不在导入状态中 (the track is not running in the imported state); running: {', '.join(tracks)}",
        )
    since: dict[str, str] = {}
    for name in tracks:
        value = given.get(name)
        if value is None:
            continue
        try:
            day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise _invalid(f"since.{name}", f"expected a date like 2026-05-10, got {value!r}") from None
        if day > today:
            raise _invalid(f"since.{name}", f"{day} 晚于今天 {today} (is after today)")
        if case_day is not None and day < case_day:
            raise _invalid(
                f"since.{name}", f"{day} 早于 {case_field} {case_day} (is before the case's date {case_day})"
            )
        since[name] = day.isoformat()
    main = definition.main_track
    if main not in since:
        since[main] = (case_day or today).isoformat()
    main_day = since[main]
    for name in tracks:
        if name != main:
            if name in since and since[name] < main_day:
                raise _invalid(
                    f"since.{name}",
                    f"{since[name]} 早于主状态开始之日 {main_day} (is before the main track entered its state)",
                )
            since.setdefault(name, main_day)
    return since


def decide_import(
    definition: Definition,
    calendar: WorkingCalendar,
    command: Command,
    now: dt.datetime,
    *,
    record_id: str,
    replaying: bool = False,
) -> Decision:
    """The first event of an imported case: its tracks, fields and running deadlines.

    Raises:
        PayloadInvalid: a field the definition's rules refuse, a state it does not have, a date
            that is not consistent.
    """
    payload = command.payload
    extra = [key for key in payload if key not in PAYLOAD_KEYS]
    if extra:
        raise _invalid(extra[0], f"unknown key; an import carries {', '.join(PAYLOAD_KEYS)}")
    raw_fields = payload.get("fields")
    if not isinstance(raw_fields, Mapping):
        raise _invalid("fields", "expected an object of the record's fields")
    if replaying:
        clean = CleanPayload(values=dict(raw_fields), personal={})
        stored_tracks = payload.get("tracks") or {}  # stored with sorted keys: the definition's order
        tracks = {name: stored_tracks[name] for name in definition.tracks if name in stored_tracks}
        since = dict(payload.get("since") or {})
    else:
        clean = clean_payload(definition, IMPORT_EVENT, definition.fields, raw_fields)
        check_record_complete(definition, IMPORT_EVENT, clean.values)
        tracks = check_tracks(definition, payload.get("tracks") or {})
        since = check_since(
            definition, tracks, payload.get("since") or {}, clean.values, local_date(definition, now)
        )
    data = dict(clean.values)
    deadlines = imported_deadlines(definition, calendar, command, tracks, data, since)
    stored = {
        "fields": dict(clean.values),
        "tracks": tracks,
        "since": since,
        "source": payload.get("source", {}),
    }
    return Decision(
        event=IMPORT_EVENT,
        changes=tuple((name, None, state) for name, state in tracks.items()),
        tracks=tracks,
        data=data,
        data_changes=(),
        payload=stored,
        personal=clean.personal,
        actors={},
        deadlines=tuple(deadlines),
        notices=(),
    )
