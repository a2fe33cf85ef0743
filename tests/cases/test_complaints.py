"""Complaints (投诉举报, issue 11 item 2): intake → forwarded → verified → answered, rectified, or
confirmed as a breach that opens a dishonesty record in the same transaction, linked both ways;
the complainant's identity never reaches the unit complained about."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from workflow import Actor, Dispatcher, Engine, MailSettings, ManualClock, PayloadInvalid, audit

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 5, 11, 9, 0, tzinfo=SH)  # a Monday

UNITS = [
    {"code": "tj-12345", "name": "天津市12345政务服务便民热线", "emails": ["12345@tj.example.gov.cn"]},
    {"code": "hexi-czj", "name": "某区财政局", "emails": ["czj@hexi.example.gov.cn"]},
    {"code": "hexi-zjw", "name": "某区住房和建设委员会", "emails": ["zjw@hexi.example.gov.cn"]},
    {"code": "hexi-gov", "name": "某区人民政府", "emails": ["gov@hexi.example.gov.cn"]},
    {"code": "tj-fgw", "name": "天津市发展和改革委员会", "emails": ["fgw@tj.example.gov.cn"]},
]
INTAKE = Actor(id="wang.fang", role="intake", unit="tj-12345")
DEPARTMENT = Actor(id="liu.min", role="department", unit="hexi-czj")
UNIT = Actor(id="zhao.qiang", role="subject", unit="hexi-zjw")
VERIFIER = Actor(id="chen.jing", role="verifier", unit="tj-fgw")
COMPLAINANT = "张晓明"
CONTACT = "13800138000"

FIELDS = {
    "channel": "hotline",
    "received_date": "2026-05-11",
    "complainant_name": COMPLAINANT,
    "complainant_contact": CONTACT,
    "intake_unit": "tj-12345",
    "competent_department": "hexi-czj",
    "complained_unit": "hexi-zjw",
    "superior_unit": "hexi-gov",
    "subject_kind": "department",
    "subject_name": "某区住房和建设委员会",
    "subject_code": "11120103MB1234567X",
    "domain": "procurement",
    "content": "区住建委作为采购人验收合格后拒不支付中标供应商货款86.5万元。",
}


def _uscc() -> str:
    from stdnum.cn import uscc

    body = "11120103MB1234567"
    return body + uscc.calc_check_digit(body)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    Engine.init(database_url, simulated_start=T0)[0].close()
    with Engine.open(database_url, clock=ManualClock(T0)) as opened:
        opened.units.save(UNITS)
        yield opened


def _fields(**changes: str) -> dict[str, str]:
    return {**FIELDS, "subject_code": _uscc(), **changes}


def _mails(engine: Engine, folder: Path) -> list[tuple[str, str]]:
    """(recipient address, plain text) of every mail the dispatcher delivers now."""
    Dispatcher(engine, MailSettings.from_env({}, folder=folder)).run()
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        found.append((str(message["To"]), str(message["Subject"]) + "\n" + body.get_content()))
    return found


def test_a_founded_complaint_refused_opens_a_linked_record_in_one_transaction(
    engine: Engine, tmp_path: Path
) -> None:
    case = engine.register("tianjin_complaint", _fields(), actor=INTAKE)
    assert case.id.startswith("TS20260511-") and case.kind == "complaint"
    assert [d.name for d in case.deadlines] == ["forwarding"]
    engine.fire(case.id, "forward", actor=INTAKE)
    engine.fire(
        case.id,
        "find_founded",
        actor=DEPARTMENT,
        payload={"verified_facts": "经核查，货款至今未付，属实。", "rectification_days": 15},
        comment="投诉属实，责令限期整改",
    )
    engine.fire(case.id, "refuse_rectification", actor=UNIT, comment="资金未到位，暂不支付")
    done = engine.fire(
        case.id,
        "confirm_breach",
        actor=DEPARTMENT,
        payload={
            "document_number": "某区财信〔2026〕3号",
            "finding_date": "2026-05-20",
            "severity": "general",
        },
        comment="拒不整改，认定政务失信",
    )
    assert done.state == "breach_recorded"
    record_id = done.data["breach_record"]
    record = engine.get(record_id)
    assert record.kind == "record" and record.definition == "tianjin@2" and record.state == "submitted"
    assert record.data["facts"] == "经核查，货款至今未付，属实。"
    assert record.data["source_type"] == "founded_complaint"
    assert (record.data["responsible_unit"], record.data["finding_unit"]) == ("hexi-zjw", "hexi-czj")
    assert COMPLAINANT not in str(record.data) and CONTACT not in str(record.data)
    assert [dict(link) for link in done.links] == [
        {"relation": "opened", "case": record_id, "definition": "tianjin@2", "event": "confirm_breach"}
    ]
    assert [dict(link) for link in record.links] == [
        {
            "relation": "opened_by",
            "case": case.id,
            "definition": "tianjin_complaint@2",
            "event": "confirm_breach",
        }
    ]
    last = engine.history(case.id)[-1]
    assert last.effects["links"][0]["case"] == record_id
    first = engine.history(record_id)[0]
    assert first.event == "register" and first.effects["links"][0]["case"] == case.id
    assert first.actor == DEPARTMENT.id and first.role == "recorder"

    # the credit lead department goes on with the record as with any other
    verifying = engine.fire(record_id, "accept", actor=VERIFIER)
    assert verifying.state == "verifying"

    report = audit.verify(engine.registry, engine.histories(), real_time=False)
    assert report.intact and report.records == 2, report.problems
    assert audit.replay(engine.registry, engine.stored_history(case.id)) == []
    assert audit.replay(engine.registry, engine.stored_history(record_id)) == []
    assert engine.state_at(case.id, engine.clock.now()).data["breach_record"] == record_id


def test_a_refused_opening_writes_nothing_on_either_case(engine: Engine) -> None:
    """The record the breach opens is decided before anything is written: when it is refused
    (here: the finding date is not a date), the complaint stays where it was."""
    case = engine.register("complaint", _fields(), actor=INTAKE)
    engine.fire(case.id, "forward", actor=INTAKE)
    engine.fire(case.id, "find_founded", actor=DEPARTMENT, payload={"verified_facts": "属实"}, comment="属实")
    engine.fire(case.id, "refuse_rectification", actor=UNIT, comment="不整改")
    before = engine.get(case.id)
    with pytest.raises(PayloadInvalid) as refused:
        engine.fire(
            case.id,
            "confirm_breach",
            actor=DEPARTMENT,
            payload={"document_number": "X号", "finding_date": "2026-13-01", "severity": "general"},
            comment="认定",
        )
    assert refused.value.field == "finding_date"
    assert engine.get(case.id) == before
    assert engine.query(kind="record") == []


def test_the_complainant_is_never_named_in_a_mail_to_the_unit_complained_about(
    engine: Engine, tmp_path: Path
) -> None:
    case = engine.register("taian_complaint", _fields(channel="mayor_mailbox"), actor=INTAKE)
    engine.fire(case.id, "forward", actor=INTAKE)
    engine.fire(
        case.id,
        "find_founded",
        actor=DEPARTMENT,
        payload={"verified_facts": "经核查属实。"},
        comment="限期整改",
    )
    assert isinstance(engine.clock, ManualClock)
    engine.clock.set(dt.datetime(2026, 6, 11, 17, 1, tzinfo=SH))  # 30 days on: overdue, escalated
    engine.sweep()
    assert engine.get(case.id).state == "rectification_overdue"
    mails = _mails(engine, tmp_path / "mail")
    to_unit = [text for to, text in mails if "zjw@hexi" in to]
    assert len(to_unit) == 2  # the rectification notice and the overdue notice (the reminders were passed by)
    assert any("整改期限" in text and case.id in text for text in to_unit)
    assert any("市长信箱" in text for text in to_unit)  # the channel is shown, not who used it
    for text in to_unit:
        assert COMPLAINANT not in text and CONTACT not in text
    assert any("gov@hexi" in to for to, _ in mails)  # the superior unit is told of the overdue rectification
    to_department = [text for to, text in mails if "czj@hexi" in to]
    assert any("核查答复期限" in text for text in to_department)


def test_an_unfounded_complaint_is_answered_and_closed(engine: Engine) -> None:
    case = engine.register("guangyuan_complaint", _fields(channel="website"), actor=INTAKE)
    engine.fire(case.id, "forward", actor=INTAKE)
    done = engine.fire(
        case.id,
        "reply_unfounded",
        actor=DEPARTMENT,
        payload={"reply": "经核查，货款已按合同支付。", "verified_facts": "付款凭证齐全"},
        comment="不属实",
    )
    assert (done.state, done.active, done.overdue) == ("unfounded", False, False)
    assert done.links == ()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"complained_unit": "no-such-bureau"}, "complained_unit"),
        ({"competent_department": "nowhere"}, "competent_department"),
        ({"content": ""}, "content"),
        ({"received_date": "2026-02-30"}, "received_date"),
    ],
)
def test_bad_complaint_input_is_refused_naming_the_field(
    engine: Engine, changes: dict[str, str], field: str
) -> None:
    fields = {k: v for k, v in _fields(**changes).items() if v != ""}
    with pytest.raises(PayloadInvalid) as refused:
        engine.register("tongxin_complaint", fields, actor=INTAKE)
    assert refused.value.field == field
    assert engine.query(kind="complaint") == []


def test_verify_reports_a_link_the_other_case_does_not_return(engine: Engine) -> None:
    """Both sides of a link are verified together: a record whose stored row no longer names the
    complaint that opened it is reported on the complaint's side too."""
    import dataclasses

    case = engine.register("complaint", _fields(), actor=INTAKE)
    engine.fire(case.id, "forward", actor=INTAKE)
    engine.fire(case.id, "find_founded", actor=DEPARTMENT, payload={"verified_facts": "属实"}, comment="属实")
    engine.fire(case.id, "refuse_rectification", actor=UNIT, comment="不整改")
    done = engine.fire(
        case.id,
        "confirm_breach",
        actor=DEPARTMENT,
        payload={"document_number": "X号", "finding_date": "2026-05-20", "severity": "general"},
        comment="认定",
    )
    record_id = done.data["breach_record"]
    cases = list(engine.cases())
    assert audit.verify(engine.registry, cases, real_time=False).intact
    altered = []
    for rows in cases:
        changed = rows
        if rows.id == record_id and rows.record is not None:
            data = {k: v for k, v in rows.record.data.items() if k != "_links"}
            changed = dataclasses.replace(rows, record=dataclasses.replace(rows.record, data=data))
        altered.append(changed)
    report = audit.verify(engine.registry, altered, real_time=False)
    assert any(p.record_id == case.id and "does not link back" in p.detail for p in report.problems)
    assert any(p.record_id == record_id and p.kind == "projection" for p in report.problems)


def test_a_forwarding_and_a_verification_left_overdue_escalate_to_the_superior_unit(
    engine: Engine, tmp_path: Path
) -> None:
    """complaint@2: the intake unit's and the department's overdue deadlines reach the superior too."""
    late_forward = engine.register("tianjin_complaint", _fields(), actor=INTAKE)
    assert late_forward.definition == "tianjin_complaint@2"
    late_verify = engine.register("tianjin_complaint", _fields(), actor=INTAKE)
    engine.fire(late_verify.id, "forward", actor=INTAKE)
    assert isinstance(engine.clock, ManualClock)
    engine.clock.set(dt.datetime(2026, 6, 3, 17, 1, tzinfo=SH))  # 16 working days on: both deadlines passed
    engine.sweep()
    mails = _mails(engine, tmp_path / "mail")
    to_superior = [text for to, text in mails if "gov@hexi" in to]
    assert any(late_forward.id in text and "转办期限" in text for text in to_superior), to_superior
    assert any(late_verify.id in text and "核查答复期限" in text for text in to_superior), to_superior
    for text in to_superior:
        assert COMPLAINANT not in text and CONTACT not in text
    report = audit.verify(engine.registry, engine.histories(), real_time=False)
    assert report.intact, report.problems
