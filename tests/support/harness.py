"""A scenario harness for the national lifecycle: people, a clock, and short verbs.

Tests read like a caseworker's day: ``h.recorded()``, ``h.later(days=3)``,
``h.fire(rid, "submit_explanation", h.subject, explanation="…")``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from workflow import Actor, Engine, ManualClock
from workflow.engine.views import RecordView
from workflow.testing import (
    MONDAY,
    ORGANISATION,
    RECORDER,
    REVIEWER,
    SHANGHAI,
    SUBJECT,
    THIRD_PARTY,
    VERIFIER,
)

SH = SHANGHAI
T0 = MONDAY  # a Monday
__all__ = ["ORGANISATION", "SH", "T0", "Harness"]


class Harness:
    recorder = RECORDER
    verifier = VERIFIER
    subject = SUBJECT
    reviewer = REVIEWER
    third_party = THIRD_PARTY

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
