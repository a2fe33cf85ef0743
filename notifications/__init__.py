"""Notices to the units a dishonesty record concerns: templates, rendering, MIME messages and delivery.

The engine hands this package plain data (dicts and dataclasses) and gets back rendered mails, MIME
messages and delivery results; the contract of each notice is in :mod:`notifications.catalog`. The package
must never import ``workflow``, ``storage`` or ``definitions`` (import-linter checks it), never read the
clock except for protocol stamps nobody supplied, and never let a resident ID number into a mail.
"""

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
