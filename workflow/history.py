"""The hash chain of a record's history: one SHA-256 per event over its canonical JSON.

Each event's hash covers everything stored about it (who, when, in which role and unit, the
state changes, payload, comment, effects, definition version, idempotency key) and the hash
of the event before it, so altering, removing or reordering a row breaks the chain from that
row on. Pure functions; ``workflow.audit`` does the verifying.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from storage.values import RawEvent

GENESIS = "0" * 64
HASH_VERSION = 1


def canonical(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text: the one form hashes are taken over."""
    return canonical_bytes(value).decode()


def canonical_bytes(value: Any) -> bytes:
    """``canonical`` as UTF-8 bytes. orjson writes exactly what ``json.dumps(sort_keys=True,
    ensure_ascii=False, separators=(",", ":"))`` writes, several times faster (a test pins this)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def event_hash(
    *,
    record_id: str,
    seq: int,
    event: str,
    changes: Sequence[Sequence[str | None]],
    actor: str,
    role: str,
    unit: str,
    payload: Mapping[str, Any],
    comment: str,
    effects: Mapping[str, Any],
    definition_name: str,
    definition_version: int,
    occurred_at: dt.datetime,
    idempotency_key: str | None,
    prev_hash: str,
) -> str:
    body = {
        "v": HASH_VERSION,
        "record": record_id,
        "seq": seq,
        "event": event,
        "changes": [list(change) for change in changes],
        "actor": actor,
        "role": role,
        "unit": unit,
        "payload": payload,
        "comment": comment,
        "effects": effects,
        "definition": f"{definition_name}@{definition_version}",
        "at": occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "key": idempotency_key,
        "prev": prev_hash,
    }
    return hashlib.sha256(canonical_bytes(body)).hexdigest()


def request_fingerprint(
    record_id: str | None, event: str, actor: tuple[str, str, str], payload: Any, comment: str
) -> str:
    """What an idempotency key stands for: the same key must always mean the same request."""
    body = {"record": record_id, "event": event, "actor": list(actor), "payload": payload, "comment": comment}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def raw_event_hash(event: RawEvent) -> str:
    """``event_hash`` of a row whose JSON columns hold canonical text, without parsing them.

    The stored JSON texts go into the canonical body as they are (``orjson.Fragment``), the
    other fields are encoded as ``event_hash`` encodes them; the keys are written in sorted
    order already. Equal to ``event_hash`` of the parsed row when the stored text is canonical,
    as the engine writes it; the verifier falls back to parsing when it is not (a row orjson
    cannot encode gets an empty hash here, so the fallback decides).
    """
    body = {
        "actor": event.actor,
        "at": event.at_iso,
        "changes": orjson.Fragment(event.changes_json),
        "comment": event.comment,
        "definition": f"{event.definition_name}@{event.definition_version}",
        "effects": orjson.Fragment(event.effects_json),
        "event": event.event,
        "key": event.idempotency_key,
        "payload": orjson.Fragment(event.payload_json),
        "prev": event.prev_hash,
        "record": event.record_id,
        "role": event.role,
        "seq": event.seq,
        "unit": event.unit,
        "v": HASH_VERSION,
    }
    try:
        return hashlib.sha256(orjson.dumps(body)).hexdigest()
    except orjson.JSONEncodeError:
        return ""
