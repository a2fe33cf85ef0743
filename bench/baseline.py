"""The raw baselines: the least a hand-written program must write per step, through the bare driver.

Per step, in one transaction: one UPDATE of the record row guarded by its version (an INSERT
for the first step of a record) and one INSERT of a history row — nothing else: no deadline,
outbox or state-index rows, no reads, no ORM. The row contents are those of a record the
engine itself wrote (``template``, from ``bench.lifecycle``): the same JSON columns,
serialised per step by the ``json.dumps`` variant that reproduces the engine's stored text
byte for byte, and a SHA-256 over each history row so the hash columns hold real digests.

SQLite runs with the engine's settings (``storage.db``): WAL, ``synchronous=FULL``,
``foreign_keys=ON``, ``BEGIN IMMEDIATE … COMMIT``. PostgreSQL runs through psycopg 3 with the
server's defaults (``synchronous_commit=on``), as the engine does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

SQLITE_SCHEMA = """
create table record (
    id text primary key,
    definition_name text not null,
    definition_version integer not null,
    state text not null,
    tracks text not null,
    data text not null,
    actors text not null,
    version integer not null,
    head_hash text not null,
    created_at text not null,
    updated_at text not null
);
create index ix_record_state on record (state);
create table record_event (
    id integer primary key,
    record_id text not null references record (id),
    seq integer not null,
    event text not null,
    changes text not null,
    actor text not null,
    role text not null,
    unit text not null,
    payload text not null,
    comment text not null,
    effects text not null,
    definition_name text not null,
    definition_version integer not null,
    occurred_at text not null,
    idempotency_key text,
    prev_hash text not null,
    hash text not null,
    unique (record_id, seq),
    unique (idempotency_key)
);
"""

PG_SCHEMA = """
create table record (
    id varchar(40) primary key,
    definition_name varchar(64) not null,
    definition_version integer not null,
    state varchar(64) not null,
    tracks json not null,
    data json not null,
    actors json not null,
    version integer not null,
    head_hash varchar(64) not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index ix_record_state on record (state);
create table record_event (
    id serial primary key,
    record_id varchar(40) not null references record (id),
    seq integer not null,
    event varchar(64) not null,
    changes json not null,
    actor varchar(128) not null,
    role varchar(64) not null,
    unit varchar(64) not null,
    payload json not null,
    comment text not null,
    effects json not null,
    definition_name varchar(64) not null,
    definition_version integer not null,
    occurred_at timestamptz not null,
    idempotency_key varchar(200),
    prev_hash varchar(64) not null,
    hash varchar(64) not null,
    unique (record_id, seq),
    unique (idempotency_key)
);
"""

T0 = dt.datetime(2026, 5, 11, 1, 0, tzinfo=dt.UTC)
GENESIS = "0" * 64
Serialiser = Callable[[Any], str]
SERIALISERS: dict[str, Serialiser] = {
    "json.dumps()": json.dumps,
    "json.dumps(ensure_ascii=False, compact)": lambda v: json.dumps(
        v, ensure_ascii=False, separators=(",", ":")
    ),
    "json.dumps(ensure_ascii=False)": lambda v: json.dumps(v, ensure_ascii=False),
}


def serialiser(template: dict[str, Any]) -> tuple[str, Serialiser]:
    """The ``json.dumps`` variant that reproduces the engine's stored JSON text of the template.

    The baseline then writes rows of the engine's exact sizes and pays for serialising them.
    Should none match, the stored text itself is written (and nothing is serialised per step).
    """
    stored = template["stored_text"]
    pairs = [(template["record"][k], stored["record"][k]) for k in ("tracks", "data", "actors")]
    for event, texts in zip(template["events"], stored["events"], strict=True):
        pairs += [(event[k], texts[k]) for k in ("changes", "payload", "effects")]
    for name, dump in SERIALISERS.items():
        if all(dump(value) == text for value, text in pairs):
            return name, dump
    verbatim = {id(value): text for value, text in pairs}
    return "stored text verbatim (no json.dumps variant matched)", lambda v: verbatim[id(v)]


def _steps(template: dict[str, Any], records: int, dump: Serialiser) -> Iterator[dict[str, Any]]:
    """Every row pair to write, record after record, serialised the moment it is written."""
    record = template["record"]
    events = template["events"]
    now = T0
    for index in range(records):
        record_id = f"SX20260511-{index:06d}"
        prev = GENESIS
        state = ""
        for seq, event in enumerate(events, start=1):
            now += dt.timedelta(seconds=1)
            for track, _before, after in event["changes"]:
                if track == "main" and after is not None:
                    state = after
            row = {
                "record_id": record_id,
                "seq": seq,
                "event": event["event"],
                "changes": dump(event["changes"]),
                "actor": event["actor"],
                "role": event["role"],
                "unit": event["unit"],
                "payload": dump(event["payload"]),
                "comment": event["comment"],
                "effects": dump(event["effects"]),
                "occurred_at": now,
                "prev_hash": prev,
            }
            row["hash"] = hashlib.sha256(
                json.dumps(row, sort_keys=True, default=str, ensure_ascii=False).encode()
            ).hexdigest()
            prev = row["hash"]
            row.update(
                state=state,
                tracks=dump(record["tracks"]),
                data=dump(record["data"]),
                actors=dump(record["actors"]),
            )
            yield row


def _sizes(template: dict[str, Any], dump: Serialiser) -> dict[str, float]:
    record = template["record"]
    events = template["events"]
    event_json = sum(len(dump(e[k])) for e in events for k in ("changes", "payload", "effects"))
    event_json += sum(len(e["comment"]) for e in events)
    return {
        "record_json": float(sum(len(dump(record[k])) for k in ("tracks", "data", "actors"))),
        "event_json": event_json / max(1, len(events)),
    }


def sqlite(
    path: str, template: dict[str, Any], records: int, *, wal_autocheckpoint: int | None = None
) -> dict[str, Any]:
    """Raw ``sqlite3`` with the engine's durability settings; returns steps and seconds.

    ``wal_autocheckpoint=0`` keeps every written frame in the WAL file, for ``bench.wal`` to count.
    """
    name, dump = serialiser(template)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        if wal_autocheckpoint is not None:
            connection.execute(f"PRAGMA wal_autocheckpoint={int(wal_autocheckpoint)}")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA busy_timeout=30000")
        connection.executescript(SQLITE_SCHEMA)
        steps = 0
        started, cpu = time.perf_counter(), time.process_time()
        for row in _steps(template, records, dump):
            at = row["occurred_at"].strftime("%Y-%m-%d %H:%M:%S.%f")
            connection.execute("BEGIN IMMEDIATE")
            if row["seq"] == 1:
                connection.execute(
                    "insert into record values (?, 'national', 1, ?, ?, ?, ?, 1, ?, ?, ?)",
                    (row["record_id"], row["state"], row["tracks"], row["data"], row["actors"],
                     row["hash"], at, at),
                )  # fmt: skip
            else:
                updated = connection.execute(
                    "update record set state = ?, tracks = ?, data = ?, actors = ?, version = ?,"
                    " head_hash = ?, updated_at = ? where id = ? and version = ?",
                    (row["state"], row["tracks"], row["data"], row["actors"], row["seq"], row["hash"], at,
                     row["record_id"], row["seq"] - 1),
                )  # fmt: skip
                if updated.rowcount != 1:
                    raise RuntimeError(f"baseline: version conflict on {row['record_id']}")
            connection.execute(
                "insert into record_event (record_id, seq, event, changes, actor, role, unit, payload,"
                " comment, effects, definition_name, definition_version, occurred_at, idempotency_key,"
                " prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'national', 1, ?, null, ?, ?)",
                (row["record_id"], row["seq"], row["event"], row["changes"], row["actor"], row["role"],
                 row["unit"], row["payload"], row["comment"], row["effects"], at, row["prev_hash"],
                 row["hash"]),
            )  # fmt: skip
            connection.execute("COMMIT")
            steps += 1
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu
        written = connection.execute("select count(*) from record_event").fetchone()[0]
    finally:
        connection.close()
    return {
        "steps": steps,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "history_rows": written,
        "row_sizes": _sizes(template, dump),
        "serialiser": name,
    }


def postgresql(dsn: str, schema: str, template: dict[str, Any], records: int) -> dict[str, Any]:
    """Raw psycopg 3, one transaction per step, in ``schema``; returns steps and seconds."""
    import psycopg

    name, dump = serialiser(template)

    with psycopg.connect(dsn, options=f"-csearch_path={schema}") as connection:
        connection.execute(PG_SCHEMA)
        connection.commit()
        steps = 0
        started, cpu = time.perf_counter(), time.process_time()
        for row in _steps(template, records, dump):
            with connection.cursor() as cursor:
                if row["seq"] == 1:
                    cursor.execute(
                        "insert into record values (%s, 'national', 1, %s, %s::json, %s::json, %s::json, 1,"
                        " %s, %s, %s)",
                        (row["record_id"], row["state"], row["tracks"], row["data"], row["actors"],
                         row["hash"], row["occurred_at"], row["occurred_at"]),
                    )  # fmt: skip
                else:
                    cursor.execute(
                        "update record set state = %s, tracks = %s::json, data = %s::json,"
                        " actors = %s::json, version = %s, head_hash = %s, updated_at = %s"
                        " where id = %s and version = %s",
                        (row["state"], row["tracks"], row["data"], row["actors"], row["seq"], row["hash"],
                         row["occurred_at"], row["record_id"], row["seq"] - 1),
                    )  # fmt: skip
                    if cursor.rowcount != 1:
                        raise RuntimeError(f"baseline: version conflict on {row['record_id']}")
                cursor.execute(
                    "insert into record_event (record_id, seq, event, changes, actor, role, unit, payload,"
                    " comment, effects, definition_name, definition_version, occurred_at, idempotency_key,"
                    " prev_hash, hash) values (%s, %s, %s, %s::json, %s, %s, %s, %s::json, %s, %s::json,"
                    " 'national', 1, %s, null, %s, %s)",
                    (row["record_id"], row["seq"], row["event"], row["changes"], row["actor"], row["role"],
                     row["unit"], row["payload"], row["comment"], row["effects"], row["occurred_at"],
                     row["prev_hash"], row["hash"]),
                )  # fmt: skip
            connection.commit()
            steps += 1
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu
        found = connection.execute("select count(*) from record_event").fetchone()
        written = found[0] if found else 0
    return {
        "steps": steps,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "history_rows": written,
        "row_sizes": _sizes(template, dump),
        "serialiser": name,
    }
