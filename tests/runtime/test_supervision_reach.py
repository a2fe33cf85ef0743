"""Supervision that reaches the right units (``workflow.runtime.rounds``), on SQLite and PostgreSQL.

A round's reminder, overdue and escalation mails are delivered to a real aiosmtpd server and read
back; a pass after downtime sweeps before it opens rounds, so a round counts the explanations
that fell overdue meanwhile; a unit of one jurisdiction gets only its own jurisdiction's rounds;
a unit the directory gives no superior escalates to the one unit at the level above; the round's
title does not repeat its period; a round counts the unit's open ledger checks by kind.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from support.harness import ORGANISATION, SH, Harness
from support.smtp import SmtpServer

from workflow import Actor
from workflow.runtime.dispatch import Dispatcher, MailSettings
from workflow.runtime.ledgers import import_ledger, open_due_checks
from workflow.runtime.rounds import open_due_rounds
from workflow.runtime.service import run_once

UNITS = [
    {
        "code": "hexi-zjw",
        "name": "河西区住房和建设委员会",
        "emails": ["bgs@zjw.example.gov.cn"],
        "jurisdiction": "tianjin",
        "level": "department",
    },
    {
        "code": "hexi-gov",
        "name": "河西区人民政府",
        "emails": ["duban@hexi.example.gov.cn"],
        "jurisdiction": "tianjin",
        "level": "district",
    },
    {
        "code": "gy-fgw",
        "name": "广元市发展改革委",
        "emails": ["fgw@gy.example.gov.cn"],
        "jurisdiction": "guangyuan",
        "level": "department",
    },
    {
        "code": "tx-zfb",
        "name": "同心县住房城乡建设局",
        "emails": ["zjj@tx.example.gov.cn"],
        "jurisdiction": "tongxin",
        "level": "department",
    },
]


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


@pytest.fixture
def h(database_url: str) -> Iterator[Harness]:
    harness = Harness.create(database_url)
    harness.engine.units.save(UNITS)
    yield harness
    harness.engine.close()


def _round_of(h: Harness, unit: str) -> str:
    rounds = [
        v for v in h.engine.query(definition="supervision", limit=100) if v.data["responsible_unit"] == unit
    ]
    assert len(rounds) == 1, [v.data["period"] for v in rounds]
    return rounds[0].id


def test_a_rounds_reminders_overdue_notice_and_escalation_are_delivered(h: Harness) -> None:
    """The unit has no superior in the directory: escalation goes to the district at the level above."""
    h.engine.register("tianjin", {**ORGANISATION, "superior_unit": None}, actor=h.recorder, submit=True)
    h.at(dt.datetime(2026, 6, 1, 9, 30, tzinfo=SH))
    open_due_rounds(h.engine)
    rid = _round_of(h, "hexi-zjw")
    round_view = h.engine.get(rid)
    assert round_view.data["superior_unit"] == "hexi-gov"
    assert round_view.data["title"] == "政务诚信建设专项督查（每半年）"
    due = next(d for d in round_view.deadlines if d.name == "answer").due_at
    assert due.astimezone(SH).date() == dt.date(2026, 6, 15)
    server = SmtpServer()
    server.start()
    try:
        # 3 working days before (Wed 10 June), the due day's morning, the day after
        for day, hour in ((10, 10), (15, 10), (16, 10)):
            h.at(dt.datetime(2026, 6, day, hour, 0, tzinfo=SH))
            while h.engine.sweep().fired:
                pass
        result = Dispatcher(h.engine, MailSettings.from_env(server.env())).run()
        messages = server.handler.messages()
    finally:
        server.stop()
    assert result.errors == [] and result.dead == 0
    about = [m for m in messages if rid in _text(m) or rid in str(m["Subject"])]
    subjects = sorted(str(m["Subject"]) for m in about)
    to_unit = [m for m in about if "bgs@zjw" in str(m["To"])]
    to_superior = [m for m in about if "duban@hexi" in str(m["To"])]
    kinds = [str(m["Subject"]).split("】")[0] for m in to_unit]
    assert sorted(kinds) == sorted(["【政务诚信专项督查通知", "【期限提醒", "【今日到期", "【逾期通知"]), (
        subjects
    )
    assert to_superior and all("河西区住房和建设委员会" in _text(m) for m in to_superior)
    assert any("逾期未办结" in _text(m) for m in to_superior)
    opening = next(m for m in to_unit if "督查通知" in str(m["Subject"]))
    assert str(opening["Subject"]).count("2026-06-01") == 1
    for message in about:
        assert "督查答复期限" in _text(message)


def test_a_pass_after_downtime_sweeps_before_it_opens_the_round(h: Harness) -> None:
    record = h.engine.register("tianjin", ORGANISATION, actor=h.recorder, submit=True).id
    h.fire(record, "accept", h.verifier)
    h.fire(record, "confirm", h.verifier, comment="属实")  # on 2026-03-02: the explanation is due in March
    h.at(dt.datetime(2026, 6, 2, 9, 0, tzinfo=SH))  # the engine was down since
    run_once(h.engine)
    assert h.engine.get(record).overdue
    round_view = h.engine.get(_round_of(h, "hexi-zjw"))
    assert round_view.data["overdue_explanations"] == 1
    assert record in round_view.data["record_ids"]


def test_a_unit_gets_only_its_own_jurisdictions_rounds(h: Harness) -> None:
    for definition, unit in (("tianjin", "hexi-zjw"), ("guangyuan", "gy-fgw"), ("tongxin", "tx-zfb")):
        h.engine.register(
            definition, {**ORGANISATION, "responsible_unit": unit}, actor=h.recorder, submit=True
        )
    h.at(dt.datetime(2026, 12, 2, 10, 0, tzinfo=SH))
    opened = open_due_rounds(h.engine).opened
    reached: dict[str, set[str]] = {}
    for rid in opened:
        data = h.engine.get(rid).data
        reached.setdefault(data["responsible_unit"], set()).add(data["jurisdiction"])
    assert reached["hexi-zjw"] == {"tianjin"}
    assert reached["hexi-gov"] == {"tianjin"}
    assert reached["gy-fgw"] == {"guangyuan"}
    assert reached["tx-zfb"] == {"tongxin"}


def test_a_round_counts_the_units_open_ledger_checks_by_kind(database_url: str) -> None:
    h = Harness.create(database_url, start=dt.datetime(2018, 1, 2, 9, 0, tzinfo=SH))
    try:
        h.engine.units.save(
            [
                *UNITS,
                {"code": "shi-fgw", "name": "市发展改革委", "jurisdiction": "tianjin", "level": "department"},
            ]
        )
        import_ledger(h.engine, "tianjin")
        h.at(dt.datetime(2018, 6, 5, 9, 0, tzinfo=SH))
        open_due_checks(h.engine)
        h.engine.register("tianjin", ORGANISATION, actor=h.recorder, submit=True)
        h.at(dt.datetime(2018, 12, 3, 9, 0, tzinfo=SH))
        open_due_checks(h.engine)  # the year-end assessments open; the mid-year checks are overdue
        while h.engine.sweep().fired:
            pass
        open_due_rounds(h.engine)
        tasks = [
            v
            for v in h.engine.query(kind="ledger_task", unit="shi-fgw", limit=200)
            if v.state == "in_progress"
        ]
        states = [({t.track: t.state for t in v.tracks}["check"], v.data.get("check_kind")) for v in tasks]
        pending = [
            kind for state, kind in states if state in ("awaiting_report", "check_overdue", "reported")
        ]
        assert tasks, "no tasks"
        assert "assessment" in pending, states
        assert pending.count("check") + pending.count("assessment") == len(pending)
        data = h.engine.get(_round_of(h, "shi-fgw")).data
        assert data["ledger_tasks"] == len(tasks)
        assert data["ledger_checks_open"] == pending.count("check")
        assert data["ledger_assessments_open"] == pending.count("assessment")
        assert data["ledger_checks_overdue"] == sum(state == "check_overdue" for state, _ in states)
    finally:
        h.engine.close()


def test_taians_graded_supervision_checks_a_unit_as_often_as_its_grade_says(h: Harness) -> None:
    """信用分级分类监管: an overdue record → every quarter; an open record → every half year; none → once a year."""
    h.engine.units.save(
        [
            {"code": f"ta-{x}", "name": f"泰安市{x}局", "jurisdiction": "taian", "level": "department"}
            for x in ("a", "b", "c")
        ]
    )
    made = {}
    for unit in ("ta-a", "ta-b"):
        rid = h.engine.register(
            "taian",
            {**ORGANISATION, "responsible_unit": unit, "superior_unit": "ta-gov"},
            actor=h.recorder,
            submit=True,
        ).id
        h.fire(rid, "accept", h.verifier)
        h.fire(rid, "confirm", h.verifier, comment="属实", rectification_days=365)
        made[unit] = rid
    assert h.engine.get(made["ta-a"]).definition == "taian@3"
    h.fire(
        made["ta-b"], "submit_explanation", Actor(id="x", role="subject", unit="ta-b"), explanation="已说明"
    )
    h.at(dt.datetime(2026, 6, 1, 9, 0, tzinfo=SH))
    while h.engine.sweep().fired:
        pass
    h.at(dt.datetime(2027, 1, 12, 9, 0, tzinfo=SH))
    open_due_rounds(h.engine)
    rounds = [
        v.data
        for v in h.engine.query(definition="supervision", limit=200)
        if v.data["jurisdiction"] == "taian"
    ]
    graded = {
        unit: sorted(
            r["period"]
            for r in rounds
            if r["responsible_unit"] == unit and r["schedule"] == "graded_inspection"
        )
        for unit in ("ta-a", "ta-b", "ta-c")
    }
    assert graded == {
        "ta-a": ["2026-07-10", "2026-10-10", "2027-01-10"],
        "ta-b": ["2026-07-10", "2027-01-10"],
        "ta-c": ["2027-01-10"],
    }
    grades = {r["responsible_unit"]: r["grade"] for r in rounds if r["schedule"] == "graded_inspection"}
    assert grades["ta-a"].startswith("风险较高") and grades["ta-c"].startswith("信用较好")
    evaluated = sorted(r["responsible_unit"] for r in rounds if r["schedule"] == "annual_evaluation")
    assert evaluated == ["ta-a", "ta-b", "ta-c"]
    assert not any(r["responsible_unit"].startswith("hexi") for r in rounds)


def test_an_opened_ledger_check_is_announced_to_the_lead_department(
    database_url: str, tmp_path: Path
) -> None:
    h = Harness.create(database_url, start=dt.datetime(2018, 1, 2, 9, 0, tzinfo=SH))
    try:
        h.engine.units.save(
            [
                {"code": "shi-gov", "name": "天津市人民政府", "emails": ["gov@tj.example.gov.cn"]},
                {
                    "code": "shi-zzb",
                    "name": "市委组织部",
                    "superior": "shi-gov",
                    "emails": ["zzb@tj.example.gov.cn"],
                },
            ]
        )
        import_ledger(h.engine, "tianjin")
        h.at(dt.datetime(2018, 6, 5, 9, 0, tzinfo=SH))
        opened = open_due_checks(h.engine).opened
        task = next(h.engine.get(i) for i in opened if h.engine.get(i).data["lead_department"] == "shi-zzb")
        Dispatcher(h.engine, MailSettings.from_env({}, folder=tmp_path / "mail")).run()
        messages = [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in (tmp_path / "mail").glob("*.eml")
        ]
        notices = [
            m for m in messages if "检查考核通知" in str(m["Subject"]) and task.id in str(m["Subject"])
        ]
        assert len(notices) == 1 and "zzb@tj.example.gov.cn" in str(notices[0]["To"])
        text = _text(notices[0])  # type: ignore[arg-type]
        assert (
            task.data["check_label"] in text and "工作进展报送期限" in text and "津政发〔2017〕29号" in text
        )
    finally:
        h.engine.close()


def test_a_ledger_task_of_a_unit_without_a_named_superior_escalates_to_the_level_above(
    database_url: str,
) -> None:
    h = Harness.create(database_url, start=dt.datetime(2018, 1, 2, 9, 0, tzinfo=SH))
    try:
        h.engine.units.save(
            [
                {"code": "tj-gov", "name": "天津市人民政府", "jurisdiction": "tianjin", "level": "city"},
                {"code": "shi-zzb", "name": "市委组织部", "jurisdiction": "tianjin", "level": "department"},
            ]
        )
        import_ledger(h.engine, "tianjin")
        tasks = h.engine.query(kind="ledger_task", unit="shi-zzb", limit=200)
        assert tasks and {v.data.get("superior_unit") for v in tasks} == {"tj-gov"}
    finally:
        h.engine.close()
