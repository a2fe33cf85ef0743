"""Tai'an (《泰安市加强政务诚信建设实施方案》 and the credit-supervision plan): a 12345 hotline complaint that
becomes a record, and a processing-time commitment checked every quarter.

Run: python examples/taian.py

A company calls the 12345 hotline (三、（三）): a district bureau, as purchaser, has not returned a
tender deposit. The hotline forwards it to the finance bureau, which finds it founded and sets a
deadline (二、（三）6); the bureau refuses, so the finance bureau confirms a breach: in the same
transaction a record of Tai'an's definition is opened with the complaint's verified facts, linked
both ways, the complainant's name left behind. The credit office confirms the record, and Tai'an's
rule sends the superior unit a notice (二、（二）4) and the repair notice with the record notice (信用修复
告知制度). Beside it, the administrative approval bureau's time-limit commitment (二、（四）12: 限时办结) is
checked in the first quarter, answered on time, and kept at the end of the period.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _drill import Drill, when
from stdnum.cn import uscc

from workflow import Actor

UNITS = [
    {"code": "ta-district", "name": "泰安市某区人民政府", "emails": ["gov@district.example.gov.cn"]},
    {
        "code": "ta-jtj",
        "name": "泰安市某区交通运输局",
        "superior": "ta-district",
        "emails": ["jtj@district.example.gov.cn"],
    },
    {"code": "ta-czj", "name": "泰安市某区财政局", "emails": ["czj@district.example.gov.cn"]},
    {"code": "ta-12345", "name": "泰安市12345政务服务热线", "emails": ["12345@ta.example.gov.cn"]},
    {"code": "ta-fgw", "name": "泰安市发展和改革委员会（市信用办）", "emails": ["xyb@ta.example.gov.cn"]},
    {
        "code": "ta-spj",
        "name": "泰安市行政审批服务局",
        "superior": "ta-district",
        "emails": ["spj@ta.example.gov.cn"],
    },
]
INTAKE = Actor(id="gao.yan", role="intake", unit="ta-12345")
FINANCE = Actor(id="kong.wei", role="department", unit="ta-czj")
BUREAU = Actor(id="lu.tao", role="subject", unit="ta-jtj")
VERIFIER = Actor(id="qi.hong", role="verifier", unit="ta-fgw")
APPROVALS = Actor(id="yue.lin", role="unit", unit="ta-spj")
COMPLAINANT = "某工程公司 张经理"
EVIDENCE = [{"name": "办件统计表", "number": "泰审批〔2026〕一季度"}]


def code(body: str) -> str:
    return body + uscc.calc_check_digit(body)


def main(folder: Path, url: str | None = None) -> list[str]:
    drill = Drill(folder, when(2026, 1, 5), UNITS, url=url)
    engine = drill.engine

    promise = engine.register(
        "taian_commitment",
        {
            "unit": "ta-spj",
            "superior_unit": "ta-district",
            "supervising_unit": "ta-fgw",
            "subject_kind": "department",
            "subject_name": "泰安市行政审批服务局",
            "subject_code": code("11370900MB0123456"),
            "list_title": "泰安市行政审批服务局2026年服务承诺",
            "category": "time_limit",
            "domain": "other",
            "content": "企业开办全流程1个工作日内办结。",
            "period_start": "2026-01-01",
            "period_end": "2026-06-30",
            "check_rhythm": "quarterly",
        },
        actor=APPROVALS,
    )
    drill.step(promise, "限时办结公开承诺（每季度检查） commitment published")
    drill.step(
        engine.fire(
            promise.id,
            "open_check",
            actor=VERIFIER,
            payload={"check_label": "2026年第一季度践诺检查", "check_due": "2026-04-10"},
        ),
        "市信用办开展一季度践诺检查",
    )

    drill.at(when(2026, 3, 2, 9, 0))
    complaint = engine.register(
        "taian_complaint",
        {
            "channel": "hotline",
            "received_date": "2026-03-02",
            "complainant_name": COMPLAINANT,
            "complainant_contact": "0538-555 0101",
            "intake_unit": "ta-12345",
            "competent_department": "ta-czj",
            "complained_unit": "ta-jtj",
            "superior_unit": "ta-district",
            "subject_kind": "purchaser",
            "subject_name": "泰安市某区交通运输局",
            "subject_code": code("11370902MB0123456"),
            "domain": "procurement",
            "content": "采购项目结束已半年，投标保证金20万元仍未退还。",
        },
        actor=INTAKE,
    )
    drill.step(complaint, "12345热线受理投诉 complaint received")
    drill.step(engine.fire(complaint.id, "forward", actor=INTAKE), "转区财政局核查 forwarded")
    drill.at(when(2026, 3, 6, 10, 0))
    drill.step(
        engine.fire(
            complaint.id,
            "find_founded",
            actor=FINANCE,
            payload={
                "verified_facts": "投标保证金20万元逾期未退还，违反政府采购合同约定。",
                "rectification_days": 10,
            },
            comment="限期10日退还",
        ),
        "核查属实，责令限期整改 founded",
    )
    drill.mail()
    drill.at(when(2026, 3, 11, 15, 0))
    drill.step(
        engine.fire(
            complaint.id, "refuse_rectification", actor=BUREAU, comment="保证金已转入其他项目，暂无法退还"
        ),
        "被投诉单位拒不整改 refused",
    )
    drill.step(
        engine.fire(
            complaint.id,
            "confirm_breach",
            actor=FINANCE,
            payload={
                "document_number": "泰某财采〔2026〕4号",
                "finding_date": "2026-03-11",
                "severity": "general",
            },
            comment="查实且拒不整改，认定政务失信",
        ),
        "认定政务失信 breach confirmed",
    )
    record_id = str(engine.get(complaint.id).data["breach_record"])
    record = engine.get(record_id)
    drill.step(record, f"同一事务中生成泰安失信记录（来源投诉 {record.links[0]['case']}）")
    drill.at(when(2026, 3, 12, 9, 0))
    engine.fire(record_id, "accept", actor=VERIFIER)
    drill.step(
        engine.fire(record_id, "confirm", actor=VERIFIER, comment="核查属实"), "市信用办确认记录 confirmed"
    )
    mails = drill.mail()
    leaked = [to for to, text in mails if COMPLAINANT in text]
    drill.note(
        "投诉人信息未出现在任何邮件中 complainant named in no mail"
        if not leaked
        else f"泄露 leaked to {leaked}"
    )

    drill.at(when(2026, 4, 8, 10, 0))
    drill.step(
        engine.fire(
            promise.id,
            "report_check",
            actor=APPROVALS,
            payload={"progress": "一季度企业开办均1个工作日内办结", "evidence": EVIDENCE},
        ),
        "按期报送践诺情况",
    )
    drill.step(
        engine.fire(
            promise.id, "rate_check", actor=VERIFIER, payload={"result": "met"}, comment="按承诺履行"
        ),
        "评定：按承诺履行",
    )
    drill.at(when(2026, 6, 26, 10, 0))
    drill.step(
        engine.fire(
            promise.id,
            "report_fulfilment",
            actor=APPROVALS,
            payload={"result": "上半年全部按时办结", "evidence": EVIDENCE},
        ),
        "报送践诺结果",
    )
    drill.step(engine.fire(promise.id, "confirm_kept", actor=VERIFIER, comment="经核实"), "确认守诺践诺 kept")
    drill.mail()
    drill.verify()
    drill.close()
    return drill.lines


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as temporary:
        main(Path(temporary))
