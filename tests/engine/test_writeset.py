"""The decision-to-rows translation (``workflow.engine.writeset``) as pure functions, without a
database: which columns a case row gets from its definition, what the history row hashes, which
deadline rows a decision inserts and updates, and which mails it queues."""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from definitions.model import Definition
from storage.values import StoredDeadline, StoredRecord
from workflow.core.calendar import WorkingCalendar
from workflow.core.decide import decide
from workflow.core.history import GENESIS, hash_of
from workflow.core.values import Actor, Command, DeadlineEffect, Decision
from workflow.engine import writeset
from workflow.engine.registry import Registry

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 5, 11, 9, 0, tzinfo=SH)  # a Monday
RID = "SX20260511-ABC123"
RECORDER = Actor(id="li.lei", role="recorder", unit="court-3")
VERIFIER = Actor(id="wang.fang", role="verifier", unit="credit-office")
FIELDS: dict[str, Any] = {
    "subject_kind": "civil_servant",
    "subject_name": "张某",
    "subject_id_number": "11010519491231002X",
    "employer": "某区住房和建设委员会",
    "responsible_unit": "hexi-zjw",
    "superior_unit": "hexi-gov",
    "finding_unit": "court-3",
    "source_type": "disciplinary_sanction",
    "disciplinary_sanction": "demerit",
    "document_number": "（2026）津0103民初1234号",
    "finding_date": "2026-05-08",
    "facts": "拖欠工程款。",
    "domain": "procurement",
    "severity": "general",
}


@cache
def _national() -> tuple[Definition, WorkingCalendar]:
    registry = Registry.load()
    definition = registry.get("national", 1)
    return definition, registry.calendar(definition)


def _keyer(id_number: str) -> str:
    return f"key({id_number})"


def _build(
    before: StoredRecord | None,
    rows: list[StoredDeadline],
    decision: Decision,
    command: Command,
    now: dt.datetime,
) -> Any:
    definition, calendar = _national()
    return writeset.build(
        definition,
        calendar,
        before,
        rows,
        decision,
        command,
        now=now,
        record_id=RID,
        idempotency_key=None,
        fingerprint=None,
        simulated=True,
        keyer=_keyer,
    )


def _decide(
    before: StoredRecord | None, rows: list[StoredDeadline], command: Command, now: dt.datetime
) -> Decision:
    definition, calendar = _national()
    snapshot = writeset.snapshot_of(before, [r for r in rows if r.closed_at is None]) if before else None
    return decide(definition, calendar, snapshot, command, now, record_id=RID)


def _rows(write: Any, started_id: int = 100) -> list[StoredDeadline]:
    """The deadline rows a write set's inserts become (ids given as the database would)."""
    return [
        StoredDeadline(
            id=started_id + i,
            record_id=RID,
            name=d.name,
            started_seq=write.event.seq,
            status=d.status,
            started_at=d.started_at,
            due_at=d.due_at,
            unit=d.unit,
            amount=d.amount,
            extended=0,
            paused_at=d.paused_at,
            remaining=d.remaining,
            provisional=d.provisional,
            basis=d.basis,
            closed_at=None,
            closed_seq=None,
            next_at=d.next_at,
        )
        for i, d in enumerate(write.deadline_inserts)
    ]


def _updated(rows: list[StoredDeadline], write: Any) -> list[StoredDeadline]:
    updates = {u.id: u.values for u in write.deadline_updates}
    return [dataclasses.replace(r, **updates[r.id]) if r.id in updates else r for r in rows] + _rows(
        write, 200
    )


def test_a_new_case_row_takes_its_indexed_columns_from_the_fields_its_definition_names() -> None:
    command = Command(event="register", actor=RECORDER, payload=FIELDS)
    write = _build(None, [], _decide(None, [], command, T0), command, T0)
    row = write.record.record
    assert write.record.expected_version is None and write.record.unchanged == frozenset()
    assert (row.kind, row.definition_name, row.state, row.version) == ("record", "national", "draft", 1)
    assert (row.subject_name, row.subject_code, row.responsible_unit, row.originating_unit) == (
        "张某",
        None,
        "hexi-zjw",
        "court-3",
    )
    assert (row.case_date, row.severity, row.active, row.overdue) == (
        dt.date(2026, 5, 8),
        "general",
        False,
        False,
    )
    assert row.subject_key == "key(11010519491231002X)"  # the ID number itself stays out of the row
    assert row.data["subject_id_number"] == "110105********002X"
    assert write.personal == {"subject_id_number": "11010519491231002X"}
    assert (row.created_at, row.updated_at) == (T0, T0)


def test_the_history_row_chains_on_the_case_and_hashes_what_it_stores() -> None:
    command = Command(event="register", actor=RECORDER, payload=FIELDS)
    first = _build(None, [], _decide(None, [], command, T0), command, T0)
    assert (first.event.seq, first.event.prev_hash) == (1, GENESIS)
    assert first.event.hash == hash_of(first.event) == first.record.record.head_hash
    assert first.event.effects["clock"] == "simulated"
    later = T0 + dt.timedelta(hours=1)
    submit = Command(event="submit", actor=RECORDER)
    second = _build(first.record.record, [], _decide(first.record.record, [], submit, later), submit, later)
    assert (second.event.seq, second.event.prev_hash) == (2, first.event.hash)
    assert second.record.expected_version == 1
    assert second.track_changes == ()  # the main track lives in the case row, not in record_state
    # only what the command changed is rewritten
    assert {"state", "version", "head_hash", "updated_at"}.isdisjoint(second.record.unchanged)
    assert {"subject_name", "responsible_unit", "case_date", "created_at", "kind"} <= second.record.unchanged


def _confirmed() -> tuple[StoredRecord, list[StoredDeadline], dt.datetime, Any]:
    """A civil servant's record registered, submitted, accepted and confirmed; with the last write."""
    command = Command(event="register", actor=RECORDER, payload=FIELDS)
    write = _build(None, [], _decide(None, [], command, T0), command, T0)
    record, rows, now = write.record.record, [], T0
    for step, actor, comment in (
        ("submit", RECORDER, ""),
        ("accept", VERIFIER, ""),
        ("confirm", VERIFIER, "属实"),
    ):
        now += dt.timedelta(hours=1)
        cmd = Command(event=step, actor=actor, comment=comment)
        write = _build(record, rows, _decide(record, rows, cmd, now), cmd, now)
        record, rows = write.record.record, _updated(rows, write)
    return record, rows, now, write


def _recorded() -> tuple[StoredRecord, list[StoredDeadline], dt.datetime]:
    record, rows, now, _write = _confirmed()
    return record, rows, now


def test_confirming_starts_deadlines_closes_verification_and_mirrors_the_parallel_tracks() -> None:
    record, rows, _now = _recorded()
    assert record.state == "recorded" and record.active
    open_names = {r.name for r in rows if r.closed_at is None}
    assert {"written_explanation", "publication_decision", "retention"} <= open_names
    verification = next(r for r in rows if r.name == "verification")
    assert (verification.status, verification.closed_seq) == ("met", 4)
    running = next(r for r in rows if r.name == "written_explanation")
    assert running.status == "active" and running.next_at is not None and running.next_at < running.due_at


def test_an_objection_pauses_a_running_deadline_and_says_so_to_the_unit() -> None:
    record, rows, now = _recorded()
    now += dt.timedelta(days=1)
    subject = Actor(id="zhao.qiang", role="subject", unit="hexi-zjw")
    command = Command(event="file_objection", actor=subject, payload={"reasons": "事实有误"})
    decision = _decide(record, rows, command, now)
    write = _build(record, rows, decision, command, now)
    explanation = next(r for r in rows if r.name == "written_explanation")
    update = next(u for u in write.deadline_updates if u.id == explanation.id)
    assert update.values["status"] == "paused" and update.values["paused_at"] == now
    assert update.values["remaining"] > 0 and update.values["next_at"] is None
    assert ("objection", "none", "pending") in write.track_changes
    changed = [m for m in write.outbox if m.template == "deadline_changed"]
    assert changed and all(m.recipient_unit == "hexi-zjw" for m in changed)


def test_a_reminder_rung_is_logged_with_the_rungs_it_superseded_and_a_new_due_time_resets_the_ladder() -> (
    None
):
    definition, calendar = _national()
    _record, rows, now = _recorded()
    row = next(r for r in rows if r.name == "written_explanation")
    remind = DeadlineEffect(action="remind", name=row.name, rung="due", superseded=("before_5", "before_1"))
    inserts, updates, fired = writeset.deadline_writes(definition, calendar, [remind], [row], now, 9)
    assert inserts == []
    assert [u.values["reminded"] for u in updates] == [["due", "before_5", "before_1"]]
    assert [(f.rung, f.outcome) for f in fired] == [
        ("due", "sent"),
        ("before_5", "superseded"),
        ("before_1", "superseded"),
    ]
    reminded = dataclasses.replace(row, reminded=("due", "before_5", "before_1"))
    later = DeadlineEffect(
        action="recompute", name=row.name, due_at=row.due_at + dt.timedelta(days=3), basis={"reason": "x"}
    )
    _inserts, moved, _fired = writeset.deadline_writes(definition, calendar, [later], [reminded], now, 10)
    assert moved[0].values["reminded"] == [] and moved[0].values["due_at"] == row.due_at + dt.timedelta(
        days=3
    )


def test_each_notice_becomes_one_mail_per_recipient_with_a_message_id_from_its_cause() -> None:
    _record, _rows, _now, write = _confirmed()
    causes = [m.cause for m in write.outbox]
    assert causes and len(causes) == len(set(causes))
    for mail in write.outbox:
        assert mail.cause.startswith(f"{RID}/{write.event.seq}/")
        assert mail.cause.endswith(f"/{mail.template}/{mail.recipient_unit}")
        assert mail.context["definition"] == "national@1"
        assert len(mail.message_id) == 32
    notice = next(m for m in write.outbox if m.template == "explanation_request")
    assert notice.context["ics"]["uid"] == f"{RID}.written_explanation.{write.event.seq}"
    assert notice.context["vars"]["deadline"]["name"] == "written_explanation"
