"""A checked definition's values as JSON, and back, without the schema.

``encode`` writes a ``definitions.model.Definition`` — frozen dataclasses of strings, numbers,
tuples, mappings, dates and times — as tagged JSON; ``decode`` builds the equal object again by
calling the same dataclasses, without pydantic and without the loader's checks. It is meant for
values as trusted as the checked definition they came from (the definitions cache, under its
HMAC); ``tests/definitions/test_definitions_codec.py`` checks that every bundled definition
comes back equal, type for type.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from types import MappingProxyType
from typing import Any

from definitions import model

CLASSES: dict[str, type[Any]] = {
    name: value
    for name, value in vars(model).items()
    if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == model.__name__
}


def _plain(value: Any) -> Any:
    if value is None or type(value) in (str, int, float, bool):
        return value
    kind = type(value)
    if dataclasses.is_dataclass(value) and CLASSES.get(kind.__name__) is kind:
        return {
            "@": kind.__name__,
            **{f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init},
        }
    if kind is tuple:
        return {"t": [_plain(v) for v in value]}
    if kind is list:
        return {"l": [_plain(v) for v in value]}
    if kind is frozenset:
        return {"f": [_plain(v) for v in sorted(value, key=repr)]}
    if kind is dict:
        return {"d": [[_plain(k), _plain(v)] for k, v in value.items()]}
    if kind is MappingProxyType:
        return {"m": [[_plain(k), _plain(v)] for k, v in value.items()]}
    if kind is dt.date:
        return {"date": value.isoformat()}
    if kind is dt.time:
        return {"time": value.isoformat()}
    if kind is dt.datetime:
        return {"datetime": value.isoformat()}
    raise TypeError(f"cannot encode {kind.__name__} in a definition")


def _value(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    if "@" in data:
        kind = CLASSES[data["@"]]
        return kind(**{k: _value(v) for k, v in data.items() if k != "@"})
    ((tag, body),) = data.items()
    if tag == "t":
        return tuple(_value(v) for v in body)
    if tag == "l":
        return [_value(v) for v in body]
    if tag == "f":
        return frozenset(_value(v) for v in body)
    if tag == "d":
        return {_value(k): _value(v) for k, v in body}
    if tag == "m":
        return MappingProxyType({_value(k): _value(v) for k, v in body})
    if tag == "date":
        return dt.date.fromisoformat(body)
    if tag == "time":
        return dt.time.fromisoformat(body)
    if tag == "datetime":
        return dt.datetime.fromisoformat(body)
    raise ValueError(f"unknown tag {tag!r} in an encoded definition")


def encode(definition: model.Definition) -> str:
    """``definition`` as JSON.

    Raises:
        TypeError: it holds a value of a type this codec does not know.
    """
    return json.dumps(_plain(definition), ensure_ascii=False, separators=(",", ":"))


def decode(text: str) -> model.Definition:
    """The definition ``encode`` wrote.

    Raises:
        ValueError, TypeError, KeyError: not what ``encode`` writes.
    """
    built = _value(json.loads(text))
    if not isinstance(built, model.Definition):
        raise TypeError("not an encoded definition")
    return built
