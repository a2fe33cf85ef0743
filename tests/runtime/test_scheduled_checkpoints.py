"""Checkpoints on a schedule: ``serve`` writes one into a configured folder every interval, after
checking the database still holds what the newest one saw, and prunes the old ones; ``audit verify
--checkpoint latest`` then catches a record removed whole or a tail cut off with its projection.
On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.cli import CHENGXIN, Cli, one_line_error
from support.harness import Harness

from storage.connections import event_t, record_t
from workflow import audit
from workflow.errors import CheckpointError


def _remove_whole(h: Harness, record_id: str) -> None:
    with h.engine.store.engine.begin() as connection:
        for table in (
            "record_state",
            "deadline_reminder",
            "deadline",
            "outbox",
            "record_personal",
            "record_event",
        ):
            connection.execute(sa.text(f"delete from {table} where record_id = :r"), {"r": record_id})
        connection.execute(sa.text("delete from record where id = :r"), {"r": record_id})


def _cut_tail(h: Harness, record_id: str) -> None:
    """Delete the last history row and set the projection back, so the chain alone looks whole."""
    events = h.engine.stored_history(record_id)
    with h.engine.store.engine.begin() as connection:
        connection.execute(
            sa.delete(event_t).where(event_t.c.record_id == record_id, event_t.c.seq == len(events))
        )
        connection.execute(
            sa.update(record_t)
            .where(record_t.c.id == record_id)
            .values(version=len(events) - 1, head_hash=events[-2].hash)
        )


def test_each_scheduled_checkpoint_is_checked_against_the_one_before_and_a_loss_is_never_covered_up(
    h: Harness, tmp_path: Path
) -> None:
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    gone, cut, kept = h.recorded(), h.recorded(), h.recorded()
    h.fire(cut, "publish", h.verifier)
    first = audit.take_checkpoint(h.engine, folder)
    assert first["records"] == 3
    h.later(minutes=60)
    h.fire(kept, "publish", h.verifier)  # the database moves on: the next checkpoint is written
    second = audit.take_checkpoint(h.engine, folder)
    assert Path(second["checkpoint"]) == audit.latest(folder) != Path(first["checkpoint"])
    _remove_whole(h, gone)
    _cut_tail(h, cut)
    h.later(minutes=60)
    with pytest.raises(CheckpointError, match="no new checkpoint written"):
        audit.take_checkpoint(h.engine, folder)
    assert audit.latest(folder) == Path(second["checkpoint"])
    lost = audit.verify_checkpoint(audit.read_checkpoint(audit.latest(folder)), h.engine.event_hashes())
    assert {(p.record_id, p.kind) for p in lost} == {(gone, "missing"), (cut, "shortened")}


def test_audit_verify_compares_with_the_latest_checkpoint_in_the_folder(
    h: Harness, database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    gone, kept = h.recorded(), h.recorded()
    audit.take_checkpoint(h.engine, folder)
    _remove_whole(h, gone)
    h.engine.close()
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url, "CHENGXIN_CHECKPOINT_DIR": str(folder)})
    assert cli("audit", "verify").code == 0  # the chain alone cannot see a record removed whole
    found = cli("audit", "verify", "--checkpoint", "latest")
    assert found.code == 1
    assert f"{gone}: missing" in found.stderr and kept not in found.stderr
    assert "compared with checkpoint" in found.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(
        cli("audit", "verify", "--checkpoint-dir", str(empty), "--checkpoint", "latest"), "no checkpoint"
    )


def test_old_checkpoints_are_pruned_keeping_the_newest_and_one_a_day(tmp_path: Path) -> None:
    start = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    written = []
    for hours in range(0, 24 * 10, 6):  # every 6 hours for 10 days
        at = start + dt.timedelta(hours=hours)
        path = tmp_path / f"chengxin-checkpoint-{at.strftime('%Y%m%dT%H%M%S%f')}Z.json"
        path.write_text("{}", encoding="utf-8")
        written.append(path)
    (tmp_path / "notes.txt").write_text("not a checkpoint", encoding="utf-8")
    removed = audit.prune(tmp_path, keep=4, keep_days=5)
    left = audit.checkpoints(tmp_path)
    assert left[-4:] == written[-4:]  # the newest four
    days = [p.name[20:28] for p in left]
    assert sorted(set(days)) == ["20260505", "20260506", "20260507", "20260508", "20260509", "20260510"]
    assert all(p.name.endswith("T180000000000Z.json") for p in left[:-4])  # the last of each day
    assert len(removed) + len(left) == len(written)
    assert (tmp_path / "notes.txt").exists()


def test_a_checkpoint_sealed_with_the_key_that_was_edited_with_its_digest_is_refused(
    h: Harness, tmp_path: Path
) -> None:
    from workflow.engine.keys import read_key

    key_file = tmp_path / "history.key"
    key_file.write_text("5e" * 32, encoding="utf-8")
    key = read_key(key_file)
    rid = h.recorded()
    file = tmp_path / "c.json"
    audit.write_checkpoint(h.engine.heads(), file, at=h.clock.now(), database="test", key=key)
    assert audit.read_checkpoint(file, key=key) == [(rid, 4, h.engine.stored_history(rid)[-1].hash)]
    body = json.loads(file.read_text(encoding="utf-8"))
    body["heads"] = [[rid, 3, h.engine.stored_history(rid)[2].hash]]
    digest = hashlib.sha256("".join(f"{r} {s} {x}\n" for r, s, x in body["heads"]).encode()).hexdigest()
    body["digest"] = digest
    file.write_text(json.dumps(body), encoding="utf-8")
    assert audit.read_checkpoint(file)  # without the key its own digest holds …
    with pytest.raises(CheckpointError, match="altered"):
        audit.read_checkpoint(file, key=key)  # … with it, the MAC does not


def test_a_checkpoint_into_a_missing_folder_says_so_in_one_line(
    h: Harness, database_url: str, tmp_path: Path
) -> None:
    """Issue 10, item 12: the message named the internal ``.tmp`` file."""
    h.recorded()
    h.engine.close()
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    missing = tmp_path / "no-such-folder" / "2026-11.json"
    line = one_line_error(cli("audit", "checkpoint", str(missing)), str(missing.parent), "does not exist")
    assert ".tmp" not in line
    assert not missing.parent.exists()
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "c.json").mkdir()  # a folder where the file should go: cannot be replaced
    line = one_line_error(cli("audit", "checkpoint", str(blocked / "c.json")), "c.json")
    assert ".tmp" not in line and not list(blocked.glob("*.tmp"))


def test_serve_refuses_a_checkpoint_folder_that_does_not_exist(database_url: str, tmp_path: Path) -> None:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    cli("init").ok()
    one_line_error(cli("serve", "--checkpoint-dir", str(tmp_path / "nowhere")), "nowhere", "does not exist")


@pytest.mark.slow
def test_serve_writes_a_checkpoint_on_its_schedule(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    env = {"CHENGXIN_DATABASE_URL": database_url, "CHENGXIN_MAIL_DIR": str(tmp_path / "mail")}
    Cli(env)("init", "--simulated-clock", "--start", "2026-05-11T09:00").ok()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CHENGXIN_")}
    full_env |= {**env, "CHENGXIN_CHECKPOINT_DIR": str(folder), "CHENGXIN_LOG_LEVEL": "INFO"}
    log = tmp_path / "serve.log"
    with (
        log.open("w") as sink,
        subprocess.Popen(
            [str(CHENGXIN), "serve", "--sweep-seconds", "60", "--checkpoint-minutes", "60"],
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
            text=True,
        ) as proc,
    ):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not audit.checkpoints(folder):
            time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()  # never leave a hung service behind the test run
            raise
    err = log.read_text()
    assert proc.returncode == 0, err
    assert len(audit.checkpoints(folder)) == 1, err
    assert "Traceback" not in err
    assert audit.read_checkpoint(audit.latest(folder)) == []
