"""What makes a stored history row readable: every column of the type the engine writes there,
every JSON column of the shape the engine writes.

Verification and replay parse a row's JSON only when they need it, and trust that the engine
wrote it; when parsing fails, or a value has a shape the engine never writes, ``malformed``
names the column and why, so the row becomes a finding instead of stopping the audit. Pure.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson

from storage.values import RawEvent, StoredEvent
from workflow.core.fold import Problem

EventRow = StoredEvent | RawEvent

READ_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError)
"""What reading a value of the wrong type or shape raises (orjson's decode error is a ValueError)."""

# How the engine writes a history row's time (as ``storage.history`` hands it on).
CANONICAL_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00\Z")

TEXT_COLUMNS = (
    "record_id",
    "event",
    "actor",
    "role",
    "unit",
    "comment",
    "definition_name",
    "prev_hash",
    "hash",
)


def shown(value: Any) -> str:
    """A stored value as a finding quotes it, cut short."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _time(value: Any) -> str | None:
    if not isinstance(value, str):
        return "not a time"
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return "not a time"
    return None


def _changes(value: Any) -> str | None:
    if not isinstance(value, list):
        return "not a list of state changes"
    for change in value:
        if not (isinstance(change, list) and len(change) == 3 and isinstance(change[0], str)):
            return "a state change is not [track, from, to]"
        if not all(state is None or isinstance(state, str) for state in change[1:]):
            return "a state is not text"
    return None


def _deadline(effect: Any) -> str | None:
    if not isinstance(effect, dict):
        return "a deadline effect is not an object"
    if not isinstance(effect.get("action"), str) or not isinstance(effect.get("name"), str):
        return "a deadline effect has no action or name"
    due = effect.get("due_at")
    if due is not None:
        if not isinstance(due, str):
            return "a due time is not text"
        try:
            if dt.datetime.fromisoformat(due).tzinfo is None:
                return "a due time has no offset"
        except ValueError:
            return "a due time is not a time"
    for name in ("amount", "remaining", "extended"):
        if effect.get(name) is not None and not _whole(effect[name]):
            return f"a deadline's {name} is not a whole number"
    for name in ("unit", "outcome", "rung"):
        if effect.get(name) is not None and not isinstance(effect[name], str):
            return f"a deadline's {name} is not text"
    if not isinstance(effect.get("basis", {}), dict):
        return "a deadline's basis is not an object"
    superseded = effect.get("superseded", [])
    if not isinstance(superseded, list) or not all(isinstance(r, str) for r in superseded):
        return "superseded rungs are not a list of names"
    return None


def _effects(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "not an object"
    data = value.get("data", [])
    if not isinstance(data, list) or not all(
        isinstance(c, list) and len(c) == 3 and isinstance(c[0], str) for c in data
    ):
        return "field changes are not [field, old, new]"
    deadlines = value.get("deadlines", [])
    if not isinstance(deadlines, list):
        return "deadline effects are not a list"
    for effect in deadlines:
        problem = _deadline(effect)
        if problem:
            return problem
    notices = value.get("notices", [])
    if not isinstance(notices, list) or not all(
        isinstance(n, dict) and isinstance(n.get("template"), str) and isinstance(n.get("to"), list)
        for n in notices
    ):
        return "notices are not [{template, to}]"
    if not isinstance(value.get("expired", ""), str):
        return "the expired deadline is not a name"
    return None


def _payload(value: Any) -> str | None:
    return None if isinstance(value, dict) else "not an object"


_JSON: dict[str, tuple[str, Callable[[Any], str | None]]] = {
    "changes": ("changes_json", _changes),
    "payload": ("payload_json", _payload),
    "effects": ("effects_json", _effects),
}


def malformed(event: RawEvent | StoredEvent) -> list[tuple[str, str]]:
    """Every column of a history row that the engine could not have written: (column, why)."""
    found: list[tuple[str, str]] = []
    for name in TEXT_COLUMNS:
        value = getattr(event, name)
        if not isinstance(value, str):
            found.append((name, f"{shown(value)} is not text"))
    for name in ("seq", "definition_version"):
        if not _whole(getattr(event, name)):
            found.append((name, f"{shown(getattr(event, name))} is not a whole number"))
    for name in ("idempotency_key", "mac"):
        value = getattr(event, name, None)
        if value is not None and not isinstance(value, str):
            found.append((name, f"{shown(value)} is not text"))
    if isinstance(event, RawEvent):
        problem = _time(event.at_iso)
        if problem:
            found.append(("occurred_at", f"{shown(event.at_iso)} is {problem}"))
        for column, (attribute, check) in _JSON.items():
            text = getattr(event, attribute)
            try:
                parsed = orjson.loads(text)
            except (orjson.JSONDecodeError, TypeError):
                found.append((column, f"{shown(text)} is not JSON"))
                continue
            problem = check(parsed)
            if problem:
                found.append((column, problem))
        return found
    if not isinstance(event.occurred_at, dt.datetime):
        found.append(("occurred_at", f"{shown(event.occurred_at)} is not a time"))
    for column, (_attribute, check) in _JSON.items():
        value = getattr(event, column)
        value = [list(c) for c in value] if column == "changes" and isinstance(value, Sequence) else value
        problem = check(dict(value) if isinstance(value, Mapping) else value)
        if problem:
            found.append((column, problem))
    return found


def unreadable_problems(
    record_id: str, events: Iterable[RawEvent | StoredEvent], error: Exception | None = None
) -> list[Problem]:
    """A finding for every column of ``events`` that cannot be read; ``error`` when none is named."""
    found = [
        Problem(record_id, "unreadable", f"row {shown(event.seq)}: {column}: {why}", seq_of(event))
        for event in events
        for column, why in malformed(event)
    ]
    if not found and error is not None:
        found.append(
            Problem(record_id, "unreadable", f"its rows cannot be checked: {type(error).__name__}: {error}")
        )
    return found


def seq_of(event: RawEvent | StoredEvent) -> int | None:
    """A row's sequence number, when it is one."""
    seq = event.seq
    return seq if _whole(seq) else None


def stored_non_canonically(event: RawEvent | StoredEvent) -> bool:
    """Whether a row's time is stored in a form the engine never writes (edited by hand)."""
    return isinstance(event, RawEvent) and not (
        isinstance(event.at_iso, str) and CANONICAL_AT.match(event.at_iso)
    )
