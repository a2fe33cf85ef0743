"""Work ledgers on the engine (``workflow.runtime.ledgers``), on SQLite and PostgreSQL: the seed
ledgers registered as task cases once, each task's checks opened once when their window opens
(also by two engines, also after downtime), reported with evidence by the lead department, rated
by the credit office, marked overdue with the mails to the department and its superior — on a
drill database whose simulated clock starts in January 2018."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from workflow import Actor, Dispatcher, Engine, MailSettings, ManualClock, audit
from workflow.engine.views import RecordView
from workflow.errors import PermissionDenied
from workflow.runtime.ledgers import LedgerInputError, import_ledger, ledger_status, open_due_checks
from workflow.runtime.service import run_once

SH = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2018, 1, 2, 9, 0, tzinfo=SH)  # the first working day of 2018
UNITS = [
    {"code": "shi-gov", "name": "天津市人民政府", "emails": ["gov@tj.example.gov.cn"]},
    {"code": "shi-zzb", "name": "市委组织部", "superior": "shi-gov", "emails": ["zzb@tj.example.gov.cn"]},
    {"code": "shi-fgw", "name": "市发展改革委", "superior": "shi-gov", "emails": ["fgw@tj.example.gov.cn"]},
    {"code": "shi-czj", "name": "市财政局", "superior": "shi-gov", "emails": ["czj@tj.example.gov.cn"]},
]
ZZB = Actor(id="liu.min", role="department", unit="shi-zzb")
CZJ = Actor(id="sun.li", role="department", unit="shi-czj")
CREDIT = Actor(id="wang.fang", role="verifier", unit="shi-fgw")
EVIDENCE = ["津组〔2018〕12号:政务诚信建设推进情况报告"]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    Engine.init(database_url, simulated_start=START)[0].close()
    opened = Engine.open(database_url, clock=ManualClock(START))
    opened.units.save(UNITS)
    yield opened
    opened.close()


def at(engine: Engine, *when: int) -> None:
    engine.advance_clock(dt.datetime(*when, tzinfo=SH))  # type: ignore[misc]


def task(engine: Engine, jurisdiction: str, number: int) -> RecordView:
    found = [
        v
        for v in engine.query(kind="ledger_task", limit=200)
        if v.data["jurisdiction"] == jurisdiction and v.data["number"] == number
    ]
    assert len(found) == 1
    return engine.get(found[0].id)


def check_state(view: RecordView) -> str:
    return next(t.state for t in view.tracks if t.track == "check")


def events(engine: Engine, case_id: str) -> list[str]:
    return [e.event for e in engine.history(case_id)]


def answered_and_rated(engine: Engine, view: RecordView, actor: Actor, rating: str = "passed") -> None:
    engine.fire(
        view.id, "report_progress", actor=actor, payload={"progress": "已按期推进", "documents": EVIDENCE}
    )
    engine.fire(view.id, "rate_check", actor=CREDIT, payload={"rating": rating}, comment="材料齐全，推进有力")


def sweep_all(engine: Engine) -> int:
    fired = 0
    while (done := engine.sweep().fired) > 0:
        fired += done
    return fired


def test_importing_tianjins_ledger_registers_26_task_cases_with_their_departments_and_groups(
    engine: Engine,
) -> None:
    result = import_ledger(engine, "tianjin")
    assert (len(result.created), result.existing, result.definition) == (26, [], "tianjin_ledger")
    views = engine.query(kind="ledger_task", limit=100)
    assert len(views) == 26 and all(v.id.startswith("TZ20180102-") for v in views)
    assert {v.definition for v in views} == {"tianjin_ledger@2"}
    by_number = {v.data["number"]: v for v in views}
    assert sorted(by_number) == list(range(1, 27))
    groups = [by_number[n].data["group"] for n in range(1, 27)]
    assert groups == ["监督体系"] * 6 + ["信用管理"] * 10 + ["重点领域"] * 6 + ["组织保障"] * 4
    assert by_number[1].data["lead_department"] == "shi-zzb"  # 市委组织部, through the unit directory
    assert by_number[1].data["superior_unit"] == "shi-gov"
    assert by_number[2].data["lead_departments"] == ["shi-fgw", "人民银行天津分行"]  # unknown: name as code
    assert by_number[2].data["participating_departments"] == ["各区人民政府"]
    assert by_number[21].data["check_schedule"] == "2018年年初考核；2018年年中考查；2019年年初考核"
    assert by_number[21].data["due_date"] == "2018-12-31"
    assert (by_number[1].data["check_from_year"], by_number[1].data["check_to_year"]) == (2018, 2020)
    row = engine.store.records.get(by_number[21].id)
    assert row is not None and (row.responsible_unit, row.case_date) == ("shi-czj", dt.date(2018, 12, 31))

    again = import_ledger(engine, "tianjin")
    assert (again.created, len(again.existing)) == ([], 26)
    assert len(engine.query(kind="ledger_task", limit=100)) == 26


def test_task_1s_mid_year_check_opens_in_june_once_even_twice_or_by_two_engines(
    engine: Engine, database_url: str
) -> None:
    import_ledger(engine, "tianjin")
    open_due_checks(engine)  # January: the one-off 2018年年初考核 of tasks 15, 16, 18, 19, 21, 23
    first = task(engine, "tianjin", 1)
    assert check_state(first) == "idle"
    at(engine, 2018, 5, 29, 9)
    assert first.id not in open_due_checks(engine).opened  # the window opens a month before 30 June
    at(engine, 2018, 6, 1, 9)
    assert first.id in open_due_checks(engine).opened
    assert open_due_checks(engine).opened == []
    other = Engine.open(database_url, clock=ManualClock(engine.clock.now()))
    try:
        assert open_due_checks(other).opened == []
    finally:
        other.close()
    view = task(engine, "tianjin", 1)
    assert check_state(view) == "awaiting_report"
    assert (view.data["check_label"], view.data["check_due"], view.data["check_kind"]) == (
        "2018年年中检查",
        "2018-06-30",
        "check",
    )
    assert events(engine, view.id) == ["register_task", "open_check"]
    deadline = next(d for d in view.deadlines if d.name == "check_report")
    # 30 June 2018 is a Saturday: the report is due on Monday 2 July at 17:00
    assert deadline.due_at == dt.datetime(2018, 7, 2, 17, 0, tzinfo=SH)
    assert "津政发〔2017〕29号" in deadline.legal_basis

    answered_and_rated(engine, view, ZZB)
    rated = task(engine, "tianjin", 1)
    assert (check_state(rated), rated.data["last_rating"]) == ("rated", "passed")
    entry = engine.history(rated.id)[-2]
    assert (entry.event, entry.unit, entry.payload["documents"][0]["number"]) == (
        "report_progress",
        "shi-zzb",
        "津组〔2018〕12号",
    )
    at(engine, 2018, 12, 3, 9)
    assert rated.id in open_due_checks(engine).opened
    year_end = task(engine, "tianjin", 1)
    assert (check_state(year_end), year_end.data["check_label"], year_end.data["check_kind"]) == (
        "awaiting_report",
        "2018年年底考核",
        "assessment",
    )
    report = audit.verify(engine.registry, engine.histories(), real_time=False)
    assert report.intact, report.problems
    assert audit.replay(engine.registry, engine.stored_history(year_end.id)) == []


def test_an_unanswered_check_is_marked_overdue_and_the_department_and_its_superior_are_told(
    engine: Engine, tmp_path: Path
) -> None:
    import_ledger(engine, "tianjin")
    at(engine, 2018, 12, 3, 9)
    open_due_checks(engine)  # task 1: only the year-end assessment; the mid-year one was missed
    view = task(engine, "tianjin", 1)
    assert view.data["check_label"] == "2018年年底考核"
    assert engine.history(view.id)[-1].payload["missed"] == ["2018年年中检查"]
    # 31 December 2018 and 1 January 2019 are days off: due on Wednesday 2 January 2019, 17:00
    due = next(d for d in view.deadlines if d.name == "check_report").due_at
    assert due == dt.datetime(2019, 1, 2, 17, 0, tzinfo=SH)
    at(engine, 2019, 1, 2, 18)
    sweep_all(engine)
    late = task(engine, "tianjin", 1)
    assert (check_state(late), late.overdue) == ("check_overdue", True)
    assert "mark_check_overdue" in events(engine, late.id)
    sent = {(row.template, row.recipient_unit) for row in engine.outbox.list(record_id=late.id)}
    assert {("overdue", "shi-zzb"), ("escalation", "shi-gov")} <= sent
    overdue = next(row for row in engine.outbox.list(record_id=late.id) if row.template == "overdue")
    assert "津政发〔2017〕29号" in overdue.context["vars"]["legal_basis"]

    mail = Dispatcher(engine, MailSettings.from_env({}, folder=tmp_path / "mail")).run()
    # only mail to departments the unit directory does not know is held (dead-lettered with the
    # reason), never written to a made-up address
    assert mail.errors == [] and mail.held == len(mail.notes) > 0
    assert all("不在单位目录中 (not in the unit directory)" in note for note in mail.notes), mail.notes
    messages = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in (tmp_path / "mail").glob("*.eml")
    ]
    about = {
        str(m["To"]): m.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        for m in messages
        if late.id in m.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        and "逾期" in str(m["Subject"]) + m.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    }
    assert any("zzb@" in to for to in about) and any("gov@" in to for to in about), list(about)
    assert all("工作进展报送期限" in text and "市委组织部" in text for text in about.values())

    tasks, departments = ledger_status(engine, jurisdiction="tianjin")
    overdue_first = [t.number for t in tasks if t.overdue]
    assert 1 in overdue_first and tasks[: len(overdue_first)] == [t for t in tasks if t.overdue]
    zzb = next(d for d in departments if d.department == "shi-zzb")
    assert zzb.overdue >= 1 and zzb.name == "市委组织部"

    late_report = engine.fire(
        late.id, "report_progress", actor=ZZB, payload={"progress": "补报", "documents": EVIDENCE}
    )
    assert check_state(late_report) == "reported" and not late_report.overdue
    report = audit.verify(engine.registry, engine.histories(), real_time=False)
    assert report.intact, report.problems


def test_task_21s_three_dated_checks_open_at_their_dates_and_an_unanswered_one_gives_way(
    engine: Engine,
) -> None:
    import_ledger(engine, "tianjin")
    run_once(engine)
    view = task(engine, "tianjin", 21)
    assert (view.data["check_label"], view.data["check_due"]) == ("2018年年初考核", "2018-01-31")
    answered_and_rated(engine, view, CZJ, rating="needs_improvement")
    at(engine, 2018, 5, 29, 9)
    run_once(engine)
    assert check_state(task(engine, "tianjin", 21)) == "rated"
    at(engine, 2018, 6, 1, 9)
    run_once(engine)
    view = task(engine, "tianjin", 21)
    assert (view.data["check_label"], view.data["check_due"], view.data["check_kind"]) == (
        "2018年年中考查",
        "2018-06-30",
        "check",
    )
    at(engine, 2018, 7, 3, 9)
    run_once(engine)
    assert check_state(task(engine, "tianjin", 21)) == "check_overdue"
    at(engine, 2019, 1, 2, 9)
    run_once(engine)
    view = task(engine, "tianjin", 21)
    assert (view.data["check_label"], view.data["check_due"], check_state(view)) == (
        "2019年年初考核",
        "2019-01-31",
        "awaiting_report",
    )
    assert view.data["last_rating"] == "unanswered"
    assert events(engine, view.id).count("open_check") == 3
    assert events(engine, view.id)[-2:] == ["lapse_check", "open_check"]
    at(engine, 2019, 6, 3, 9)
    run_once(engine)
    assert events(engine, view.id).count("open_check") == 3  # no fourth: the schedule ends there
    done = engine.fire(
        view.id, "report_progress", actor=CZJ, payload={"progress": "已完成", "documents": EVIDENCE}
    )
    with pytest.raises(Exception, match="评定"):
        engine.fire(done.id, "complete", actor=CREDIT, comment="已完成")
    engine.fire(done.id, "rate_check", actor=CREDIT, payload={"rating": "passed"}, comment="已完成")
    finished = engine.fire(done.id, "complete", actor=CREDIT, comment="一次性任务已完成，予以确认")
    assert finished.state == "completed"
    assert audit.replay(engine.registry, engine.stored_history(done.id)) == []


def test_a_guangyuan_task_gets_a_quarterly_check_citing_guangyuans_table(engine: Engine) -> None:
    assert len(import_ledger(engine, "guangyuan").created) == 15
    at(engine, 2018, 3, 1, 9)
    assert open_due_checks(engine).opened == []  # the window opens 20 working days before 31 March
    at(engine, 2018, 3, 5, 9)
    opened = open_due_checks(engine)
    assert len(opened.opened) == 15
    view = task(engine, "guangyuan", 4)
    assert view.definition == "guangyuan_ledger@2"
    assert (view.data["check_label"], view.data["check_due"]) == ("2018年3月季度监测", "2018-03-31")
    deadline = next(d for d in view.deadlines if d.name == "check_report")
    assert "广元" in deadline.legal_basis and "津政发" not in deadline.legal_basis
    definition = engine.registry.get("guangyuan_ledger", 1)
    assert all("津政发" not in e.legal_basis for e in definition.events.values())
    answered_and_rated(engine, view, Actor(id="a", role="department", unit=view.data["lead_department"]))
    at(engine, 2018, 6, 1, 9)
    open_due_checks(engine)
    assert task(engine, "guangyuan", 4).data["check_label"] == "2018年6月季度监测"


def test_only_the_system_opens_a_check_and_only_the_lead_department_reports(engine: Engine) -> None:
    import_ledger(engine, "tianjin")
    view = task(engine, "tianjin", 1)
    with pytest.raises(PermissionDenied):
        engine.fire(
            view.id,
            "open_check",
            actor=Actor(id="x", role="system", unit="shi-fgw"),
            payload={"check_kind": "check", "check_label": "x", "check_due": "2018-06-30"},
        )
    with pytest.raises(PermissionDenied):
        engine.fire_system(view.id, "report_progress", {"progress": "x", "documents": EVIDENCE}, key="k1")
    at(engine, 2018, 6, 1, 9)
    open_due_checks(engine)
    with pytest.raises(Exception, match="责任部门"):
        engine.fire(view.id, "report_progress", actor=CZJ, payload={"progress": "x", "documents": EVIDENCE})


def test_bad_ledger_input_is_one_clear_error(engine: Engine) -> None:
    with pytest.raises(LedgerInputError, match="没有该地区的工作台账"):
        import_ledger(engine, "beijing")
    with pytest.raises(LedgerInputError, match="顺序颠倒"):
        import_ledger(engine, "tianjin", (2019, 2018))
    import_ledger(engine, "tianjin")
    with pytest.raises(LedgerInputError, match="没有由该部门牵头"):
        ledger_status(engine, department="市教委")
    assert sorted(t.number for t in ledger_status(engine, department="市委组织部")[0]) == [1, 7, 9, 10, 11]
