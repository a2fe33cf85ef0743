"""API tokens: who may call the HTTP API, as which person, role and unit, until when.

A token reads ``cx_<id>_<secret>``: the id names the row (it may appear in lists and logs), the
secret is 32 random bytes of which only the SHA-256 is stored, so a stolen database does not
yield usable tokens. The secret is handed back once, when the token is created. A presented
token is checked by comparing digests in constant time (``hmac.compare_digest``); an unknown,
malformed, expired or revoked token is refused with the same kind of error, and no error
message repeats the secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from storage.store import Store
from storage.tokens import DuplicateTokenId, StoredToken
from workflow.engine import inputs
from workflow.engine.clock import Clock
from workflow.engine.wrapping import public
from workflow.errors import ArgumentInvalid, TokenNotFound, Unauthenticated

ROLES = ("recorder", "verifier", "subject", "reviewer", "superior", "auditor", "service")
"""The roles a token may hold: the definitions' people (a system role never gets a token), the
auditor, and ``service`` for an embedding service that only asks credit checks."""

PREFIX = "cx"
_SHAPE = re.compile(r"^cx_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
LONGEST = dt.timedelta(days=3 * 366)  # a token lives at most about three years


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenInfo:
    """A token as callers see it: never its secret."""

    id: str
    person: str
    role: str
    unit: str
    label: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None

    def status(self, now: dt.datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _info(row: StoredToken) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        person=row.person,
        role=row.role,
        unit=row.unit,
        label=row.label,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


class Tokens:
    """Create, list, revoke and check API tokens."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    @public
    def create(
        self, *, person: str, role: str, unit: str, valid_for: dt.timedelta, label: str = ""
    ) -> tuple[TokenInfo, str]:
        """A new token for ``person`` acting as ``role`` in ``unit``; returns it and its full
        text, which is never shown again.

        Raises:
            ArgumentInvalid: an unknown role, an empty person or unit, a lifetime not between
                one minute and three years.
        """
        person = inputs.actor_id(inputs.text("person", person, limit=inputs.ACTOR_ID, empty=False))
        role = inputs.code("role", role).strip()
        unit = inputs.code("unit", unit).strip()
        label = inputs.text("label", label, limit=inputs.NAME)
        if role not in ROLES:
            raise ArgumentInvalid("role", f"{role!r}; roles a token may hold: {', '.join(ROLES)}")
        if not unit:
            raise ArgumentInvalid("unit", "不能为空 (must not be empty)")
        if not isinstance(valid_for, dt.timedelta) or not (dt.timedelta(minutes=1) <= valid_for <= LONGEST):
            raise ArgumentInvalid(
                "valid_for", "有效期须在 1 分钟到 3 年之间 (between one minute and three years)"
            )
        now = self._clock.now()
        for _attempt in range(5):
            token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
            row = StoredToken(
                id=token_id,
                secret_sha256=_digest(secret),
                person=person,
                role=role,
                unit=unit,
                label=label,
                created_at=now,
                expires_at=now + valid_for,
                revoked_at=None,
            )
            try:
                self._store.tokens.add(row)
            except DuplicateTokenId:
                continue
            return _info(row), f"{PREFIX}_{token_id}_{secret}"
        raise AssertionError("five random token ids in a row were taken")  # pragma: no cover

    @public
    def list(self) -> list[TokenInfo]:
        """Every token, oldest first, without secrets."""
        return [_info(r) for r in self._store.tokens.list()]

    @public
    def revoke(self, token_id: str) -> TokenInfo:
        """Revoke a token at once; the next request with it is refused.

        Raises:
            TokenNotFound: no such token, or it was revoked before.
        """
        token_id = inputs.code("token_id", token_id).strip()
        if not self._store.tokens.revoke(token_id, self._clock.now()):
            raise TokenNotFound(token_id)
        row = self._store.tokens.get(token_id)
        assert row is not None
        return _info(row)

    @public
    def authenticate(self, presented: str) -> TokenInfo:
        """The token a caller presented, if it is genuine, unexpired and not revoked.

        Raises:
            Unauthenticated: anything else (the message never repeats the token).
        """
        shape = _SHAPE.match(presented) if isinstance(presented, str) else None
        if shape is None:
            raise Unauthenticated("令牌格式不对 (not a chengxin API token)")
        token_id, secret = shape.groups()
        row = self._store.tokens.get(token_id)
        # compare digests in constant time; an unknown id is compared against a dummy so that
        # timing does not tell which ids exist
        expected = row.secret_sha256 if row is not None else "0" * 64
        if not hmac.compare_digest(expected, _digest(secret)) or row is None:
            raise Unauthenticated("令牌无效 (unknown token)")
        if row.revoked_at is not None:
            raise Unauthenticated(f"令牌 {token_id} 已吊销 (revoked)")
        if row.expires_at <= self._clock.now():
            raise Unauthenticated(f"令牌 {token_id} 已过期 (expired)")
        return _info(row)
