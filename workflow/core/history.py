"""The hash chain of a record's history: one SHA-256 per event over its canonical JSON.

Each event's hash covers everything stored about it (who, when, in which role and unit, the
state changes, payload, comment, effects, definition version, idempotency key) and the hash
of the event before it, so altering, removing or reordering a row breaks the chain from that
row on; with a history key, ``row_mac`` seals each hash so that a recomputed chain shows too.
Pure functions; ``workflow.audit`` does the verifying.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import orjson

GENESIS = "0" * 64
HASH_VERSION = 1
# What a history row's hash covers, by the names of the row's columns: the hash of a row is
# ``event_hash(**{name: row.name for name in HASHED})`` (see ``hash_of``).
HASHED = (
    "record_id",
    "seq",
    "event",
    "changes",
    "actor",
    "role",
    "unit",
    "payload",
    "comment",
    "effects",
    "definition_name",
    "definition_version",
    "occurred_at",
    "idempotency_key",
    "prev_hash",
)


class RawRow(Protocol):
    """A history row as stored, its JSON columns kept as the text the hash was taken over."""

    @property
    def record_id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def event(self) -> str: ...
    @property
    def changes_json(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def payload_json(self) -> str: ...
    @property
    def comment(self) -> str: ...
    @property
    def effects_json(self) -> str: ...
    @property
    def definition_name(self) -> str: ...
    @property
    def definition_version(self) -> int: ...
    @property
    def at_iso(self) -> str: ...
    @property
    def idempotency_key(self) -> str | None: ...
    @property
    def prev_hash(self) -> str: ...


def canonical(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text: the one form hashes are taken over."""
    return canonical_bytes(value).decode()


def canonical_bytes(value: Any) -> bytes:
    """``canonical`` as UTF-8 bytes. orjson writes exactly what ``json.dumps(sort_keys=True,
    ensure_ascii=False, separators=(",", ":"))`` writes, several times faster (a test pins this)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _body(
    *,
    record_id: str,
    seq: int,
    event: str,
    changes: Any,
    actor: str,
    role: str,
    unit: str,
    payload: Any,
    comment: str,
    effects: Any,
    definition: str,
    at: str,
    key: str | None,
    prev: str,
) -> dict[str, Any]:
    """What a history row's hash is taken over (``canonical_bytes`` of it): one place for the
    parsed row (``event_hash``) and the row read as stored (``raw_event_hash``)."""
    return {
        "v": HASH_VERSION,
        "record": record_id,
        "seq": seq,
        "event": event,
        "changes": changes,
        "actor": actor,
        "role": role,
        "unit": unit,
        "payload": payload,
        "comment": comment,
        "effects": effects,
        "definition": definition,
        "at": at,
        "key": key,
        "prev": prev,
    }


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
    body = _body(
        record_id=record_id,
        seq=seq,
        event=event,
        changes=[list(change) for change in changes],
        actor=actor,
        role=role,
        unit=unit,
        payload=payload,
        comment=comment,
        effects=effects,
        definition=f"{definition_name}@{definition_version}",
        at=occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        key=idempotency_key,
        prev=prev_hash,
    )
    return hashlib.sha256(canonical_bytes(body)).hexdigest()


def hash_of(row: Any) -> str:
    """``event_hash`` of a row that has the ``HASHED`` attributes (a stored or a new event)."""
    return event_hash(**{name: getattr(row, name) for name in HASHED})


def row_mac(key: bytes, digest: str) -> str:
    """The keyed MAC stored beside a row's hash: HMAC-SHA256 of the hash under the history key.

    The hash covers the whole row and the one before it, so a MAC over it binds both; without
    the key (kept outside the database) no one can make the MAC of a rewritten row.
    """
    return hmac.new(key, digest.encode(), hashlib.sha256).hexdigest()


def request_fingerprint(
    record_id: str | None, event: str, actor: tuple[str, str, str], payload: Any, comment: str
) -> str:
    """What an idempotency key stands for: the same key must always mean the same request."""
    body = {"record": record_id, "event": event, "actor": list(actor), "payload": payload, "comment": comment}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def raw_event_hash(event: RawRow) -> str:
    """``event_hash`` of a row whose JSON columns hold canonical text, without parsing them.

    The stored JSON texts go into the canonical body as they are (``orjson.Fragment``), the
    other fields are encoded as ``event_hash`` encodes them. Equal to ``event_hash`` of the
    parsed row when the stored text is canonical, as the engine writes it; the verifier falls
    back to parsing when it is not (a row orjson cannot encode gets an empty hash here, so the
    fallback decides). Verification calls it for every row: the body is built with its keys
    already in sorted order (the order ``canonical_bytes`` writes), so orjson need not sort them.
    """
    fragment = orjson.Fragment
    body = {
        "actor": event.actor,
        "at": event.at_iso,
        "changes": fragment(event.changes_json),
        "comment": event.comment,
        "definition": f"{event.definition_name}@{event.definition_version}",
        "effects": fragment(event.effects_json),
        "event": event.event,
        "key": event.idempotency_key,
        "payload": fragment(event.payload_json),
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
