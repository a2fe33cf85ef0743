"""Guangyuan (《广元市政务诚信建设实施方案》): a county's wage arrears, wrongly sanctioned, revoked and its
reputation restored.

Run: python examples/guangyuan.py

A county housing bureau is recorded for arrears to a contractor's migrant workers (二、（三）: 拖欠工程款和
农民工工资), the credit office applies Guangyuan's sanctions (二、（二）4: public criticism, honour ban); the
bureau objects with the payment vouchers, the finding body revokes the record and, the sanctions
having been wrong, a reputation-restoration task (二、（二）5: 恢复信誉、消除不良影响) is completed before the
revoked record is archived. Beside it: a community's public commitment (二、（三）6) is kept, and a
complaint through the government website (二、（一）3) is found unfounded and the complainant answered.
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
    {"code": "gy-county", "name": "某县人民政府", "emails": ["gov@county.example.gov.cn"]},
    {
        "code": "gy-zjj",
        "name": "某县住房和城乡建设局",
        "superior": "gy-county",
        "emails": ["zjj@county.example.gov.cn"],
    },
    {"code": "gy-rsj", "name": "某县人力资源和社会保障局", "emails": ["rsj@county.example.gov.cn"]},
    {"code": "gy-fgw", "name": "广元市发展和改革委员会（市信用办）", "emails": ["xyb@gy.example.gov.cn"]},
    {"code": "gy-web", "name": "某县人民政府网站", "emails": ["web@county.example.gov.cn"]},
    {
        "code": "gy-sq",
        "name": "某县某社区居民委员会",
        "superior": "gy-county",
        "emails": ["sq@county.example.gov.cn"],
    },
]
RECORDER = Actor(id="yang.bo", role="recorder", unit="gy-rsj")
VERIFIER = Actor(id="tang.li", role="verifier", unit="gy-fgw")
BUREAU = Actor(id="luo.gang", role="subject", unit="gy-zjj")
REVIEWER = Actor(id="he.jun", role="reviewer", unit="gy-rsj")
INTAKE = Actor(id="xu.ying", role="intake", unit="gy-web")
DEPARTMENT = Actor(id="yang.bo", role="department", unit="gy-rsj")
COMMUNITY = Actor(id="feng.hui", role="unit", unit="gy-sq")
VOUCHERS = [{"name": "工资支付凭证", "number": "某县住建付〔2026〕16号"}]


def code(body: str) -> str:
    return body + uscc.calc_check_digit(body)


def main(folder: Path, url: str | None = None) -> list[str]:
    drill = Drill(folder, when(2026, 3, 2), UNITS, url=url)
    engine = drill.engine

    promise = engine.register(
        "guangyuan_commitment",
        {
            "unit": "gy-sq",
            "superior_unit": "gy-county",
            "supervising_unit": "gy-fgw",
            "subject_kind": "township",
            "subject_name": "某县某社区居民委员会",
            "subject_code": code("55510824MB0000001"),
            "list_title": "某社区2026年公开承诺事项",
            "category": "township_public",
            "domain": "township",
            "content": "低保、养老补贴等惠民政策每季度公开一次落实情况。",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "due_date": "2026-06-30",
        },
        actor=COMMUNITY,
    )
    drill.step(promise, "社区公开承诺 public commitment published")

    record = engine.register(
        "guangyuan",
        {
            "subject_kind": "department",
            "subject_name": "某县住房和城乡建设局",
            "subject_code": code("11510824MB0123456"),
            "responsible_unit": "gy-zjj",
            "superior_unit": "gy-county",
            "finding_unit": "gy-rsj",
            "source_type": "arrears",
            "document_number": "某县人社监〔2026〕3号",
            "finding_date": "2026-03-02",
            "facts": "某安置房项目拖欠农民工工资43万元，经责令后仍未支付。",
            "domain": "wage_arrears",
            "severity": "general",
        },
        actor=RECORDER,
        submit=True,
    )
    drill.step(record, "县人社局登记并提交失信记录（拖欠农民工工资）")
    engine.fire(record.id, "accept", actor=VERIFIER)
    drill.step(
        engine.fire(record.id, "confirm", actor=VERIFIER, comment="核查属实"), "市信用办确认记录 confirmed"
    )
    drill.step(engine.fire(record.id, "publish", actor=VERIFIER), "在“信用中国（四川广元）网”公示 published")
    drill.step(
        engine.fire(
            record.id,
            "apply_sanctions",
            actor=VERIFIER,
            payload={"measures": ["public_criticism", "honour_ban"]},
            comment="依方案实施惩戒",
        ),
        "实施惩戒：公开通报批评、取消荣誉评选资格 sanctions applied",
    )
    drill.mail()

    drill.at(when(2026, 3, 5, 10, 0))
    drill.step(
        engine.fire(
            record.id,
            "file_objection",
            actor=BUREAU,
            payload={"reasons": "工资已于认定前由总包单位代付，有支付凭证", "evidence": VOUCHERS},
        ),
        "住建局提出异议并附支付凭证 objection filed",
    )
    drill.at(when(2026, 3, 10, 15, 0))
    drill.step(
        engine.fire(
            record.id,
            "revoke",
            actor=REVIEWER,
            payload={"sanctions_wrong": True},
            comment="经核实认定前已付清，撤销记录",
        ),
        "认定单位撤销记录，惩戒错误 revoked",
    )
    drill.step(engine.fire(record.id, "confirm_withdrawal", actor=VERIFIER), "撤下公示 publication withdrawn")
    drill.mail()
    drill.at(when(2026, 3, 20, 10, 0))
    drill.step(
        engine.fire(
            record.id,
            "complete_restoration",
            actor=VERIFIER,
            payload={"measures": "在“信用中国（四川广元）网”发布撤销说明\n向县政府书面说明情况"},
            comment="已恢复信誉、消除不良影响",
        ),
        "恢复信誉、消除不良影响 reputation restored",
    )
    drill.step(
        engine.fire(record.id, "close_revoked", actor=VERIFIER, comment="撤销事项办结"),
        "撤销事项办结归档 archived",
    )

    drill.mail()
    drill.at(when(2026, 4, 1, 9, 30))
    complaint = engine.register(
        "guangyuan_complaint",
        {
            "channel": "website",
            "received_date": "2026-04-01",
            "complainant_name": "刘某",
            "intake_unit": "gy-web",
            "competent_department": "gy-rsj",
            "complained_unit": "gy-zjj",
            "superior_unit": "gy-county",
            "subject_kind": "department",
            "subject_name": "某县住房和城乡建设局",
            "subject_code": code("11510824MB0123456"),
            "domain": "other",
            "content": "反映另一项目仍拖欠工资。",
        },
        actor=INTAKE,
    )
    drill.step(complaint, "县政府网站受理投诉 complaint received")
    drill.step(engine.fire(complaint.id, "forward", actor=INTAKE), "转县人社局核查 forwarded")
    drill.at(when(2026, 4, 8, 16, 0))
    drill.step(
        engine.fire(
            complaint.id,
            "reply_unfounded",
            actor=DEPARTMENT,
            payload={"reply": "经核查，该项目工资已按月足额支付。", "verified_facts": "工资专户流水齐全"},
            comment="不属实",
        ),
        "核查不属实并答复投诉人 unfounded",
    )

    drill.at(when(2026, 6, 26, 10, 0))
    drill.step(
        engine.fire(
            promise.id,
            "report_fulfilment",
            actor=COMMUNITY,
            payload={
                "result": "两个季度均已公开",
                "evidence": [{"name": "公开栏照片", "number": "2026-Q1/Q2"}],
            },
        ),
        "社区报送践诺结果",
    )
    drill.step(engine.fire(promise.id, "confirm_kept", actor=VERIFIER, comment="已核实"), "确认守诺践诺 kept")
    drill.mail()
    drill.verify()
    drill.close()
    return drill.lines


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as temporary:
        main(Path(temporary))
