"""Audit exports: one case's dossier (JSON, and a printable HTML page carrying the same JSON),
and every history as JSON Lines with a manifest of the chains' heads and a digest.

Reads through the engine (opened for an auditor) and writes files only; what an export holds
is checked offline by ``workflow.audit.offline`` with no database. Files are written under a
temporary name and renamed when complete, so an interrupted export leaves no half-written
file under its real name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import jinja2
import orjson

from notifications import message_id_for
from workflow.audit.dossier import (
    BULK_FORMAT,
    DOSSIER_FORMAT,
    HISTORIES_FILE,
    MANIFEST_FILE,
    at_text,
    digest_of,
    documents,
    facts_versions,
    row_json,
)
from workflow.engine.facade import Engine
from workflow.errors import ExportInvalid

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEMPLATES = Path(__file__).with_name("templates")
SCRIPT_ID = "chengxin-dossier"  # the id of the <script> in the HTML page that carries the JSON


def dossier(engine: Engine, record_id: str, *, mail_domain: str) -> dict[str, Any]:
    """One case's complete dossier: the case now, every history row with its hash, every version
    of its facts, its deadlines with their explanations, the mail sent about it with their
    Message-IDs, its webhook deliveries, the documents its events cited, the SHA-256 of each
    definition version its history ran under; and a digest.

    Raises:
        RecordNotFound: no such case.
    """
    view = engine.get(record_id)
    rows = [row_json(event) for event in engine.stored_history(record_id)]
    labels = {entry.event: entry.event_label for entry in engine.history(record_id)}
    queued = engine.outbox.list(record_id=record_id, limit=10_000)
    case = view.to_json()
    document: dict[str, Any] = {
        "format": DOSSIER_FORMAT,
        "exported_at": at_text(engine.clock.now()),
        "record": {k: v for k, v in case.items() if k != "deadlines"},
        "head": {"seq": rows[-1]["seq"], "hash": rows[-1]["hash"]},
        "history": rows,
        "event_labels": labels,
        "definitions": {
            f"{name}@{version}": engine.registry.get(name, version).sha256
            for name, version in sorted({(r["definition_name"], r["definition_version"]) for r in rows})
        },
        "facts": facts_versions(rows),
        "deadlines": case["deadlines"],
        "mails": [
            {
                "template": row.template,
                "recipient_unit": row.recipient_unit,
                "status": row.status,
                "attempts": row.attempts,
                "created_at": at_text(row.created_at),
                "sent_at": at_text(row.sent_at) if row.sent_at else None,
                "message_id": message_id_for(row.cause, mail_domain),
                "last_error": row.last_error,
            }
            for row in queued
            if row.channel == "mail"
        ],
        "webhooks": [
            {
                "event": row.template,
                "subscription": row.recipient_unit,
                "delivery": row.message_id,
                "status": row.status,
                "attempts": row.attempts,
                "sent_at": at_text(row.sent_at) if row.sent_at else None,
            }
            for row in queued
            if row.channel == "webhook"
        ],
        "documents": documents(rows),
        "sealed_rows": sum(1 for row in rows if row["mac"]),
    }
    document["digest"] = digest_of(document)
    return document


def dossier_json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _shanghai(text: str | None) -> str:
    if not text:
        return ""
    return dt.datetime.fromisoformat(text).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["shanghai"] = _shanghai
    return env


def dossier_html(document: Mapping[str, Any]) -> str:
    """The printable page of a dossier (Chinese first), carrying the dossier's JSON in a script
    element so that the page itself can be verified (``audit verify --export page.html``)."""
    embedded = json.dumps(document, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")
    return (
        _environment().get_template("dossier.html").render(d=document, embedded=embedded, script_id=SCRIPT_ID)
    )


@contextmanager
def _atomic(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """A file written under a temporary name and renamed to ``path`` when the block ends well.

    Raises:
        ExportInvalid: the file cannot be written.
    """
    temporary = path.with_name(f".{path.name}.partial")
    try:
        with open(temporary, mode, encoding=None if "b" in mode else "utf-8") as handle:
            yield handle
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ExportInvalid(f"无法写入 {path} (cannot write the export): {exc.strerror or exc}") from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_dossier(document: Mapping[str, Any], path: Path, *, fmt: str) -> None:
    """Write a dossier as ``json`` or ``html``.

    Raises:
        ExportInvalid: the file cannot be written.
    """
    text = dossier_json(document) if fmt == "json" else dossier_html(document)
    with _atomic(path) as handle:
        handle.write(text)


@dataclass(frozen=True, slots=True, kw_only=True)
class BulkExport:
    folder: Path
    records: int
    rows: int
    digest: str


def export_all(engine: Engine, folder: Path) -> BulkExport:
    """Every history as JSON Lines (``histories.jsonl``, one row a line, cases in id order) and
    ``manifest.json``: each chain's head (case, last seq, last hash), the file's SHA-256 and row
    count, and a digest over the manifest. The manifest is written last: a folder without one
    holds no complete export.

    Raises:
        ExportInvalid: the folder holds an export already, or cannot be written.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportInvalid(
            f"无法创建目录 {folder} (cannot create the folder): {exc.strerror or exc}"
        ) from exc
    if (folder / MANIFEST_FILE).exists() or (folder / HISTORIES_FILE).exists():
        raise ExportInvalid(f"{folder} 已有导出 (the folder holds an export already): choose an empty folder")
    chains: list[dict[str, Any]] = []
    total = 0
    sha = hashlib.sha256()
    with _atomic(folder / HISTORIES_FILE, "wb") as handle:
        for _record, events in engine.histories():
            if not events:
                continue
            for event in events:
                line = orjson.dumps(row_json(event), option=orjson.OPT_SORT_KEYS) + b"\n"
                sha.update(line)
                handle.write(line)
            total += len(events)
            last = events[-1]
            chains.append({"record_id": last.record_id, "seq": last.seq, "head": last.hash})
    manifest: dict[str, Any] = {
        "format": BULK_FORMAT,
        "exported_at": at_text(engine.clock.now()),
        "files": {HISTORIES_FILE: {"sha256": sha.hexdigest(), "rows": total}},
        "records": len(chains),
        "chains": chains,
    }
    manifest["digest"] = digest_of(manifest)
    with _atomic(folder / MANIFEST_FILE) as handle:
        handle.write(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    return BulkExport(folder=folder, records=len(chains), rows=total, digest=manifest["digest"])
