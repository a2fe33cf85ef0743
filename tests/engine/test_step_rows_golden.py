"""The rows a sequence of commands writes are pinned byte for byte (issue 15: the write path is
optimised, and what it writes must not move).

A fixed set of scenarios on the national definition — the happy path with the sweep's expiry
and archive, a return and resubmission, a rejection, an objection that pauses and resumes a
deadline, an extension, an overdue explanation with its reminders, a revocation with
restoration, an idempotent replay — runs on a simulated clock with case ids drawn from a
counter instead of at random. Every row of the tables a command writes (records, per-track
states, history with its hash chain, deadlines, reminders, outbox, personal data) is dumped
with its JSON columns as the stored text and compared with ``tests/golden/steps/<backend>.json``.

Set ``CHENGXIN_UPDATE_GOLDEN=1`` to rewrite the files — only when a change of what is written is
intended.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from support.harness import SH, Harness

from storage import coretables as ct
from workflow.engine import commands

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "steps"
TABLES = (
    ct.record_t,
    ct.record_state_t,
    ct.event_t,
    ct.deadline_t,
    ct.reminder_t,
    ct.outbox_t,
    ct.personal_t,
)
# Columns whose value is random by design: the database's pepper keys the subject digests.
RANDOM = {("record", "subject_key"), ("personal", "subject_key")}


@pytest.fixture
def counted_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = itertools.count(1)

    def new_case_id(prefix: str, now: dt.datetime) -> str:
        day = now.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y%m%d")
        return f"{prefix}{day}-{next(counter):06d}"

    monkeypatch.setattr(commands, "new_case_id", new_case_id)


def _scenarios(h: Harness) -> None:
    # the happy path, then the sweep lets the publication expire and the case be archived
    happy = h.recorded()
    h.later(minutes=1)
    h.fire(happy, "publish", h.verifier)
    h.fire(happy, "submit_explanation", h.subject, explanation="因资金调度不及时，未按判决支付工程款。")
    h.fire(happy, "submit_rectification_report", h.subject, report="已全额支付工程款及利息。")
    h.fire(happy, "accept_rectification", h.verifier, comment="整改到位")

    # returned for supplementation, edited, resubmitted, recorded
    returned = h.submitted()
    h.later(minutes=5)
    h.fire(returned, "accept", h.verifier)
    h.fire(returned, "return", h.verifier, comment="缺少判决书扫描件")
    h.fire(returned, "edit", h.recorder, documents=["（2026）津0103民初1234号:民事判决书"])
    h.fire(returned, "submit", h.recorder)
    h.fire(returned, "accept", h.verifier)
    h.fire(returned, "confirm", h.verifier, comment="补正后核查属实")

    # rejected
    rejected = h.submitted()
    h.fire(rejected, "accept", h.verifier)
    h.fire(rejected, "reject", h.verifier, comment="不属于政务失信情形")

    # an objection pauses the explanation deadline; maintained, the clock resumes
    objected = h.recorded()
    h.at(dt.datetime(2026, 5, 13, 10, 0, tzinfo=SH))
    h.fire(objected, "file_objection", h.subject, reasons="判决已撤销")
    h.at(dt.datetime(2026, 5, 18, 10, 0, tzinfo=SH))
    h.fire(objected, "maintain", h.reviewer, comment="异议不成立")

    # an objection decision extended twice
    extended = h.recorded()
    h.fire(extended, "file_objection", h.third_party, reasons="事实有误", filed_by="某公司")
    h.fire(
        extended,
        "extend_objection",
        h.reviewer,
        comment="需调取卷宗",
        working_days=10,
        approved_by="分管领导",
    )
    h.fire(extended, "extend_objection", h.reviewer, comment="再延", working_days=5, approved_by="分管领导")

    # revoked with wrong sanctions: withdrawal and restoration
    revoked = h.recorded()
    h.fire(revoked, "publish", h.verifier)
    h.fire(revoked, "file_objection", h.subject, reasons="判决已被再审撤销")
    h.fire(revoked, "revoke", h.reviewer, comment="再审撤销原判决", sanctions_wrong=True)
    h.fire(revoked, "confirm_withdrawal", h.verifier)
    h.fire(
        revoked, "complete_restoration", h.verifier, comment="已发函说明", measures="在信用网站刊登更正说明"
    )
    h.fire(revoked, "close_revoked", h.verifier, comment="办结")

    # an idempotency key: the second request with it writes nothing
    keyed = h.draft().id
    h.engine.fire(keyed, "submit", actor=h.recorder, idempotency_key="golden-key-1")
    h.engine.fire(keyed, "submit", actor=h.recorder, idempotency_key="golden-key-1")

    # the explanation of a published case runs late: reminders, overdue, met late
    late = h.recorded()
    h.fire(late, "publish", h.verifier)
    due = h.deadline(late, "written_explanation").due_at
    h.at(due - dt.timedelta(minutes=1))
    h.engine.sweep()
    h.at(due + dt.timedelta(minutes=1))
    h.engine.sweep()
    h.fire(late, "submit_explanation", h.subject, explanation="逾期说明")


def _later(h: Harness) -> None:
    # far later: publications expire, retention ends, cases are archived
    h.at(dt.datetime(2027, 5, 10, 17, 1, tzinfo=SH))
    while h.engine.sweep().fired:
        pass
    h.at(dt.datetime(2031, 5, 9, 9, 0, tzinfo=SH))
    while h.engine.sweep().fired:
        pass


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _dump(h: Harness) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    with h.engine.store.db.reading() as c:
        for table in TABLES:
            columns = [
                sa.cast(column, sa.Text).label(column.name) if isinstance(column.type, sa.JSON) else column
                for column in table.c
            ]
            keys = list(table.primary_key.columns) or list(table.c)
            rows = c.execute(sa.select(*columns).order_by(*keys)).mappings().all()
            out[table.name] = [
                {
                    name: "<random>" if (table.name, name) in RANDOM and value is not None else _value(value)
                    for name, value in row.items()
                }
                for row in rows
            ]
    return out


@pytest.mark.usefixtures("counted_ids")
def test_the_rows_written_are_byte_for_byte_the_golden_ones(h: Harness, database_url: str) -> None:
    _scenarios(h)
    before = _dump(h)  # the parallel tracks' rows still there
    _later(h)
    dumped = {f"{name} (before expiry)": rows for name, rows in before.items()} | _dump(h)
    assert sum(len(rows) for rows in dumped.values()) > 150  # the scenarios did write
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    golden = GOLDEN / f"{backend}.json"
    text = json.dumps(dumped, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if os.environ.get("CHENGXIN_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8", newline="")
    assert golden.exists(), f"{golden} is missing; run with CHENGXIN_UPDATE_GOLDEN=1 to create it"
    expected = json.loads(golden.read_text(encoding="utf-8"))
    for table, rows in expected.items():
        assert len(dumped[table]) == len(rows), f"{table}: {len(dumped[table])} rows, golden {len(rows)}"
        for got, want in zip(dumped[table], rows, strict=True):
            assert got == want, f"{table} row differs from the golden file"
    assert text == golden.read_text(encoding="utf-8")
