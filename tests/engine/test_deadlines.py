"""Deadlines through a record's life on a fake clock: ladders, downtime, pauses, recomputation.

Every reminder rung fires once and in order; after downtime each missed rung fires at most once and
stale ones are superseded; a paused deadline sends no reminders; an extension or a newly loaded
holiday table moves the due date; publication ends by itself. The sweep that fires them does
so once per item even when a sweeping process is killed mid-item or two processes sweep at once
(those tests run real engine processes). Everything runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.harness import SH, Harness

from workflow import Engine, ManualClock, audit


def _reminders(h: Harness, rid: str) -> list[tuple[str, str, str]]:
    return [
        (e.payload["deadline"], e.payload["rung"], e.occurred_at.astimezone(SH).strftime("%m-%d %H:%M"))
        for e in h.engine.history(rid)
        if e.event == "@reminder"
    ]


def _walk(h: Harness, until: dt.datetime, step: dt.timedelta = dt.timedelta(hours=1)) -> None:
    while h.clock.now() < until:
        h.later(seconds=step.total_seconds())
        h.engine.sweep()


def test_every_rung_of_the_ladder_fires_once_and_in_order(h: Harness) -> None:
    rid = h.recorded()  # confirmed 2026-05-11 10:00; explanation due 2026-05-25 17:00
    h.fire(rid, "publish", h.verifier)
    _walk(h, dt.datetime(2026, 6, 4, 12, 0, tzinfo=SH))
    assert _reminders(h, rid) == [
        ("written_explanation", "before_5", "05-18 09:00"),  # 5 working days before 05-25
        ("written_explanation", "before_1", "05-22 09:00"),
        ("written_explanation", "due", "05-25 09:00"),
        ("written_explanation", "overdue", "05-25 17:00"),
        ("written_explanation", "escalate", "06-01 09:00"),  # 5 working days after the due day
    ]
    rows = h.engine.store.records.reminders(record_id=rid)
    assert [r.outcome for r in rows] == ["sent"] * 5
    mails = [(m.template, m.recipient_unit) for m in h.engine.outbox.list(record_id=rid, limit=100)]
    assert mails.count(("reminder", "hexi-zjw")) == 3
    assert ("overdue", "hexi-zjw") in mails
    assert mails.count(("escalation", "hexi-gov")) == 2
    assert h.events(rid).count("explanation_overdue") == 1


def test_after_downtime_each_missed_rung_fires_at_most_once_and_stale_ones_are_superseded(h: Harness) -> None:
    rid = h.recorded()
    h.fire(rid, "publish", h.verifier)
    h.at(dt.datetime(2026, 5, 22, 15, 0, tzinfo=SH))  # down through before_5; before_1 is due
    h.engine.sweep()
    assert _reminders(h, rid) == [("written_explanation", "before_1", "05-22 15:00")]
    first = h.engine.history(rid)[-1]
    assert first.payload["superseded"] == ["before_5"]
    assert first.payload["late"] is True
    h.at(dt.datetime(2026, 6, 10, 9, 30, tzinfo=SH))  # down again past due, expiry and escalation
    h.engine.sweep()
    h.engine.sweep()
    fired = _reminders(h, rid)
    assert [rung for _d, rung, _t in fired] == ["before_1", "escalate"]
    assert h.engine.history(rid)[-1].payload["superseded"] == ["due", "overdue"]
    assert h.events(rid).count("explanation_overdue") == 1
    outcomes = sorted((r.rung, r.outcome) for r in h.engine.store.records.reminders(record_id=rid))
    assert outcomes == [
        ("before_1", "sent"),
        ("before_5", "superseded"),
        ("due", "superseded"),
        ("escalate", "sent"),
        ("overdue", "superseded"),
    ]


def test_a_paused_deadline_sends_no_reminders_and_resumes_its_ladder(h: Harness) -> None:
    rid = h.recorded()
    h.fire(rid, "publish", h.verifier)
    h.at(dt.datetime(2026, 5, 13, 10, 0, tzinfo=SH))
    h.fire(rid, "file_objection", h.subject, reasons="理由")
    before = {d for d, _r, _t in _reminders(h, rid)}
    _walk(h, dt.datetime(2026, 5, 19, 12, 0, tzinfo=SH), dt.timedelta(hours=6))
    assert "written_explanation" not in {d for d, _r, _t in _reminders(h, rid)} - before
    h.fire(rid, "maintain", h.reviewer, comment="维持")  # 8 working days left → due 2026-05-29
    due = h.deadline(rid, "written_explanation").due_at
    assert due.astimezone(SH) == dt.datetime(2026, 5, 29, 17, 0, tzinfo=SH)
    _walk(h, dt.datetime(2026, 5, 29, 10, 0, tzinfo=SH), dt.timedelta(hours=6))
    rungs = [r for d, r, _t in _reminders(h, rid) if d == "written_explanation"]
    assert rungs == ["before_5", "before_1", "due"]


def test_an_extension_restarts_the_ladder_for_the_new_due_date(h: Harness) -> None:
    rid = h.recorded()
    h.fire(rid, "file_objection", h.subject, reasons="理由")  # objection decision due in 5 working days
    _walk(h, dt.datetime(2026, 5, 18, 12, 0, tzinfo=SH), dt.timedelta(hours=6))
    assert [r for d, r, _t in _reminders(h, rid) if d == "objection_decision"] == ["before_1", "due"]
    h.fire(rid, "extend_objection", h.reviewer, comment="需调查", working_days=5, approved_by="主任")
    _walk(h, dt.datetime(2026, 5, 25, 12, 0, tzinfo=SH), dt.timedelta(hours=6))
    assert [r for d, r, _t in _reminders(h, rid) if d == "objection_decision"] == [
        "before_1",
        "due",
        "before_1",
        "due",
    ]


def test_a_2027_deadline_is_provisional_and_recomputed_when_the_table_arrives(
    database_url: str, tmp_path: Path
) -> None:
    h = Harness.create(database_url, start=dt.datetime(2026, 12, 28, 9, 0, tzinfo=SH))
    try:
        rid = h.recorded()
        deadline = h.deadline(rid, "written_explanation")
        assert deadline.provisional
        # the bundled provisional 2027 table gives 1/1 off only: 10 working days from 12-28 → 2027-01-12
        assert deadline.due_at.astimezone(SH).date() == dt.date(2027, 1, 12)
        table = tmp_path / "2027.yaml"
        table.write_text(
            textwrap.dedent(
                """
                year: 2027
                provisional: false
                source: 国务院办公厅关于2027年部分节假日安排的通知（测试数据）
                holidays:
                  - {name: 元旦, from: 2027-01-01, to: 2027-01-04}
                """
            ),
            encoding="utf-8",
        )
        loaded, moved = h.engine.calendars.load_holiday_table(table)
        assert loaded.year == 2027 and not loaded.provisional
        assert {(r, name) for r, name, _old, _new in moved} == {
            (rid, "written_explanation"),
            (rid, "publication_decision"),
        }
        recomputed = h.deadline(rid, "written_explanation")
        assert not recomputed.provisional
        assert recomputed.due_at.astimezone(SH).date() == dt.date(2027, 1, 13)
        last = h.engine.history(rid)[-1]
        assert last.event == "@deadline_recomputed"
        assert any("2027-01-04" in line for line in recomputed.explanation)
        reopened = Engine.open(database_url, clock=ManualClock(h.clock.now()))
        assert not next(d for d in reopened.get(rid).deadlines if d.name == "written_explanation").provisional
        reopened.close()
    finally:
        h.engine.close()


TABLE_2027 = """
year: 2027
provisional: false
source: 国务院办公厅关于2027年部分节假日安排的通知（测试数据）
holidays:
  - {name: 元旦, from: 2027-01-01, to: 2027-01-04}
"""


def test_a_paused_provisional_deadline_is_recomputed_when_the_table_arrives_and_stays_paused(
    database_url: str, tmp_path: Path
) -> None:
    """Paused on 2027-01-05, a written explanation has used up 01-04 and 01-05 of its ten working
    days on the provisional table; the State Council's table makes 01-04 a holiday. Loaded, the
    deadline is still paused, no longer provisional, explained by the new table, with one more
    working day left — and it resumes from that."""
    h = Harness.create(database_url, start=dt.datetime(2026, 12, 31, 9, 0, tzinfo=SH))
    try:
        rid = h.recorded()
        assert h.deadline(rid, "written_explanation").due_at.astimezone(SH).date() == dt.date(2027, 1, 15)
        h.at(dt.datetime(2027, 1, 5, 10, 0, tzinfo=SH))
        h.fire(rid, "file_objection", h.subject, reasons="理由")
        paused = h.deadline(rid, "written_explanation")
        assert (paused.status, paused.provisional, paused.remaining) == ("paused", True, 8)
        mails = len(h.engine.outbox.list(record_id=rid, limit=1000))
        table = tmp_path / "2027.yaml"
        table.write_text(TABLE_2027, encoding="utf-8")
        _loaded, moved = h.engine.calendars.load_holiday_table(table)
        assert (rid, "written_explanation") in {(r, name) for r, name, _old, _new in moved}
        recomputed = h.deadline(rid, "written_explanation")
        assert (recomputed.status, recomputed.provisional, recomputed.remaining) == ("paused", False, 9)
        assert any("2027-01-04" in line for line in recomputed.explanation)
        changed = [
            m
            for m in h.engine.outbox.list(record_id=rid, limit=1000)[mails:]
            if m.template == "deadline_changed"
        ]
        assert all(m.context["vars"]["deadline"]["name"] != "written_explanation" for m in changed)
        h.at(dt.datetime(2027, 1, 6, 10, 0, tzinfo=SH))
        h.fire(rid, "maintain", h.reviewer, comment="维持")
        resumed = h.deadline(rid, "written_explanation")
        assert (resumed.status, resumed.provisional) == ("active", False)
        assert resumed.due_at.astimezone(SH).date() == dt.date(2027, 1, 19)  # 9 working days from 01-06
        report = audit.verify(h.engine.registry, h.engine.histories(), real_time=False)
        assert report.intact, report.problems
    finally:
        h.engine.close()


def test_publication_ends_by_itself_at_its_maximum(h: Harness) -> None:
    rid = h.recorded(severity="serious")
    h.fire(rid, "publish", h.verifier)
    end = h.deadline(rid, "publication_period").due_at
    assert end.astimezone(SH).date() == dt.date(2029, 5, 8)  # 严重: 3 years from 认定之日 2026-05-08
    h.at(end + dt.timedelta(hours=1))
    h.engine.sweep()
    assert h.tracks(rid)["publication"] == "expired"
    assert "publication_ended" in [m.template for m in h.engine.outbox.list(record_id=rid, limit=100)]


SWEEPER = textwrap.dedent(
    """
    import datetime as dt, sys
    from zoneinfo import ZoneInfo
    from workflow import ManualClock
    from workflow import Engine
    from workflow.cli.logs import configure
    configure()
    engine = Engine.open({url!r}, clock=ManualClock(dt.datetime.fromisoformat({now!r})))
    total = 0
    while True:
        result = engine.sweep(limit=50)
        total += result.fired
        if result.fired == 0 and result.skipped == 0:
            break
    print(total)
    """
)


DUE_AT = dt.datetime(2026, 6, 2, 9, 30, tzinfo=SH)  # explanations expired, overdue rungs and escalation due


def _published(h: Harness, count: int) -> list[str]:
    ids = [h.recorded() for _ in range(count)]
    for rid in ids:
        h.fire(rid, "publish", h.verifier)
    return ids


def _sweeper(code: str, url: str) -> subprocess.Popen[str]:
    """A sweeping engine process of its own on the database, its clock at ``DUE_AT``."""
    return subprocess.Popen(
        [sys.executable, "-c", code.format(url=url, now=DUE_AT.isoformat())],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "CHENGXIN_LOG_LEVEL": "ERROR"},
        text=True,
    )


def _assert_each_item_fired_once(h: Harness, ids: list[str]) -> None:
    for rid in ids:
        events = h.events(rid)
        assert events.count("explanation_overdue") == 1
        assert events.count("@reminder") == 1
    keys = [(r.deadline_id, r.rung, r.due_at) for r in h.engine.store.records.reminders()]
    assert len(keys) == len(set(keys))
    assert audit.verify(h.engine.registry, h.engine.histories(), real_time=False).intact


KILLED_SWEEPER = textwrap.dedent(
    """
    import datetime as dt, sys, time
    from workflow import ManualClock
    from workflow import Engine
    from workflow.cli.logs import configure
    from workflow.engine.commands import Commands
    configure()
    applied = 0
    real_apply = Commands.apply

    def apply(self, *args, **kwargs):
        global applied
        result = real_apply(self, *args, **kwargs)
        applied += 1
        if applied == 3:  # the third item is written inside its claim, not yet committed
            print("holding", flush=True)
            time.sleep(120)
        return result

    Commands.apply = apply
    engine = Engine.open({url!r}, clock=ManualClock(dt.datetime.fromisoformat({now!r})))
    engine.sweep(limit=50)
    """
)


@pytest.mark.slow
def test_a_sweeper_killed_mid_item_loses_nothing_and_the_next_sweep_fires_the_rest_once(
    h: Harness, database_url: str
) -> None:
    ids = _published(h, 4)
    proc = _sweeper(KILLED_SWEEPER, database_url)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "holding", proc.stderr.read() if proc.stderr else ""
    finally:
        proc.kill()  # SIGKILL while the third item's transaction is open
        proc.communicate(timeout=60)
    fired_before = sum(
        h.events(rid).count("explanation_overdue") + h.events(rid).count("@reminder") for rid in ids
    )
    assert fired_before == 2  # the two items committed before the kill; the third rolled back
    h.at(DUE_AT)
    h.engine.sweep()
    _assert_each_item_fired_once(h, ids)


@pytest.mark.slow
def test_two_engine_processes_sweeping_the_same_due_set_fire_each_item_once(
    h: Harness, database_url: str
) -> None:
    ids = _published(h, 12)
    procs = [_sweeper(SWEEPER, database_url) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _out, err in outputs]
    fired = sum(int(out.strip()) for out, _err in outputs)
    per_record = 1 + 1  # the expiry, then one reminder (escalate; before/due/overdue superseded)
    assert fired == per_record * len(ids)
    _assert_each_item_fired_once(h, ids)
