"""A real SMTP server on loopback (aiosmtpd) that records what it receives, for the dispatcher and CLI tests."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:  # Controller cannot take port 0: find one, release it, use it
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Handler:
    received: list[bytes] = field(default_factory=list)
    sessions: set[int] = field(default_factory=set)
    kill_pid_after: int | None = None  # SIGKILL this process when the Nth message arrives (before the reply)
    pid: int | None = None
    # awaited with the number of messages received so far, before the reply: a slow server, or
    # something that happens while a sender waits for its "250"
    on_message: Callable[[int], Awaitable[None]] | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("refuse"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.sessions.add(id(session))
        self.received.append(envelope.content)
        if self.kill_pid_after is not None and self.pid and len(self.received) == self.kill_pid_after:
            os.kill(self.pid, signal.SIGKILL)  # the sender dies after sending, before it hears "250"
        if self.on_message is not None:
            await self.on_message(len(self.received))
        return "250 Message accepted"

    def messages(self) -> list[EmailMessage]:
        found = []
        for raw in self.received:
            message = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            found.append(message)
        return found


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.handler = Handler()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def env(self) -> dict[str, str]:
        return {
            "CHENGXIN_SMTP_HOST": "127.0.0.1",
            "CHENGXIN_SMTP_PORT": str(self.port),
            "CHENGXIN_SMTP_SECURITY": "none",
            "CHENGXIN_MAIL_FROM": "xinyong@credit.example.gov.cn",
            "CHENGXIN_MAIL_FROM_NAME": "市发展改革委（信用办）",
            "CHENGXIN_SMTP_TIMEOUT": "5",
        }
