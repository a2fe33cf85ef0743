"""Payload validation: typed fields from a definition, checked and normalised to JSON values.

Input comes from people and other services, so every value is checked against its field
spec and turned into one canonical JSON form (dates as ISO text, enum labels as codes,
codes upper-cased, documents as sorted mappings). Resident ID numbers never enter the
record or its history: the record keeps a masked form and the full value goes to the
personal-data store, which is purged on archiving. Every text and list is bounded by its field's
``max_length``/``max_items`` and the whole payload by the definition's ``limits`` (the loader has
resolved the defaults), so nothing unbounded reaches the append-only history. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from definitions.model import Definition, FieldSpec
from notifications.privacy import mask_id_number
from workflow.core.history import canonical_bytes
from workflow.errors import ArgumentInvalid, PayloadInvalid

INT64 = (-(2**63), 2**63 - 1)
WHOLE_PAYLOAD = "(all fields)"  # how a problem of the payload as a whole names its field
UNIT_CODE = re.compile(r"^[\w.\-\u4e00-\u9fff（）()]{1,64}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
TRUE = {"true", "yes", "1", "y", "是", "对"}
FALSE = {"false", "no", "0", "n", "否", "不"}


@dataclass(frozen=True, slots=True, kw_only=True)
class CleanPayload:
    values: dict[str, Any]  # normalised, personal values masked: what history stores
    personal: dict[str, str]  # field -> full personal value (kept outside the hash chain)


def _document(event: str, spec: FieldSpec, item: Any) -> dict[str, str]:
    name = spec.name
    if isinstance(item, str):
        number, sep, title = item.partition(":")
        item = {"number": number.strip(), "name": title.strip()} if sep else {"name": item.strip()}
    if not isinstance(item, Mapping):
        raise PayloadInvalid(
            event, name, "each document is a mapping {number, name, sha256} or 'number:name' text"
        )
    unknown = set(item) - {"number", "name", "sha256", "url"}
    if unknown:
        raise PayloadInvalid(
            event, name, f"unknown document keys {sorted(unknown)}; allowed: number, name, sha256, url"
        )
    if any(isinstance(value, Mapping | list | tuple) for value in item.values()):
        raise PayloadInvalid(event, name, "a document's number, name, sha256 and url are text")
    doc = {key: str(value).strip() for key, value in item.items() if value not in (None, "")}
    longest = max((len(value) for value in doc.values()), default=0)
    if spec.max_length is not None and longest > spec.max_length:
        raise PayloadInvalid(
            event, name, f"a document's values are at most {spec.max_length} characters each, got {longest}"
        )
    if not doc.get("name") and not doc.get("number"):
        raise PayloadInvalid(event, name, "a document needs a name or a document number")
    if "sha256" in doc and not SHA256.match(doc["sha256"].lower()):
        raise PayloadInvalid(event, name, "sha256 must be 64 hexadecimal characters")
    if "sha256" in doc:
        doc["sha256"] = doc["sha256"].lower()
    return dict(sorted(doc.items()))


def _enum_code(definition: Definition, spec: FieldSpec, event: str, value: Any) -> str:
    assert spec.enum is not None
    enum = definition.enums[spec.enum]
    text = str(value).strip()
    for item in enum.values:
        if text in (item.code, item.label):
            return item.code
    choices = ", ".join(f"{v.code}（{v.label}）" for v in enum.values)
    raise PayloadInvalid(event, spec.name, f"{_shown(text)} is not allowed; choose one of: {choices}")


_Value = tuple[Any, str | None]  # (the value to store, the full personal value or None)


def _shown(value: Any) -> str:
    """A value in a message: its repr, cut short (a refused value may be megabytes long)."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _text(definition: Definition, spec: FieldSpec, event: str, value: Any) -> _Value:
    if not isinstance(value, str):
        raise PayloadInvalid(event, spec.name, f"expected text, got {type(value).__name__}")
    text = value.strip() if spec.type == "text" else " ".join(value.split())
    if not text:
        raise PayloadInvalid(event, spec.name, "must not be empty")
    if spec.max_length is not None and len(text) > spec.max_length:
        raise PayloadInvalid(event, spec.name, f"at most {spec.max_length} characters, got {len(text)}")
    return text, None


def _int(definition: Definition, spec: FieldSpec, event: str, value: Any) -> _Value:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PayloadInvalid(event, spec.name, f"expected a whole number, got {_shown(value)}")
    try:
        number = int(value)
    except ValueError:
        raise PayloadInvalid(event, spec.name, f"expected a whole number, got {_shown(value)}") from None
    if not INT64[0] <= number <= INT64[1]:  # what JSON columns and the history hash can hold
        raise PayloadInvalid(event, spec.name, f"a whole number from {INT64[0]} to {INT64[1]}")
    if spec.min is not None and number < spec.min:
        raise PayloadInvalid(event, spec.name, f"at least {spec.min}, got {number}")
    if spec.max is not None and number > spec.max:
        raise PayloadInvalid(event, spec.name, f"at most {spec.max}, got {number}")
    return number, None


def _bool(definition: Definition, spec: FieldSpec, event: str, value: Any) -> _Value:
    if isinstance(value, bool):
        return value, None
    text = str(value).strip().lower()
    if text in TRUE or text in FALSE:
        return text in TRUE, None
    raise PayloadInvalid(event, spec.name, f"expected true or false (是/否), got {_shown(value)}")


def _date(definition: Definition, spec: FieldSpec, event: str, value: Any) -> _Value:
    if isinstance(value, dt.datetime):
        raise PayloadInvalid(event, spec.name, "expected a date without a time, e.g. 2026-05-10")
    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise PayloadInvalid(
            event, spec.name, f"expected a date like 2026-05-10, got {_shown(value)}"
        ) from None
    if not dt.date(1949, 10, 1) <= day <= dt.date(2100, 12, 31):
        raise PayloadInvalid(event, spec.name, f"{day.isoformat()} is outside 1949-10-01 … 2100-12-31")
    return day.isoformat(), None


def _enum(definition: Definition, spec: FieldSpec, event: str, value: Any) -> _Value:
    return _enum_code(definition, spec, event, value), None


def _count(spec: FieldSpec, event: str, items: Sequence[Any]) -> None:
    if spec.max_items is not None and len(items) > spec.max_items:
        raise PayloadInvalid(event, spec.name, f"at most {spec.max_items} entries, got {len(items)}")


def _enum_list(definition: Definition, spec: FieldSpec, event: str, value: Any) -> _Value:
    items = (
        [part for part in re.split(r"[,，、]", value) if part.strip()] if isinstance(value, str) else value
    )
    if not isinstance(items, list | tuple) or not items:
        raise PayloadInvalid(event, spec.name, "expected a non-empty list of choices")
    _count(spec, event, items)
    codes = [_enum_code(definition, spec, event, item) for item in items]
    if len(set(codes)) != len(codes):
        raise PayloadInvalid(event, spec.name, "a choice is listed twice")
    return codes, None


def _uscc(definition: Definition, spec: FieldSpec, event: str, value: Any) -> _Value:
    try:
        return str(uscc.validate(str(value))), None
    except StdnumError as exc:
        raise PayloadInvalid(
            event, spec.name, f"不是有效的统一社会信用代码 (not a valid unified social credit code): {exc}"
        ) from None


def _id_number(definition: Definition, spec: FieldSpec, event: str, value: Any) -> _Value:
    try:
        full = str(ric.validate(str(value)))
    except StdnumError as exc:
        raise PayloadInvalid(
            event, spec.name, f"不是有效的身份证号码 (not a valid resident ID number): {exc}"
        ) from None
    return mask_id_number(full), full


def _unit(definition: Definition, spec: FieldSpec, event: str, value: Any) -> _Value:
    text = str(value).strip()
    if not UNIT_CODE.match(text):
        raise PayloadInvalid(
            event, spec.name, "a unit code is 1–64 letters, digits, Chinese characters, '.', '-' or '_'"
        )
    return text, None


def _string_list(definition: Definition, spec: FieldSpec, event: str, value: Any) -> _Value:
    items = value if isinstance(value, list | tuple) else [value]
    _count(spec, event, items)
    if any(isinstance(item, Mapping | list | tuple) for item in items):
        raise PayloadInvalid(event, spec.name, "each item is text")
    texts = [str(item).strip() for item in items]
    if any(not t or (spec.max_length is not None and len(t) > spec.max_length) for t in texts):
        raise PayloadInvalid(
            event, spec.name, f"each item is non-empty text of at most {spec.max_length} characters"
        )
    return texts, None


def _documents(definition: Definition, spec: FieldSpec, event: str, value: Any) -> _Value:
    items = value if isinstance(value, list | tuple) else [value]
    _count(spec, event, items)
    docs = [_document(event, spec, item) for item in items]
    if not docs:
        raise PayloadInvalid(event, spec.name, "at least one document is needed")
    return docs, None


NORMALISERS: Mapping[str, Callable[[Definition, FieldSpec, str, Any], _Value]] = {
    "string": _text,
    "text": _text,
    "int": _int,
    "bool": _bool,
    "date": _date,
    "enum": _enum,
    "enum_list": _enum_list,
    "uscc": _uscc,
    "id_number": _id_number,
    "unit": _unit,
    "string_list": _string_list,
    "documents": _documents,
}


def normalise(definition: Definition, spec: FieldSpec, event: str, value: Any) -> _Value:
    """Check one value; returns (the value to store, the full personal value or None).

    Raises:
        PayloadInvalid: the value does not fit the field.
    """
    return NORMALISERS[spec.type](definition, spec, event, value)


def clean_payload(
    definition: Definition, event: str, specs: Mapping[str, FieldSpec], raw: Mapping[str, Any]
) -> CleanPayload:
    """Validate an event's payload against its field specs; defaults are filled in.

    Raises:
        PayloadInvalid: an unknown field, a missing required field, a value that does not fit, or a
            payload larger than ``limits.payload_bytes`` as canonical JSON.
    """
    unknown = [key for key in raw if key not in specs]
    if unknown:
        allowed = ", ".join(specs) or "none"
        raise PayloadInvalid(event, unknown[0], f"unknown field; fields of this event: {allowed}")
    values: dict[str, Any] = {}
    personal: dict[str, str] = {}
    problems: list[PayloadInvalid] = []  # every field's problem, reported together
    for name, spec in specs.items():
        value = raw.get(name)
        if value is None or (isinstance(value, str | list | tuple) and len(value) == 0):
            if spec.default is not None:
                values[name] = spec.default
            elif spec.required:
                problems.append(PayloadInvalid(event, name, f"required ({spec.label})"))
            continue
        try:
            stored, full = normalise(definition, spec, event, value)
        except PayloadInvalid as problem:
            problems.append(problem)
            continue
        values[name] = stored
        if full is not None:
            personal[name] = full
    raise_all(event, problems)
    size = len(canonical_bytes(values))
    if size > definition.limits.payload_bytes:
        raise PayloadInvalid(
            event,
            WHOLE_PAYLOAD,
            f"合计 {size} 字节，超过上限 {definition.limits.payload_bytes} 字节 (the payload is {size} bytes "
            f"as canonical JSON; at most {definition.limits.payload_bytes})",
        )
    return CleanPayload(values=values, personal=personal)


def check_comment(definition: Definition, comment: str) -> None:
    """A command's comment fits the definition's ``limits.comment``.

    Raises:
        ArgumentInvalid: the comment is longer.
    """
    if len(comment) > definition.limits.comment:
        raise ArgumentInvalid(
            "comment",
            f"理由过长 (too long): at most {definition.limits.comment} characters, got {len(comment)}",
        )


def check_record_complete(definition: Definition, event: str, data: Mapping[str, Any]) -> None:
    """Every required record field is present, including those required by other fields' values.

    Raises:
        PayloadInvalid: a required field is missing.
    """
    problems: list[PayloadInvalid] = []
    for name, spec in definition.fields.items():
        if name in data and data[name] is not None:
            try:
                _check_within(definition, event, spec, data)
            except PayloadInvalid as outside:
                problems.append(outside)
            continue
        if spec.required:
            problems.append(PayloadInvalid(event, name, f"required ({spec.label})"))
            continue
        for other, values in spec.required_when.items():
            if data.get(other) in values:
                enum = definition.fields[other].enum
                shown = definition.enums[enum].label_of(data[other]) if enum else data[other]
                problems.append(
                    PayloadInvalid(event, name, f"required when {other} is {shown} ({spec.label})")
                )
                break
    raise_all(event, problems)


def raise_all(event: str, problems: Sequence[PayloadInvalid]) -> None:
    """Raise the one problem as it is, or several as one error naming every field, so that a
    payload missing five fields is refused once, not five times.

    Raises:
        PayloadInvalid: there is at least one problem.
    """
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise PayloadInvalid(
            event,
            ", ".join(p.field for p in problems),
            f"{len(problems)} 处问题 (problems): " + "; ".join(f"{p.field}: {p.problem}" for p in problems),
        )


def _check_within(definition: Definition, event: str, spec: FieldSpec, data: Mapping[str, Any]) -> None:
    """A date field with ``within`` lies between the two date fields it names, when they are set.

    Raises:
        PayloadInvalid: the date is outside that period.
    """
    if spec.within is None:
        return
    start, end = (data.get(name) for name in spec.within)
    value = data.get(spec.name)
    if not (isinstance(value, str) and isinstance(start, str) and isinstance(end, str)):
        return
    if not start <= value <= end:  # ISO dates compare as text
        labels = [definition.fields[name].label for name in spec.within]
        raise PayloadInvalid(
            event,
            spec.name,
            f"{value} 不在{labels[0]}至{labels[1]}（{start}至{end}）期间内 (outside the period {start}..{end})",
        )
