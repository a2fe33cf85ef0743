"""A definition of another kind runs on the same engine: a small complaint workflow with its own id
prefix, main track and indexed fields goes through register, fire, the sweep, mail, verify and
replay — and no dishonesty-record column is filled for it."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from workflow import Actor, Dispatcher, Engine, MailSettings, ManualClock, audit

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 5, 11, 9, 0, tzinfo=SH)  # a Monday

COMPLAINT = """
name: test_complaint
version: 1
kind: complaint
id_prefix: TS
main_track: handling
title: 投诉举报办理（测试）
jurisdiction: 测试
legal_basis: 测试依据
roles:
  registrar: {label: 受理人}
  handler: {label: 被投诉单位}
  system: {label: 系统, system: true}
fields:
  channel: {type: string, label: 投诉渠道, required: true, max_length: 50}
  complained_unit: {type: unit, label: 被投诉单位, required: true}
  received_on: {type: date, label: 收到日期, required: true}
  summary: {type: text, label: 投诉内容, required: true, max_length: 2000}
index:
  responsible_unit: complained_unit
  case_date: received_on
tracks:
  handling:
    label: 办理
    initial: received
    states:
      received: {label: 已受理}
      forwarded: {label: 已转办}
      late: {label: 核查逾期, overdue: true}
      answered: {label: 已答复, final: true}
events:
  receive:
    label: 受理
    roles: [registrar]
    creates: true
    legal_basis: 测试依据 一
  forward:
    label: 转办
    roles: [registrar]
    transitions: [{from: received, to: forwarded}]
    legal_basis: 测试依据 二
  answer:
    label: 答复
    roles: [handler]
    transitions: [{from: [forwarded, late], to: answered}]
    comment: required
    guards: [{guard: actor_unit, field: complained_unit, message: 由被投诉单位答复}]
    legal_basis: 测试依据 三
  mark_late:
    label: 核查逾期
    roles: [system]
    transitions: [{from: forwarded, to: late}]
    legal_basis: 测试依据 四
deadlines:
  verification:
    label: 核查期限
    while: {handling: [forwarded, late]}
    period: {working_days: 10}
    ladder: unit
    on_expiry: {event: mark_late}
    legal_basis: 测试依据 五
ladders:
  unit:
    legal_basis: 测试依据 五
    rungs:
      - {name: before_1, label: 到期前1个工作日提醒, kind: before, working_days: 1, notify: [{template: reminder, to: complained_unit}]}
      - {name: overdue, label: 逾期通知, kind: overdue, notify: [{template: overdue, to: complained_unit}]}
"""
REGISTRAR = Actor(id="li.lei", role="registrar", unit="credit-office")
HANDLER = Actor(id="zhao.qiang", role="handler", unit="hexi-zjw")


@pytest.fixture
def engine(database_url: str, tmp_path: Path) -> Engine:
    folder = tmp_path / "definitions"
    folder.mkdir()
    (folder / "complaint.yaml").write_text(COMPLAINT, encoding="utf-8")
    Engine.init(database_url, simulated_start=T0)[0].close()
    opened = Engine.open(database_url, clock=ManualClock(T0), definitions=[folder])
    opened.units.save(
        [{"code": "hexi-zjw", "name": "河西区住房和建设委员会", "emails": ["bgs@zjw.example.gov.cn"]}]
    )
    return opened


def test_a_complaint_runs_register_fire_sweep_mail_verify_and_replay(engine: Engine, tmp_path: Path) -> None:
    assert isinstance(engine.clock, ManualClock)
    fields = {
        "channel": "12345热线",
        "complained_unit": "hexi-zjw",
        "received_on": "2026-05-11",
        "summary": "反映某项目拖欠工程款。",
    }
    case = engine.register("test_complaint", fields, actor=REGISTRAR)
    assert case.id.startswith("TS20260511-") and case.kind == "complaint"
    assert case.state == "received" and [t.track for t in case.tracks] == ["handling"]
    forwarded = engine.fire(case.id, "forward", actor=REGISTRAR)
    assert [d.name for d in forwarded.deadlines] == ["verification"]
    assert forwarded == engine.get(case.id)

    engine.clock.set(dt.datetime(2026, 5, 25, 9, 5, tzinfo=SH))  # the day before it falls due
    assert engine.sweep().fired == 1
    engine.clock.set(dt.datetime(2026, 5, 26, 17, 1, tzinfo=SH))
    assert engine.sweep().fired >= 1
    late = engine.get(case.id)
    assert (late.state, late.overdue) == ("late", True)
    assert [v.id for v in engine.query(state="handling:late", kind="complaint")] == [case.id]
    assert [v.id for v in engine.query(overdue=True, unit="hexi-zjw")] == [case.id]

    sent = Dispatcher(engine, MailSettings.from_env({}, folder=tmp_path / "mail")).run()
    assert (sent.sent, sent.dead) == (2, 0), sent.errors
    bodies = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted((tmp_path / "mail").glob("*.eml"))
    ]
    texts = [m.get_body(preferencelist=("plain",)).get_content() for m in bodies]  # type: ignore[union-attr]
    assert all(case.id in text and "投诉举报办理（测试）" in text for text in texts)
    assert any("核查期限" in text for text in texts)
    assert not any("失信" in text for text in texts)

    answered = engine.fire(case.id, "answer", actor=HANDLER, comment="已核查并整改")
    assert answered.state == "answered" and not answered.overdue

    report = audit.verify(engine.registry, engine.histories(), real_time=False)
    assert report.intact and report.records == 1, report.problems
    assert audit.replay(engine.registry, engine.stored_history(case.id)) == []
    row = engine.store.records.get(case.id)
    assert row is not None
    assert (row.kind, row.responsible_unit, row.case_date) == ("complaint", "hexi-zjw", dt.date(2026, 5, 11))
    assert (row.subject_name, row.subject_code, row.originating_unit, row.severity) == (
        None,
        None,
        None,
        None,
    )
    engine.close()
