"""A cached definition built from its checked values (``definitions.codec``) is the definition
the loader builds, type for type; values that do not hash to what the HMAC-checked body
records are not used; the bundled holiday tables come from their own checked cache."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from definitions import codec
from definitions.cache import load_bundled_cached, load_bundled_tables_cached, mac
from definitions.holidays import bundled_tables
from definitions.loader import LoadedDefinition, load_bundled
from workflow.engine.registry import template_exists

SECRET = b"k" * 32


def same(a: Any, b: Any, where: str = "") -> None:
    """``a == b`` and every value of the same type, all the way down."""
    assert type(a) is type(b), where
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, dict | MappingProxyType):
        assert list(a) == list(b), where  # the same keys in the same order
        for key in a:
            same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, tuple | list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def _by_key(items: list[LoadedDefinition]) -> dict[tuple[str, int], LoadedDefinition]:
    return {(item.name, item.version): item for item in items}


def test_every_bundled_definition_comes_back_equal_type_for_type() -> None:
    for item in load_bundled(template_exists):
        text = item.encoded()
        assert text is not None, item
        same(codec.decode(text), item.definition, item.name)


def test_a_cached_definition_is_built_from_its_values_without_the_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = _by_key(load_bundled(template_exists))
    load_bundled_cached(tmp_path, SECRET, template_exists)
    again = _by_key(load_bundled_cached(tmp_path, SECRET, template_exists))

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("validated from the text")

    monkeypatch.setattr("definitions.loader.finish_resolved", refuse)
    for key, item in again.items():
        same(item.definition, parsed[key].definition, str(key))


@pytest.mark.parametrize("change", ["missing", "altered", "garbage"])
def test_values_that_do_not_hash_to_the_recorded_sha256_are_not_used(tmp_path: Path, change: str) -> None:
    parsed = _by_key(load_bundled(template_exists))
    load_bundled_cached(tmp_path, SECRET, template_exists)
    (path,) = tmp_path.glob("definitions-*.json")
    national = next(
        e for e in json.loads(json.loads(path.read_text(encoding="utf-8"))["body"]) if e["name"] == "national"
    )
    built = path.with_suffix("") / f"{national['built_sha256']}.json"
    if change == "missing":
        built.unlink()
    elif change == "altered":  # a label changed: still a definition, but not the checked one
        built.write_text(built.read_text(encoding="utf-8").replace("已提交", "已篡改"), encoding="utf-8")
    else:
        built.write_bytes(b"\xff not json")
    item = _by_key(load_bundled_cached(tmp_path, SECRET, template_exists))[("national", 1)]
    definition = item.definition  # validated from the text instead
    same(definition, parsed[("national", 1)].definition)
    assert "已篡改" not in repr(definition)


def test_a_body_naming_other_values_is_refused_by_its_mac(tmp_path: Path) -> None:
    load_bundled_cached(tmp_path, SECRET, template_exists)
    (path,) = tmp_path.glob("definitions-*.json")
    outer = json.loads(path.read_text(encoding="utf-8"))
    entries = json.loads(outer["body"])
    entries[0]["built_sha256"] = "0" * 64
    outer["body"] = json.dumps(entries, ensure_ascii=False)  # the MAC left as it was
    path.write_text(json.dumps(outer), encoding="utf-8")
    read = load_bundled_cached(tmp_path, SECRET, template_exists)
    assert all(item._definition is not None for item in read)  # parsed from the files again


def test_holiday_tables_come_from_their_cache_and_an_altered_one_is_rewritten(tmp_path: Path) -> None:
    files = bundled_tables()
    assert load_bundled_tables_cached(tmp_path, SECRET) == files  # read, then written
    (path,) = tmp_path.glob("holidays-*.json")
    assert load_bundled_tables_cached(tmp_path, SECRET) == files  # from the cache
    outer = json.loads(path.read_text(encoding="utf-8"))
    assert outer["body_mac"] == mac(SECRET, outer["body"])
    outer["body"] = outer["body"].replace("春节", "篡改的节日")  # the MAC left as it was
    path.write_text(json.dumps(outer, ensure_ascii=False), encoding="utf-8")
    assert load_bundled_tables_cached(tmp_path, SECRET) == files
    assert "篡改的节日" not in path.read_text(encoding="utf-8")  # rewritten from the files
    assert load_bundled_tables_cached(tmp_path, b"x" * 32) == files  # another key: not this cache's
