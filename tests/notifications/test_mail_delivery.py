"""Mail delivery: MIME messages, calendar files, and both transports, against a real SMTP server.

The server is aiosmtpd on a free loopback port; the tests read back what it received, as a recipient's
mail program would. Tests run their coroutines with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from icalendar import Alarm, Calendar
from support import notification_samples as samples

from notifications import (
    ConfigurationError,
    DeliveryError,
    FolderTransport,
    SendResult,
    SmtpSettings,
    SmtpTransport,
    TemplateCatalog,
    build_message,
    deadline_ics,
    message_id_for,
)
from notifications.transport import eml_filename

SENDER = ("天津市发展和改革委员会", "xinyong@fgw.example.gov.cn")
UNIT = ("天津市某区住房和城乡建设委员会", "zjw@example.gov.cn")
DATE = datetime(2026, 11, 19, 2, 30, tzinfo=UTC)


# ---------------------------------------------------------------- the server


@dataclass
class Received:
    peer: Any
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    encrypted: bool = False

    def parsed(self) -> EmailMessage:
        message = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class RecordingHandler:
    """Accepts mail, except: ``refuse*`` recipients get 550, ``busy*`` 450, ``spamtrap*`` a 554 on DATA,
    a ``blocked*`` sender 553, and MAIL gets 421 as many times as ``closing_replies`` says."""

    received: list[Received] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)
    attempts: list[tuple[bytes, bool]] = field(default_factory=list)  # (login, over TLS)
    closing_replies: int = 0

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: Any
    ) -> str:
        if self.closing_replies > 0:
            self.closing_replies -= 1
            return "421 4.3.2 service shutting down"
        if address.startswith("blocked"):
            return "553 5.7.1 sender not allowed"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address.startswith("refuse"):
            return "550 5.1.1 mailbox unavailable"
        if address.startswith("busy"):
            return "450 4.2.1 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if any(rcpt.startswith("spamtrap") for rcpt in envelope.rcpt_tos):
            return "554 5.7.1 message content rejected"
        self.received.append(
            Received(
                session.peer,
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.content,
                encrypted=_encrypted(server),
            )
        )
        return "250 Message accepted"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            self.attempts.append((auth_data.login, _encrypted(server)))
        if isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret-Passw0rd":
            self.logins.append((auth_data.login, auth_data.password))
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def _encrypted(server: Any) -> bool:
    return server.transport.get_extra_info("ssl_object") is not None


def free_port() -> int:
    """A loopback port nothing listens on (aiosmtpd's Controller cannot bind port 0 itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    handler: RecordingHandler
    port: int
    controller: Controller

    def restart(self) -> None:
        """Stop and start again on the same port: every open client connection is dropped."""
        self.controller.stop()
        self.controller = _controller(self.handler, self.port)
        self.controller.start()

    def settings(self, **changes: Any) -> SmtpSettings:
        values: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "security": "none",
            "sender": SENDER[1],
            "sender_name": SENDER[0],
            "timeout": 5,
            "local_hostname": "client.test",
        }
        return SmtpSettings(**values | changes)


def _controller(handler: RecordingHandler, port: int) -> Controller:
    return Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        server_hostname="smtp.test",
        authenticator=handler.authenticate,
        auth_require_tls=False,
    )


@pytest.fixture
def server() -> Iterator[Server]:
    handler = RecordingHandler()
    port = free_port()
    running = Server(handler, port, _controller(handler, port))
    running.controller.start()
    try:
        yield running
    finally:
        running.controller.stop()


# ---------------------------------------------------------------- messages


@pytest.fixture(scope="module")
def catalog() -> TemplateCatalog:
    return TemplateCatalog()


def _ics(sequence: int = 0, method: Any = "REQUEST") -> bytes:
    deadline = samples.sample("record_notice")["deadline"]
    return deadline_ics(
        uid="deadline-CX-2026-000128-explanation@fgw.example.gov.cn",
        sequence=sequence,
        summary="书面说明原因：天津市某区住房和城乡建设委员会",
        description="请于期限前书面说明原因。",
        due_at=deadline["due_at"],
        alarm_before=timedelta(days=1),
        method=method,
        organizer_email=SENDER[1],
        organizer_name=SENDER[0],
        attendees=[UNIT],
        dtstamp=DATE,
    )


def _message(
    catalog: TemplateCatalog,
    name: str = "record_notice",
    *,
    to: Sequence[tuple[str, str]] = (UNIT,),
    ics: bytes | None = None,
    cause: str | None = None,
) -> Message:
    return build_message(
        rendered=catalog.render(name, samples.sample(name)),
        sender=SENDER,
        to=list(to),
        message_id=message_id_for(cause or f"record/CX-2026-000128/{name}", "fgw.example.gov.cn"),
        ics=ics,
        extra_headers={"X-Chengxin-Record": "CX-2026-000128"},
        date=DATE,
    )


def _parsed(message: Message) -> EmailMessage:
    """A built message as a receiver reads it."""
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert isinstance(part, EmailMessage)
    content: str = part.get_content()
    return content.replace("\r\n", "\n")


def _calendar(message: EmailMessage) -> tuple[EmailMessage, Calendar]:
    (attachment,) = [part for part in message.iter_attachments() if isinstance(part, EmailMessage)]
    return attachment, Calendar.from_ical(attachment.get_content())


async def _send_all(
    transport: SmtpTransport | FolderTransport, messages: Sequence[Message]
) -> list[SendResult]:
    async with transport.connect() as connection:
        return [await connection.send(message) for message in messages]


# ---------------------------------------------------------------- SMTP


def test_several_messages_go_over_one_connection_and_arrive_intact(
    server: Server, catalog: TemplateCatalog
) -> None:
    sent = [
        _message(catalog, "record_notice", ics=_ics()),
        _message(catalog, "repair_notice"),
        _message(catalog, "reminder", ics=_ics(sequence=1)),
    ]
    results = asyncio.run(_send_all(SmtpTransport(server.settings()), sent))

    assert [result.message_id for result in results] == [message["Message-ID"] for message in sent]
    assert all(result.refused == () for result in results)
    received = server.handler.received
    assert len(received) == 3
    assert len({item.peer for item in received}) == 1, "all messages should share one SMTP connection"
    for item, original, name in zip(
        received, sent, ("record_notice", "repair_notice", "reminder"), strict=True
    ):
        rendered = catalog.render(name, samples.sample(name))
        assert b"=?utf-8?" in item.content, "Chinese headers are RFC 2047 encoded words"
        assert item.mail_from == SENDER[1]
        assert item.rcpt_tos == [UNIT[1]]
        message = item.parsed()
        assert message["Subject"] == rendered.subject
        assert message["From"].addresses[0].display_name == SENDER[0]
        assert message["To"].addresses[0].display_name == UNIT[0]
        assert message["Message-ID"] == original["Message-ID"]
        assert message["Date"].datetime == DATE
        assert message["X-Chengxin-Record"] == "CX-2026-000128"
        assert message["Auto-Submitted"] == "auto-generated"
        assert _body(message, "plain") == rendered.text
        assert _body(message, "html") == rendered.html

    first = received[0].parsed()
    assert first.get_content_type() == "multipart/mixed"
    attachment, calendar = _calendar(first)
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    assert attachment.get_content_charset() == "utf-8"
    assert attachment.get_filename() == "deadline.ics"
    assert calendar.method == "REQUEST"
    (event,) = calendar.events
    assert event.uid == "deadline-CX-2026-000128-explanation@fgw.example.gov.cn"
    assert event.sequence == 0
    assert event.start == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert event.status == "CONFIRMED"
    (alarm,) = [component for component in event.subcomponents if isinstance(component, Alarm)]
    trigger = alarm.TRIGGER
    assert trigger == -timedelta(days=1)
    assert _calendar(received[2].parsed())[1].events[0].sequence == 1
    assert received[1].parsed().get_content_type() == "multipart/alternative"


def test_a_dropped_connection_is_reopened_for_the_next_message(
    server: Server, catalog: TemplateCatalog
) -> None:
    async def scenario() -> None:
        async with SmtpTransport(server.settings()).connect() as connection:
            await connection.send(_message(catalog, "record_notice"))
            server.restart()
            await connection.send(_message(catalog, "repair_notice"))

    asyncio.run(scenario())
    assert [item.parsed()["X-Chengxin-Notice"] for item in server.handler.received] == [
        "record_notice",
        "repair_notice",
    ]
    assert server.handler.received[0].peer != server.handler.received[1].peer


def test_a_421_reply_is_answered_by_one_reconnect(server: Server, catalog: TemplateCatalog) -> None:
    server.handler.closing_replies = 1
    asyncio.run(_send_all(SmtpTransport(server.settings()), [_message(catalog)]))
    assert len(server.handler.received) == 1


def test_a_second_421_in_a_row_is_a_temporary_error(server: Server, catalog: TemplateCatalog) -> None:
    server.handler.closing_replies = 2
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(_send_all(SmtpTransport(server.settings()), [_message(catalog)]))
    assert (caught.value.permanent, caught.value.code) == (False, 421)
    assert server.handler.received == []


def test_a_refused_sender_is_temporary_because_it_is_configuration(
    server: Server, catalog: TemplateCatalog
) -> None:
    settings = server.settings(sender="blocked@fgw.example.gov.cn")
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(_send_all(SmtpTransport(settings), [_message(catalog)]))
    assert (caught.value.permanent, caught.value.code) == (False, 553)


def test_a_server_that_is_not_running_gives_a_temporary_error(catalog: TemplateCatalog) -> None:
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), security="none", sender=SENDER[1], timeout=2)
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(_send_all(SmtpTransport(settings), [_message(catalog)]))
    assert caught.value.permanent is False
    assert caught.value.message_id == _message(catalog)["Message-ID"]


def test_a_recipient_refused_with_550_is_permanent_and_the_connection_stays_usable(
    server: Server, catalog: TemplateCatalog
) -> None:
    async def scenario() -> DeliveryError:
        async with SmtpTransport(server.settings()).connect() as connection:
            with pytest.raises(DeliveryError) as caught:
                await connection.send(_message(catalog, to=[("不存在", "refuse@example.gov.cn")]))
            await connection.send(_message(catalog, "repair_notice"))
            return caught.value

    error = asyncio.run(scenario())
    assert (error.permanent, error.code) == (True, 550)
    assert "refuse@example.gov.cn" in str(error)
    assert [item.rcpt_tos for item in server.handler.received] == [[UNIT[1]]]
    assert len({item.peer for item in server.handler.received}) == 1


def test_a_recipient_refused_with_450_is_temporary(server: Server, catalog: TemplateCatalog) -> None:
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(
            _send_all(
                SmtpTransport(server.settings()), [_message(catalog, to=[("忙", "busy@example.gov.cn")])]
            )
        )
    assert (caught.value.permanent, caught.value.code) == (False, 450)


def test_content_rejected_with_554_is_permanent(server: Server, catalog: TemplateCatalog) -> None:
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(
            _send_all(
                SmtpTransport(server.settings()), [_message(catalog, to=[("x", "spamtrap@example.gov.cn")])]
            )
        )
    assert (caught.value.permanent, caught.value.code) == (True, 554)


def test_recipients_refused_beside_accepted_ones_are_reported(
    server: Server, catalog: TemplateCatalog
) -> None:
    (result,) = asyncio.run(
        _send_all(
            SmtpTransport(server.settings()),
            [_message(catalog, to=[UNIT, ("不存在", "refuse@example.gov.cn")])],
        )
    )
    assert [recipient for recipient, _reply in result.refused] == ["refuse@example.gov.cn"]
    assert result.refused[0][1].startswith("550")
    assert [item.rcpt_tos for item in server.handler.received] == [[UNIT[1]]]


def test_login_uses_the_configured_password(server: Server, catalog: TemplateCatalog) -> None:
    settings = server.settings(username="xinyong", password="s3cret-Passw0rd")
    asyncio.run(_send_all(SmtpTransport(settings), [_message(catalog)]))
    assert server.handler.logins == [(b"xinyong", b"s3cret-Passw0rd")]
    assert len(server.handler.received) == 1


def test_a_refused_login_is_temporary(server: Server, catalog: TemplateCatalog) -> None:
    settings = server.settings(username="xinyong", password="wrong")
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(_send_all(SmtpTransport(settings), [_message(catalog)]))
    assert caught.value.permanent is False
    assert "wrong" not in str(caught.value)
    assert server.handler.received == []


# ---------------------------------------------------------------- TLS


@dataclass
class TlsServer:
    """A server whose certificate (for ``smtp.test``, resolving to 127.0.0.1) comes from a throwaway CA."""

    ca_file: Path
    server: Server


@pytest.fixture
def certificates(tmp_path: Path) -> tuple[trustme.CA, ssl.SSLContext, Path]:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "smtp.test").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return ca, context, ca_file


def _tls_server(context: ssl.SSLContext, *, implicit: bool) -> Server:
    handler = RecordingHandler()
    port = free_port()
    options: dict[str, Any] = (
        {"ssl_context": context} if implicit else {"tls_context": context, "require_starttls": True}
    )
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        server_hostname="smtp.test",
        authenticator=handler.authenticate,
        auth_require_tls=not implicit,  # aiosmtpd does not see implicit TLS here; the test checks it
        **options,
    )
    controller.start()
    return Server(handler, port, controller)


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_delivery_verifies_the_certificate_and_logs_in_only_when_encrypted(
    security: str, certificates: tuple[trustme.CA, ssl.SSLContext, Path], catalog: TemplateCatalog
) -> None:
    _ca, context, ca_file = certificates
    server = _tls_server(context, implicit=security == "tls")
    try:
        settings = server.settings(
            security=security, ca_file=ca_file, username="xinyong", password="s3cret-Passw0rd"
        )
        asyncio.run(_send_all(SmtpTransport(settings), [_message(catalog), _message(catalog)]))
    finally:
        server.controller.stop()
    assert server.handler.attempts == [(b"xinyong", True)]
    assert [item.encrypted for item in server.handler.received] == [True, True]


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_certificate_from_an_unknown_authority_is_refused_before_the_password_is_sent(
    security: str, certificates: tuple[trustme.CA, ssl.SSLContext, Path], catalog: TemplateCatalog
) -> None:
    _ca, context, _ca_file = certificates
    server = _tls_server(context, implicit=security == "tls")
    try:
        settings = server.settings(security=security, username="xinyong", password="s3cret-Passw0rd")
        with pytest.raises(DeliveryError) as caught:
            asyncio.run(_send_all(SmtpTransport(settings), [_message(catalog)]))
    finally:
        server.controller.stop()
    assert caught.value.permanent is False  # configuration: the mail waits in the outbox
    assert server.handler.attempts == [] and server.handler.received == []


def test_starttls_required_but_not_offered_sends_nothing_in_plain(
    server: Server, catalog: TemplateCatalog
) -> None:
    settings = server.settings(security="starttls", username="xinyong", password="s3cret-Passw0rd")
    with pytest.raises(DeliveryError):
        asyncio.run(_send_all(SmtpTransport(settings), [_message(catalog)]))
    assert server.handler.attempts == [] and server.handler.received == []


def test_a_missing_ca_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="CHENGXIN_SMTP_CA_FILE"):
        SmtpSettings.from_env(
            {
                "CHENGXIN_SMTP_HOST": "smtp.example.gov.cn",
                "CHENGXIN_MAIL_FROM": SENDER[1],
                "CHENGXIN_SMTP_CA_FILE": str(tmp_path / "missing.pem"),
            }
        )


# ---------------------------------------------------------------- settings


def test_settings_come_from_the_environment_and_hide_the_password() -> None:
    settings = SmtpSettings.from_env(
        {
            "CHENGXIN_SMTP_HOST": "smtp.example.gov.cn",
            "CHENGXIN_SMTP_SECURITY": "tls",
            "CHENGXIN_SMTP_USER": "xinyong",
            "CHENGXIN_SMTP_PASSWORD": "s3cret-Passw0rd",
            "CHENGXIN_MAIL_FROM": SENDER[1],
            "CHENGXIN_MAIL_FROM_NAME": SENDER[0],
        }
    )
    assert settings is not None
    assert (settings.host, settings.port, settings.security, settings.username) == (
        "smtp.example.gov.cn",
        465,
        "tls",
        "xinyong",
    )
    assert settings.password is not None
    assert settings.password.get_secret_value() == "s3cret-Passw0rd"
    assert settings.sender_address.display_name == SENDER[0]
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert "s3cret" not in shown


def test_no_smtp_host_means_no_smtp_settings() -> None:
    assert SmtpSettings.from_env({}) is None
    assert SmtpSettings.from_env({"CHENGXIN_SMTP_HOST": " ", "CHENGXIN_MAIL_FROM": SENDER[1]}) is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CHENGXIN_SMTP_PORT", "smtp"),
        ("CHENGXIN_SMTP_SECURITY", "ssl"),
        ("CHENGXIN_MAIL_FROM", "not an address"),
    ],
)
def test_a_bad_setting_names_its_variable_and_not_the_password(variable: str, value: str) -> None:
    environ = {
        "CHENGXIN_SMTP_HOST": "smtp.example.gov.cn",
        "CHENGXIN_SMTP_PASSWORD": "s3cret-Passw0rd",
        "CHENGXIN_SMTP_USER": "xinyong",
        "CHENGXIN_MAIL_FROM": SENDER[1],
    } | {variable: value}
    with pytest.raises(ConfigurationError) as caught:
        SmtpSettings.from_env(environ)
    assert caught.value.setting == variable
    assert "s3cret" not in str(caught.value)


# ---------------------------------------------------------------- folder


def test_the_folder_transport_writes_parseable_eml_files(tmp_path: Path, catalog: TemplateCatalog) -> None:
    outbox = tmp_path / "outbox"
    sent = [_message(catalog, "record_notice", ics=_ics()), _message(catalog, "overdue")]
    asyncio.run(_send_all(FolderTransport(outbox), sent))

    files = sorted(outbox.iterdir())
    assert [file.name for file in files] == sorted(eml_filename(message["Message-ID"]) for message in sent)
    for file in files:
        message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        original = _parsed(next(m for m in sent if m["Message-ID"] == message["Message-ID"]))
        assert message["Subject"] == original["Subject"]
        assert _body(message, "plain") == _body(original, "plain")


def test_the_same_message_id_twice_leaves_one_file(tmp_path: Path, catalog: TemplateCatalog) -> None:
    first = _message(catalog, "reminder", cause="reminder/CX-2026-000128/5wd")
    again = _message(catalog, "reminder", cause="reminder/CX-2026-000128/5wd")
    asyncio.run(_send_all(FolderTransport(tmp_path), [first, again]))
    assert [file.name for file in tmp_path.iterdir()] == [eml_filename(first["Message-ID"])]


def test_eml_file_names_are_safe_and_distinct() -> None:
    assert eml_filename("<abc.chengxin@example.gov.cn>") == "abc.chengxin@example.gov.cn.eml"
    hostile = eml_filename("<../../etc/passwd@x>")
    assert "/" not in hostile
    assert not hostile.startswith(".")
    assert eml_filename("<a/b@x>") != eml_filename("<a_b@x>")


def test_a_message_without_message_id_is_refused(tmp_path: Path, catalog: TemplateCatalog) -> None:
    message = _message(catalog)
    del message["Message-ID"]
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(_send_all(FolderTransport(tmp_path), [message]))
    assert caught.value.permanent is True


# ---------------------------------------------------------------- message and calendar


def test_message_ids_are_stable_per_cause() -> None:
    first = message_id_for("record/CX-2026-000128/record_notice", "fgw.example.gov.cn")
    assert first == message_id_for("record/CX-2026-000128/record_notice", "fgw.example.gov.cn")
    assert first != message_id_for("record/CX-2026-000128/repair_notice", "fgw.example.gov.cn")
    assert re.fullmatch(r"<[0-9a-f]{32}\.chengxin@fgw\.example\.gov\.cn>", first)
    with pytest.raises(ValueError, match="domain"):
        message_id_for("x", "bad domain")


def test_a_message_without_calendar_is_multipart_alternative(catalog: TemplateCatalog) -> None:
    message = _parsed(_message(catalog, "repair_notice"))
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in message.iter_parts())


@pytest.mark.parametrize(
    "headers",
    [{"Subject": "替换"}, {"content-type": "text/plain"}, {"X-Injected": "a\r\nBcc: victim@example.com"}],
    ids=["subject", "content-type", "line-break"],
)
def test_extra_headers_cannot_replace_structure_or_inject_lines(
    catalog: TemplateCatalog, headers: dict[str, str]
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        build_message(
            rendered=catalog.render("overdue", samples.sample("overdue")),
            sender=SENDER,
            to=[UNIT],
            message_id="<x@example.gov.cn>",
            extra_headers=headers,
            date=DATE,
        )


def test_a_malformed_address_is_a_permanent_delivery_error(catalog: TemplateCatalog) -> None:
    with pytest.raises(DeliveryError) as caught:
        build_message(
            rendered=catalog.render("overdue", samples.sample("overdue")),
            sender=SENDER,
            to=[("某单位", "not an address@@")],
            message_id="<x@example.gov.cn>",
            date=DATE,
        )
    assert caught.value.permanent is True


def test_an_update_keeps_the_uid_and_a_cancel_removes_the_entry() -> None:
    update = Calendar.from_ical(_ics(sequence=2))
    cancel = Calendar.from_ical(_ics(sequence=3, method="CANCEL"))
    (updated,) = update.events
    (cancelled,) = cancel.events
    assert updated.uid == cancelled.uid
    assert (updated.sequence, cancelled.sequence) == (2, 3)
    assert cancel.method == "CANCEL"
    assert cancelled.status == "CANCELLED"
    assert cancelled.walk("VALARM") == []
    assert updated.organizer == f"mailto:{SENDER[1]}"
    assert _ics(sequence=2) == _ics(sequence=2), "the same revision is byte-identical"


def test_a_calendar_file_needs_an_aware_due_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline_ics(
            uid="u@x",
            sequence=0,
            summary="s",
            description="d",
            due_at=datetime(2026, 12, 3, 17, 0),  # noqa: DTZ001 - the mistake under test
            alarm_before=timedelta(hours=1),
            method="REQUEST",
            organizer_email=SENDER[1],
        )
