"""Building the MIME message of a rendered notice.

:func:`build_message` turns a :class:`~notifications.render.RenderedMail` into a MIME message:
multipart/alternative (plain text and HTML, UTF-8, base64) inside multipart/mixed when a calendar file goes
with it. Headers are encoded by the standard library (RFC 2047 for Chinese subjects and display names),
never by hand. :func:`message_id_for` derives the Message-ID from the cause of a mail, so a
resend carries the same Message-ID and receivers and the outbox folder can drop duplicates. This module
builds messages only: it must not send them or read the clock except for a Date header nobody supplied.
"""

from __future__ import annotations

import email.policy
import email.utils
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email import encoders
from email.errors import MessageError
from email.header import Header
from email.headerregistry import Address
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from notifications.errors import DeliveryError
from notifications.ics import IcsMethod
from notifications.render import RenderedMail

AddressLike = Address | tuple[str, str]
"""A mailbox: an ``email.headerregistry.Address`` or a (display name, email) pair."""

ICS_FILENAME = "deadline.ics"

_RESERVED_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "subject", "message-id", "date", "mime-version", "content-type",
     "content-transfer-encoding", "content-disposition"}
)  # fmt: skip
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
_MESSAGE_ID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")

CHINA = timezone(timedelta(hours=8), "CST")  # China Standard Time, no daylight saving


def message_id_for(cause: str, domain: str) -> str:
    """The Message-ID of the mail caused by ``cause``, the same on every call.

    Args:
        cause: a key naming why the mail exists, unique per mail and recipient (for example
            ``"record/CX-2026-000128/record_notice/unit/1112..."``); it is hashed, never shown.
        domain: the sending domain (``xinyong.example.gov.cn``).

    Returns:
        ``<hash.chengxin@domain>``, with 32 hex digits of SHA-256 of the cause.

    Raises:
        ValueError: ``cause`` is empty or ``domain`` is not a host name.
    """
    if not cause:
        raise ValueError("cause must not be empty")
    if not _DOMAIN.match(domain):
        raise ValueError(f"not a domain for a Message-ID: {domain!r}")
    digest = hashlib.sha256(cause.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}.chengxin@{domain}>"


def _mailbox(value: AddressLike, message_id: str) -> str:
    """The mailbox as a header value: the display name RFC 2047-encoded by the standard library."""
    if isinstance(value, Address):
        name, addr = value.display_name, value.addr_spec
    else:
        name, addr = value
    try:
        Address(display_name=name, addr_spec=addr)  # parses the address: a bad one is refused here
    except (MessageError, ValueError, IndexError) as exc:
        raise DeliveryError(f"not a mail address: {addr!r}", permanent=True, message_id=message_id) from exc
    if "@" not in addr:
        raise DeliveryError(f"not a mail address: {addr!r}", permanent=True, message_id=message_id)
    return email.utils.formataddr((name, addr), charset="utf-8")


def _header(value: str, name: str) -> str:
    return value if value.isascii() else Header(value, "utf-8", header_name=name).encode()


def build_message(
    *,
    rendered: RenderedMail,
    sender: AddressLike,
    to: Sequence[AddressLike],
    message_id: str,
    ics: bytes | None = None,
    ics_method: IcsMethod = "REQUEST",
    extra_headers: Mapping[str, str] | None = None,
    date: datetime | None = None,
) -> Message:
    """Build the message of a rendered notice.

    Besides the usual headers the message carries ``Auto-Submitted: auto-generated`` (RFC 3834: no
    autoreplies), ``Content-Language: zh-CN`` and ``X-Chengxin-Notice: <template>``; ``extra_headers`` may
    replace these and add others.

    Args:
        rendered: the rendered notice.
        sender: the From mailbox.
        to: the recipients; at least one.
        message_id: the Message-ID, ``<local@domain>`` (see :func:`message_id_for`).
        ics: a calendar file to attach as ``deadline.ics`` (see :func:`notifications.ics.deadline_ics`).
        ics_method: the METHOD of that calendar file, repeated in its Content-Type.
        extra_headers: more headers, for example ``X-Chengxin-Record``.
        date: the Date header; the engine passes its clock's time. Without it the current time is used.

    Returns:
        The message (the transports write it with CRLF line ends).

    Raises:
        ValueError: no recipient, a malformed Message-ID, a naive date, an extra header that would replace
            a structural one (From, To, Subject, Content-Type, ...) or contains a line break.
        DeliveryError: an address cannot be parsed (permanent: the message can never be sent).
    """
    if not to:
        raise ValueError("a message needs at least one recipient")
    if not _MESSAGE_ID.match(message_id):
        raise ValueError(f"not a Message-ID: {message_id!r}")
    if date is not None and (date.tzinfo is None or date.utcoffset() is None):
        raise ValueError(f"date must be timezone-aware, got {date.isoformat()}")
    headers = {
        "Auto-Submitted": "auto-generated",
        "Content-Language": "zh-CN",
        "X-Chengxin-Notice": rendered.template,
    } | dict(extra_headers or {})
    reserved = sorted(name for name in headers if name.lower() in _RESERVED_HEADERS)
    if reserved:
        raise ValueError(f"extra_headers may not set {', '.join(reserved)}")

    # The classic MIME classes: the same standard-library encoding (RFC 2047 headers, base64
    # bodies) at a fraction of the cost of the EmailMessage API's header refolding.
    alternative = MIMEMultipart("alternative")
    alternative.attach(_text(rendered.text, "plain"))
    alternative.attach(_text(rendered.html, "html"))
    message: Message = alternative
    if ics is not None:
        message = MIMEMultipart("mixed")
        message.attach(alternative)
        calendar = MIMEBase("text", "calendar", method=ics_method, charset="utf-8")
        calendar.set_payload(ics)
        encoders.encode_base64(calendar)
        calendar.add_header("Content-Disposition", "attachment", filename=ICS_FILENAME)
        message.attach(calendar)
    message["Subject"] = Header(rendered.subject, "utf-8", header_name="Subject").encode()
    message["From"] = _mailbox(sender, message_id)
    message["To"] = ", ".join(_mailbox(mailbox, message_id) for mailbox in to)
    message["Message-ID"] = message_id
    # The Date header must have a value; the clock is read only when the caller gave none.
    # In China's time (+0800), as the recipients' mail clients show it (a UTC Date reads as 02:00).
    when = date if date is not None else datetime.now(UTC)
    message["Date"] = email.utils.format_datetime(when.astimezone(CHINA))
    for name, value in headers.items():
        if "\n" in value or "\r" in value:
            raise ValueError(f"header {name} contains a line break")
        message[name] = _header(value, name)
    return message


def _text(body: str, subtype: str) -> MIMEText:
    """A UTF-8 text part (base64, so no line of it is too long for SMTP)."""
    return MIMEText(body, subtype, "utf-8")


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """A message flattened to the bytes that go over the wire, with its envelope.

    Flattening costs about as much as building; a dispatcher does it ahead, while the server
    answers the message before.
    """

    message_id: str
    recipients: tuple[str, ...]
    data: bytes


WIRE = email.policy.compat32.clone(linesep="\r\n")


def prepare(message: Message) -> Prepared:
    """Flatten a built message (CRLF line ends) and read its envelope recipients from To.

    Raises:
        DeliveryError: permanent, when the message has no Message-ID or no recipient, or cannot
            be serialised.
    """
    message_id = str(message.get("Message-ID") or "").strip()
    if not message_id:
        raise DeliveryError("the message has no Message-ID", permanent=True)
    recipients = tuple(addr for _name, addr in email.utils.getaddresses(message.get_all("To", [])) if addr)
    if not recipients:
        raise DeliveryError("the message has no recipient", permanent=True, message_id=message_id)
    try:
        data = message.as_bytes(policy=WIRE)
    except (ValueError, LookupError, TypeError) as exc:
        raise DeliveryError(
            f"cannot serialise the message: {exc}", permanent=True, message_id=message_id
        ) from exc
    return Prepared(message_id=message_id, recipients=recipients, data=data)
