"""The cache of checked bundled definitions (``definitions.cache``): a valid cache gives the same
definitions as the files, and an altered, forged or unreadable one is ignored and rewritten."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from definitions.cache import load_bundled_cached, mac
from definitions.loader import DefinitionError, LoadedDefinition, load_bundled
from workflow.engine.registry import template_exists

SECRET = b"k" * 32


def _file(folder: Path) -> Path:
    (found,) = folder.glob("definitions-*.json")
    return found


def _by_key(items: list[LoadedDefinition]) -> dict[tuple[str, int], LoadedDefinition]:
    return {(item.name, item.version): item for item in items}


def _deferred(items: list[LoadedDefinition]) -> int:
    return sum(item._definition is None for item in items)


def test_a_valid_cache_gives_the_definitions_of_the_files(tmp_path: Path) -> None:
    parsed = _by_key(load_bundled(template_exists))
    first = load_bundled_cached(tmp_path, SECRET, template_exists)
    assert _deferred(first) == 0  # loaded from the files, then written
    again = load_bundled_cached(tmp_path, SECRET, template_exists)
    assert _deferred(again) == len(again) == len(parsed)  # nothing built until used
    for key, item in _by_key(again).items():
        assert item.sha256 == parsed[key].sha256
        assert item.resolved == parsed[key].resolved
    national = _by_key(again)[("national", 1)]
    assert national.definition == parsed[("national", 1)].definition
    assert _deferred(again) == len(again) - 1  # only the one asked for was built


def _rewrite(path: Path, change: str, secret: bytes | None) -> None:
    """Replace a state label in the body, re-signing the body with ``secret`` (None: keep the MAC)."""
    outer = json.loads(path.read_text(encoding="utf-8"))
    entries = json.loads(outer["body"])
    national = next(e for e in entries if e["name"] == "national" and e["version"] == 1)
    assert "已提交" in national["resolved"]
    national["resolved"] = national["resolved"].replace("已提交", change)
    if change == "已撤销提交":  # the forger also records the new text's hash
        data = json.loads(national["resolved"])
        national["sha256"] = hashlib.sha256(
            json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
        ).hexdigest()
    outer["body"] = json.dumps(entries, ensure_ascii=False, separators=(",", ":"))
    if secret is not None:
        outer["body_mac"] = mac(secret, outer["body"])
    path.write_text(json.dumps(outer, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "secret"),
    [
        ("已篡改", None),  # the text edited, the MAC left as it was
        ("已篡改", SECRET),  # re-signed, but the text no longer hashes to its recorded SHA-256
        ("已撤销提交", b"x" * 32),  # hash recorded anew and the body signed, without the key
    ],
)
def test_an_altered_cache_is_ignored_and_rewritten(tmp_path: Path, change: str, secret: bytes | None) -> None:
    parsed = _by_key(load_bundled(template_exists))
    load_bundled_cached(tmp_path, SECRET, template_exists)
    path = _file(tmp_path)
    _rewrite(path, change, secret)
    read = load_bundled_cached(tmp_path, SECRET, template_exists)
    assert _deferred(read) == 0  # parsed from the files again
    assert _by_key(read)[("national", 1)].sha256 == parsed[("national", 1)].sha256
    assert change not in path.read_text(encoding="utf-8")  # rewritten from the files
    assert _deferred(load_bundled_cached(tmp_path, SECRET, template_exists)) == len(read)


def test_a_forged_cache_under_the_right_key_is_caught_when_used(tmp_path: Path) -> None:
    """Whoever holds the key can sign anything; the text must still hash to what it says, and a
    deferred definition checks that again when it is built."""
    load_bundled_cached(tmp_path, SECRET, template_exists)
    path = _file(tmp_path)
    outer = json.loads(path.read_text(encoding="utf-8"))
    entries = json.loads(outer["body"])
    entries[0]["sha256"] = "0" * 64
    outer["body"] = json.dumps(entries, ensure_ascii=False)
    outer["body_mac"] = mac(SECRET, outer["body"])
    path.write_text(json.dumps(outer), encoding="utf-8")
    assert _deferred(load_bundled_cached(tmp_path, SECRET, template_exists)) == 0
    first = entries[0]
    item = LoadedDefinition.deferred(
        name=first["name"],
        version=first["version"],
        sha256="0" * 64,
        resolved=first["resolved"],
        source=first["source"],
        templates=template_exists,
    )
    with pytest.raises(DefinitionError, match="does not hash"):
        _ = item.definition


@pytest.mark.parametrize("content", [b"", b"not json", b"[]", b'{"format": 1}', b"\xff\xfe"])
def test_an_unreadable_cache_is_ignored(tmp_path: Path, content: bytes) -> None:
    load_bundled_cached(tmp_path, SECRET, template_exists)
    path = _file(tmp_path)
    path.write_bytes(content)
    assert _deferred(load_bundled_cached(tmp_path, SECRET, template_exists)) == 0
    assert json.loads(path.read_text(encoding="utf-8"))["format"].startswith("chengxin-definitions-cache")


def test_a_folder_that_cannot_be_written_is_no_error(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    loaded = load_bundled_cached(blocked / "cache", SECRET, template_exists)
    assert len(loaded) == len(load_bundled(template_exists))
