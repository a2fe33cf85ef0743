"""Notices to the units a dishonesty record concerns: templates, rendering, MIME messages and delivery.

The engine hands this package plain data (dicts and dataclasses) and gets back rendered mails, MIME
messages and delivery results; the contract of each notice is in :mod:`notifications.catalog`. The package
must never import ``workflow``, ``storage`` or ``definitions`` (import-linter checks it), never read the
clock except for protocol stamps nobody supplied, and never let a resident ID number into a mail.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from notifications.catalog import NOTICES, NoticeSpec, check_context
    from notifications.errors import (
        ConfigurationError,
        DeliveryError,
        NotificationError,
        PrivacyViolation,
        TemplateNotFound,
        TemplateRenderError,
    )
    from notifications.filters import cn_date, cn_datetime
    from notifications.ics import deadline_ics
    from notifications.message import build_message, message_id_for
    from notifications.privacy import find_id_numbers, mask_id_number, mask_id_numbers
    from notifications.render import RenderedMail, TemplateCatalog
    from notifications.transport import (
        FolderTransport,
        SendResult,
        SmtpSettings,
        SmtpTransport,
        Transport,
    )

_WHERE = {
    "NOTICES": "notifications.catalog",
    "NoticeSpec": "notifications.catalog",
    "check_context": "notifications.catalog",
    "ConfigurationError": "notifications.errors",
    "DeliveryError": "notifications.errors",
    "NotificationError": "notifications.errors",
    "PrivacyViolation": "notifications.errors",
    "TemplateNotFound": "notifications.errors",
    "TemplateRenderError": "notifications.errors",
    "cn_date": "notifications.filters",
    "cn_datetime": "notifications.filters",
    "deadline_ics": "notifications.ics",
    "build_message": "notifications.message",
    "message_id_for": "notifications.message",
    "find_id_numbers": "notifications.privacy",
    "mask_id_number": "notifications.privacy",
    "mask_id_numbers": "notifications.privacy",
    "RenderedMail": "notifications.render",
    "TemplateCatalog": "notifications.render",
    "FolderTransport": "notifications.transport",
    "SendResult": "notifications.transport",
    "SmtpSettings": "notifications.transport",
    "SmtpTransport": "notifications.transport",
    "Transport": "notifications.transport",
}

__all__ = [
    "NOTICES",
    "ConfigurationError",
    "DeliveryError",
    "FolderTransport",
    "NoticeSpec",
    "NotificationError",
    "PrivacyViolation",
    "RenderedMail",
    "SendResult",
    "SmtpSettings",
    "SmtpTransport",
    "TemplateCatalog",
    "TemplateNotFound",
    "TemplateRenderError",
    "Transport",
    "build_message",
    "check_context",
    "cn_date",
    "cn_datetime",
    "deadline_ics",
    "find_id_numbers",
    "mask_id_number",
    "mask_id_numbers",
    "message_id_for",
]


def __getattr__(name: str) -> Any:
    """Load a public name's module on first use: a caller that needs only ``notifications.privacy``
    (the engine's views) does not pay for Jinja2, icalendar and the SMTP client."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'notifications' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
