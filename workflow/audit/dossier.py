"""The parts of an audit export that are pure functions of history rows: a row as exported,
the versions of a case's facts, the documents its events referenced, and the export digest.

Both the exporter (``workflow.audit.export``) and the offline verifier
(``workflow.audit.offline``) use them, so a verifier re-derives from the exported history
what the export claims about facts and documents. No I/O, no database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from workflow.core.history import GENESIS, HASHED, canonical_bytes, event_hash

DOSSIER_FORMAT = "chengxin-dossier/1"
BULK_FORMAT = "chengxin-histories/1"
HISTORIES_FILE = "histories.jsonl"
MANIFEST_FILE = "manifest.json"

ROW_KEYS = (*HASHED, "hash", "mac")  # a history row in an export: what its hash covers, the hash, the MAC


def at_text(when: dt.datetime) -> str:
    """A time as the history hash writes it: UTC, microseconds."""
    return when.astimezone(dt.UTC).isoformat(timespec="microseconds")


def row_json(row: Any) -> dict[str, Any]:
    """A history row (stored or raw) as an export holds it: every column the hash covers, the
    hash and the MAC; its time as the hash wrote it."""
    return {
        "record_id": row.record_id,
        "seq": row.seq,
        "event": row.event,
        "changes": [list(change) for change in row.changes],
        "actor": row.actor,
        "role": row.role,
        "unit": row.unit,
        "payload": row.payload,
        "comment": row.comment,
        "effects": row.effects,
        "definition_name": row.definition_name,
        "definition_version": row.definition_version,
        "occurred_at": at_text(row.occurred_at),
        "idempotency_key": row.idempotency_key,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
        "mac": row.mac,
    }


def rehash(row: Mapping[str, Any]) -> str:
    """The hash of an exported row recomputed as ``workflow.core.history`` computes it.

    Raises:
        KeyError, TypeError, ValueError: the row is not an exported history row.
    """
    return event_hash(
        record_id=row["record_id"],
        seq=row["seq"],
        event=row["event"],
        changes=row["changes"],
        actor=row["actor"],
        role=row["role"],
        unit=row["unit"],
        payload=row["payload"],
        comment=row["comment"],
        effects=row["effects"],
        definition_name=row["definition_name"],
        definition_version=row["definition_version"],
        occurred_at=dt.datetime.fromisoformat(row["occurred_at"]),
        idempotency_key=row["idempotency_key"],
        prev_hash=row["prev_hash"],
    )


def chain_problems(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """What is wrong with one case's exported chain: a row whose hash does not match its
    content, a row that does not link to the one before, a gap in the sequence."""
    problems = []
    prev = GENESIS
    for expected_seq, row in enumerate(rows, start=1):
        where = f"seq {row.get('seq')}"
        try:
            digest = rehash(row)
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"{where}: 无法读取 (not a history row): {exc}")
            prev = str(row.get("hash", ""))
            continue
        if row["seq"] != expected_seq:
            problems.append(f"{where}: 序号不连续 (expected seq {expected_seq})")
        if row["prev_hash"] != prev:
            problems.append(f"{where}: 与上一条不相连 (prev_hash does not match the row before)")
        if digest != row["hash"]:
            problems.append(f"{where}: 哈希不符，内容被改动 (the row's content does not match its hash)")
        prev = row["hash"]
    return problems


def facts_versions(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every version of a case's facts: the fields it was created with, then one version per
    event that changed a field (which fields, from what, to what), as the history records them."""
    versions: list[dict[str, Any]] = []
    data: dict[str, Any] = {}
    for row in rows:
        if row["seq"] == 1:
            data = dict(row["payload"])
            changed = [[name, None, value] for name, value in sorted(data.items())]
        else:
            changed = [list(change) for change in row["effects"].get("data", ())]
            if not changed:
                continue
            for name, _old, new in changed:
                data[name] = new
        versions.append(
            {
                "version": len(versions) + 1,
                "seq": row["seq"],
                "event": row["event"],
                "occurred_at": row["occurred_at"],
                "changed": changed,
                "data": dict(data),
            }
        )
    return versions


def documents(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every document an event referenced (an object with a ``sha256``), with where it was cited."""
    found: list[dict[str, Any]] = []

    def walk(value: Any, seq: int, event: str, path: str) -> None:
        if isinstance(value, Mapping):
            if isinstance(value.get("sha256"), str):
                found.append(
                    {
                        "seq": seq,
                        "event": event,
                        "field": path,
                        "name": value.get("name"),
                        "sha256": value["sha256"],
                    }
                )
                return
            for key, item in value.items():
                walk(item, seq, event, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, seq, event, f"{path}[{index}]")

    for row in rows:
        walk(row["payload"], row["seq"], row["event"], "")
    return found


def digest_of(document: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of an export document without its ``digest`` member."""
    body = {k: v for k, v in document.items() if k != "digest"}
    return hashlib.sha256(canonical_bytes(body)).hexdigest()
