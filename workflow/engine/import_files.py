"""Import files read as rows: JSON Lines and CSV, streamed a line at a time (memory stays flat
however long the file is).

JSON Lines: one object per line (blank lines are skipped). CSV: a header row, then one row per
case; the columns ``source_id``, ``definition``, ``version``, ``state``, ``since`` and
``state.<track>`` / ``since.<track>`` say what the row is, every other column is a field of the
record, an empty cell is an absent field, and a cell that starts with ``[`` or ``{`` is JSON
(documents: ``[{"name": "…", "sha256": "…"}]``). Each row carries the SHA-256 of its line, which
the case's first history row keeps.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from workflow.engine.importing import SourceRow
from workflow.errors import ArgumentInvalid

FORMATS = ("jsonl", "csv")
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}


def format_of(path: Path, given: str | None) -> str:
    """The file's format: ``given``, else by its extension.

    Raises:
        ArgumentInvalid: neither names a known format.
    """
    if given is not None:
        if given.lower() not in FORMATS:
            raise ArgumentInvalid("--format", f"{given!r}; allowed: {', '.join(FORMATS)}")
        return given.lower()
    found = SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise ArgumentInvalid(
            "--format",
            f"无法从扩展名 {path.suffix or '(none)'} 判断格式 (cannot tell the format from the file name); "
            f"use .jsonl or .csv, or --format {'|'.join(FORMATS)}",
        )
    return found


def read_rows(path: Path, fmt: str) -> Iterator[SourceRow]:
    """The rows of the import file at ``path`` in format ``fmt`` (``format_of``).

    Raises:
        OSError: the file cannot be read.
    """
    return _jsonl(path) if fmt == "jsonl" else _csv(path)


def count_lines(path: Path) -> int:
    """The number of lines of a file (for a progress bar), read in large blocks."""
    total, last = 0, b"\n"
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            total += block.count(b"\n")
            last = block[-1:]
    return total + (last != b"\n")


def _jsonl(path: Path) -> Iterator[SourceRow]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\r\n")
            if number == 1 and line.startswith(codecs.BOM_UTF8):
                line = line[len(codecs.BOM_UTF8) :]
            if not line.strip():
                continue
            digest = hashlib.sha256(line).hexdigest()
            try:
                values = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield SourceRow(line=number, sha256=digest, error=f"不是有效的 JSON (not valid JSON): {exc}")
                continue
            if not isinstance(values, dict):
                yield SourceRow(
                    line=number, sha256=digest, error="每行应为一个 JSON 对象 (each line is one JSON object)"
                )
                continue
            yield SourceRow(line=number, sha256=digest, values=values)


def _cell(text: str) -> Any:
    stripped = text.strip()
    if stripped[:1] in {"[", "{"}:
        try:
            return orjson.loads(stripped)
        except orjson.JSONDecodeError:
            return text
    return stripped


def _csv(path: Path) -> Iterator[SourceRow]:
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        names = [name.strip() for name in header]
        start = reader.line_num + 1
        for cells in reader:
            number, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="").writerow(cells)
            digest = hashlib.sha256(buffer.getvalue().encode()).hexdigest()
            if len(cells) != len(names):
                yield SourceRow(
                    line=number,
                    sha256=digest,
                    error=f"有 {len(cells)} 列，表头有 {len(names)} 列 (the row has {len(cells)} cells, the header {len(names)})",
                )
                continue
            values: dict[str, Any] = {}
            state: dict[str, Any] = {}
            since: dict[str, Any] = {}
            for name, text in zip(names, cells, strict=True):
                if not text.strip():
                    continue
                if name.startswith("state."):
                    state[name.removeprefix("state.")] = text.strip()
                elif name.startswith("since."):
                    since[name.removeprefix("since.")] = text.strip()
                else:
                    values[name] = _cell(text)
            if state:
                values["tracks"] = state
            if since:
                main = values.pop("since", None)
                values["since"] = {**({"": main} if main is not None else {}), **since}
            yield SourceRow(line=number, sha256=digest, values=values)
