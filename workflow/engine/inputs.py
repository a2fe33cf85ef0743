"""What a caller hands the public API, checked before anything is hashed or written.

Every public method of the engine (``Engine``, ``Units``, ``Calendars``) passes its arguments
through here first: the type of each, its size, and its text — no NUL character (PostgreSQL
cannot store one) and no lone surrogate (what a byte that is not UTF-8 becomes on a command
line; it cannot be encoded at all). So what is hashed is exactly what is stored, and nothing a
caller passes reaches the database as something the database cannot hold. A wrong argument is
an ``ArgumentInvalid`` naming it; a wrong value inside a payload is a ``PayloadInvalid`` naming
its field.

The sizes here are the API's own: the widths of the columns an argument is stored in (actor id
128, idempotency key 200, …) and the ceilings of ``definitions.ceilings`` for comments and
payloads. The tighter limits a definition declares (``limits:``, a field's ``max_length`` and
``max_items``) are checked where the payload is cleaned, against the case's definition.

Actor ids are normalised here, once, as they enter: NFKC (full-width ``Ｌｉ．Ｌｅｉ`` is
``Li.Lei``), surrounding white space removed, case folded — ``Li.Lei``, `` li.lei`` and
``LI.LEI`` are one person ``li.lei`` to four-eyes and in the history. Roles and units are
trimmed (they are codes a definition and the unit directory spell, so their case is kept).

Cheap by design — a few ``isinstance`` and ``len`` checks per argument and one walk over a
payload — and pure: no I/O, no clock, no definition.
"""

from __future__ import annotations

import datetime as dt
import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from definitions.ceilings import CEILING_ITEMS, CEILING_PAYLOAD_BYTES, CEILING_TEXT
from workflow.core.values import Actor
from workflow.errors import ArgumentInvalid, PayloadInvalid

INT64 = (-(2**63), 2**63 - 1)  # what JSON columns, the history hash and PostgreSQL's bigint hold
INT32 = 2**31 - 1  # the largest serial id (a mail's number)
ACTOR_ID = 128  # history.actor
CODE = 64  # role, unit, event and definition names, history.role / .unit / .event
RECORD_ID = 40  # record.id
KEY = 200  # history.idempotency_key
NAME = 200  # a subject's name, a credit check's purpose
URL = 4096
DEPTH = 6  # payload → documents → a document → its values, with room to spare
UNITS = CEILING_ITEMS  # units saved in one call

_TYPES = "text, a whole number, a number, true/false, a date, a list or a mapping"


def _shown(value: object) -> str:
    """A refused value in a message: its type and a short repr (it may be megabytes long)."""
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None."""
    if "\x00" in value:
        return "含有 NUL 字符 (contains a NUL character, which text may not hold)"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return (
                f"第 {exc.start + 1} 个字符不是有效的 UTF-8 文本 (character {exc.start + 1} is a byte that "
                "is not UTF-8 text; give the value in UTF-8)"
            )
    return None


def text(argument: str, value: object, *, limit: int, empty: bool = True) -> str:
    """A text argument of at most ``limit`` characters (and not blank unless ``empty``).

    Raises:
        ArgumentInvalid: not text, too long, blank, or holding a NUL or a non-UTF-8 byte.
    """
    if not isinstance(value, str):
        raise ArgumentInvalid(argument, f"需要文本 (expected text), got {_shown(value)}")
    if len(value) > limit:
        raise ArgumentInvalid(argument, f"过长 (too long): at most {limit} characters, got {len(value)}")
    problem = text_problem(value)
    if problem is not None:
        raise ArgumentInvalid(argument, problem)
    if not empty and not value.strip():
        raise ArgumentInvalid(argument, "不能为空 (must not be empty)")
    return value


def optional_text(argument: str, value: object, *, limit: int) -> str | None:
    """``text``, or None when the argument is None."""
    return None if value is None else text(argument, value, limit=limit)


def integer(argument: str, value: object, *, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` (a bool is not one).

    Raises:
        ArgumentInvalid: not a whole number, or out of range.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentInvalid(argument, f"需要整数 (expected a whole number), got {_shown(value)}")
    if not low <= value <= high:
        raise ArgumentInvalid(argument, f"超出范围 (out of range): allowed {low} to {high}, got {value}")
    return value


def optional_integer(argument: str, value: object, *, low: int, high: int) -> int | None:
    return None if value is None else integer(argument, value, low=low, high=high)


def flag(argument: str, value: object) -> bool:
    """True or False, nothing else (``1`` and ``"yes"`` are not flags here).

    Raises:
        ArgumentInvalid: not a bool.
    """
    if not isinstance(value, bool):
        raise ArgumentInvalid(argument, f"需要 True 或 False (expected a bool), got {_shown(value)}")
    return value


def optional_flag(argument: str, value: object) -> bool | None:
    return None if value is None else flag(argument, value)


def moment(argument: str, value: object) -> dt.datetime:
    """A timezone-aware datetime.

    Raises:
        ArgumentInvalid: not a datetime, or a naive one.
    """
    if not isinstance(value, dt.datetime):
        raise ArgumentInvalid(argument, f"需要带时区的时间 (expected an aware datetime), got {_shown(value)}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ArgumentInvalid(
            argument, "需要带时区的时间 (expected a timezone-aware datetime, got a naive one)"
        )
    return value


SIMULATED = (
    dt.datetime(1949, 10, 1, tzinfo=dt.UTC),
    dt.datetime(2100, 12, 31, 23, 59, tzinfo=dt.UTC),
)  # the days a case's dates may name: a drill's clock stays among them (and far from year 9999)


def simulated_time(argument: str, value: object) -> dt.datetime:
    """A time a drill database's simulated clock may show.

    Raises:
        ArgumentInvalid: not an aware datetime, or outside 1949-10-01 … 2100-12-31.
    """
    when = moment(argument, value)
    if not SIMULATED[0] <= when <= SIMULATED[1]:
        raise ArgumentInvalid(
            argument, "模拟时间超出范围 (out of range: a simulated clock runs from 1949-10-01 to 2100-12-31)"
        )
    return when


def record_id(value: object, argument: str = "record_id") -> str:
    """A case id (``SX20261122-7K3QF2``): text that fits the column; whether it exists is the store's answer."""
    return text(argument, value, limit=RECORD_ID)


def code(argument: str, value: object) -> str:
    """A definition, event, role or unit name."""
    return text(argument, value, limit=CODE)


def actor_id(value: str) -> str:
    """An actor id as the engine keeps it: NFKC, trimmed, case folded (see the module's text).

    The result is a fixed point: ``actor_id(actor_id(x)) == actor_id(x)``.
    """
    if value.isascii():
        return value.strip().lower()
    for _round in range(4):  # folding can unfold what NFKC composed: repeat until it holds still
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold()).strip()
        if folded == value:
            break
        value = folded
    return value


def actor(value: object, argument: str = "actor") -> Actor:
    """The actor, normalised (id folded, role and unit trimmed).

    Raises:
        ArgumentInvalid: not an ``Actor``, or its id, role or unit is not text, blank or too long.
    """
    if not isinstance(value, Actor):
        raise ArgumentInvalid(
            argument, f"需要 Actor(id=, role=, unit=) (expected a workflow.Actor), got {_shown(value)}"
        )
    names = _PARTS.get(argument) or (f"{argument}.id", f"{argument}.role", f"{argument}.unit")
    ident = actor_id(text(names[0], value.id, limit=4 * ACTOR_ID))
    text(names[0], ident, limit=ACTOR_ID, empty=False)
    role = text(names[1], value.role, limit=4 * CODE).strip()
    text(names[1], role, limit=CODE, empty=False)
    unit = text(names[2], value.unit, limit=4 * CODE).strip()
    text(names[2], unit, limit=CODE, empty=False)
    if ident == value.id and role == value.role and unit == value.unit:
        return value
    return Actor(id=ident, role=role, unit=unit)


_PARTS = {"actor": ("actor.id", "actor.role", "actor.unit")}


def comment(value: object) -> str:
    """A command's comment (its definition may set a lower limit; checked when it is decided)."""
    return text("comment", value, limit=CEILING_TEXT)


def idempotency_key(value: object, *, limit: int = KEY) -> str | None:
    """An idempotency key, or None (``limit`` is lower where the engine derives a key from it)."""
    if value is None:
        return None
    return text("idempotency_key", value, limit=limit, empty=False)


def clock(value: object) -> Any:
    """A clock: something with ``now()`` (``ManualClock``, ``SystemClock``), or None."""
    if value is not None and not callable(getattr(value, "now", None)):
        raise ArgumentInvalid("clock", f"需要时钟 (expected a Clock with now()), got {_shown(value)}")
    return value


class _Walk:
    """One pass over a payload: every key text, every value of a JSON-like type, its text storable,
    its numbers in range, and the whole within the ceilings (counted as it goes, so a huge or
    cyclic payload stops early)."""

    def __init__(self, event: str) -> None:
        self.event = event
        self.characters = 0
        self.items = 0

    def refuse(self, field: str, problem: str) -> PayloadInvalid:
        return PayloadInvalid(self.event, field, problem)

    def value(self, field: str, value: Any, depth: int) -> None:
        self.items += 1
        if self.items > CEILING_ITEMS * 10:
            raise self.refuse(field, f"载荷过大 (too many values: more than {CEILING_ITEMS * 10})")
        if type(value) is str:  # the common case first: this runs for every value of every command
            self.characters += len(value)
            if self.characters > CEILING_PAYLOAD_BYTES:
                raise self.refuse(
                    field, f"载荷过大 (too large: more than {CEILING_PAYLOAD_BYTES} characters)"
                )
            if "\x00" in value or not value.isascii():
                problem = text_problem(value)
                if problem is not None:
                    raise self.refuse(field, problem)
            return
        if value is None or isinstance(value, bool | float | dt.date):
            return
        if isinstance(value, int):
            if not INT64[0] <= value <= INT64[1]:
                raise self.refuse(field, f"整数超出范围 (a whole number from {INT64[0]} to {INT64[1]})")
            return
        if isinstance(value, str):  # a subclass of str
            self.value(field, str(value), depth)
            return
        if depth >= DEPTH:
            raise self.refuse(field, f"嵌套过深 (nested more than {DEPTH} levels deep)")
        if isinstance(value, list | tuple):
            for item in value:
                self.value(field, item, depth + 1)
            return
        if type(value) is dict or isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise self.refuse(
                        field, f"映射的键必须是文本 (the keys of a mapping are text), got {_shown(key)}"
                    )
                self.value(field, key, depth + 1)
                self.value(field, item, depth + 1)
            return
        raise self.refuse(field, f"不支持的值 (values are {_TYPES}), got {_shown(value)}")


def payload(value: object, *, event: str, argument: str = "payload") -> dict[str, Any]:
    """A command's payload: a mapping of field names (text) to JSON-like values, as a new dict.

    Dates and datetimes are accepted (the date fields take them); sets, bytes and other objects
    are not, and no integer leaves the 64-bit range.

    Raises:
        ArgumentInvalid: not a mapping, or a field name that is not text.
        PayloadInvalid: a value that cannot be stored, naming its field.
    """
    if value is None:
        return {}
    if type(value) is not dict and not isinstance(value, Mapping):
        raise ArgumentInvalid(
            argument,
            f"需要字段名到值的映射 (expected a mapping of field names to values), got {_shown(value)}",
        )
    walk = _Walk(event)
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ArgumentInvalid(argument, f"字段名必须是文本 (field names are text), got {_shown(key)}")
        if len(key) > CODE or not key.isascii() or "\x00" in key:  # field names are short ASCII names
            text(f"{argument} field name", key, limit=CODE)
        walk.value(key, item, 1)
        out[key] = item
    return out


def units(value: object) -> list[Mapping[str, Any]]:
    """Units to save: a list of mappings whose ``code``, ``name``, ``superior``, ``emails`` and
    ``contact`` are text, a list of text (``emails``) or None (other keys are not read).

    Raises:
        ArgumentInvalid: anything else, naming the unit's position and key.
    """
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise ArgumentInvalid(
            "units", f"需要单位列表 (expected a list of unit mappings), got {_shown(value)}"
        )
    if len(value) > UNITS:
        raise ArgumentInvalid("units", f"过多 (too many): at most {UNITS} per call, got {len(value)}")
    for index, unit in enumerate(value):
        if not isinstance(unit, Mapping):
            raise ArgumentInvalid(f"units[{index}]", f"需要映射 (expected a mapping), got {_shown(unit)}")
        for key in UNIT_KEYS:
            item = unit.get(key)
            if item is None:
                continue
            where = f"units[{index}].{key}"
            if key == "emails" and isinstance(item, list | tuple):
                if len(item) > CODE:
                    raise ArgumentInvalid(where, f"过多 (too many): at most {CODE} addresses")
                for entry in item:
                    text(where, entry, limit=NAME * 2)
            else:
                text(where, item, limit=NAME * 4)
    return list(value)


UNIT_KEYS = ("code", "name", "superior", "emails", "contact", "jurisdiction", "level")


def codes(argument: str, value: object) -> list[str]:
    """Unit codes to look up: an iterable of text (not one text)."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ArgumentInvalid(argument, f"需要代码列表 (expected a list of codes), got {_shown(value)}")
    found = []
    for item in value:
        found.append(code(argument, item))
        if len(found) > UNITS:
            raise ArgumentInvalid(argument, f"过多 (too many): at most {UNITS}")
    return found


def path(argument: str, value: object) -> os.PathLike[str] | str:
    """A file path: text or a path object."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise ArgumentInvalid(argument, f"需要文件路径 (expected a file path), got {_shown(value)}")
    if "\x00" in value:
        raise ArgumentInvalid(argument, "含有 NUL 字符 (contains a NUL character)")
    return value


def paths(argument: str, value: object) -> list[str]:
    """Definition files or folders: a list of paths (not one text)."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ArgumentInvalid(argument, f"需要路径列表 (expected a list of paths), got {_shown(value)}")
    return [os.fspath(path(argument, item)) for item in value]


def url(value: object) -> str | None:
    """A database URL, or None for the default."""
    return optional_text("url", value, limit=URL)
