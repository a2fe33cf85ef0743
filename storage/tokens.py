"""API tokens as stored: one row per token with the SHA-256 of its secret, never the secret.

The store keeps and returns rows; deciding whether a presented secret matches (in constant
time), whether a token has expired and what it may do belongs to the engine and the API.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from storage.connections import Database, token_t
from storage.errors import StorageError


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredToken:
    id: str
    secret_sha256: str
    person: str
    role: str
    unit: str
    label: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None


class DuplicateTokenId(StorageError):
    def __init__(self, token_id: str) -> None:
        super().__init__(f"token id {token_id} exists already")
        self.token_id = token_id


class Tokens:
    """The API tokens of one database."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def add(self, token: StoredToken) -> None:
        """Insert a new token.

        Raises:
            DuplicateTokenId: a token of that id exists (the caller draws another id).
        """
        try:
            with self.db.writing() as c:
                c.execute(sa.insert(token_t).values(**_values(token)))
        except IntegrityError as exc:
            raise DuplicateTokenId(token.id) from exc

    def get(self, token_id: str) -> StoredToken | None:
        """The token of that id (its primary key): one indexed read on the driver's cursor
        (``storage.fastpath``), since every API request checks its token."""
        fast = self.db.fast
        select = fast.select("token", lambda: SELECT_TOKEN)
        with self.db.pooled() as raw:
            rows = fast.rows(raw, select, {"w_id": token_id}, "api_token")
        return StoredToken(**rows[0]) if rows else None

    def list(self) -> list[StoredToken]:
        with self.db.reading() as c:
            rows = c.execute(sa.select(token_t).order_by(token_t.c.created_at, token_t.c.id))
            return [StoredToken(**r._mapping) for r in rows]

    def revoke(self, token_id: str, at: dt.datetime) -> bool:
        """Mark the token revoked; False when there is no such token or it was revoked before."""
        with self.db.writing() as c:
            done = c.execute(
                sa.update(token_t)
                .where(token_t.c.id == token_id, token_t.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            return bool(done.rowcount)


SELECT_TOKEN = sa.select(token_t).where(token_t.c.id == sa.bindparam("w_id"))


def _values(token: StoredToken) -> dict[str, object]:
    return {name: getattr(token, name) for name in StoredToken.__dataclass_fields__}
