"""Supervision rounds opened by schedule (``workflow.runtime.rounds``), on SQLite and PostgreSQL.

A round opens once per unit and period however many engines check, periods missed while the
engine was down included; a round for all units reaches units of the directory that have no
records; a round left unanswered past its deadline is marked overdue by the sweep.
"""

from __future__ import annotations

import datetime as dt

from support.harness import ORGANISATION, SH, Harness

from workflow import Engine, ManualClock
from workflow.runtime.rounds import open_due_rounds


def test_supervision_rounds_open_once_per_unit_and_period_including_missed_ones(
    h: Harness, database_url: str
) -> None:
    a = h.engine.register("tianjin", ORGANISATION, actor=h.recorder, submit=True).id
    h.engine.register(
        "tianjin",
        {**ORGANISATION, "responsible_unit": "dasi-town", "superior_unit": "xiqing-gov"},
        actor=h.recorder,
        submit=True,
    )
    h.fire(a, "accept", h.verifier)
    h.fire(a, "confirm", h.verifier, comment="属实")
    h.at(dt.datetime(2026, 12, 2, 10, 0, tzinfo=SH))  # the engine was down on 06-01 and 12-01
    first = open_due_rounds(h.engine)
    other = Engine.open(database_url, clock=ManualClock(h.clock.now()))
    again = open_due_rounds(other)
    other.close()
    assert len(first.opened) == 4 and again.opened == []
    rounds = h.engine.query(definition="supervision", limit=100)
    keys = sorted((v.data["responsible_unit"], v.data["period"]) for v in rounds)
    assert keys == [
        ("dasi-town", "2026-06-01"),
        ("dasi-town", "2026-12-01"),
        ("hexi-zjw", "2026-06-01"),
        ("hexi-zjw", "2026-12-01"),
    ]
    hexi = next(
        v for v in rounds if v.data["responsible_unit"] == "hexi-zjw" and v.data["period"] == "2026-12-01"
    )
    assert hexi.data["open_records"] == 1
    assert hexi.data["superior_unit"] == "hexi-gov"
    answer = h.fire(hexi.id, "answer", h.subject, report="已按要求整改")
    assert answer.state == "answered"
    done = h.fire(hexi.id, "conclude", h.verifier, comment="整改到位", rating="good")
    assert done.state == "concluded"


def test_a_round_for_all_units_reaches_directory_units_without_records(h: Harness) -> None:
    h.engine.register("tianjin", ORGANISATION, actor=h.recorder, submit=True)
    h.engine.units.save(
        [
            {
                "code": "jinnan-fgw",
                "name": "津南区发展改革委",
                "superior": "jinnan-gov",
                "emails": ["fgw@jn.example"],
                "jurisdiction": "tianjin",
                "level": "department",
            },
            {"code": "hexi-zjw", "name": "河西区住房建设委", "superior": None, "emails": []},
        ],
    )
    h.at(dt.datetime(2026, 6, 1, 9, 30, tzinfo=SH))
    opened = open_due_rounds(h.engine).opened
    rounds = {h.engine.get(rid).data["responsible_unit"]: h.engine.get(rid).data for rid in opened}
    assert sorted(rounds) == ["hexi-zjw", "jinnan-fgw"]
    assert rounds["jinnan-fgw"]["open_records"] == 0 and rounds["jinnan-fgw"]["superior_unit"] == "jinnan-gov"
    assert rounds["hexi-zjw"]["superior_unit"] == "hexi-gov"  # from its record, the directory has none


def test_an_unanswered_round_is_marked_overdue(h: Harness) -> None:
    h.engine.register("tianjin", ORGANISATION, actor=h.recorder, submit=True)
    h.at(dt.datetime(2026, 6, 1, 9, 30, tzinfo=SH))
    [rid] = open_due_rounds(h.engine).opened
    h.at(dt.datetime(2026, 6, 20, 9, 0, tzinfo=SH))
    h.engine.sweep()
    h.engine.sweep()
    view = h.engine.get(rid)
    assert view.state == "answer_overdue" and view.overdue
