"""A responsible unit objects to a record; the finding body corrects it; the auditor checks the history.

Run: python examples/objection.py
Shows the Python API a web console would call: register, fire events with payloads and comments,
read the history, and verify the hash chains.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from zoneinfo import ZoneInfo

from workflow import Actor, Engine, ManualClock, audit

START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
RECORDER = Actor(id="li.lei", role="recorder", unit="penalty-bureau")
VERIFIER = Actor(id="wang.fang", role="verifier", unit="credit-office")
UNIT = Actor(id="zhao.qiang", role="subject", unit="town-7")
REVIEWER = Actor(id="chen.jie", role="reviewer", unit="penalty-bureau")


def main(url: str) -> bool:
    Engine.init(url, simulated_start=START)[0].close()
    clock = ManualClock(START)
    engine = Engine.open(url, clock=clock)
    record = engine.register(
        "national",
        {
            "subject_kind": "township",
            "subject_name": "某镇人民政府",
            "subject_code": "11120111MB00000003",
            "responsible_unit": "town-7",
            "finding_unit": "penalty-bureau",
            "source_type": "administrative_penalty",
            "document_number": "某环罚〔2026〕9号",
            "finding_date": "2026-05-20",
            "facts": "违规堆放建筑垃圾。",
            "domain": "environment",
            "severity": "general",
        },
        actor=RECORDER,
        submit=True,
    )
    rid = record.id
    engine.fire(rid, "accept", actor=VERIFIER)
    engine.fire(rid, "confirm", actor=VERIFIER, comment="核查属实")
    clock.advance(dt.timedelta(days=2))
    marked = engine.fire(rid, "file_objection", actor=UNIT, payload={"reasons": "处罚决定书载明的日期有误"})
    print("标注 marks:", "、".join(marked.marks))
    clock.advance(dt.timedelta(days=1))
    engine.fire(
        rid, "correct", actor=REVIEWER, payload={"finding_date": "2026-05-18"}, comment="更正认定之日"
    )
    for entry in engine.history(rid):
        print(f"{entry.seq:>2} {entry.event_label} ({entry.event}) by {entry.actor}: {entry.comment}")
    report = audit.verify(engine.registry, engine.cases(), real_time=False, subject_key=engine.subject_key)
    print("审计 audit:", "完好 intact" if report.intact else report.problems)
    engine.close()
    return report.intact


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        main(f"sqlite:///{folder}/example.db")
