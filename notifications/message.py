"""Building the MIME message of a rendered notice.

:func:`build_message` turns a :class:`~notifications.render.RenderedMail` into an ``EmailMessage``:
multipart/alternative (plain text and HTML, UTF-8, base64) inside multipart/mixed when a calendar file goes
with it. Headers are encoded by the standard library's SMTP policy (RFC 2047 for Chinese subjects and
display names), never by hand. :func:`message_id_for` derives the Message-ID from the cause of a mail, so a
resend carries the same Message-ID and receivers and the outbox folder can drop duplicates. This module
builds messages only: it must not send them or read the clock except for a Date header nobody supplied.
"""

from __future__ import annotations

import email.policy
import email.utils
import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage

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


def _mailbox(value: AddressLike, message_id: str) -> Address:
    if isinstance(value, Address):
        return value
    name, addr = value
    try:
        return Address(display_name=name, addr_spec=addr)
    except (MessageError, ValueError, IndexError) as exc:
        raise DeliveryError(f"not a mail address: {addr!r}", permanent=True, message_id=message_id) from exc


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
) -> EmailMessage:
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
        The message, with the SMTP policy (CRLF line ends).

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

    message = EmailMessage(policy=email.policy.SMTP)
    message["Subject"] = rendered.subject
    message["From"] = _mailbox(sender, message_id)
    message["To"] = [_mailbox(mailbox, message_id) for mailbox in to]
    message["Message-ID"] = message_id
    # The Date header must have a value; the clock is read only when the caller gave none.
    message["Date"] = email.utils.format_datetime(date if date is not None else datetime.now(UTC))
    for name, value in headers.items():
        message[name] = value
    message.set_content(rendered.text, subtype="plain", charset="utf-8", cte="base64")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="base64")
    if ics is not None:
        message.add_attachment(
            ics,
            maintype="text",
            subtype="calendar",
            filename=ICS_FILENAME,
            params={"method": ics_method, "charset": "utf-8"},
        )
    return message
