"""Errors of the persistence layer, raised with the database error chained as the cause."""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every storage error."""


class DatabaseUnavailable(StorageError):
    def __init__(self, url: str, detail: str) -> None:
        super().__init__(f"数据库不可用 (database unavailable) at {url}: {detail}")
        self.url = url


class InvalidDatabaseUrl(StorageError):
    def __init__(self, url: str, detail: str) -> None:
        super().__init__(
            f"无效的数据库 URL (invalid database URL) {url!r}: {detail}; "
            "allowed: sqlite:///path/to/file.db or postgresql://user@host:5432/database"
        )
        self.url = url


class SchemaOutdated(StorageError):
    def __init__(self, current: str | None, head: str) -> None:
        super().__init__(
            f"数据库结构版本 {current or '空'} 不是最新的 {head} (schema is not up to date): run 'chengxin init'"
        )
        self.current, self.head = current, head


class VersionConflict(StorageError):
    """An optimistic write found the record at another version than it read."""

    def __init__(self, record_id: str, expected: int, found: int | None) -> None:
        super().__init__(f"record {record_id}: expected version {expected}, found {found}")
        self.record_id, self.expected, self.found = record_id, expected, found


class DuplicateIdempotencyKey(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} already used")
        self.key = key


class DuplicateRecordId(StorageError):
    def __init__(self, record_id: str) -> None:
        super().__init__(f"record id {record_id!r} already exists")
        self.record_id = record_id


class StorageBusy(StorageError):
    def __init__(self, detail: str) -> None:
        super().__init__(f"数据库繁忙，请稍后重试 (database busy, try again): {detail}")


class DuplicateSubscription(StorageError):
    def __init__(self, name: str) -> None:
        super().__init__(f"webhook 订阅 {name!r} 已存在 (a subscription of that name exists)")
        self.name = name
