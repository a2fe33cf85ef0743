"""Delivering built messages: over SMTP, or into a folder of ``.eml`` files.

Both transports have one interface: ``async with transport.connect() as conn: await conn.send(message)``.
:class:`SmtpTransport` keeps one SMTP connection for all messages sent inside the ``async with`` block,
opens it at the first message, reconnects once when the server dropped it, and turns every failure into
:class:`DeliveryError` with ``permanent`` saying whether sending again can help. :class:`FolderTransport`
writes each message atomically to ``<message-id>.eml``, so a resend replaces the file instead of adding a
second one. This module delivers what it is given: it must not render, decide whom to write to, retry on
its own beyond one reconnect, or ever log or show the SMTP password.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import Message
from pathlib import Path
from typing import Any, Literal, Protocol, Self

import aiosmtplib
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from notifications.errors import ConfigurationError, DeliveryError
from notifications.message import Prepared, prepare

_log = logging.getLogger("chengxin.notifications")  # the library never prints: the host configures output

Security = Literal["starttls", "tls", "none"]

DEFAULT_PORTS: Mapping[Security, int] = {"starttls": 587, "tls": 465, "none": 25}
"""The port used when none is configured, by connection security."""

ENV_VARIABLES: Mapping[str, str] = {
    "host": "CHENGXIN_SMTP_HOST",
    "port": "CHENGXIN_SMTP_PORT",
    "security": "CHENGXIN_SMTP_SECURITY",
    "username": "CHENGXIN_SMTP_USER",
    "password": "CHENGXIN_SMTP_PASSWORD",
    "sender": "CHENGXIN_MAIL_FROM",
    "sender_name": "CHENGXIN_MAIL_FROM_NAME",
    "timeout": "CHENGXIN_SMTP_TIMEOUT",
    "ca_file": "CHENGXIN_SMTP_CA_FILE",
}
"""The environment variable of each :class:`SmtpSettings` field."""


class SmtpSettings(BaseModel):
    """How to reach the mail server. The password is a ``SecretStr``: repr, str and logs show stars.

    Attributes:
        host: the server's host name.
        port: the server's port; when not given, 587, 465 or 25 by ``security``.
        security: ``starttls`` (upgrade a plain connection, required), ``tls`` (TLS from the start) or
            ``none`` (plain, for a relay on the same host or tests).
        username: the login, or None for no login.
        password: the password; required with a username.
        sender: the envelope sender and From address.
        sender_name: the From display name (发件单位), may be Chinese.
        timeout: seconds to wait for the server at each step.
        local_hostname: the name sent in EHLO; None asks the operating system.
        ca_file: a PEM file of the certificate authorities to trust for the server's certificate (an
            internal CA); None trusts the system's. The certificate is always verified.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    security: Security = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str
    sender_name: str = ""
    timeout: float = Field(default=30.0, gt=0)
    local_hostname: str | None = None
    ca_file: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_port(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and not data.get("port"):
            return {**data, "port": DEFAULT_PORTS.get(data.get("security", "starttls"), 587)}
        return data

    @field_validator("sender")
    @classmethod
    def _mail_address(cls, value: str) -> str:
        try:
            Address(addr_spec=value)
        except (ValueError, IndexError) as exc:
            raise ValueError(f"not a mail address: {value!r}") from exc
        return value

    @field_validator("ca_file")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @model_validator(mode="after")
    def _login_complete(self) -> Self:
        if self.username and self.password is None:
            raise ValueError("a username needs a password")
        return self

    @property
    def sender_address(self) -> Address:
        """The From mailbox: ``sender_name <sender>``."""
        return Address(display_name=self.sender_name, addr_spec=self.sender)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings | None:
        """Read the settings from ``CHENGXIN_SMTP_*`` and ``CHENGXIN_MAIL_FROM*`` (see ENV_VARIABLES).

        Args:
            environ: the environment; ``os.environ`` when None.

        Returns:
            The settings, or None when ``CHENGXIN_SMTP_HOST`` is unset or empty (mail goes nowhere by SMTP).

        Raises:
            ConfigurationError: a variable is missing or invalid; the error names the variable, never the
                password's value.
        """
        env = os.environ if environ is None else environ
        if not env.get(ENV_VARIABLES["host"], "").strip():
            return None
        data = {
            field: value.strip() if field != "password" else value
            for field, variable in ENV_VARIABLES.items()
            if (value := env.get(variable, "")) != ""
        }
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problem = exc.errors(include_url=False, include_input=False)[0]
            field = str(problem["loc"][0]) if problem["loc"] else "host"
            raise ConfigurationError(ENV_VARIABLES.get(field, field), problem["msg"]) from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class SendResult:
    """What happened to one message that was accepted for at least one recipient.

    Attributes:
        message_id: the message's Message-ID.
        refused: (recipient, server reply) of recipients the server refused while accepting others.
    """

    message_id: str
    refused: tuple[tuple[str, str], ...] = ()


class Connection(Protocol):
    """An open transport that sends messages one after another."""

    async def send(self, message: Message | Prepared) -> SendResult:
        """Send one message; raises DeliveryError when it could not be delivered."""
        ...


class Transport(Protocol):
    """Something mail can be delivered through: SMTP, a folder, or a test double."""

    def connect(self) -> AbstractAsyncContextManager[Connection]:
        """Open the transport for a batch of messages."""
        ...


def _message_id(message: Message) -> str:
    value = message.get("Message-ID")
    if not value:
        raise DeliveryError("the message has no Message-ID", permanent=True)
    return str(value).strip()


def _is_permanent_reply(code: int) -> bool:
    return 500 <= code < 600


def _classify(exc: Exception, message_id: str) -> DeliveryError:
    """The DeliveryError for a failure of aiosmtplib or the network."""
    match exc:
        case aiosmtplib.SMTPRecipientsRefused(recipients=refusals):
            codes = [refusal.code for refusal in refusals]
            reason = "; ".join(f"{r.recipient} refused: {r.code} {r.message}" for r in refusals)
            permanent = bool(codes) and all(_is_permanent_reply(code) for code in codes)
            return DeliveryError(
                reason, permanent=permanent, message_id=message_id, code=codes[0] if codes else None
            )
        case aiosmtplib.SMTPAuthenticationError():
            # The account, not the message, is at fault: once an operator fixes it the message can go.
            return DeliveryError(
                f"login refused: {exc.code} {exc.message}",
                permanent=False,
                message_id=message_id,
                code=exc.code,
            )
        case aiosmtplib.SMTPSenderRefused():
            # A refused sender is a configuration problem that affects every message alike.
            return DeliveryError(
                f"sender refused: {exc.code} {exc.message}",
                permanent=False,
                message_id=message_id,
                code=exc.code,
            )
        case aiosmtplib.SMTPResponseException():
            return DeliveryError(
                f"server replied {exc.code} {exc.message}",
                permanent=_is_permanent_reply(exc.code),
                message_id=message_id,
                code=exc.code,
            )
        case aiosmtplib.SMTPException() | OSError():
            return DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False, message_id=message_id)
        case _:
            return DeliveryError(f"{type(exc).__name__}: {exc}", permanent=True, message_id=message_id)


def _dropped(exc: Exception) -> bool:
    """Whether the server closed the connection, so reconnecting and sending once more is right."""
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return True
    return isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code == 421


class SmtpConnection:
    """One SMTP session reused for every message; use :meth:`SmtpTransport.connect` to get one."""

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()  # one SMTP transaction at a time, also when tasks share the session

    def _new_client(self) -> aiosmtplib.SMTP:
        settings = self._settings
        return aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            username=settings.username,
            password=settings.password.get_secret_value() if settings.password else None,
            use_tls=settings.security == "tls",
            start_tls=settings.security == "starttls",
            timeout=settings.timeout,
            local_hostname=settings.local_hostname,
            cert_bundle=str(settings.ca_file) if settings.ca_file else None,
        )

    async def _connected_client(self) -> aiosmtplib.SMTP:
        if self._client is None or not self._client.is_connected:
            self._discard()  # a half-open session (a failed handshake, say) still holds a socket
            self._client = self._new_client()
            try:
                await self._client.connect()
            except Exception:
                protocol = self._client.protocol
                self._discard()
                await _closed(protocol)
                raise
            _log.debug("smtp.connected host=%s port=%s", self._settings.host, self._settings.port)
        return self._client

    async def send(self, message: Message | Prepared) -> SendResult:
        """Send one message over the session, opening or reopening it when needed.

        When the server has dropped the connection (or answers 421), the message is sent once more over
        a new connection; a second failure is reported.

        Args:
            message: a message with From, To and Message-ID (see :func:`notifications.message.build_message`).

        Returns:
            The Message-ID and any recipients refused while others accepted the message.

        Raises:
            DeliveryError: permanent for a 5xx refusal of every recipient or of the content, or for a
                message that cannot be sent at all; temporary for connection trouble, timeouts, 4xx
                replies, a refused login or sender.
        """
        prepared = message if isinstance(message, Prepared) else prepare(message)
        message_id = prepared.message_id
        async with self._lock:
            try:
                return await self._send_once(prepared, message_id)
            except Exception as exc:  # aiosmtplib and the network raise many kinds; each is classified
                if not _dropped(exc):
                    raise _classify(exc, message_id) from exc
                _log.info("smtp.reconnecting host=%s reason=%s", self._settings.host, exc)
                self._discard()
            try:
                return await self._send_once(prepared, message_id)
            except Exception as exc:
                raise _classify(exc, message_id) from exc

    async def _send_once(self, prepared: Prepared, message_id: str) -> SendResult:
        client = await self._connected_client()
        errors, _reply = await client.sendmail(
            self._settings.sender, list(prepared.recipients), prepared.data
        )
        refused = tuple((recipient, f"{reply.code} {reply.message}") for recipient, reply in errors.items())
        return SendResult(message_id=message_id, refused=refused)

    def _discard(self) -> None:
        if self._client is not None:
            _abort(self._client)
            self._client = None

    async def close(self) -> None:
        """Say QUIT if the session is open, and close it; errors on the way out are ignored."""
        client, self._client = self._client, None
        if client is None:
            return
        protocol = client.protocol
        if not client.is_connected:
            _abort(client)  # releases what a failed connect or handshake left open
        else:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                _abort(client)
        await _closed(protocol)


CLOSE_WAIT = 2.0  # seconds a closing session may take to say goodbye (a TLS close_notify)


async def _closed(protocol: Any, timeout: float = CLOSE_WAIT) -> None:
    """Wait until the socket under a closing session is really closed, or ``timeout`` has passed.

    Closing a TLS session sends a close_notify and closes the socket a few turns of the event loop
    later; a batch that returned at once could end its event loop (``asyncio.run``) first and leave
    the socket open. The protocol forgets its transport when the connection is lost.
    """
    if protocol is None:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while getattr(protocol, "transport", None) is not None and loop.time() < deadline:
        await asyncio.sleep(0.005)


def _abort(client: aiosmtplib.SMTP) -> None:
    """Close a session that is broken or half-open, at once.

    After a failed STARTTLS handshake the plain socket is left "closing" with the TLS alert still
    in its write buffer; a plain close would wait for that buffer to drain, and a process that
    ends meanwhile leaks the socket. Aborting drops the buffer and closes it on the next turn of
    the event loop.
    """
    transport = client.transport
    if isinstance(transport, asyncio.Transport):
        transport.abort()
    client.close()


class SmtpTransport:
    """Delivery through an SMTP server (aiosmtplib).

    Args:
        settings: the server, login and sender.
    """

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[SmtpConnection]:
        """A session for a batch of messages; the server is contacted at the first message."""
        connection = SmtpConnection(self.settings)
        try:
            yield connection
        finally:
            await connection.close()


_UNSAFE = re.compile(r"[^A-Za-z0-9._@+=-]")
_MAX_NAME = 150


def eml_filename(message_id: str) -> str:
    """The file name a Message-ID is written to: ``<safe-id>.eml``, the same for the same Message-ID.

    Characters other than letters, digits and ``._@+=-`` become ``_``; when that changed anything, or the
    name is long, a short hash of the original keeps distinct Message-IDs in distinct files.

    Args:
        message_id: the Message-ID, with or without angle brackets.

    Returns:
        A file name without directory parts that does not start with a dot.
    """
    core = message_id.strip().removeprefix("<").removesuffix(">")
    safe = _UNSAFE.sub("_", core)[:_MAX_NAME].lstrip(".") or "_"
    if safe != core:
        safe += "-" + hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:12]
    return f"{safe}.eml"


class FolderConnection:
    """Writes messages into a folder; use :meth:`FolderTransport.connect` to get one."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def _write(self, name: str, data: bytes) -> Path:
        target = self._path / name
        handle, temporary = tempfile.mkstemp(dir=self._path, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return target

    async def send(self, message: Message | Prepared) -> SendResult:
        """Write the message to ``<safe-message-id>.eml``, replacing an earlier copy of it.

        Raises:
            DeliveryError: permanent when the message has no Message-ID or cannot be serialised;
                temporary when the file cannot be written.
        """
        prepared = message if isinstance(message, Prepared) else prepare(message)
        message_id, data = prepared.message_id, prepared.data
        try:
            await asyncio.to_thread(self._write, eml_filename(message_id), data)
        except OSError as exc:
            raise DeliveryError(
                f"cannot write to {self._path}: {exc}", permanent=False, message_id=message_id
            ) from exc
        return SendResult(message_id=message_id)


class FolderTransport:
    """Delivery into a folder, one ``.eml`` file per Message-ID (development, demos, air-gapped sites).

    Args:
        path: the folder; created when missing.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[FolderConnection]:
        """A session for a batch of messages.

        Raises:
            DeliveryError: temporary, when the folder cannot be created.
        """
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DeliveryError(f"cannot create {self.path}: {exc}", permanent=False) from exc
        yield FolderConnection(self.path)
