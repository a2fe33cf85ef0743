"""Public commitments feed the unit's assessment (issue 11 item 3): Tongxin's yearly evaluation
counts a unit's kept and broken commitments, worked out here by hand — one kept, one broken: 1/2."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from stdnum.cn import uscc

from workflow import Actor, Engine, ManualClock
from workflow.reports import build_report

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH)  # a Monday
UNITS = [
    {"code": "tx-gov", "name": "同心县人民政府", "jurisdiction": "tongxin", "level": "district"},
    {
        "code": "tx-sthj",
        "name": "同心县生态环境局",
        "jurisdiction": "tongxin",
        "level": "department",
        "superior": "tx-gov",
        "emails": ["sthj@tx.example.gov.cn"],
    },
    {
        "code": "tx-xyb",
        "name": "同心县社会信用体系建设领导小组办公室",
        "jurisdiction": "tongxin",
        "level": "department",
        "superior": "tx-gov",
        "emails": ["xyb@tx.example.gov.cn"],
    },
]
UNIT = Actor(id="ma.jun", role="unit", unit="tx-sthj")
VERIFIER = Actor(id="na.li", role="verifier", unit="tx-xyb")


def commitment(content: str) -> dict[str, str]:
    body = "11640324MB0123456"
    return {
        "unit": "tx-sthj",
        "superior_unit": "tx-gov",
        "supervising_unit": "tx-xyb",
        "subject_kind": "department",
        "subject_name": "同心县生态环境局",
        "subject_code": body + uscc.calc_check_digit(body),
        "list_title": "同心县生态环境局2026年度履职承诺清单",
        "category": "environment_target",
        "domain": "environment",
        "content": content,
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "due_date": "2026-06-30",
    }


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    Engine.init(database_url, simulated_start=T0)[0].close()
    with Engine.open(database_url, clock=ManualClock(T0)) as opened:
        opened.units.save(UNITS)
        yield opened


def test_kept_and_broken_commitments_give_the_units_commitment_rate(engine: Engine) -> None:
    kept = engine.register("tongxin_commitment", commitment("空气质量优良天数比例不低于85%。"), actor=UNIT)
    engine.fire(
        kept.id,
        "report_fulfilment",
        actor=UNIT,
        payload={"result": "87%", "evidence": [{"name": "空气质量监测报告", "number": "同环监〔2026〕12号"}]},
    )
    engine.fire(kept.id, "confirm_kept", actor=VERIFIER, comment="经核实，承诺已兑现")
    broken = engine.register("tongxin_commitment", commitment("黑臭水体整治完成率100%。"), actor=UNIT)
    engine.fire(broken.id, "find_broken", actor=VERIFIER, comment="整治未完成")
    assert isinstance(engine.clock, ManualClock)
    engine.clock.set(T0 + dt.timedelta(days=1))  # the report looks at the cases as they stood by now
    report = build_report(engine, "assessment", "tongxin", "2026")
    rows = {r.code: r for r in report.rows}
    assert rows["tx-sthj"].values["commitments_kept"] == pytest.approx(1 / 2)
    assert rows["tx-sthj"].measures["state_commitment_kept"] == 1
    assert rows["tx-sthj"].measures["state_commitment_broken"] == 1
    assert rows["tx-xyb"].values["commitments_kept"] is None  # nothing to divide: no data, not 0
