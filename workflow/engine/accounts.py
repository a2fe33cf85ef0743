"""Console accounts: local users with argon2-hashed passwords, their sessions and lock-out.

A user is bound, like an API token, to a person, one or more roles and a unit. Signing in checks
the password (argon2id, ``argon2-cffi``) and opens a server-side session: the browser's cookie
holds 32 random bytes, the database only their SHA-256, so a session ends for certain when the
person signs out or an operator disables the account, and a stolen database yields no usable
cookie. Each session carries its own CSRF token for the console's forms.

Five failed sign-ins in a row lock the account for fifteen minutes; the answer to a failed
sign-in never says whether the name exists. This is the one module of identity for people: an
OIDC/SSO sign-in would be another way to open the same sessions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storage.accounts import DuplicateUser, StoredSession, StoredUser
from storage.store import Store
from workflow.engine import inputs
from workflow.engine.clock import Clock
from workflow.engine.tokens import ROLES
from workflow.engine.wrapping import public
from workflow.errors import ArgumentInvalid, Unauthenticated, UserExists, UserNotFound

PEOPLE_ROLES = tuple(r for r in ROLES if r != "service")
"""The roles a console user may hold (a service calls the API, it does not sign in)."""

MAX_FAILURES = 5
LOCKED_FOR = dt.timedelta(minutes=15)
SESSION_LIFETIME = dt.timedelta(hours=8)  # one working day
SHORTEST_PASSWORD = 10
_HASHER = PasswordHasher()


@cache
def _dummy() -> str:
    """A hash to verify against when the name is unknown, so the time taken does not tell.

    Made on the first sign-in, not on import: hashing takes a quarter of a second, which every
    command that opens the engine would otherwise pay.
    """
    return _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True, kw_only=True)
class UserInfo:
    """A console user as callers see it: never the password hash."""

    name: str
    person: str
    roles: tuple[str, ...]
    unit: str
    created_at: dt.datetime
    disabled_at: dt.datetime | None
    locked_until: dt.datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionInfo:
    """A live session: who, in which role, its CSRF token, until when."""

    key: str  # the SHA-256 of the cookie value: names the session in the database
    user: UserInfo
    role: str
    csrf: str
    created_at: dt.datetime
    expires_at: dt.datetime


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _info(row: StoredUser) -> UserInfo:
    return UserInfo(
        name=row.name,
        person=row.person,
        roles=tuple(r for r in row.roles.split(",") if r),
        unit=row.unit,
        created_at=row.created_at,
        disabled_at=row.disabled_at,
        locked_until=row.locked_until,
    )


def _password(value: object) -> str:
    password = inputs.text("password", value, limit=inputs.NAME, empty=False)
    if len(password) < SHORTEST_PASSWORD:
        raise ArgumentInvalid(
            "password", f"至少 {SHORTEST_PASSWORD} 个字符 (at least {SHORTEST_PASSWORD} characters)"
        )
    return password


class Accounts:
    """Create, disable and reset console users; sign in, look up and end sessions."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    @public
    def create(self, *, name: str, password: str, person: str, roles: list[str], unit: str) -> UserInfo:
        """A new console user.

        Raises:
            ArgumentInvalid: an empty name, person or unit, an unknown role, a short password.
            UserExists: a user of that name exists.
        """
        name = inputs.code("name", name).strip()
        if not name:
            raise ArgumentInvalid("name", "不能为空 (must not be empty)")
        person = inputs.actor_id(inputs.text("person", person, limit=inputs.ACTOR_ID, empty=False))
        unit = inputs.code("unit", unit).strip()
        if not unit:
            raise ArgumentInvalid("unit", "不能为空 (must not be empty)")
        chosen = [r.strip() for r in inputs.codes("roles", roles) if r.strip()]
        if not chosen or any(r not in PEOPLE_ROLES for r in chosen):
            raise ArgumentInvalid(
                "roles", f"{', '.join(chosen) or '无 none'}; 可选 roles: {', '.join(PEOPLE_ROLES)}"
            )
        row = StoredUser(
            name=name,
            password_hash=_HASHER.hash(_password(password)),
            person=person,
            roles=",".join(dict.fromkeys(chosen)),
            unit=unit,
            created_at=self._clock.now(),
            disabled_at=None,
            failed_sign_ins=0,
            locked_until=None,
        )
        try:
            self._store.accounts.add_user(row)
        except DuplicateUser as exc:
            raise UserExists(name) from exc
        return _info(row)

    @public
    def list(self) -> list[UserInfo]:
        return [_info(r) for r in self._store.accounts.users()]

    @public
    def get(self, name: str) -> UserInfo:
        """Raises: UserNotFound."""
        row = self._store.accounts.user(inputs.code("name", name))
        if row is None:
            raise UserNotFound(name)
        return _info(row)

    @public
    def disable(self, name: str) -> UserInfo:
        """Disable a user and end its sessions at once.

        Raises:
            UserNotFound: no such user.
        """
        name = inputs.code("name", name)
        now = self._clock.now()
        if not self._store.accounts.update_user(name, disabled_at=now):
            raise UserNotFound(name)
        self._store.accounts.end_sessions(now, user=name)
        return self.get(name)

    @public
    def reset_password(self, name: str, password: str) -> UserInfo:
        """Set a new password, lift a lock-out, enable the account and end its sessions.

        Raises:
            UserNotFound: no such user.
            ArgumentInvalid: a short password.
        """
        name = inputs.code("name", name)
        digest = _HASHER.hash(_password(password))
        now = self._clock.now()
        done = self._store.accounts.update_user(
            name, password_hash=digest, failed_sign_ins=0, locked_until=None, disabled_at=None
        )
        if not done:
            raise UserNotFound(name)
        self._store.accounts.end_sessions(now, user=name)
        return self.get(name)

    @public
    def sign_in(self, name: str, password: str) -> tuple[SessionInfo, str]:
        """Check the password and open a session; returns it and the cookie value (shown once).

        Raises:
            Unauthenticated: a wrong name or password, a disabled or locked account (the message
                does not tell which of a wrong name and a wrong password it was).
        """
        name = inputs.text("name", name, limit=inputs.CODE)
        password = inputs.text("password", password, limit=inputs.NAME)
        now = self._clock.now()
        row = self._store.accounts.user(name) if name else None
        try:
            _HASHER.verify(row.password_hash if row is not None else _dummy(), password)
            good = row is not None
        except (VerificationError, InvalidHashError):
            good = False
        if row is not None and row.locked_until is not None and row.locked_until > now:
            raise Unauthenticated(
                "失败次数过多，账户已锁定，请稍后再试 (too many failed sign-ins; the account is locked for a while)"
            )
        if not good or row is None:
            if row is not None:
                self._store.accounts.count_failure(name, limit=MAX_FAILURES, lock_until=now + LOCKED_FOR)
            raise Unauthenticated("用户名或密码错误 (wrong name or password)")
        if row.disabled_at is not None:
            raise Unauthenticated("账户已停用 (the account is disabled)")
        if row.failed_sign_ins or row.locked_until is not None:
            self._store.accounts.update_user(name, failed_sign_ins=0, locked_until=None)
        user = _info(row)
        secret = secrets.token_urlsafe(32)
        stored = StoredSession(
            id_sha256=_digest(secret),
            user_name=name,
            role=user.roles[0],
            csrf=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
            ended_at=None,
        )
        self._store.accounts.add_session(stored)
        return self._session(stored, user), secret

    @public
    def session(self, secret: str) -> SessionInfo:
        """The live session a cookie names.

        Raises:
            Unauthenticated: no such session, or it ended, expired, or its user was disabled.
        """
        if not isinstance(secret, str) or not (20 <= len(secret) <= 100):
            raise Unauthenticated("请先登录 (please sign in)")
        stored = self._store.accounts.session(_digest(secret))
        if stored is None or not hmac.compare_digest(stored.id_sha256, _digest(secret)):
            raise Unauthenticated("请先登录 (please sign in)")
        if stored.ended_at is not None or stored.expires_at <= self._clock.now():
            raise Unauthenticated("会话已结束，请重新登录 (the session ended; please sign in again)")
        row = self._store.accounts.user(stored.user_name)
        if row is None or row.disabled_at is not None:
            raise Unauthenticated("账户已停用 (the account is disabled)")
        return self._session(stored, _info(row))

    @public
    def switch_role(self, session: SessionInfo, role: str) -> SessionInfo:
        """Act in another of the user's roles in this session.

        Raises:
            ArgumentInvalid: a role the user does not hold.
        """
        role = inputs.code("role", role)
        if role not in session.user.roles:
            raise ArgumentInvalid(
                "role", f"{role!r}; 本账户的角色 roles held: {', '.join(session.user.roles)}"
            )
        self._store.accounts.set_session_role(session.key, role)
        return SessionInfo(
            key=session.key,
            user=session.user,
            role=role,
            csrf=session.csrf,
            created_at=session.created_at,
            expires_at=session.expires_at,
        )

    @public
    def sign_out(self, session: SessionInfo) -> None:
        self._store.accounts.end_sessions(self._clock.now(), id_sha256=session.key)

    @staticmethod
    def _session(stored: StoredSession, user: UserInfo) -> SessionInfo:
        return SessionInfo(
            key=stored.id_sha256,
            user=user,
            role=stored.role,
            csrf=stored.csrf,
            created_at=stored.created_at,
            expires_at=stored.expires_at,
        )
