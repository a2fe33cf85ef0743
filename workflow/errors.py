"""Errors the engine raises to its callers.

Each error builds a one-line message from structured fields, Chinese first with the English a
developer reads beside it, so the CLI can print it as is and an HTTP layer can map it to a
status. Nothing here performs I/O.
"""

from __future__ import annotations

from collections.abc import Sequence


class WorkflowError(Exception):
    """Base class of every error the engine reports to a user."""

    exit_code = 1


class DefinitionNotFound(WorkflowError, LookupError):
    exit_code = 2

    def __init__(self, name: str, version: int | None, known: Sequence[str]) -> None:
        which = name if version is None else f"{name}@{version}"
        super().__init__(
            f"找不到流程定义 {which} (unknown workflow definition); known: {', '.join(known) or 'none'}"
        )
        self.name, self.version = name, version


class DefinitionChanged(WorkflowError):
    """A definition file differs from the version already used by stored records."""

    exit_code = 2

    def __init__(self, key: str, source: str) -> None:
        super().__init__(
            f"流程定义 {key} 已被记录使用，不得修改 (definition {key} in {source} differs from the version "
            "stored with the records that use it; definitions in use are immutable: publish the change "
            "under a new version number)"
        )
        self.key = key


class RecordNotFound(WorkflowError, LookupError):
    exit_code = 3

    def __init__(self, record_id: str) -> None:
        super().__init__(f"记录 {record_id} 不存在 (record not found)")
        self.record_id = record_id


class TransitionNotAllowed(WorkflowError):
    """The event cannot be fired from the record's current state."""

    exit_code = 4

    def __init__(self, record_id: str, state: str, event: str, allowed: Sequence[str]) -> None:
        super().__init__(
            f"记录 {record_id}：当前状态 {state} 不允许 {event!r} (not allowed in this state); "
            f"allowed: {', '.join(allowed) or 'none'}"
        )
        self.record_id, self.state, self.event, self.allowed = record_id, state, event, tuple(allowed)


class UnknownEvent(WorkflowError, LookupError):
    exit_code = 4

    def __init__(self, event: str, definition: str, known: Sequence[str]) -> None:
        super().__init__(f"{definition} 中没有事件 {event!r} (unknown event); events: {', '.join(known)}")
        self.event = event


class PermissionDenied(WorkflowError, PermissionError):
    exit_code = 5

    def __init__(self, role: str, event: str, allowed_roles: Sequence[str], why: str = "") -> None:
        reason = why or f"roles that may fire it: {', '.join(allowed_roles)}"
        super().__init__(f"角色 {role!r} 无权执行 {event!r} (permission denied); {reason}")
        self.role, self.event, self.allowed_roles = role, event, tuple(allowed_roles)


class GuardRefused(WorkflowError):
    """A rule of the definition refuses the event (four-eyes, a period not yet passed, …)."""

    exit_code = 6

    def __init__(self, record_id: str, event: str, reasons: Sequence[str]) -> None:
        super().__init__(f"记录 {record_id}：{event!r} 被规则拒绝 (refused by a rule): {'; '.join(reasons)}")
        self.record_id, self.event, self.reasons = record_id, event, tuple(reasons)


class PayloadInvalid(WorkflowError, ValueError):
    exit_code = 7

    def __init__(self, event: str, field: str, problem: str) -> None:
        super().__init__(f"{event!r} 的字段 {field!r} 无效 (invalid payload field): {problem}")
        self.event, self.field, self.problem = event, field, problem


class CommentRequired(WorkflowError, ValueError):
    exit_code = 7

    def __init__(self, event: str) -> None:
        super().__init__(f"{event!r} 是一项决定，必须填写理由 (a comment giving the reasons is required)")
        self.event = event


class DeadlineExtensionRefused(WorkflowError):
    exit_code = 6

    def __init__(self, deadline: str, asked: int, total: int, maximum: int) -> None:
        super().__init__(
            f"期限 {deadline} 延长 {asked} 个工作日后合计 {total} 个工作日，超过上限 {maximum} 个工作日 "
            f"(extension refused: {total} working days in all, the maximum is {maximum})"
        )
        self.deadline, self.asked, self.total, self.maximum = deadline, asked, total, maximum


class Conflict(WorkflowError):
    """Another command changed the record between reading and writing it."""

    exit_code = 8

    def __init__(self, record_id: str, expected: int, found: int | None = None) -> None:
        now = f", now at version {found}" if found is not None else ""
        super().__init__(
            f"记录 {record_id} 已被他人修改，请刷新后重试 (conflict: the record changed since version "
            f"{expected}{now}; reload and try again)"
        )
        self.record_id, self.expected, self.found = record_id, expected, found


class IdempotencyKeyReused(WorkflowError):
    exit_code = 8

    def __init__(self, key: str) -> None:
        super().__init__(
            f"幂等键 {key!r} 已用于另一条不同的命令 (idempotency key already used for a different command)"
        )
        self.key = key


class ClockError(WorkflowError):
    """Simulated time was asked for where it is not allowed, or time would run backwards."""

    exit_code = 9


class CheckpointError(WorkflowError):
    exit_code = 10
