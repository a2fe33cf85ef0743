"""Concurrency, idempotency and atomicity of commands, on SQLite and PostgreSQL.

Of two caseworkers confirming at once exactly one wins; a stale expected version is a conflict,
not an overwrite; concurrent edits lose nothing and never fork the chain; one idempotency key
applies once, also across concurrent retries; a failure inside the transaction, or a writer
killed mid-command, leaves nothing half-written; and the times a command's fast path writes
are the ones SQLAlchemy writes and reads.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from support.harness import ORGANISATION, Harness

from storage import records
from storage.store import UnitOfWork
from workflow import Actor, Engine, ManualClock
from workflow.audit import verify
from workflow.core.values import Command
from workflow.engine.commands import SYSTEM, FollowUp
from workflow.errors import Conflict, GuardRefused, IdempotencyKeyReused, TransitionNotAllowed


def _second_engine(h: Harness, url: str) -> Engine:
    return Engine.open(url, clock=ManualClock(h.clock.now()))


def test_two_caseworkers_confirming_at_once_exactly_one_wins(
    h: Harness, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = h.submitted()
    h.fire(rid, "accept", h.verifier)
    other = _second_engine(h, database_url)
    both_read = threading.Barrier(2, timeout=20)
    real_load = UnitOfWork.load

    def load_then_wait(self: UnitOfWork, record_id: str) -> Any:
        loaded = real_load(self, record_id)
        both_read.wait()  # both commands have read the same version before either writes
        return loaded

    monkeypatch.setattr(UnitOfWork, "load", load_then_wait)
    outcomes: list[str] = []

    def confirm(engine: Engine, who: str) -> None:
        try:
            engine.fire(
                rid,
                "confirm",
                actor=h.verifier.__class__(id=who, role="verifier", unit="credit-office"),
                comment="核查属实",
            )
            outcomes.append("won")
        except Conflict as exc:
            outcomes.append("conflict" if rid in str(exc) else f"conflict about something else: {exc}")

    threads = [
        threading.Thread(target=confirm, args=(e, w))
        for e, w in ((h.engine, "wang.fang"), (other, "liu.yang"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    other.close()
    assert sorted(outcomes) == ["conflict", "won"]
    assert h.events(rid).count("confirm") == 1
    assert h.engine.get(rid).version == 4


def test_a_stale_expected_version_is_a_conflict_not_an_overwrite(h: Harness) -> None:
    rid = h.submitted()
    seen = h.engine.get(rid).version
    h.fire(rid, "accept", h.verifier)
    with pytest.raises(Conflict, match=f"version {seen}"):
        h.engine.fire(rid, "confirm", actor=h.verifier, comment="x", expected_version=seen)
    assert h.engine.get(rid).state == "verifying"


def test_many_concurrent_edits_lose_nothing_and_never_fork_the_chain(h: Harness, database_url: str) -> None:
    rid = h.draft().id
    engines = [_second_engine(h, database_url) for _ in range(4)]
    done: list[str] = []
    errors: list[Exception] = []

    def edit(engine: Engine, n: int) -> None:
        for i in range(5):
            try:
                engine.fire(rid, "edit", actor=h.recorder, payload={"facts": f"版本 {n}-{i}"})
                done.append(f"{n}-{i}")
            except Conflict:
                pass
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=edit, args=(e, n)) for n, e in enumerate(engines)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for engine in engines:
        engine.close()
    assert errors == []
    history = h.engine.history(rid)
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    assert len(history) == 1 + len(done)  # register + every edit that reported success
    report = verify(h.engine.registry, h.engine.histories(), real_time=False)
    assert report.intact, report.problems


def test_the_same_idempotency_key_applies_once(h: Harness) -> None:
    rid = h.submitted()
    first = h.engine.fire(rid, "accept", actor=h.verifier, idempotency_key="req-1")
    again = h.engine.fire(rid, "accept", actor=h.verifier, idempotency_key="req-1")
    assert first.version == again.version == 3
    assert h.events(rid).count("accept") == 1
    with pytest.raises(IdempotencyKeyReused):
        h.engine.fire(rid, "confirm", actor=h.verifier, comment="x", idempotency_key="req-1")


def test_registering_twice_with_one_key_makes_one_record(h: Harness) -> None:
    fields = dict(ORGANISATION)
    a = h.engine.register("national", fields, actor=h.recorder, idempotency_key="intake-77", submit=True)
    b = h.engine.register("national", fields, actor=h.recorder, idempotency_key="intake-77", submit=True)
    assert a.id == b.id
    assert b.state == "submitted"
    assert len(h.engine.query()) == 1
    with pytest.raises(IdempotencyKeyReused):
        h.engine.register(
            "national", {**fields, "facts": "另一件事"}, actor=h.recorder, idempotency_key="intake-77"
        )


def test_concurrent_retries_of_one_request_apply_once(h: Harness, database_url: str) -> None:
    rid = h.submitted()
    engines = [_second_engine(h, database_url) for _ in range(3)]
    results: list[int] = []
    failures: list[Exception] = []

    def accept(engine: Engine) -> None:
        try:
            results.append(engine.fire(rid, "accept", actor=h.verifier, idempotency_key="retry-9").version)
        except (Conflict, TransitionNotAllowed) as exc:
            failures.append(exc)

    threads = [threading.Thread(target=accept, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for engine in engines:
        engine.close()
    assert h.events(rid).count("accept") == 1
    assert failures == [] and results == [3, 3, 3]


RACES = ("both_read_the_same_version", "the_retry_reads_after_the_first_commits")


@pytest.mark.parametrize("race", RACES)
def test_a_concurrent_retry_with_the_same_key_gets_the_result_of_the_first(
    h: Harness, database_url: str, monkeypatch: pytest.MonkeyPatch, race: str
) -> None:
    """Both looked the key up before either wrote; the one that lost then found the case moved on
    (a conflict, or ``accept`` no longer allowed) — and answers as the first did, not with an error."""
    rid = h.submitted()
    other = _second_engine(h, database_url)
    first_done = threading.Event()
    if race == "both_read_the_same_version":
        both_read = threading.Barrier(2, timeout=20)
        real_load = UnitOfWork.load

        def load_then_wait(self: UnitOfWork, record_id: str) -> Any:
            loaded = real_load(self, record_id)
            both_read.wait()
            return loaded

        monkeypatch.setattr(UnitOfWork, "load", load_then_wait)
    else:
        real_replayed = other._commands.replayed
        looked: list[str] = []

        def look_then_wait(key: str, fingerprint: str) -> Any:
            found = real_replayed(key, fingerprint)
            if not looked:
                looked.append(key)
                assert first_done.wait(timeout=20)  # the key was free; now the first request commits
            return found

        monkeypatch.setattr(other._commands, "replayed", look_then_wait)
    answers: dict[str, Any] = {}

    def accept(name: str, engine: Engine) -> None:
        try:
            answers[name] = engine.fire(rid, "accept", actor=h.verifier, idempotency_key="retry-9")
        except Exception as exc:  # reported below
            answers[name] = exc
        finally:
            if name == "first":
                first_done.set()

    threads = [threading.Thread(target=accept, args=pair) for pair in (("retry", other), ("first", h.engine))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    other.close()
    assert all(not isinstance(a, Exception) for a in answers.values()), answers
    assert {(a.id, a.state, a.version) for a in answers.values()} == {(rid, "verifying", 3)}
    assert h.events(rid).count("accept") == 1


def test_concurrent_registrations_with_one_key_both_get_the_submitted_case(
    h: Harness, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = _second_engine(h, database_url)
    both_decided = threading.Barrier(2, timeout=20)
    real_commit = UnitOfWork.commit

    def decide_then_wait(self: UnitOfWork, *writes: Any) -> None:
        both_decided.wait()  # both requests found the key free and decided before either wrote
        real_commit(self, *writes)

    monkeypatch.setattr(UnitOfWork, "commit", decide_then_wait)
    answers: list[Any] = []

    def register(engine: Engine) -> None:
        try:
            answers.append(
                engine.register(
                    "national", ORGANISATION, actor=h.recorder, idempotency_key="intake-5", submit=True
                )
            )
        except Exception as exc:  # reported below
            answers.append(exc)

    threads = [threading.Thread(target=register, args=(e,)) for e in (h.engine, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    other.close()
    assert all(not isinstance(a, Exception) for a in answers), answers
    assert len({(a.id, a.state) for a in answers}) == 1 and answers[0].state == "submitted"
    assert [v.id for v in h.engine.query()] == [answers[0].id]


def _all_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for comparing a database before and after a refused command."""
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    try:
        meta.reflect(engine)
        with engine.connect() as connection:
            return {
                table.name: sorted(map(tuple, connection.execute(table.select())), key=repr)
                for table in meta.sorted_tables
            }
    finally:
        engine.dispose()


def test_a_refused_submit_registers_nothing(h: Harness, database_url: str) -> None:
    """Registering and submitting are one transaction: a recorder of another unit than the finding
    unit is refused, and each refused attempt leaves no draft (nor anything else) behind."""
    outsider = Actor(id="li.lei", role="recorder", unit="court-9")
    before = _all_rows(database_url)
    for _ in range(2):
        with pytest.raises(GuardRefused, match="认定单位"):
            h.engine.register("national", ORGANISATION, actor=outsider, submit=True)
    assert _all_rows(database_url) == before
    assert h.engine.query(state="draft") == []


def test_a_key_for_the_submit_of_another_request_is_refused_and_registers_nothing(h: Harness) -> None:
    rid = h.draft().id
    h.engine.fire(rid, "submit", actor=h.recorder, idempotency_key="batch-3:submit")
    with pytest.raises(IdempotencyKeyReused, match="batch-3:submit"):
        h.engine.register("national", ORGANISATION, actor=h.recorder, idempotency_key="batch-3", submit=True)
    assert [v.id for v in h.engine.query()] == [rid]


def test_a_command_in_the_creating_transaction_may_end_a_deadline_the_creation_started(h: Harness) -> None:
    """A supervision round starts its answer deadline when it opens; answered in the same commit,
    the deadline row the creation inserted (no id known before the commit) is the one closed."""
    rounds = h.engine.registry.select("supervision")
    fields = {
        "responsible_unit": "hexi-zjw",
        "jurisdiction": "tianjin",
        "schedule": "special",
        "period": "2026H1",
        "title": "2026年上半年政务诚信专项督查",
        "answer_working_days": 10,
    }
    unit = Actor(id="zhao.qiang", role="subject", unit="hexi-zjw")
    answer = Command(event="answer", actor=unit, payload={"report": "已自查，无逾期事项。"})
    rid, view = h.engine._commands.create(
        rounds,
        Command(event="open", actor=SYSTEM, payload=fields),
        idempotency_key=None,
        fingerprint=None,
        then=[FollowUp(answer)],
    )
    assert view.state == "answered" and view.version == 2
    stored = h.engine.get(rid)
    assert (stored.state, stored.version) == ("answered", 2)
    assert [(d.name, d.status) for d in stored.deadlines] == [("answer", "met")]
    assert view.to_json() == stored.to_json()
    report = verify(h.engine.registry, h.engine.histories(), real_time=False)
    assert report.intact, report.problems


def test_a_failure_inside_the_transaction_writes_nothing(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    rid = h.submitted()
    h.fire(rid, "accept", h.verifier)
    before = h.engine.get(rid)
    outbox_before = len(h.engine.outbox.list(limit=1000))

    def disk_full(database: Any, connection: Any, write: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(records, "_write_deadlines", disk_full)
    with pytest.raises(OSError, match="No space"):
        h.fire(rid, "confirm", h.verifier, comment="核查属实")
    monkeypatch.undo()
    after = h.engine.get(rid)
    assert after.version == before.version
    assert after.state == "verifying"
    assert len(h.engine.history(rid)) == before.version
    assert len(h.engine.outbox.list(limit=1000)) == outbox_before
    assert [d.name for d in after.deadlines if d.status == "active"] == ["verification"]
    # and the command succeeds once the disk has room again
    assert h.fire(rid, "confirm", h.verifier, comment="核查属实").state == "recorded"


WRITER = textwrap.dedent(
    """
    import datetime as dt, sys
    from zoneinfo import ZoneInfo
    sys.path[:0] = [{root!r}, {tests!r}]  # the checkout before tests/ (whose storage/ would shadow it)
    from support.harness import Harness, ORGANISATION
    from workflow import ManualClock
    from workflow import Engine
    clock = ManualClock(dt.datetime(2026, 5, 11, 9, tzinfo=ZoneInfo("Asia/Shanghai")))
    h = Harness(Engine.open({url!r}, clock=clock), clock)
    print("ready", flush=True)
    while True:
        rid = h.draft().id
        for i in range(3):
            h.fire(rid, "edit", h.recorder, facts=f"第{{i}}版")
        h.fire(rid, "submit", h.recorder)
    """
)


@pytest.mark.slow
def test_a_killed_writer_leaves_no_half_written_command(
    h: Harness, database_url: str, tmp_path: Path
) -> None:
    script = tmp_path / "writer.py"
    tests = Path(__file__).resolve().parents[1]
    script.write_text(WRITER.format(root=str(tests.parent), tests=str(tests), url=database_url))
    env = {**os.environ, "CHENGXIN_LOG_LEVEL": "ERROR"}
    with subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(1.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    report = verify(h.engine.registry, h.engine.histories(), real_time=False)
    assert report.records > 0
    assert report.intact, report.problems


def test_times_written_on_the_commands_fast_path_are_those_sqlalchemy_writes_and_reads(h: Harness) -> None:
    """The hot path encodes times itself; a time it wrote must match the same time bound by
    SQLAlchemy (SQLite compares the text) and read back equal, microseconds and zone included."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    import sqlalchemy as sa

    from storage.connections import record_t

    h.at(dt.datetime(2026, 5, 11, 9, 30, 15, 120034, tzinfo=ZoneInfo("Asia/Shanghai")))
    rid = h.submitted()
    when = h.clock.now()
    with h.engine.store.engine.connect() as connection:
        found = connection.execute(
            sa.select(record_t.c.id, record_t.c.updated_at).where(record_t.c.updated_at == when)
        ).all()
    assert [(row.id, row.updated_at) for row in found] == [(rid, when)]
    assert found[0].updated_at.utcoffset() == dt.timedelta(0)
