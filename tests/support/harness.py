"""A scenario harness for the national lifecycle: people, a clock, and short verbs.

Tests read like a caseworker's day: ``h.recorded()``, ``h.later(days=3)``,
``h.fire(rid, "submit_explanation", h.subject, explanation="…")``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from workflow import Actor, Engine, ManualClock
from workflow.engine.views import RecordView

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 5, 11, 9, 0, tzinfo=SH)  # a Monday

ORGANISATION = {
    "subject_kind": "department",
    "subject_name": "某区住房和建设委员会",
    "subject_code": "91110000600037341L",
    "responsible_unit": "hexi-zjw",
    "superior_unit": "hexi-gov",
    "finding_unit": "court-3",
    "source_type": "judgment",
    "document_number": "（2026）津0103民初1234号",
    "finding_date": "2026-05-08",
    "facts": "拖欠工程款，拒不履行生效判决。",
    "domain": "procurement",
    "severity": "general",
}
PERSON_ID = "11010519491231002X"
PERSON = {
    **ORGANISATION,
    "subject_kind": "civil_servant",
    "subject_name": "张某",
    "subject_code": None,
    "subject_id_number": PERSON_ID,
    "employer": "某区住房和建设委员会",
    "source_type": "disciplinary_sanction",
    "disciplinary_sanction": "demerit",
}


class Harness:
    recorder = Actor(id="li.lei", role="recorder", unit="court-3")
    verifier = Actor(id="wang.fang", role="verifier", unit="credit-office")
    subject = Actor(id="zhao.qiang", role="subject", unit="hexi-zjw")
    reviewer = Actor(id="chen.jie", role="reviewer", unit="court-3")
    third_party = Actor(id="sun.li", role="third_party", unit="public")

    def __init__(self, engine: Engine, clock: ManualClock) -> None:
        self.engine = engine
        self.clock = clock

    @classmethod
    def create(cls, url: str, start: dt.datetime = T0) -> Harness:
        Engine.init(url, simulated_start=start)[0].close()
        clock = ManualClock(start)
        return cls(Engine.open(url, clock=clock), clock)

    def later(self, **delta: float) -> dt.datetime:
        return self.clock.advance(dt.timedelta(**delta))

    def at(self, when: dt.datetime) -> None:
        self.clock.set(when)

    def fire(self, record_id: str, event: str, actor: Actor, comment: str = "", **payload: Any) -> RecordView:
        return self.engine.fire(record_id, event, actor=actor, payload=payload, comment=comment)

    def draft(self, **overrides: Any) -> RecordView:
        fields = {k: v for k, v in {**ORGANISATION, **overrides}.items() if v is not None}
        return self.engine.register("national", fields, actor=self.recorder)

    def submitted(self, **overrides: Any) -> str:
        record_id = self.draft(**overrides).id
        self.fire(record_id, "submit", self.recorder)
        return record_id

    def recorded(self, **overrides: Any) -> str:
        record_id = self.submitted(**overrides)
        self.later(hours=1)
        self.fire(record_id, "accept", self.verifier)
        self.fire(record_id, "confirm", self.verifier, comment="核查属实，予以记录")
        return record_id

    def tracks(self, record_id: str) -> dict[str, str]:
        return {t.track: t.state for t in self.engine.get(record_id).tracks}

    def deadline(self, record_id: str, name: str) -> Any:
        found = [d for d in self.engine.get(record_id).deadlines if d.name == name]
        assert found, f"no deadline {name}"
        return found[-1]

    def events(self, record_id: str) -> list[str]:
        return [e.event for e in self.engine.history(record_id)]
