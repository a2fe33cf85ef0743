"""A cache of the checked bundled definitions, so that a command does not parse and check every
bundled YAML file to read one record.

What is cached is data, never code: one JSON file holding, for each bundled definition, its
resolved document (the same text the records store), its SHA-256 and its file, and beside it a
folder of the checked definitions' values (``definitions.codec``: tagged JSON of the model's
dataclasses), one file each, named by its SHA-256, which the HMAC-checked body records (a file
that does not hash to it is not used). Nothing is unpickled or evaluated. The file's name comes from a key over the bytes of every bundled
definition file, the loader's own source files (this package) and what the caller's template
check depends on: an edited definition, another checkout or an upgraded chengxin reads and
writes a cache of its own.

Reading it trusts nothing that is not checked. The body carries an HMAC-SHA256 under a key the
caller holds (the engine derives it from its database's secret pepper, so whoever can write the
cache folder but not the database cannot forge one), and the SHA-256 of every definition is
computed again from its text (the hash the stored versions of issue 10 are compared with); a
cache that fails either, or does not parse, is ignored and written anew. A definition from the
cache is built when a command first uses it (``LoadedDefinition.deferred``): from its checked
values, without the schema (so that a read imports neither pydantic nor YAML), or, when they
are missing or do not decode, validated and checked in full from its text; either way its
hash, name and version must be the recorded ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from definitions import holidays
from definitions.holidays import HolidayTable
from definitions.loaded import (
    BUNDLED_DIR,
    DefinitionError,
    LoadedDefinition,
    TemplateCheck,
    bundled_files,
    resolved_sha256,
)

FORMAT = "chengxin-definitions-cache/2"
PACKAGE = Path(__file__).resolve().parent
KEEP = 3  # caches kept in one folder


def cache_key(files: Sequence[Path], salt: str) -> str:
    """SHA-256 over the cache's format, the bundled folder, ``salt``, this package's source files
    and every bundled definition file (names and bytes)."""
    digest = hashlib.sha256()
    for part in (FORMAT, str(BUNDLED_DIR), salt):
        digest.update(part.encode() + b"\0")
    for file in (*sorted(PACKAGE.glob("*.py")), *files):
        digest.update(str(file).encode() + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def load_bundled_cached(
    folder: Path, secret: bytes, templates: TemplateCheck | None = None, salt: str = ""
) -> list[LoadedDefinition]:
    """The bundled definitions, from the cache in ``folder`` when it is valid for the files as
    they are now, else loaded (and checked) from the files and written to the cache.

    ``secret`` keys the cache's HMAC; ``salt`` names what ``templates`` answers (e.g. the
    template names), so a different catalogue does not read a cache checked against another one.

    Raises:
        DefinitionError: a bundled file is invalid (never cached).
    """
    files = bundled_files()
    key = cache_key(files, salt)
    path = folder / f"definitions-{key[:40]}.json"
    found = read_cache(path, key, secret, templates)
    if found is not None:
        return found
    from definitions.loader import load_paths  # YAML, the schema and the checks: only to fill the cache

    loaded = load_paths([BUNDLED_DIR], templates=templates)
    write_cache(path, key, secret, loaded)
    return loaded


def load_bundled_tables_cached(folder: Path, secret: bytes) -> list[HolidayTable]:
    """The bundled holiday tables (``holidays.bundled_tables``), from their cache in ``folder``
    (keyed like the definitions' by the files' bytes and this package's source, under an HMAC
    keyed by ``secret``) when it is valid, else read from the files and written to it.

    Raises:
        HolidayTableError: a bundled file is invalid (never cached).
    """
    key = cache_key(holidays.bundled_files(), "holiday tables")
    path = folder / f"holidays-{key[:40]}.json"
    found = _read_tables(path, key, secret)
    if found is not None:
        return found
    tables = holidays.bundled_tables()
    body = json.dumps(
        [
            {
                "year": t.year,
                "provisional": t.provisional,
                "source": t.source,
                "days_off": [[day.isoformat(), name] for day, name in t.days_off.items()],
                "makeup_workdays": [[day.isoformat(), name] for day, name in t.makeup_workdays.items()],
            }
            for t in tables
        ],
        ensure_ascii=False,
    )
    _write(path, {"format": FORMAT, "key": key, "body_mac": mac(secret, body), "body": body})
    return tables


def _read_tables(path: Path, key: str, secret: bytes) -> list[HolidayTable] | None:
    try:
        outer = json.loads(path.read_bytes())
        if not isinstance(outer, dict) or outer.get("format") != FORMAT or outer.get("key") != key:
            return None
        body = outer["body"]
        if not hmac.compare_digest(mac(secret, body), outer["body_mac"]):
            return None
        return [
            holidays.HolidayTable(
                year=item["year"],
                provisional=item["provisional"],
                source=item["source"],
                days_off={dt.date.fromisoformat(day): name for day, name in item["days_off"]},
                makeup_workdays={dt.date.fromisoformat(day): name for day, name in item["makeup_workdays"]},
            )
            for item in json.loads(body)
        ]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _write(path: Path, outer: dict[str, Any]) -> None:
    """Write ``outer`` as the JSON file ``path`` (whole or not at all); a folder that cannot be
    written is no error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".holidays-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(outer, out, ensure_ascii=False)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _prune(path.parent, "holidays")
    except OSError:
        return


def mac(secret: bytes, body: str) -> str:
    """The HMAC-SHA256 of a cache body."""
    return hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()


def read_cache(
    path: Path, key: str, secret: bytes, templates: TemplateCheck | None
) -> list[LoadedDefinition] | None:
    """The definitions of the cache at ``path``, or None when it is missing, for another key,
    altered or unreadable."""
    try:
        outer = json.loads(path.read_bytes())
        if not isinstance(outer, dict) or outer.get("format") != FORMAT or outer.get("key") != key:
            return None
        body = outer["body"]
        if not hmac.compare_digest(mac(secret, body), outer["body_mac"]):
            return None
        built = path.with_suffix("")
        loaded = [_entry(item, templates, built) for item in json.loads(body)]
    except (OSError, ValueError, TypeError, KeyError, AttributeError, DefinitionError):
        return None
    if any(item is None for item in loaded):
        return None
    return [item for item in loaded if item is not None]


def _entry(item: Any, templates: TemplateCheck | None, folder: Path) -> LoadedDefinition | None:
    """One cached definition, if its text hashes to its recorded SHA-256; its checked values are
    read from ``folder`` when it is built (``_built``)."""
    name, version, sha256, resolved, source, built_sha256 = (
        item["name"],
        item["version"],
        item["sha256"],
        item["resolved"],
        item["source"],
        item["built_sha256"],
    )
    if not (isinstance(name, str) and isinstance(version, int) and isinstance(source, str)):
        return None
    if not isinstance(resolved, str) or resolved_sha256(resolved) != sha256:
        return None
    if built_sha256 is not None and not isinstance(built_sha256, str):
        return None
    return LoadedDefinition.deferred(
        name=name,
        version=version,
        sha256=sha256,
        resolved=resolved,
        source=source,
        templates=templates,
        built=None if built_sha256 is None else _built(folder, built_sha256),
    )


def _built(folder: Path, sha256: str) -> Callable[[], str | None]:
    """What reads a definition's checked values (``codec``) from the file named by their SHA-256
    (recorded in the HMAC-checked body): None when it is missing or does not hash to it."""

    def read() -> str | None:
        try:
            data = (folder / f"{sha256}.json").read_bytes()
        except OSError:
            return None
        if not hmac.compare_digest(hashlib.sha256(data).hexdigest(), sha256):
            return None
        return data.decode()

    return read


def write_cache(path: Path, key: str, secret: bytes, loaded: Sequence[LoadedDefinition]) -> None:
    """Write the cache at ``path`` (whole or not at all); a folder that cannot be written is
    no error: the next command loads the files again."""
    built = {item.sha256: item.encoded() for item in loaded}
    digests = {
        sha256: hashlib.sha256(text.encode()).hexdigest()
        for sha256, text in built.items()
        if text is not None
    }
    entries = [
        {
            "name": item.name,
            "version": item.version,
            "sha256": item.sha256,
            "source": item.definition.source,
            "resolved": item.resolved,
            "built_sha256": digests.get(item.sha256),
        }
        for item in loaded
    ]
    body = json.dumps(entries, ensure_ascii=False, separators=(",", ":"))
    outer = {
        "format": FORMAT,
        "key": key,
        "body_mac": mac(secret, body),
        "body": body,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_built(path.with_suffix(""), built, digests)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".definitions-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(outer, out, ensure_ascii=False)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _prune(path.parent)
    except OSError:
        return


def _write_built(folder: Path, built: dict[str, str | None], digests: dict[str, str]) -> None:
    """Each definition's checked values in ``folder``, in a file named by their SHA-256 (one
    file each, so that a read parses only the one it builds)."""
    folder.mkdir(exist_ok=True, mode=0o700)
    for sha256, digest in digests.items():
        text = built[sha256]
        target = folder / f"{digest}.json"
        if text is None or target.is_file():
            continue
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".built-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _prune(folder: Path, prefix: str = "definitions") -> None:
    """Keep the newest few caches (other checkouts or versions may share the folder), delete the
    rest with the folders of their definitions' values."""
    caches = sorted(folder.glob(f"{prefix}-*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for stale in caches[KEEP:]:
        stale.unlink(missing_ok=True)
    kept = {p.with_suffix("").name for p in caches[:KEEP]}
    for built in folder.glob(f"{prefix}-*"):
        if built.is_dir() and built.name not in kept:
            shutil.rmtree(built, ignore_errors=True)
