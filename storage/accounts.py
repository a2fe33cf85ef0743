"""Console accounts and sessions as stored: users with the argon2 hash of their password, and
sessions with the SHA-256 of their cookie value.

The store keeps and returns rows and counts failed sign-ins atomically; hashing and checking
passwords, deciding lock-outs and session lifetimes belong to the engine
(``workflow.engine.accounts``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from storage.connections import Database, console_session_t, console_user_t
from storage.errors import StorageError


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredUser:
    name: str
    password_hash: str
    person: str
    roles: str
    unit: str
    created_at: dt.datetime
    disabled_at: dt.datetime | None
    failed_sign_ins: int
    locked_until: dt.datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredSession:
    id_sha256: str
    user_name: str
    role: str
    csrf: str
    created_at: dt.datetime
    expires_at: dt.datetime
    ended_at: dt.datetime | None


class DuplicateUser(StorageError):
    def __init__(self, name: str) -> None:
        super().__init__(f"console user {name} exists already")
        self.name = name


class Accounts:
    """The console users and sessions of one database."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def add_user(self, user: StoredUser) -> None:
        """Insert a new user.

        Raises:
            DuplicateUser: a user of that name exists.
        """
        values = {n: getattr(user, n) for n in StoredUser.__dataclass_fields__}
        try:
            with self.db.writing() as c:
                c.execute(sa.insert(console_user_t).values(**values))
        except IntegrityError as exc:
            raise DuplicateUser(user.name) from exc

    def user(self, name: str) -> StoredUser | None:
        with self.db.reading() as c:
            row = c.execute(sa.select(console_user_t).where(console_user_t.c.name == name)).first()
        return StoredUser(**row._mapping) if row else None

    def users(self) -> list[StoredUser]:
        with self.db.reading() as c:
            rows = c.execute(sa.select(console_user_t).order_by(console_user_t.c.name))
            return [StoredUser(**r._mapping) for r in rows]

    def update_user(self, name: str, **values: object) -> bool:
        """Set columns of a user; False when there is no such user."""
        with self.db.writing() as c:
            done = c.execute(sa.update(console_user_t).where(console_user_t.c.name == name).values(**values))
            return bool(done.rowcount)

    def count_failure(self, name: str, *, limit: int, lock_until: dt.datetime) -> int:
        """Add one failed sign-in (in one statement, so concurrent failures all count); at
        ``limit`` failures the account is locked until ``lock_until``. Returns the new count."""
        user = console_user_t.c
        with self.db.writing() as c:
            c.execute(
                sa.update(console_user_t)
                .where(user.name == name)
                .values(failed_sign_ins=user.failed_sign_ins + 1)
            )
            count = c.execute(sa.select(user.failed_sign_ins).where(user.name == name)).scalar()
            if count is not None and count >= limit:
                c.execute(
                    sa.update(console_user_t)
                    .where(user.name == name)
                    .values(failed_sign_ins=0, locked_until=lock_until)
                )
        return int(count or 0)

    def add_session(self, session: StoredSession) -> None:
        values = {n: getattr(session, n) for n in StoredSession.__dataclass_fields__}
        with self.db.writing() as c:
            c.execute(sa.insert(console_session_t).values(**values))

    def session(self, id_sha256: str) -> StoredSession | None:
        with self.db.reading() as c:
            row = c.execute(
                sa.select(console_session_t).where(console_session_t.c.id_sha256 == id_sha256)
            ).first()
        return StoredSession(**row._mapping) if row else None

    def end_sessions(self, at: dt.datetime, *, id_sha256: str | None = None, user: str | None = None) -> int:
        """End one session, or every open session of a user; returns how many ended."""
        s = console_session_t.c
        where: list[sa.ColumnElement[bool]] = [s.ended_at.is_(None)]
        if id_sha256 is not None:
            where.append(s.id_sha256 == id_sha256)
        if user is not None:
            where.append(s.user_name == user)
        with self.db.writing() as c:
            return int(c.execute(sa.update(console_session_t).where(*where).values(ended_at=at)).rowcount)

    def set_session_role(self, id_sha256: str, role: str) -> None:
        with self.db.writing() as c:
            c.execute(
                sa.update(console_session_t)
                .where(console_session_t.c.id_sha256 == id_sha256)
                .values(role=role)
            )
