"""Errors the engine raises to its callers: one root, ``WorkflowError``.

Each error builds a one-line message from structured fields, Chinese first with the English a
developer reads beside it. What went wrong underneath (the database, a definition file, a
holiday table, the mail settings) reaches a caller as one of these, with the original chained
as its cause (``raise … from``). Exit codes belong to the CLI (``workflow.cli.errors``) and HTTP
statuses to the API, not to these classes. Nothing here performs I/O.
"""

from __future__ import annotations

from collections.abc import Sequence


class WorkflowError(Exception):
    """Base class of every error the engine reports to a user."""


class DefinitionInvalid(WorkflowError, ValueError):
    """One or more definition files are invalid; ``problems`` holds one ``file:line: message`` each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        head = "invalid workflow definition" if count == 1 else f"{count} problems in workflow definitions"
        super().__init__(f"流程定义有误 ({head}): " + "; ".join(self.problems))


class HolidayTableInvalid(WorkflowError, ValueError):
    """A holiday table file cannot be used (its message names the file and the problem)."""


class MailSettingsInvalid(WorkflowError, ValueError):
    """A mail setting (``CHENGXIN_SMTP_*``, ``CHENGXIN_MAIL_*``) is invalid; the message names it."""


class StorageFailure(WorkflowError):
    """The database could not do what was asked (unreachable, busy, wrong schema, bad URL)."""


class DatabaseUnavailable(StorageFailure):
    """The database cannot be reached, or the SQLite file's folder does not exist."""


class DatabaseBusy(StorageFailure):
    """The database stayed locked by other writers past the busy timeout: try again."""


class SchemaOutdated(StorageFailure):
    """The database's schema is missing or older than this chengxin: run ``chengxin init``."""


class InvalidDatabaseUrl(StorageFailure, ValueError):
    """The database URL is not one chengxin can use."""


class DefinitionNotFound(WorkflowError, LookupError):
    def __init__(self, name: str, version: int | None, known: Sequence[str]) -> None:
        which = name if version is None else f"{name}@{version}"
        super().__init__(
            f"找不到流程定义 {which} (unknown workflow definition); known: {', '.join(known) or 'none'}"
        )
        self.name, self.version = name, version


class DefinitionChanged(WorkflowError):
    """A definition file differs from the version already used by stored records."""

    def __init__(self, key: str, source: str) -> None:
        super().__init__(
            f"流程定义 {key} 已被记录使用，不得修改 (definition {key} in {source} differs from the version "
            "stored with the records that use it; definitions in use are immutable: publish the change "
            "under a new version number)"
        )
        self.key = key


class StoredDefinitionAltered(WorkflowError):
    """The stored text of a definition version no longer matches its SHA-256, or cannot be read:
    it was edited in the database. The engine never runs on it."""

    def __init__(self, key: str, detail: str) -> None:
        super().__init__(
            f"流程定义 {key} 在数据库中的存储文本被改动，拒绝运行 (the stored text of definition {key} was "
            f"altered in the database: {detail}; restore the workflow_definition row from a backup, "
            "then run 'chengxin audit verify')"
        )
        self.key, self.detail = key, detail


class HistoryKeyError(WorkflowError):
    """The history key file cannot be used, is not the key this database's rows are sealed with,
    or is missing for a database whose rows are sealed."""


class RecordNotFound(WorkflowError, LookupError):
    def __init__(self, record_id: str) -> None:
        super().__init__(f"记录 {record_id} 不存在 (record not found)")
        self.record_id = record_id


class TransitionNotAllowed(WorkflowError):
    """The event cannot be fired from the record's current state."""

    def __init__(self, record_id: str, state: str, event: str, allowed: Sequence[str]) -> None:
        super().__init__(
            f"记录 {record_id}：当前状态 {state} 不允许 {event!r} (not allowed in this state); "
            f"allowed: {', '.join(allowed) or 'none'}"
        )
        self.record_id, self.state, self.event, self.allowed = record_id, state, event, tuple(allowed)


class UnknownEvent(WorkflowError, LookupError):
    def __init__(self, event: str, definition: str, known: Sequence[str]) -> None:
        super().__init__(f"{definition} 中没有事件 {event!r} (unknown event); events: {', '.join(known)}")
        self.event = event


class PermissionDenied(WorkflowError, PermissionError):
    def __init__(self, role: str, event: str, allowed_roles: Sequence[str], why: str = "") -> None:
        reason = why or f"roles that may fire it: {', '.join(allowed_roles)}"
        super().__init__(f"角色 {role!r} 无权执行 {event!r} (permission denied); {reason}")
        self.role, self.event, self.allowed_roles = role, event, tuple(allowed_roles)


class GuardRefused(WorkflowError):
    """A rule of the definition refuses the event (four-eyes, a period not yet passed, …)."""

    def __init__(self, record_id: str, event: str, reasons: Sequence[str]) -> None:
        super().__init__(f"记录 {record_id}：{event!r} 被规则拒绝 (refused by a rule): {'; '.join(reasons)}")
        self.record_id, self.event, self.reasons = record_id, event, tuple(reasons)


class ArgumentInvalid(WorkflowError, ValueError):
    """An argument of the public API has the wrong type, size or content (checked before anything
    is hashed or written); ``argument`` names it as the caller wrote it (``comment``, ``actor.id``)."""

    def __init__(self, argument: str, problem: str) -> None:
        super().__init__(f"参数 {argument} 无效 (invalid argument {argument}): {problem}")
        self.argument, self.problem = argument, problem


class PayloadInvalid(WorkflowError, ValueError):
    def __init__(self, event: str, field: str, problem: str) -> None:
        super().__init__(f"{event!r} 的字段 {field!r} 无效 (invalid payload field): {problem}")
        self.event, self.field, self.problem = event, field, problem


class CommentRequired(WorkflowError, ValueError):
    def __init__(self, event: str) -> None:
        super().__init__(f"{event!r} 是一项决定，必须填写理由 (a comment giving the reasons is required)")
        self.event = event


class DeadlineExtensionRefused(WorkflowError):
    def __init__(self, deadline: str, asked: int, total: int, maximum: int) -> None:
        super().__init__(
            f"期限 {deadline} 延长 {asked} 个工作日后合计 {total} 个工作日，超过上限 {maximum} 个工作日 "
            f"(extension refused: {total} working days in all, the maximum is {maximum})"
        )
        self.deadline, self.asked, self.total, self.maximum = deadline, asked, total, maximum


class Conflict(WorkflowError):
    """Another command changed the record between reading and writing it."""

    def __init__(self, record_id: str, expected: int, found: int | None = None) -> None:
        now = f", now at version {found}" if found is not None else ""
        super().__init__(
            f"记录 {record_id} 已被他人修改，请刷新后重试 (conflict: the record changed since version "
            f"{expected}{now}; reload and try again)"
        )
        self.record_id, self.expected, self.found = record_id, expected, found


class IdempotencyKeyReused(WorkflowError):
    def __init__(self, key: str) -> None:
        super().__init__(
            f"幂等键 {key!r} 已用于另一条不同的命令 (idempotency key already used for a different command)"
        )
        self.key = key


class ClockError(WorkflowError):
    """Simulated time was asked for where it is not allowed, or time would run backwards."""


class CheckpointError(WorkflowError):
    """A checkpoint file cannot be read, is not one, or was altered."""


class WebhookNotFound(WorkflowError, LookupError):
    def __init__(self, subscription: str) -> None:
        super().__init__(f"webhook 订阅 {subscription} 不存在 (no such webhook subscription)")
        self.subscription = subscription


class ExportInvalid(WorkflowError, ValueError):
    """An audit export cannot be read or is not an export (its findings, if it is one, are not this)."""


class Unauthenticated(WorkflowError):
    """No API token was presented, or it is unknown, expired or revoked. The message never
    repeats the token."""

    def __init__(self, why: str) -> None:
        super().__init__(f"未认证 (unauthenticated): {why}")
        self.why = why


class TokenNotFound(WorkflowError, LookupError):
    def __init__(self, token_id: str) -> None:
        super().__init__(f"令牌 {token_id} 不存在或已吊销 (no such token, or revoked already)")
        self.token_id = token_id


class UserNotFound(WorkflowError, LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"控制台用户 {name} 不存在 (no such console user)")
        self.name = name


class UserExists(WorkflowError):
    def __init__(self, name: str) -> None:
        super().__init__(f"控制台用户 {name} 已存在 (a console user of that name exists already)")
        self.name = name
