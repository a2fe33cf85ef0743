"""Errors as HTTP answers: ``application/problem+json`` (RFC 9457) with the CLI's meaning.

Each ``WorkflowError`` maps to a status by its nearest class in ``STATUSES`` (404 not found,
409 conflict, 422 refused input, 403 forbidden, 401 no or bad token, 503 the database);
the body carries ``type``, ``title``, ``status``, ``detail`` (the engine's one-line, Chinese-first
message) and, where the error has them, the field at fault or the events allowed now. A
request that does not parse is a 422 naming its fields. Anything else is a bug: a 500 whose body
says so without internals; it is logged with its traceback, the request's token never.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from workflow import errors
from workflow.log import get_logger

log = get_logger("chengxin.api")

MEDIA = "application/problem+json"

STATUSES: dict[type[errors.WorkflowError], int] = {
    errors.RecordNotFound: 404,
    errors.DefinitionNotFound: 404,
    errors.TokenNotFound: 404,
    errors.Conflict: 409,
    errors.IdempotencyKeyReused: 409,
    errors.TransitionNotAllowed: 422,
    errors.UnknownEvent: 422,
    errors.PayloadInvalid: 422,
    errors.ArgumentInvalid: 422,
    errors.CommentRequired: 422,
    errors.GuardRefused: 422,
    errors.DeadlineExtensionRefused: 422,
    errors.ClockError: 422,
    errors.PermissionDenied: 403,
    errors.Unauthenticated: 401,
    errors.StorageFailure: 503,
    errors.DefinitionChanged: 503,
    errors.StoredDefinitionAltered: 503,
    errors.HistoryKeyError: 503,
    errors.DefinitionInvalid: 503,
}
TITLES = {
    401: "未认证 unauthenticated",
    403: "无权限 forbidden",
    404: "不存在 not found",
    405: "方法不允许 method not allowed",
    409: "冲突 conflict",
    422: "输入无效或不允许 invalid or not allowed",
    500: "内部错误 internal error",
    503: "服务不可用 unavailable",
}


def status_of(error: errors.WorkflowError) -> int:
    for kind in type(error).__mro__:
        status = STATUSES.get(kind)
        if status is not None:
            return status
    return 422  # an engine refusal without a class of its own is still the caller's input


def problem(
    status: int, detail: str, *, kind: str = "", headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": f"urn:chengxin:problem:{kind or status}",
        "title": TITLES.get(status, str(status)),
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=MEDIA, headers=headers)


def _extras(error: errors.WorkflowError) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for name in ("field", "argument", "event", "state", "record_id"):
        value = getattr(error, name, None)
        if isinstance(value, str):
            extra[name] = value
    allowed = getattr(error, "allowed", None)
    if isinstance(allowed, tuple):
        extra["allowed_events"] = list(allowed)
    roles = getattr(error, "allowed_roles", None)
    if isinstance(roles, tuple) and roles:
        extra["allowed_roles"] = list(roles)
    reasons = getattr(error, "reasons", None)
    if isinstance(reasons, tuple):
        extra["reasons"] = list(reasons)
    return extra


def _kebab(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")


async def _workflow_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.WorkflowError)
    status = status_of(exc)
    headers = {"WWW-Authenticate": 'Bearer realm="chengxin"'} if status == 401 else None
    if status >= 500:
        log.error("request failed", path=request.url.path, error=str(exc))
    return problem(
        status, " ".join(str(exc).split()), kind=_kebab(type(exc).__name__), headers=headers, **_extras(exc)
    )


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for item in exc.errors():
        where = ".".join(str(p) for p in item.get("loc", ()))
        problems.append({"field": where, "problem": str(item.get("msg", ""))})
    fields = ", ".join(p["field"] for p in problems)
    return problem(
        422,
        f"请求无效 (invalid request): {fields}: " + "; ".join(p["problem"] for p in problems),
        kind="invalid-request",
        field=problems[0]["field"] if problems else None,
        problems=problems,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
    return problem(exc.status_code, detail, headers=dict(exc.headers or {}) or None)


async def _bug(request: Request, exc: Exception) -> JSONResponse:
    log.error("internal error", path=request.url.path, method=request.method, exc_info=exc)
    return problem(500, f"内部错误 (internal error: a bug): {type(exc).__name__}", kind="internal")


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.WorkflowError, _workflow_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _bug)
