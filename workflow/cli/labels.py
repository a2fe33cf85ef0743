"""Chinese labels first, the code beside: a case's field names and values (from the definition's
field labels and enum labels, as the mails show them) and deadline statuses."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from definitions.model import Definition

DEADLINE_STATUS = {
    "active": "进行中",
    "paused": "已暂停",
    "met": "已完成",
    "met_late": "逾期后完成",
    "expired": "已逾期",
    "cancelled": "已取消",
    "superseded": "已被取代",
}


def status_text(status: str) -> str:
    """``已逾期 (expired)``; an unknown status is shown as it is."""
    label = DEADLINE_STATUS.get(status)
    return f"{label} ({status})" if label else status


def field_text(definition: Definition | None, name: str) -> str:
    """``严重程度 (severity)``: the field's label with its name, or the name alone."""
    spec = definition.fields.get(name) if definition else None
    return f"{spec.label} ({name})" if spec and spec.label and spec.label != name else name


def value_text(definition: Definition | None, name: str, value: Any) -> str:
    """A field's value for people: enum codes as ``一般 (general)``, yes/no, lists joined."""
    spec = definition.fields.get(name) if definition else None
    enum = definition.enums.get(spec.enum) if definition and spec and spec.enum else None
    if enum is not None:
        codes = value if isinstance(value, list) else [value]
        shown = [
            f"{enum.label_of(str(c))} ({c})" if enum.label_of(str(c)) != str(c) else str(c) for c in codes
        ]
        return "、".join(shown)
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "、".join(value)
    return json.dumps(value, ensure_ascii=False)
