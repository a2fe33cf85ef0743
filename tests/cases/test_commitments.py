"""Public commitments (公开承诺 / 履职承诺清单, issue 11 item 3): a unit publishes a list, each
commitment with a due date or a recurring check; fulfilment is recorded with evidence; the final
states are `kept`, `broken` (optionally with a linked record) and `changed`; bad input names the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from stdnum.cn import uscc

from workflow import Actor, Engine, ManualClock, PayloadInvalid, audit

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH)  # a Monday

UNITS = [
    {"code": "tx-sthj", "name": "同心县生态环境局", "emails": ["sthj@tx.example.gov.cn"]},
    {"code": "tx-gov", "name": "同心县人民政府", "emails": ["gov@tx.example.gov.cn"]},
    {"code": "tx-xyb", "name": "同心县社会信用体系建设领导小组办公室", "emails": ["xyb@tx.example.gov.cn"]},
]
UNIT = Actor(id="ma.jun", role="unit", unit="tx-sthj")
VERIFIER = Actor(id="na.li", role="verifier", unit="tx-xyb")
OTHER_VERIFIER = Actor(id="su.hong", role="verifier", unit="tx-xyb")
EVIDENCE = [{"name": "2026年度空气质量监测报告", "number": "同环监〔2026〕12号"}]


def _code() -> str:
    body = "11640324MB0123456"
    return body + uscc.calc_check_digit(body)


def commitment(**changes: str) -> dict[str, str]:
    fields = {
        "unit": "tx-sthj",
        "superior_unit": "tx-gov",
        "supervising_unit": "tx-xyb",
        "subject_kind": "department",
        "subject_name": "同心县生态环境局",
        "subject_code": _code(),
        "list_title": "同心县生态环境局2026年度履职承诺清单",
        "category": "environment_target",
        "domain": "environment",
        "content": "2026年全县空气质量优良天数比例不低于85%。",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "due_date": "2026-06-30",
    }
    fields.update(changes)
    return {k: v for k, v in fields.items() if v != ""}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    Engine.init(database_url, simulated_start=T0)[0].close()
    with Engine.open(database_url, clock=ManualClock(T0)) as opened:
        opened.units.save(UNITS)
        yield opened


def test_a_commitment_fulfilled_with_evidence_is_kept(engine: Engine) -> None:
    case = engine.register("tongxin_commitment", commitment(), actor=UNIT)
    assert case.id.startswith("CN20260302-") and case.kind == "commitment"
    assert [(d.name, d.due_at.astimezone(SH).date()) for d in case.deadlines] == [
        ("fulfilment", dt.date(2026, 6, 30))
    ]
    engine.fire(
        case.id, "report_fulfilment", actor=UNIT, payload={"result": "优良天数比例87%", "evidence": EVIDENCE}
    )
    kept = engine.fire(case.id, "confirm_kept", actor=VERIFIER, comment="经核实，承诺已兑现")
    assert (kept.state, kept.state_label, kept.overdue) == ("kept", "守诺践诺", False)
    assert [v.id for v in engine.query(kind="commitment", state="kept", unit="tx-sthj")] == [case.id]


def test_a_standing_commitment_is_checked_on_its_rhythm_and_falls_due_at_the_period_end(
    engine: Engine,
) -> None:
    case = engine.register(
        "taian_commitment",
        commitment(
            category="time_limit", check_rhythm="quarterly", due_date="", content="企业开办1个工作日内办结。"
        ),
        actor=UNIT,
    )
    assert [(d.name, d.due_at.astimezone(SH).date()) for d in case.deadlines] == [
        ("fulfilment", dt.date(2026, 12, 31))
    ]
    opened = engine.fire(
        case.id,
        "open_check",
        actor=VERIFIER,
        payload={"check_label": "2026年第一季度检查", "check_due": "2026-03-31"},
    )
    assert {t.track: t.state for t in opened.tracks}["check"] == "awaiting_report"
    assert isinstance(engine.clock, ManualClock)
    engine.clock.set(dt.datetime(2026, 4, 1, 9, 0, tzinfo=SH))
    engine.sweep()
    late = engine.get(case.id)
    assert {t.track: t.state for t in late.tracks}["check"] == "check_overdue" and late.overdue
    engine.fire(
        case.id, "report_check", actor=UNIT, payload={"progress": "一季度全部1日办结", "evidence": EVIDENCE}
    )
    rated = engine.fire(
        case.id, "rate_check", actor=VERIFIER, payload={"result": "met"}, comment="按承诺履行"
    )
    assert rated.data["last_check"] == "met" and not rated.overdue


def test_a_broken_commitment_may_open_a_linked_record(engine: Engine) -> None:
    case = engine.register("tongxin_commitment", commitment(), actor=UNIT)
    assert isinstance(engine.clock, ManualClock)
    engine.clock.set(dt.datetime(2026, 7, 1, 9, 0, tzinfo=SH))
    engine.sweep()
    assert engine.get(case.id).state == "overdue"
    broken = engine.fire(
        case.id,
        "break_and_record",
        actor=VERIFIER,
        payload={
            "document_number": "同信用办〔2026〕5号",
            "finding_date": "2026-07-01",
            "severity": "minor",
            "facts": "承诺的优良天数比例未达到，且未说明原因。",
        },
        comment="未践诺",
    )
    assert broken.state == "broken"
    record = engine.get(broken.data["breach_record"])
    assert (record.definition, record.state, record.data["source_type"]) == (
        "tongxin@2",
        "submitted",
        "breach_of_contract",
    )
    assert record.links[0]["case"] == case.id and broken.links[0]["case"] == record.id
    engine.fire(record.id, "accept", actor=OTHER_VERIFIER)
    report = audit.verify(engine.registry, engine.histories(), real_time=False)
    assert report.intact and report.records == 2, report.problems


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"due_date": "2027-01-15"}, "due_date"),  # after the commitment period
        ({"period_end": "2025-12-31"}, "period_end"),  # a period that ends before it starts
        ({"unit": "tx-nowhere"}, "unit"),  # not in the unit directory
        ({"supervising_unit": "tx-unknown"}, "supervising_unit"),
        ({"content": ""}, "content"),  # missing
        ({"due_date": ""}, "due_date"),  # neither a due date nor a recurring check
    ],
)
def test_bad_commitment_input_is_refused_naming_the_field(
    engine: Engine, changes: dict[str, str], field: str
) -> None:
    with pytest.raises(PayloadInvalid) as refused:
        engine.register("commitment", commitment(**changes), actor=UNIT)
    assert field in refused.value.field.split(", ")  # every problem is named at once
    assert engine.query(kind="commitment") == []


def test_a_check_due_outside_the_period_is_refused_naming_it(engine: Engine) -> None:
    case = engine.register("commitment", commitment(check_rhythm="yearly"), actor=UNIT)
    with pytest.raises(PayloadInvalid) as refused:
        engine.fire(
            case.id,
            "open_check",
            actor=VERIFIER,
            payload={"check_label": "年度检查", "check_due": "2027-01-10"},
        )
    assert refused.value.field == "check_due"


def test_the_service_opens_a_standing_commitments_check_when_its_rhythm_period_ends(engine: Engine) -> None:
    """Issue 11: commitment@2's recurring check is opened by the scheduler, once per period."""
    from workflow.runtime.service import run_once

    case = engine.register(
        "taian_commitment",
        commitment(
            category="time_limit", check_rhythm="quarterly", due_date="", content="企业开办1个工作日内办结。"
        ),
        actor=UNIT,
    )
    assert case.definition == "taian_commitment@2"
    assert run_once(engine)["commitment_checks_opened"] == 0  # the first quarter has not ended
    assert {t.track: t.state for t in engine.get(case.id).tracks}["check"] == "idle"
    assert isinstance(engine.clock, ManualClock)
    engine.clock.set(dt.datetime(2026, 4, 1, 9, 0, tzinfo=SH))
    assert run_once(engine)["commitment_checks_opened"] == 1
    assert run_once(engine)["commitment_checks_opened"] == 0
    opened = engine.get(case.id)
    assert {t.track: t.state for t in opened.tracks}["check"] == "awaiting_report"
    assert opened.data["check_due"] == "2026-04-16" and "第1次践诺检查" in opened.data["check_label"]
    events = [e.event for e in engine.history(case.id)]
    assert events.count("open_scheduled_check") == 1
    engine.fire(
        case.id, "report_check", actor=UNIT, payload={"progress": "一季度全部1日办结", "evidence": EVIDENCE}
    )
    engine.fire(case.id, "rate_check", actor=VERIFIER, payload={"result": "met"}, comment="按承诺履行")
    run_once(engine)  # the rated quarter does not open again
    assert [e.event for e in engine.history(case.id)].count("open_scheduled_check") == 1
    engine.clock.set(dt.datetime(2026, 7, 2, 9, 0, tzinfo=SH))
    run_once(engine)
    run_once(engine)
    second = engine.get(case.id)
    assert [e.event for e in engine.history(case.id)].count("open_scheduled_check") == 2
    assert "第2次践诺检查" in second.data["check_label"]
    report = audit.verify(engine.registry, engine.histories(), real_time=False)
    assert report.intact, report.problems
