"""The history key (``CHENGXIN_HISTORY_KEY_FILE``): every row the engine writes carries an HMAC of
its hash, so a row rewritten with its SHA-256 chain recomputed fails verification with the key;
rows written before the key was in use are reported as unkeyed, never as altered; a process
without the key, or with another one, refuses to write. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.cli import Cli
from support.harness import T0, Harness

from storage.connections import event_t, record_t
from workflow import Engine, ManualClock, audit
from workflow.core.history import hash_of
from workflow.errors import HistoryKeyError


def _key(tmp_path: Path, name: str = "history.key", text: str = "8c" * 32) -> Path:
    path = tmp_path / name
    path.write_text(text + "\n", encoding="utf-8")
    return path


@pytest.fixture
def keyed(database_url: str, tmp_path: Path) -> Iterator[Harness]:
    """A drill database whose engine seals every history row with a key kept in a file."""
    Engine.init(database_url, simulated_start=T0)[0].close()
    clock = ManualClock(T0)
    harness = Harness(Engine.open(database_url, clock=clock, key_file=_key(tmp_path)), clock)
    harness.later(seconds=1)  # every row is written after the key was first used
    yield harness
    harness.engine.close()


def _verify(h: Harness, key: Path | None) -> audit.Report:
    with Engine.open(str(h.engine.store.engine.url.render_as_string(hide_password=False)),
                     clock=ManualClock(h.clock.now()), key_file=key, audit=True) as auditor:  # fmt: skip
        return audit.verify(
            auditor.registry,
            auditor.cases(),
            real_time=False,
            subject_key=auditor.subject_key,
            key=auditor.history_key,
            key_mark=auditor.key_mark,
        )


def forge(h: Harness, record_id: str, seq: int, comment: str) -> None:
    """Rewrite one history row and recompute the SHA-256 chain after it, and the record's head —
    what anyone with write access to the database can do."""
    events = h.engine.stored_history(record_id)
    prev = events[seq - 2].hash if seq > 1 else events[0].prev_hash
    with h.engine.store.engine.begin() as connection:
        for event in events[seq - 1 :]:
            changed = dataclasses.replace(
                event, prev_hash=prev, comment=comment if event.seq == seq else event.comment
            )
            digest = hash_of(changed)
            connection.execute(
                sa.update(event_t)
                .where(event_t.c.record_id == record_id, event_t.c.seq == event.seq)
                .values(comment=changed.comment, prev_hash=prev, hash=digest)
            )
            prev = digest
        connection.execute(sa.update(record_t).where(record_t.c.id == record_id).values(head_hash=prev))


def test_every_row_the_keyed_engine_writes_carries_a_mac_that_verifies(
    keyed: Harness, tmp_path: Path
) -> None:
    rid = keyed.recorded()
    assert all(e.mac for e in keyed.engine.stored_history(rid))
    report = _verify(keyed, _key(tmp_path))
    assert report.intact, report.problems
    assert (report.sealed, report.unkeyed) == (4, 0)


def test_a_row_rewritten_with_its_hashes_recomputed_fails_only_with_the_key(
    keyed: Harness, tmp_path: Path
) -> None:
    rid, other = keyed.recorded(), keyed.recorded()
    forge(keyed, rid, 4, "改写的理由")
    assert _verify(keyed, None).intact  # the chain alone is satisfied
    problems = _verify(keyed, _key(tmp_path)).problems
    assert [(p.record_id, p.kind, p.seq) for p in problems] == [(rid, "altered", 4)], problems
    assert "MAC does not match" in problems[0].detail
    assert other not in {p.record_id for p in problems}


def test_rows_written_before_the_key_was_in_use_are_unkeyed_not_altered(
    database_url: str, tmp_path: Path
) -> None:
    h = Harness.create(database_url)
    try:
        old = h.recorded()
        h.engine.close()
        h.engine = Engine.open(database_url, clock=h.clock, key_file=_key(tmp_path))
        h.later(hours=1)
        h.fire(old, "publish", h.verifier)
        new = h.recorded()
        report = _verify(h, _key(tmp_path))
        assert report.intact, report.problems
        assert (report.unkeyed, report.sealed) == (4, 5)
        assert [bool(e.mac) for e in h.engine.stored_history(old)] == [False] * 4 + [True]
        assert all(e.mac for e in h.engine.stored_history(new))
    finally:
        h.engine.close()


def test_a_mac_removed_from_a_row_written_after_the_key_was_in_use_is_altered(
    keyed: Harness, tmp_path: Path
) -> None:
    rid = keyed.recorded()
    forge(keyed, rid, 4, "改写的理由")
    with keyed.engine.store.engine.begin() as connection:
        connection.execute(sa.update(event_t).where(event_t.c.record_id == rid).values(mac=None))
    problems = _verify(keyed, _key(tmp_path)).problems
    assert [(p.record_id, p.kind, p.seq) for p in problems] == [(rid, "altered", 1)], problems
    assert "no MAC but was written after the history key was in use" in problems[0].detail


def test_without_the_key_or_with_another_one_the_engine_refuses_to_write(
    keyed: Harness, database_url: str, tmp_path: Path
) -> None:
    rid = keyed.recorded()
    clock = ManualClock(keyed.clock.now())
    with Engine.open(database_url, clock=clock) as unkeyed:
        assert unkeyed.get(rid).id == rid  # reads need no key
        with pytest.raises(HistoryKeyError, match="CHENGXIN_HISTORY_KEY_FILE"):
            unkeyed.fire(rid, "publish", actor=keyed.verifier)
    other = _key(tmp_path, "other.key", "17" * 32)
    with pytest.raises(HistoryKeyError, match="not the key"):
        Engine.open(database_url, clock=clock, key_file=other)
    with pytest.raises(HistoryKeyError, match=r"too short|at least 32"):
        Engine.open(database_url, clock=clock, key_file=_key(tmp_path, "short.key", "abc"))
    assert [e.event for e in keyed.engine.history(rid)][-1] == "confirm"


def test_the_databases_mark_of_its_key_edited_is_reported(
    keyed: Harness, database_url: str, tmp_path: Path
) -> None:
    keyed.recorded()
    with keyed.engine.store.engine.begin() as connection:
        stored = connection.execute(
            sa.text("select value from chengxin_meta where key = 'history_key'")
        ).scalar_one()
        mark = json.loads(stored)
        mark["since"] = "2030-01-01T00:00:00+00:00"  # move it past the rows whose MAC one strips
        connection.execute(
            sa.text("update chengxin_meta set value = :v where key = 'history_key'"), {"v": json.dumps(mark)}
        )
    problems = _verify(keyed, _key(tmp_path)).problems
    assert [(p.record_id, p.kind) for p in problems] == [("chengxin_meta history_key", "altered")], problems
    with pytest.raises(HistoryKeyError, match="altered"):
        Engine.open(database_url, clock=ManualClock(keyed.clock.now()), key_file=_key(tmp_path))


def test_the_command_line_writes_with_the_key_from_the_environment_and_verifies_with_it(
    database_url: str, tmp_path: Path
) -> None:
    key = _key(tmp_path)
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url, "CHENGXIN_HISTORY_KEY_FILE": str(key)})
    cli("init", "--simulated-clock", "--start", "2026-05-11T09:00").ok()
    record = cli(
        "record", "submit", "--actor", "li.lei", "--role", "recorder", "--unit", "court-3",
        "-d", "national", *_fields(), "--json",
    ).json()  # fmt: skip
    verified = cli("audit", "verify").ok()
    assert "MACs checked on 2" in verified.stdout and "0 条为启用密钥前写入" in verified.stdout
    forged = Cli({"CHENGXIN_DATABASE_URL": database_url})
    with Engine.open(database_url, audit=True) as engine:
        harness = Harness(engine, ManualClock(T0))
        forge(harness, record["id"], 2, "x")
    assert forged("audit", "verify").code == 0  # without the key the recomputed chain passes
    failed = forged("audit", "verify", "--key-file", str(key))
    assert failed.code == 1 and f"{record['id']}: altered: row 2: its MAC does not match" in failed.stderr


def _fields() -> list[str]:
    from support.cli import fields

    return fields()
