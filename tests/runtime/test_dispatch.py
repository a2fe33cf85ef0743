"""The outbox dispatcher against a real aiosmtpd server on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.policy
import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from icalendar import Calendar
from support.harness import SH, Harness
from support.smtp import SmtpServer

from notifications import find_id_numbers, mask_id_number
from storage.connections import outbox_t
from workflow import Engine
from workflow.runtime.dispatch import Dispatcher, DispatchResult, MailSettings
from workflow.testing import PERSON_ID

UNITS = [
    {
        "code": "hexi-zjw",
        "name": "河西区住房和建设委员会",
        "superior": "hexi-gov",
        "emails": "bgs@zjw.example.gov.cn",
    },
    {"code": "hexi-gov", "name": "河西区人民政府", "emails": ["duban@hexi.example.gov.cn"]},
    {"code": "court-3", "name": "第三中级人民法院", "emails": "xinyong@court.example.gov.cn"},
    {"code": "credit-office", "name": "区信用办", "emails": "xyb@hexi.example.gov.cn"},
]


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    smtp = SmtpServer()
    smtp.start()
    yield smtp
    smtp.stop()


@pytest.fixture
def h(database_url: str) -> Iterator[Harness]:
    harness = Harness.create(database_url)
    harness.engine.units.save(UNITS)
    yield harness
    harness.engine.close()


def _dispatcher(h: Harness, server: SmtpServer, **overrides: object) -> Dispatcher:
    settings = MailSettings.from_env(server.env())
    for key, value in overrides.items():
        object.__setattr__(settings, key, value)
    return Dispatcher(h.engine, settings)


def _by_subject(messages: list[EmailMessage], word: str) -> EmailMessage:
    found = [m for m in messages if word in str(m["Subject"])]
    assert found, [str(m["Subject"]) for m in messages]
    return found[0]


def _calendar(message: EmailMessage) -> Calendar:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    payload = parts[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return Calendar.from_ical(payload)


def test_a_recorded_record_sends_readable_chinese_mails_with_the_deadline_in_a_calendar(
    h: Harness, server: SmtpServer
) -> None:
    rid = h.recorded()
    result = _dispatcher(h, server).run()
    assert result.sent == 3 and result.dead == 0
    messages = server.handler.messages()
    assert len(server.handler.sessions) == 1  # one connection for the whole batch
    notice = _by_subject(messages, "失信记录告知书")
    assert notice["To"].addresses[0].display_name == "河西区住房和建设委员会"
    assert notice["To"].addresses[0].addr_spec == "bgs@zjw.example.gov.cn"
    assert "=?utf-8?" in notice.as_string().lower() or "=?UTF-8?" in notice.as_string()
    text = notice.get_body(preferencelist=("plain",))
    html = notice.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert "某区住房和建设委员会" in text.get_content()
    assert "<html" in html.get_content().lower()
    request = _by_subject(messages, "书面说明原因")
    calendar = _calendar(request)
    event = calendar.events[0]
    assert str(calendar["METHOD"]) == "REQUEST"
    assert event.start == dt.datetime(2026, 5, 25, 9, 0, tzinfo=dt.UTC)  # 17:00 Asia/Shanghai
    assert event.uid.startswith(f"{rid}.written_explanation.")
    assert "2026年5月25日（星期一）17:00" in request.get_body(preferencelist=("plain",)).get_content()
    assert all(row.status == "sent" for row in h.engine.outbox.list(record_id=rid))


def test_a_changed_deadline_updates_the_calendar_entry_and_a_met_one_cancels_it(
    h: Harness, server: SmtpServer
) -> None:
    rid = h.recorded()
    h.later(days=1)
    h.fire(rid, "file_objection", h.subject, reasons="理由")
    h.later(days=1)
    h.fire(rid, "maintain", h.reviewer, comment="维持")
    h.fire(rid, "submit_explanation", h.subject, explanation="说明")
    _dispatcher(h, server).run()
    entries = []
    for message in server.handler.messages():
        parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        if parts:
            calendar = _calendar(message)
            event = calendar.events[0]
            if event.uid.startswith(f"{rid}.written_explanation."):
                entries.append((int(event["SEQUENCE"]), str(calendar["METHOD"]), event.uid))
    entries.sort()
    assert {uid for _s, _m, uid in entries} == {entries[0][2]}  # one calendar entry throughout
    assert [method for _s, method, _u in entries] == ["REQUEST", "REQUEST", "REQUEST", "REQUEST", "CANCEL"]
    assert (
        len({seq for seq, _m, _u in entries}) == len(entries) - 1
    )  # record notice + request share the first


def test_with_the_server_down_mails_stay_queued_and_go_out_once_when_it_is_back(
    h: Harness, server: SmtpServer
) -> None:
    rid = h.recorded()
    server.stop()
    first = _dispatcher(h, server).run()
    assert first.sent == 0 and first.failed == 3
    rows = h.engine.outbox.list(record_id=rid)
    assert {r.status for r in rows} == {"failed"}
    assert all(r.next_attempt_at > h.clock.now() for r in rows)
    assert _dispatcher(h, server).run().sent == 0  # not due again before the backoff
    server.start()
    h.later(minutes=2)
    assert _dispatcher(h, server).run().sent == 3
    assert _dispatcher(h, server).run().sent == 0
    ids = Counter(m["Message-ID"] for m in server.handler.messages())
    assert len(ids) == 3 and set(ids.values()) == {1}


def test_a_refused_recipient_is_dead_lettered_and_can_be_retried(h: Harness, server: SmtpServer) -> None:
    h.engine.units.save([{**UNITS[0], "emails": "refuse-me@zjw.example.gov.cn"}])
    rid = h.recorded()
    result = _dispatcher(h, server).run()
    assert result.dead == 3
    dead = h.engine.outbox.list(record_id=rid, status="dead")
    assert len(dead) == 3 and "550" in dead[0].last_error
    h.engine.units.save([UNITS[0]])
    assert h.engine.outbox.retry() == 3
    assert _dispatcher(h, server).run().sent == 3


def test_repeated_temporary_failures_end_in_the_dead_letter_queue(h: Harness, server: SmtpServer) -> None:
    rid = h.recorded()
    server.stop()
    for _ in range(3):
        _dispatcher(h, server, max_attempts=3).run()
        h.later(hours=1)
    rows = h.engine.outbox.list(record_id=rid)
    assert {r.status for r in rows} == {"dead"}
    assert {r.attempts for r in rows} == {3}


def test_a_unit_without_an_address_is_dead_lettered_with_a_clear_reason(
    h: Harness, server: SmtpServer
) -> None:
    h.engine.units.save([{"code": "no-address", "name": "无邮箱单位"}])
    rid = h.recorded(responsible_unit="no-address")
    _dispatcher(h, server).run()
    dead = h.engine.outbox.list(record_id=rid, status="dead")
    assert dead and "no-address" in dead[0].last_error and "set-email" in dead[0].last_error
    assert "held" in dead[0].last_error


def test_without_an_smtp_server_mails_are_written_to_the_mail_folder(h: Harness, tmp_path: Path) -> None:
    h.recorded()
    result = Dispatcher(h.engine, MailSettings.from_env({}, folder=tmp_path / "mail")).run()
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert result.sent == 3 and len(files) == 3
    subjects = {
        str(email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["Subject"]) for f in files
    }
    assert any("失信记录告知书" in s for s in subjects)


KILLED = textwrap.dedent(
    """
    import datetime as dt, os, sys
    from workflow import ManualClock
    from workflow.runtime.dispatch import Dispatcher, MailSettings
    from workflow import Engine
    from workflow.cli.logs import configure
    configure()
    engine = Engine.open({url!r}, clock=ManualClock(dt.datetime.fromisoformat({now!r})))
    print(os.getpid(), flush=True)
    sys.stdin.readline()
    Dispatcher(engine, MailSettings.from_env(os.environ)).run()
    """
)


@pytest.mark.slow
def test_a_dispatcher_killed_mid_batch_resends_only_the_mail_in_flight_with_its_message_id(
    h: Harness, server: SmtpServer, database_url: str
) -> None:
    rids = [h.recorded() for _ in range(3)]  # 9 mails
    env = {**os.environ, **server.env(), "CHENGXIN_LOG_LEVEL": "ERROR"}
    code = KILLED.format(url=database_url, now=h.clock.now().isoformat())
    with subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True
    ) as proc:
        assert proc.stdout is not None and proc.stdin is not None
        server.handler.pid = int(proc.stdout.readline())
        server.handler.kill_pid_after = 4
        proc.stdin.write("go\n")
        proc.stdin.flush()
        proc.wait(timeout=120)
    assert proc.returncode == -9
    assert len(server.handler.received) == 4
    server.handler.kill_pid_after = None
    h.later(minutes=11)  # past the lease of the dead dispatcher's claim
    _dispatcher(h, server).run()
    ids = Counter(m["Message-ID"] for m in server.handler.messages())
    assert len(ids) == 9
    assert sorted(ids.values()) == [1] * 8 + [
        2
    ]  # only the one in flight went twice, with the same Message-ID
    statuses = {r.status for rid in rids for r in h.engine.outbox.list(record_id=rid)}
    assert statuses == {"sent"}


def test_reminders_and_escalations_reach_the_unit_and_its_superior(h: Harness, server: SmtpServer) -> None:
    rid = h.recorded()
    h.at(dt.datetime(2026, 5, 26, 9, 0, tzinfo=SH))
    h.engine.sweep()
    h.engine.sweep()
    _dispatcher(h, server).run()
    received = {(str(m["Subject"]), m["To"].addresses[0].addr_spec) for m in server.handler.messages()}
    assert any("逾期" in s and to == "bgs@zjw.example.gov.cn" for s, to in received)
    assert any("逾期情况通报" in s and to == "duban@hexi.example.gov.cn" for s, to in received)
    assert h.engine.get(rid).overdue


def _second_dispatcher(h: Harness, database_url: str, server: SmtpServer) -> tuple[Engine, Dispatcher]:
    """Another ``serve`` process on the same database (and the same simulated time)."""
    engine = Engine.open(database_url, clock=h.clock)
    return engine, Dispatcher(engine, MailSettings.from_env(server.env()))


def test_a_batch_that_outlasts_its_lease_keeps_its_claim_and_no_mail_goes_twice(
    h: Harness, server: SmtpServer, database_url: str
) -> None:
    """A slow server: each mail takes a minute, so a batch of 60 lasts six 10-minute leases. A
    second dispatcher that looks half-way through finds nothing to take over."""
    for _ in range(20):
        h.recorded()  # 3 mails each
    other_engine, other = _second_dispatcher(h, database_url, server)
    seen: list[DispatchResult] = []

    async def slow_server(count: int) -> None:
        h.later(minutes=1)
        if count == 30 and not seen:  # the first dispatcher waits for its 30th "250"
            seen.append(await asyncio.get_running_loop().run_in_executor(None, other.run))

    server.handler.on_message = slow_server
    try:
        first = _dispatcher(h, server).run()
    finally:
        other_engine.close()
    ids = Counter(m["Message-ID"] for m in server.handler.messages())
    assert len(ids) == 60 and set(ids.values()) == {1}
    assert (first.sent, first.lost) == (60, 0)
    assert seen[0].sent == 0
    assert {r.status for r in h.engine.outbox.list(limit=100)} == {"sent"}


def test_a_dispatcher_whose_claim_was_taken_over_stops_and_marks_nothing_it_no_longer_holds(
    h: Harness, server: SmtpServer, database_url: str
) -> None:
    """The server stalls on the 10th mail for longer than the lease: a second dispatcher claims
    the rest and sends it. The first learns its claim is lost when it comes back and sends
    nothing more; only the mail that was in flight when the lease ran out went twice."""
    for _ in range(20):
        h.recorded()
    other_engine, other = _second_dispatcher(h, database_url, server)
    seen: list[DispatchResult] = []

    async def stalls_once(count: int) -> None:
        if count == 10 and not seen:
            h.later(minutes=11)  # past the lease of the first dispatcher's claim
            seen.append(await asyncio.get_running_loop().run_in_executor(None, other.run))

    server.handler.on_message = stalls_once
    try:
        first = _dispatcher(h, server).run()
    finally:
        other_engine.close()
    ids = Counter(m["Message-ID"] for m in server.handler.messages())
    assert len(ids) == 60
    assert sorted(ids.values()) == [1] * 59 + [2]  # the one in flight when the lease ran out
    assert (first.sent, first.lost) == (9, 1)
    assert (seen[0].sent, seen[0].lost) == (51, 0)
    rows = h.engine.outbox.list(limit=100)
    assert {r.status for r in rows} == {"sent"} and {r.claim_token for r in rows} == {None}


def test_a_dispatcher_that_stalled_between_mails_past_its_lease_sends_nothing_more(
    h: Harness, server: SmtpServer, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After its 10th mail is marked the first dispatcher stalls for longer than the lease; a second
    claims and sends the other 50. Back, the first finds its claim gone before its next mail and
    stops: no Message-ID arrives twice."""
    for _ in range(20):
        h.recorded()
    other_engine, other = _second_dispatcher(h, database_url, server)
    seen: list[DispatchResult] = []
    real_mark = h.engine.outbox.mark

    def mark_then_stall(*args: Any, **values: Any) -> Any:
        marked = real_mark(*args, **values)
        if len(server.handler.received) == 10 and not seen:
            h.later(minutes=11)
            seen.append(other.run())
        return marked

    monkeypatch.setattr(h.engine.outbox, "mark", mark_then_stall)
    try:
        first = _dispatcher(h, server).run()
    finally:
        other_engine.close()
    ids = Counter(m["Message-ID"] for m in server.handler.messages())
    assert len(ids) == 60 and set(ids.values()) == {1}
    assert (first.sent, first.lost) == (10, 1)
    assert (seen[0].sent, seen[0].lost) == (50, 0)
    assert {r.status for r in h.engine.outbox.list(limit=100)} == {"sent"}


def _shown(message: EmailMessage) -> str:
    """Everything a reader of the mail sees: the subject and every text part, decoded."""
    parts = [str(message["Subject"])]
    parts.extend(p.get_content() for p in message.walk() if p.get_content_maintype() == "text")
    return "\n".join(parts)


def test_an_id_number_typed_into_the_facts_goes_out_masked_and_the_unit_gets_its_notice(
    h: Harness, server: SmtpServer
) -> None:
    rid = h.recorded(facts=f"拖欠工程款，拒不履行生效判决。经办人身份证号 {PERSON_ID}。")
    result = _dispatcher(h, server).run()
    assert (result.sent, result.dead) == (3, 0), result.errors
    notice = _by_subject(server.handler.messages(), "失信记录告知书")
    text = notice.get_body(preferencelist=("plain",))
    assert text is not None and f"经办人身份证号 {mask_id_number(PERSON_ID)}。" in text.get_content()
    assert all(find_id_numbers(_shown(m)) == [] for m in server.handler.messages())
    assert all(PERSON_ID not in json.dumps(r.context) for r in h.engine.outbox.list(record_id=rid))


def test_a_mail_queued_with_an_unmasked_id_number_before_masking_goes_out_masked(
    h: Harness, server: SmtpServer, database_url: str
) -> None:
    """Mail queued by the previous release kept a typed-in number in its context; it is masked
    when the mail is built (an operator retries what was dead-lettered for it)."""
    rid = h.recorded(facts="拖欠工程款。")
    row = next(r for r in h.engine.outbox.list(record_id=rid) if r.template == "record_notice")
    context = json.loads(json.dumps(row.context))
    context["vars"]["record"]["facts"] = f"拖欠工程款。经办人身份证号{PERSON_ID}。"
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.update(outbox_t).where(outbox_t.c.id == row.id).values(context=context))
    finally:
        engine.dispose()
    assert _dispatcher(h, server).run().dead == 0
    notice = _by_subject(server.handler.messages(), "失信记录告知书")
    assert f"经办人身份证号{mask_id_number(PERSON_ID)}。" in _shown(notice)
    assert all(find_id_numbers(_shown(m)) == [] for m in server.handler.messages())


def test_an_id_number_that_slips_past_the_masking_is_still_refused(h: Harness, server: SmtpServer) -> None:
    """A number split by markup is not one a person types by accident, and is not masked: the
    mail that would carry it is dead-lettered, naming only the masked number."""
    rid = h.recorded(facts=f"经办人<b>{PERSON_ID[:6]}</b>{PERSON_ID[6:]}")
    result = _dispatcher(h, server).run()
    dead = h.engine.outbox.list(record_id=rid, status="dead")
    assert result.dead == len(dead) and {d.template for d in dead} == {"record_notice", "explanation_request"}
    assert all(mask_id_number(PERSON_ID) in (d.last_error or "") for d in dead)
    assert all(PERSON_ID not in (d.last_error or "") for d in dead)
    assert all(find_id_numbers(_shown(m)) == [] for m in server.handler.messages())
