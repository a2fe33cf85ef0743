"""Who is using the console: sign-in, sign-out, the session cookie, CSRF, and the ``Caller``.

A session is a row on the server (``Engine.accounts``); the browser holds only its random key in
a cookie that is ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no other site's page
sends it) and ``Secure`` unless the console is served over plain HTTP on purpose
(``CHENGXIN_CONSOLE_INSECURE_COOKIE=1`` for a loopback address or a test). Server-side rows
rather than signed cookies: signing out or disabling a user ends the session at once, and no
signing key has to be kept and rotated. Every form carries the session's CSRF token, compared in
constant time before anything is done.

The signed-in person becomes the same ``Caller`` the HTTP API builds from a token, so the
console asks ``workflow.api.access`` — one matrix — what the person sees and may do.
"""

from __future__ import annotations

import contextlib
import hmac
import os
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from workflow import Engine, WorkflowError
from workflow.api.access import Caller, scope_of
from workflow.console.render import page
from workflow.engine.accounts import SessionInfo
from workflow.engine.tokens import TokenInfo

COOKIE = "chengxin_session"
PREFIX = "/console"
router = APIRouter(include_in_schema=False)


class SignInNeeded(Exception):
    """No live session: the page answers with a redirect to the sign-in form."""


class CsrfRefused(Exception):
    """A form without this session's CSRF token: refused, nothing done."""


@dataclass(frozen=True, slots=True)
class Who:
    """The signed-in person: their session and the API's ``Caller`` for the same identity."""

    session: SessionInfo
    caller: Caller

    @property
    def role(self) -> str:
        return self.session.role


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _secure() -> bool:
    return os.environ.get("CHENGXIN_CONSOLE_INSECURE_COOKIE", "") not in {"1", "true", "yes"}


def who(request: Request) -> Who:
    """The person of this request, or ``SignInNeeded``."""
    found = getattr(request.state, "console_who", None)
    if isinstance(found, Who):
        return found
    engine = engine_of(request)
    try:
        session = engine.accounts.session(request.cookies.get(COOKIE, ""))
    except WorkflowError as exc:
        raise SignInNeeded from exc
    token = TokenInfo(
        id=f"console:{session.user.name}",
        person=session.user.person,
        role=session.role,
        unit=session.user.unit,
        label="console session",
        created_at=session.created_at,
        expires_at=session.expires_at,
        revoked_at=None,
    )
    found = Who(session, Caller(token=token, scope=scope_of(engine, token)))
    request.state.console_who = found
    return found


def check_csrf(person: Who, sent: str | None) -> None:
    if not sent or not hmac.compare_digest(sent.encode(), person.session.csrf.encode()):
        raise CsrfRefused


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


@router.get("/sign-in")
def sign_in_form(request: Request, next: str = "") -> Response:
    return page("signin.html", title="登录 sign in", next=_local(next), error="", typed="")


@router.post("/sign-in")
def sign_in(
    request: Request,
    name: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    engine = engine_of(request)
    try:
        _session, secret = engine.accounts.sign_in(name, password)
    except WorkflowError as exc:
        return page("signin.html", 401, title="登录 sign in", next=_local(next), error=str(exc), typed=name)
    answer = redirect(_local(next) or f"{PREFIX}/")
    answer.set_cookie(
        COOKIE, secret, httponly=True, samesite="strict", secure=_secure(), path="/", max_age=8 * 3600
    )
    return answer


@router.post("/sign-out")
def sign_out(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    person = who(request)
    check_csrf(person, csrf)
    engine_of(request).accounts.sign_out(person.session)
    answer = redirect(f"{PREFIX}/sign-in")
    answer.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=_secure())
    return answer


@router.post("/role")
def switch_role(
    request: Request,
    role: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    person = who(request)
    check_csrf(person, csrf)
    # a role the user does not hold changes nothing; the home page shows the role in use
    with contextlib.suppress(WorkflowError):
        engine_of(request).accounts.switch_role(person.session, role)
    return redirect(f"{PREFIX}/")


def _local(target: str) -> str:
    """``target`` if it is a path of the console (never another site: no open redirect)."""
    if target.startswith(f"{PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return ""


def sign_in_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{PREFIX}/sign-in?next={quote(target)}"
