"""A command's payload from ``--set``, ``--attach`` and ``--payload-file``."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workflow.cli.common import fail


def payload_of(sets: list[str] | None, attach: list[str] | None, payload_file: Path | None) -> dict[str, Any]:
    """The event's payload: the file, overridden field by field by ``--set``, plus ``--attach`` documents."""
    payload = _read_payload_file(payload_file) if payload_file is not None else {}
    payload.update(_set_fields(sets or []))
    for item in attach or []:
        key, document = _attachment(item)
        current = payload.get(key)
        payload[key] = [*(current if isinstance(current, list) else [current] if current else []), document]
    return payload


def _set_fields(items: Sequence[str]) -> dict[str, Any]:
    """``--set field=value`` items; a field given more than once becomes a list."""
    fields: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            fail(f"--set {item!r}: 需要 field=value (expected field=value)", 2)
        current = fields.get(key)
        if key not in fields:
            fields[key] = value
        elif isinstance(current, list):
            current.append(value)
        else:
            fields[key] = [current, value]
    return fields


def _read_payload_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"--payload-file {path}: 无法读取 (cannot read): {exc.strerror or exc}", 2)
    except UnicodeDecodeError:
        fail(f"--payload-file {path}: 不是 UTF-8 文本 (not UTF-8 text)", 2)
    import yaml  # only for --payload-file: a read does not load it

    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        fail(f"--payload-file {path}: 不是有效的 JSON/YAML (not valid JSON or YAML): {first}", 2)
    except (ValueError, TypeError, OverflowError) as exc:  # a scalar the safe loader cannot build
        fail(
            f"--payload-file {path}: 有无法读取的值 (a value cannot be read; a date is YYYY-MM-DD with a "
            f"real month and day): {exc}",
            2,
        )
    except RecursionError:
        fail(f"--payload-file {path}: 嵌套过深 (nested too deeply)", 2)
    if not isinstance(loaded, dict):
        fail(f"--payload-file {path}: 需要一个键值映射 (expected a mapping of field: value)", 2)
    return {str(k): (v.isoformat() if isinstance(v, dt.date) else v) for k, v in loaded.items()}


def _attachment(item: str) -> tuple[str, dict[str, str]]:
    key, sep, path = item.partition("=")
    if not sep or not key.strip():
        fail(f"--attach {item!r}: 需要 field=PATH (expected field=PATH)", 2)
    file = Path(path)
    if not file.is_file():
        fail(f"--attach {item!r}: 文件不存在 (no such file): {file}", 2)
    return key.strip(), {"name": file.name, "sha256": hashlib.sha256(file.read_bytes()).hexdigest()}
