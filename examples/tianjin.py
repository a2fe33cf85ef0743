"""Tianjin (津政发〔2017〕29号 and its work ledger): a district bureau's procurement breach, end to end.

Run: python examples/tianjin.py

A district housing bureau, as purchaser, withheld payment after acceptance (二、（三）1). The court's
finding is registered on Tianjin's record definition and confirmed on 2026-09-24; the written
explanation (10 working days, 二、（二）4) falls over the Mid-Autumn and National Day holidays and is
due 2026-10-15; the bureau misses it, the district government is told; the bureau explains, rectifies
and the report is accepted; its objection is maintained; once the minimum publication period of a
一般 record has passed it applies for repair and the finding court grants it. Beside it: the bureau's
work-ledger task has its 2026 mid-year check answered late; a supplier's complaint through 天津政务网 is
found founded and rectified; a street office's public commitment (二、（三）6) is kept. Everything runs
on a SQLite file with a simulated clock; notices are written to a mail folder and shown as they go.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _drill import Drill, when
from stdnum.cn import uscc

from workflow import Actor
from workflow.runtime.ledgers import import_ledger, open_due_checks

UNITS = [
    {"code": "hexi-gov", "name": "某区人民政府", "emails": ["gov@hexi.example.gov.cn"]},
    {
        "code": "hexi-zjw",
        "name": "某区住房和建设委员会",
        "superior": "hexi-gov",
        "emails": ["zjw@hexi.example.gov.cn"],
    },
    {"code": "hexi-court", "name": "天津市某区人民法院", "emails": ["court@hexi.example.gov.cn"]},
    {"code": "tj-fgw", "name": "天津市发展和改革委员会", "emails": ["xyc@fgw.example.gov.cn"]},
    {"code": "hexi-czj", "name": "某区财政局", "emails": ["czj@hexi.example.gov.cn"]},
    {"code": "tj-zwfw", "name": "天津市政务服务办公室（天津政务网）", "emails": ["zwfw@tj.example.gov.cn"]},
    {
        "code": "yuexiu-jd",
        "name": "某区某街道办事处",
        "superior": "hexi-gov",
        "emails": ["yxl@hexi.example.gov.cn"],
    },
    {"code": "市委组织部", "name": "市委组织部", "emails": ["zzb@tj.example.gov.cn"]},
]
RECORDER = Actor(id="sun.li", role="recorder", unit="hexi-court")
VERIFIER = Actor(id="wang.fang", role="verifier", unit="tj-fgw")
BUREAU = Actor(id="zhao.qiang", role="subject", unit="hexi-zjw")
REVIEWER = Actor(id="chen.jie", role="reviewer", unit="hexi-court")
INTAKE = Actor(id="li.na", role="intake", unit="tj-zwfw")
FINANCE = Actor(id="liu.min", role="department", unit="hexi-czj")
STREET = Actor(id="he.ping", role="unit", unit="yuexiu-jd")
OFFICE = Actor(id="wang.fang", role="verifier", unit="tj-fgw")
LEDGER_DEPT = Actor(id="zhou.yan", role="department", unit="市委组织部")
LEDGER_LEAD = Actor(id="wang.fang", role="verifier", unit="tj-fgw")
EVIDENCE = [{"name": "付款凭证", "number": "某区住建付〔2026〕88号"}]


def code(body: str) -> str:
    return body + uscc.calc_check_digit(body)


def _ledger_check_answered_late(drill: Drill) -> None:
    """The work ledger: the 2026 mid-year check of task 1, answered late."""
    engine = drill.engine
    imported = import_ledger(engine, "tianjin", years=(2026, 2026))
    drill.note(f"导入工作台账 ledger imported: 天津市政务诚信体系建设工作台账 {len(imported.created)} 项任务")
    task = next(v for v in engine.query(definition="tianjin_ledger", limit=100) if v.data["number"] == 1)
    drill.at(when(2026, 6, 1))
    open_due_checks(engine)
    drill.step(engine.get(task.id), "开展检查 2026年年中检查（台账：每年年中检查，年底考核）")
    drill.at(when(2026, 7, 1, 9, 0))
    drill.step(engine.get(task.id), "年中检查报送期限已过")
    drill.mail()
    drill.at(when(2026, 7, 3, 10, 0))
    drill.step(
        engine.fire(
            task.id,
            "report_progress",
            actor=LEDGER_DEPT,
            payload={"progress": "评估管理办法已起草", "documents": EVIDENCE},
        ),
        "责任部门逾期报送工作进展 (answered late)",
    )
    drill.step(
        engine.fire(
            task.id,
            "rate_check",
            actor=LEDGER_LEAD,
            payload={"rating": "needs_improvement"},
            comment="逾期报送，进度滞后",
        ),
        "信用牵头部门评定：需改进",
    )


def _complaint_rectified(drill: Drill) -> None:
    """A supplier's complaint through 天津政务网, founded and rectified."""
    engine = drill.engine
    complaint = engine.register(
        "tianjin_complaint",
        {
            "channel": "website",
            "received_date": "2026-11-05",
            "complainant_name": "某建材公司 王经理",
            "complainant_contact": "022-5555 0101",
            "intake_unit": "tj-zwfw",
            "competent_department": "hexi-czj",
            "complained_unit": "hexi-zjw",
            "superior_unit": "hexi-gov",
            "subject_kind": "purchaser",
            "subject_name": "某区住房和建设委员会",
            "subject_code": code("11120103MB1234567"),
            "domain": "procurement",
            "content": "另一采购项目验收后三个月未支付尾款。",
        },
        actor=INTAKE,
    )
    drill.step(complaint, "天津政务网受理投诉 complaint received")
    drill.step(engine.fire(complaint.id, "forward", actor=INTAKE), "转区财政局核查 forwarded")
    drill.at(when(2026, 11, 10, 10, 0))
    drill.step(
        engine.fire(
            complaint.id,
            "find_founded",
            actor=FINANCE,
            payload={"verified_facts": "尾款12万元逾期未付，属实", "rectification_days": 15},
            comment="限期15日支付",
        ),
        "核查属实，责令整改 founded",
    )
    drill.mail()
    drill.at(when(2026, 11, 20, 10, 0))
    drill.step(
        engine.fire(
            complaint.id,
            "report_rectification",
            actor=BUREAU,
            payload={"report": "尾款已支付", "documents": EVIDENCE},
        ),
        "被投诉单位报送整改情况",
    )
    drill.step(
        engine.fire(
            complaint.id,
            "accept_rectification",
            actor=FINANCE,
            payload={"reply": "尾款已付清，感谢监督"},
            comment="整改到位，答复投诉人",
        ),
        "整改验收并答复投诉人 rectified",
    )
    drill.mail()


def main(folder: Path, url: str | None = None) -> list[str]:
    drill = Drill(folder, when(2026, 5, 25), UNITS, url=url)
    engine = drill.engine

    _ledger_check_answered_late(drill)

    # --- the street office's public commitment (二、（三）6), kept
    promise = engine.register(
        "tianjin_commitment",
        {
            "unit": "yuexiu-jd",
            "superior_unit": "hexi-gov",
            "supervising_unit": "tj-fgw",
            "subject_kind": "township",
            "subject_name": "某区某街道办事处",
            "subject_code": code("11120103MB0987654"),
            "list_title": "某街道2026年度公开承诺事项",
            "category": "township_public",
            "domain": "township",
            "content": "辖区养老服务补贴申请10个工作日内办结并公开办理结果。",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "due_date": "2026-09-30",
        },
        actor=STREET,
    )
    drill.step(promise, "街道公开承诺 public commitment published")

    # --- the record: a procurement breach found by the court
    drill.at(when(2026, 9, 24, 9, 0))
    record = engine.register(
        "tianjin",
        {
            "subject_kind": "department",
            "subject_name": "某区住房和建设委员会",
            "subject_code": code("11120103MB1234567"),
            "responsible_unit": "hexi-zjw",
            "superior_unit": "hexi-gov",
            "finding_unit": "hexi-court",
            "source_type": "judgment",
            "document_number": "（2026）津0103民初1234号",
            "finding_date": "2026-09-22",
            "facts": "作为采购人在项目验收合格后拒不支付中标供应商货款86.5万元，经判决后仍未履行。",
            "domain": "procurement",
            "severity": "general",
        },
        actor=RECORDER,
        submit=True,
    )
    drill.step(record, "法院登记并提交失信记录 registered and submitted")
    engine.fire(record.id, "accept", actor=VERIFIER)
    confirmed = engine.fire(record.id, "confirm", actor=VERIFIER, comment="判决生效，事实清楚，予以记录")
    drill.step(confirmed, "市发展改革委确认记录 confirmed")
    due = next(d for d in confirmed.deadlines if d.name == "written_explanation")
    drill.note(
        f"书面说明原因期限 due {due.due_at.astimezone(when(2026, 1, 1).tzinfo):%Y-%m-%d %H:%M}："
        + "；".join(due.explanation)
    )
    drill.step(engine.fire(record.id, "publish", actor=VERIFIER), "在“信用天津”公示 published")
    drill.mail()

    # --- the commitment's result, reported before its due date and confirmed
    drill.at(when(2026, 9, 28, 10, 0))
    drill.step(
        engine.fire(
            promise.id,
            "report_fulfilment",
            actor=STREET,
            payload={"result": "申请均10个工作日内办结并公开", "evidence": EVIDENCE},
        ),
        "街道报送践诺结果 fulfilment reported",
    )
    drill.step(
        engine.fire(promise.id, "confirm_kept", actor=OFFICE, comment="经抽查属实"), "确认守诺践诺 kept"
    )

    drill.at(when(2026, 10, 14, 9, 0))
    drill.mail()
    drill.at(when(2026, 10, 15, 17, 1))
    drill.step(engine.get(record.id), "国庆假期后书面说明逾期 explanation overdue")
    drill.mail()

    drill.at(when(2026, 10, 16, 10, 0))
    drill.step(
        engine.fire(
            record.id,
            "submit_explanation",
            actor=BUREAU,
            payload={"explanation": "财政资金拨付延迟，已协调解决"},
        ),
        "区住建委提交书面说明（逾期） explanation submitted late",
    )
    drill.at(when(2026, 10, 30, 10, 0))
    drill.step(
        engine.fire(
            record.id,
            "submit_rectification_report",
            actor=BUREAU,
            payload={"report": "货款及利息已全额支付", "documents": EVIDENCE},
        ),
        "报送整改报告 rectification report",
    )
    drill.step(
        engine.fire(record.id, "accept_rectification", actor=VERIFIER, comment="整改到位"),
        "整改验收 rectification accepted",
    )
    drill.at(when(2026, 11, 2, 9, 30))
    drill.step(
        engine.fire(
            record.id,
            "file_objection",
            actor=BUREAU,
            payload={"reasons": "延迟付款系财政拨付原因，不应记为失信"},
        ),
        "提出异议（标注异议处理中） objection filed",
    )
    drill.at(when(2026, 11, 5, 15, 0))
    drill.step(
        engine.fire(record.id, "maintain", actor=REVIEWER, comment="判决已认定采购人违约，维持记录"),
        "异议处理：维持 objection maintained",
    )
    drill.mail()

    _complaint_rectified(drill)

    # --- repair once the minimum publication period (一般: 3 months from 2026-09-22) has passed
    drill.at(when(2026, 12, 28, 9, 0))
    drill.step(
        engine.fire(
            record.id,
            "apply_repair",
            actor=BUREAU,
            payload={
                "means": ["commitment", "rectification"],
                "commitment": [{"name": "信用承诺书", "number": "某区住建诺〔2026〕1号"}],
            },
        ),
        "最短公示期满后申请信用修复 repair applied",
    )
    drill.at(when(2026, 12, 30, 10, 0))
    drill.step(
        engine.fire(record.id, "grant_repair", actor=REVIEWER, comment="整改完成，准予修复"),
        "认定法院准予修复 repaired",
    )
    drill.mail()
    drill.verify()
    drill.close()
    return drill.lines


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as temporary:
        main(Path(temporary))
