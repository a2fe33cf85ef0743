"""chengxin (诚信): a workflow engine for the lifecycle of government dishonesty records and the
cases around them (complaints, work ledgers, public commitments, supervision rounds).

This module is the public API an embedding service imports::

    from workflow import Engine, Actor, WorkflowError

    engine = Engine.open("postgresql://chengxin@db/credit")
    view = engine.fire("SX20261122-7K3QF2", "submit_explanation",
                       actor=Actor(id="zhao.qiang", role="subject", unit="hexi-zjw"),
                       payload={"explanation": "……"})

Everything else under ``workflow`` is internal. Names load on first use, so importing the
package costs nothing until an engine is needed. The library never prints: it logs to the
standard library's ``chengxin`` loggers (see ``workflow.log``). Every error it raises is a
``WorkflowError``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workflow.core.values import Actor
    from workflow.engine.clock import Clock, ManualClock, SystemClock
    from workflow.engine.facade import Engine
    from workflow.engine.sweep import SweepResult
    from workflow.engine.views import DeadlineView, EventOption, HistoryEntry, RecordView, TrackView
    from workflow.errors import (
        ArgumentInvalid,
        CheckpointError,
        ClockError,
        CommentRequired,
        Conflict,
        DatabaseBusy,
        DatabaseUnavailable,
        DeadlineExtensionRefused,
        DefinitionChanged,
        DefinitionInvalid,
        DefinitionNotFound,
        ExportInvalid,
        GuardRefused,
        HistoryKeyError,
        HolidayTableInvalid,
        IdempotencyKeyReused,
        InvalidDatabaseUrl,
        MailSettingsInvalid,
        PayloadInvalid,
        PermissionDenied,
        RecordNotFound,
        SchemaOutdated,
        StorageFailure,
        StoredDefinitionAltered,
        TokenNotFound,
        TransitionNotAllowed,
        Unauthenticated,
        UnknownEvent,
        WebhookNotFound,
        WorkflowError,
    )
    from workflow.runtime.dispatch import Dispatcher, DispatchResult, MailSettings
    from workflow.runtime.webhooks import WebhookDispatcher, WebhookSettings

_WHERE = {
    "Actor": "workflow.core.values",
    "Clock": "workflow.engine.clock",
    "ManualClock": "workflow.engine.clock",
    "SystemClock": "workflow.engine.clock",
    "Engine": "workflow.engine.facade",
    "SweepResult": "workflow.engine.sweep",
    "IntegrityArchive": "workflow.engine.credit",
    "SubjectStatus": "workflow.engine.credit",
    "DeadlineView": "workflow.engine.views",
    "EventOption": "workflow.engine.views",
    "HistoryEntry": "workflow.engine.views",
    "RecordView": "workflow.engine.views",
    "TrackView": "workflow.engine.views",
    "Dispatcher": "workflow.runtime.dispatch",
    "DispatchResult": "workflow.runtime.dispatch",
    "MailSettings": "workflow.runtime.dispatch",
    "WebhookDispatcher": "workflow.runtime.webhooks",
    "WebhookSettings": "workflow.runtime.webhooks",
    **dict.fromkeys(
        (
            "ArgumentInvalid",
            "CheckpointError",
            "ClockError",
            "CommentRequired",
            "Conflict",
            "DatabaseBusy",
            "DatabaseUnavailable",
            "DeadlineExtensionRefused",
            "DefinitionChanged",
            "DefinitionInvalid",
            "DefinitionNotFound",
            "ExportInvalid",
            "GuardRefused",
            "HistoryKeyError",
            "HolidayTableInvalid",
            "IntegrityArchive",
            "IdempotencyKeyReused",
            "InvalidDatabaseUrl",
            "MailSettingsInvalid",
            "PayloadInvalid",
            "PermissionDenied",
            "RecordNotFound",
            "SchemaOutdated",
            "StorageFailure",
            "StoredDefinitionAltered",
            "TokenNotFound",
            "TransitionNotAllowed",
            "Unauthenticated",
            "UnknownEvent",
            "WebhookNotFound",
            "WorkflowError",
        ),
        "workflow.errors",
    ),
}

__all__ = [
    "Actor",
    "ArgumentInvalid",
    "CheckpointError",
    "Clock",
    "ClockError",
    "CommentRequired",
    "Conflict",
    "DatabaseBusy",
    "DatabaseUnavailable",
    "DeadlineExtensionRefused",
    "DeadlineView",
    "DefinitionChanged",
    "DefinitionInvalid",
    "DefinitionNotFound",
    "DispatchResult",
    "Dispatcher",
    "Engine",
    "EventOption",
    "ExportInvalid",
    "GuardRefused",
    "HistoryEntry",
    "HistoryKeyError",
    "HolidayTableInvalid",
    "IdempotencyKeyReused",
    "InvalidDatabaseUrl",
    "MailSettings",
    "MailSettingsInvalid",
    "ManualClock",
    "PayloadInvalid",
    "PermissionDenied",
    "RecordNotFound",
    "RecordView",
    "SchemaOutdated",
    "StorageFailure",
    "StoredDefinitionAltered",
    "SubjectStatus",
    "SweepResult",
    "SystemClock",
    "TokenNotFound",
    "TrackView",
    "TransitionNotAllowed",
    "Unauthenticated",
    "UnknownEvent",
    "WebhookDispatcher",
    "WebhookNotFound",
    "WebhookSettings",
    "WorkflowError",
]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'workflow' has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
