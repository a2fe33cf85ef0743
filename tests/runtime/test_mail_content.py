"""What a responsible unit and its superior read in the mails the engine sends about a late
explanation: the Date in China's time, the engine's own events named in Chinese (never an internal
trigger name), the deadline's rule stated once, and no unit-directory code standing where a unified
social credit code belongs. Delivered to a real aiosmtpd server, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from support.harness import SH, Harness
from support.smtp import SmtpServer

from workflow.runtime.dispatch import Dispatcher, MailSettings

UNITS = [
    {
        "code": "hexi-zjw",
        "name": "河西区住房和建设委员会",
        "superior": "hexi-gov",
        "emails": "bgs@zjw.example.gov.cn",
    },
    {"code": "hexi-gov", "name": "河西区人民政府", "emails": ["duban@hexi.example.gov.cn"]},
]


@pytest.fixture
def mails(database_url: str) -> Iterator[list[EmailMessage]]:
    """Every mail of a record whose written explanation ran late, as the server received them."""
    h = Harness.create(database_url)
    h.engine.units.save(UNITS)
    server = SmtpServer()
    server.start()
    try:
        h.recorded()
        h.at(dt.datetime(2026, 6, 2, 9, 30, tzinfo=SH))  # after the explanation's due day
        h.engine.sweep()
        h.later(days=8)
        h.engine.sweep()
        Dispatcher(h.engine, MailSettings.from_env(server.env())).run()
        yield server.handler.messages()
    finally:
        server.stop()
        h.engine.close()


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_mails_are_dated_in_chinas_time(mails: list[EmailMessage]) -> None:
    assert mails
    assert all(str(m["Date"]).endswith("+0800") for m in mails)


def test_the_engines_own_events_are_named_in_chinese_and_signed_by_the_system(
    mails: list[EmailMessage],
) -> None:
    automatic = [m for m in mails if "【逾期" in str(m["Subject"]) or "【期限提醒" in str(m["Subject"])]
    assert automatic
    for message in automatic:
        text = _text(message)
        assert not re.search(r"@[a-z_]+", text)  # no internal trigger such as @reminder
        assert "经办：系统自动处理" in text and "chengxin" not in text.split("——")[0]


def test_a_deadlines_rule_is_stated_once(mails: list[EmailMessage]) -> None:
    for message in mails:
        text = _text(message)
        if "期限计算：" in text:
            assert text.count("期限计算：") == 1 and "计算规则：" not in text


def test_the_escalation_names_the_subordinate_unit_without_a_directory_code_as_its_credit_code(
    mails: list[EmailMessage],
) -> None:
    escalations = [m for m in mails if "【逾期情况通报】" in str(m["Subject"])]
    assert escalations and all("duban@hexi.example.gov.cn" in str(m["To"]) for m in escalations)
    for message in escalations:
        text = _text(message)
        assert "所属河西区住房和建设委员会逾期未办结事项" in text
        assert "统一社会信用代码：hexi-zjw" not in text


def test_the_footer_names_the_configured_office_not_a_national_system(mails: list[EmailMessage]) -> None:
    for message in mails:
        text = _text(message)
        assert (
            "本通知由市发展改革委（信用办）通过政务诚信管理系统依" in text
        )  # CHENGXIN_MAIL_FROM_NAME of the server
        assert "全国政务诚信管理系统" not in text


def test_an_objection_notice_names_the_objecting_unit_by_its_name(database_url: str) -> None:
    h = Harness.create(database_url)
    h.engine.units.save(
        [*UNITS, {"code": "court-3", "name": "第三中级人民法院", "emails": ["xy@court.example.gov.cn"]}]
    )
    server = SmtpServer()
    server.start()
    try:
        rid = h.recorded()
        h.later(hours=2)
        h.fire(rid, "file_objection", h.subject, reasons="认定事实有误")
        Dispatcher(h.engine, MailSettings.from_env(server.env())).run()
        received = [m for m in server.handler.messages() if "异议" in str(m["Subject"])]
    finally:
        server.stop()
        h.engine.close()
    assert received
    for message in received:
        text = _text(message)
        assert "已收到河西区住房和建设委员会对下列失信记录提出的异议申请" in text and "hexi-zjw对" not in text


def test_a_record_registered_without_a_superior_escalates_to_the_directorys_superior(
    database_url: str,
) -> None:
    """Issue 11: superior_unit is filled in from the unit directory at registration, into the
    stored creation event, so the overdue escalation reaches the superior and the history verifies."""
    from workflow import audit

    h = Harness.create(database_url)
    h.engine.units.save(UNITS)
    server = SmtpServer()
    server.start()
    try:
        record_id = h.recorded(superior_unit=None)
        assert h.engine.get(record_id).data["superior_unit"] == "hexi-gov"
        created = h.engine.history(record_id)[0]
        assert created.payload["superior_unit"] == "hexi-gov"
        h.at(dt.datetime(2026, 6, 2, 9, 30, tzinfo=SH))
        h.engine.sweep()
        h.later(days=8)
        h.engine.sweep()
        Dispatcher(h.engine, MailSettings.from_env(server.env())).run()
        escalations = [m for m in server.handler.messages() if "【逾期情况通报】" in str(m["Subject"])]
        assert escalations and all("duban@hexi.example.gov.cn" in str(m["To"]) for m in escalations)
        assert any(record_id in _text(m) for m in escalations)
        report = audit.verify(h.engine.registry, h.engine.histories(), real_time=False)
        assert report.intact, report.problems
    finally:
        server.stop()
        h.engine.close()
