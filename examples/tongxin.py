"""Tongxin (同心县政务诚信建设重点任务分工及进度安排表): 容错纠错, a broken environmental target commitment
that becomes a record, and an investment-attraction complaint.

Run: python examples/tongxin.py

A township's pilot reform error is found and, meeting every 容错纠错 criterion, exempted instead of
recorded (task 3). The county ecology bureau's environmental target commitment (task 13) falls due
unfulfilled: it is overdue, its superior told; the credit office finds it broken and records it as a
dishonesty record of Tongxin's definition in the same step, linked both ways (task 4: 不守承诺). An
investor's complaint through the investment-attraction channel (task 10) is founded and the township
rectifies within the deadline.
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
    {"code": "tx-gov", "name": "同心县人民政府", "emails": ["gov@tx.example.gov.cn"]},
    {
        "code": "tx-sthj",
        "name": "同心县生态环境局",
        "superior": "tx-gov",
        "emails": ["sthj@tx.example.gov.cn"],
    },
    {"code": "tx-xyb", "name": "同心县社会信用体系建设领导小组办公室", "emails": ["xyb@tx.example.gov.cn"]},
    {
        "code": "tx-town",
        "name": "同心县某镇人民政府",
        "superior": "tx-gov",
        "emails": ["town@tx.example.gov.cn"],
    },
    {"code": "tx-sfj", "name": "同心县司法局", "emails": ["sfj@tx.example.gov.cn"]},
    {"code": "tx-zsj", "name": "同心县招商引资服务中心", "emails": ["zs@tx.example.gov.cn"]},
]
VERIFIER = Actor(id="ma.lan", role="verifier", unit="tx-xyb")
SECOND = Actor(id="na.jie", role="verifier", unit="tx-xyb")
RECORDER = Actor(id="hai.yun", role="recorder", unit="tx-sfj")
BUREAU = Actor(id="ding.wei", role="unit", unit="tx-sthj")
INTAKE = Actor(id="su.mei", role="intake", unit="tx-zsj")
DEPARTMENT = Actor(id="hai.yun", role="department", unit="tx-sfj")
TOWN = Actor(id="ma.qiang", role="subject", unit="tx-town")
EVIDENCE = [{"name": "整改说明", "number": "同某镇〔2026〕7号"}]


def code(body: str) -> str:
    return body + uscc.calc_check_digit(body)


def main(folder: Path, url: str | None = None) -> list[str]:
    drill = Drill(folder, when(2026, 1, 5), UNITS, url=url)
    engine = drill.engine

    promise = engine.register(
        "tongxin_commitment",
        {
            "unit": "tx-sthj",
            "superior_unit": "tx-gov",
            "supervising_unit": "tx-xyb",
            "subject_kind": "department",
            "subject_name": "同心县生态环境局",
            "subject_code": code("11640324MB0123456"),
            "list_title": "同心县2026年环境保护和治理任务目标公开承诺",
            "category": "environment_target",
            "domain": "environment",
            "content": "2026年6月底前完成城区3处黑臭水体整治。",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "due_date": "2026-06-30",
        },
        actor=BUREAU,
    )
    drill.step(promise, "环境保护任务目标公开承诺 commitment published")

    pilot = engine.register(
        "tongxin",
        {
            "subject_kind": "township",
            "subject_name": "同心县某镇人民政府",
            "subject_code": code("11640324MB0000007"),
            "responsible_unit": "tx-town",
            "superior_unit": "tx-gov",
            "finding_unit": "tx-sfj",
            "source_type": "administrative_penalty",
            "document_number": "同司复〔2026〕2号",
            "finding_date": "2026-01-05",
            "facts": "宅基地改革试点中审批程序倒置。",
            "domain": "township",
            "severity": "minor",
        },
        actor=RECORDER,
        submit=True,
    )
    drill.step(pilot, "县司法局登记改革试点失误")
    engine.fire(pilot.id, "accept", actor=VERIFIER)
    drill.step(
        engine.fire(
            pilot.id,
            "exempt",
            actor=VERIFIER,
            payload={
                "reason_code": "trial",
                "no_ban_broken": True,
                "no_private_gain": True,
                "no_intent": True,
                "remediated": True,
                "evidence": EVIDENCE,
            },
            comment="先行先试失误，符合容错纠错情形",
        ),
        "容错纠错，免予记录 exempted",
    )

    drill.at(when(2026, 3, 2, 10, 0))
    complaint = engine.register(
        "tongxin_complaint",
        {
            "channel": "investment",
            "received_date": "2026-03-02",
            "complainant_name": "某新能源企业",
            "intake_unit": "tx-zsj",
            "competent_department": "tx-sfj",
            "complained_unit": "tx-town",
            "superior_unit": "tx-gov",
            "subject_kind": "township",
            "subject_name": "同心县某镇人民政府",
            "subject_code": code("11640324MB0000007"),
            "domain": "investment_attraction",
            "content": "镇政府承诺的厂房配套道路逾期未建。",
        },
        actor=INTAKE,
    )
    drill.step(complaint, "招商引资投诉举报渠道受理投诉")
    drill.step(engine.fire(complaint.id, "forward", actor=INTAKE), "转县司法局核查 forwarded")
    drill.at(when(2026, 3, 9, 10, 0))
    drill.step(
        engine.fire(
            complaint.id,
            "find_founded",
            actor=DEPARTMENT,
            payload={"verified_facts": "配套道路未按协议期限建成", "rectification_days": 60},
            comment="限期60日整改",
        ),
        "核查属实，责令整改 founded",
    )
    drill.mail()
    drill.at(when(2026, 4, 30, 10, 0))
    drill.step(
        engine.fire(
            complaint.id,
            "report_rectification",
            actor=TOWN,
            payload={"report": "道路已建成通车", "documents": EVIDENCE},
        ),
        "镇政府报送整改情况",
    )
    drill.step(
        engine.fire(
            complaint.id,
            "accept_rectification",
            actor=DEPARTMENT,
            payload={"reply": "道路已建成，感谢监督"},
            comment="整改到位",
        ),
        "整改验收并答复投诉人 rectified",
    )

    drill.at(when(2026, 6, 23, 9, 0))
    drill.mail()
    drill.at(when(2026, 6, 30, 17, 1))
    drill.step(engine.get(promise.id), "承诺到期未践诺 overdue")
    drill.mail()
    drill.at(when(2026, 7, 6, 10, 0))
    broken = engine.fire(
        promise.id,
        "break_and_record",
        actor=VERIFIER,
        payload={
            "document_number": "同信用办〔2026〕5号",
            "finding_date": "2026-07-06",
            "severity": "general",
            "facts": "承诺6月底前完成3处黑臭水体整治，到期仅完成1处，且未说明原因。",
        },
        comment="未践诺，记入政务失信记录",
    )
    drill.step(broken, "认定未践诺并记入政务失信记录 broken")
    record_id = str(broken.data["breach_record"])
    record = engine.get(record_id)
    drill.step(record, f"同一事务中生成失信记录 record opened（来源 {record.links[0]['case']}）")
    engine.fire(record_id, "accept", actor=SECOND)
    drill.step(
        engine.fire(record_id, "confirm", actor=SECOND, comment="核查属实"),
        "另一审核人确认记录 confirmed (four eyes)",
    )
    drill.mail()
    drill.verify()
    drill.close()
    return drill.lines


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as temporary:
        main(Path(temporary))
