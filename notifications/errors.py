"""Errors raised by the notifications package.

Every error here derives from :class:`NotificationError`, carries structured attributes and builds its own
message, so the engine can log or store it without parsing text. No error message may ever contain a
resident ID number or an SMTP password: values that could be personal data are masked before they are put
into a message. This module must not import anything from the rest of the project.
"""

from __future__ import annotations

from collections.abc import Sequence


class NotificationError(Exception):
    """Base class of every error raised by the notifications package."""


class ConfigurationError(NotificationError, ValueError):
    """Settings for rendering or delivery are unusable (a missing override directory, a bad SMTP port)."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting, self.problem = setting, problem


class TemplateNotFound(NotificationError, LookupError):
    """A notice was asked for that has no complete set of template files."""

    def __init__(self, name: str, missing: Sequence[str], available: Sequence[str]) -> None:
        super().__init__(
            f"notice template {name!r} is incomplete or unknown: missing {', '.join(missing)}; "
            f"available notices: {', '.join(available) or 'none'}"
        )
        self.name, self.missing, self.available = name, tuple(missing), tuple(available)


class TemplateRenderError(NotificationError):
    """A template could not be rendered with the context it was given.

    Attributes:
        template: the template file that failed (``record_notice.txt.j2``) or, for a context that does not
            satisfy the notice's contract, the notice name.
        variable: the missing or invalid variable (``deadline.due_at``), when it is known.
        line: the line of the template file where rendering failed, when it is known.
        detail: what went wrong, in one line.
    """

    def __init__(
        self, template: str, detail: str, *, variable: str | None = None, line: int | None = None
    ) -> None:
        where = f"{template}, line {line}" if line is not None else template
        what = f"variable {variable!r}: {detail}" if variable is not None else detail
        super().__init__(f"cannot render {where}: {what}")
        self.template, self.detail, self.variable, self.line = template, detail, variable, line


class PrivacyViolation(NotificationError):
    """A rendered mail contains what looks like a resident ID number and must not be sent.

    Attributes:
        template: the notice name.
        part: ``subject``, ``text`` or ``html``.
        masked: the offending numbers, masked (first 6 and last 4 characters kept).
    """

    def __init__(self, template: str, part: str, masked: Sequence[str]) -> None:
        super().__init__(
            f"notice {template!r}: the rendered {part} contains {len(masked)} resident ID number(s) "
            f"({', '.join(masked)}); ID numbers are never sent by mail"
        )
        self.template, self.part, self.masked = template, part, tuple(masked)


class DeliveryError(NotificationError):
    """A message could not be handed to the mail server or written to the outbox folder.

    Attributes:
        permanent: True when sending the same message again cannot succeed (a recipient refused with a
            5xx reply, content rejected); False when a later attempt may (connection lost, 4xx reply,
            authentication or TLS trouble that an operator can fix).
        message_id: the Message-ID of the message, when there was one.
        code: the SMTP reply code, when the server gave one.
        reason: what went wrong, in one line.
    """

    def __init__(
        self, reason: str, *, permanent: bool, message_id: str | None = None, code: int | None = None
    ) -> None:
        kind = "permanent" if permanent else "temporary"
        about = f" for {message_id}" if message_id else ""
        reply = f" ({code})" if code is not None else ""
        super().__init__(f"{kind} delivery failure{about}{reply}: {reason}")
        self.reason, self.permanent, self.message_id, self.code = reason, permanent, message_id, code
