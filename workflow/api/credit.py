"""The credit check (信用核查) over HTTP: may this subject be honoured, rated 优秀, funded or
awarded a contract on a date? Answered by ``Engine.subject_status`` from the definitions'
``sanction_effects``; every check is written to the query log before the answer leaves.

An organisation is asked for by its unified social credit code in the URL; a person by resident ID
number only in a POST body, never in a URL (URLs end up in proxies' and servers' logs).

A single check runs on the event loop: the token check (``credit:read``), the indexed reads and
the JSON encoding take a fraction of a millisecond, and the query-log commit is awaited, not
blocked on — a writer thread commits the rows of concurrent checks together
(``storage.groupcommit``), so eight checks in flight share one fsync and no thread is woken per
request. A ``def`` route behind a ``Depends`` took two trips to a worker thread per request (the
dependency, then the route), which on a loaded machine cost more than the check itself. The batch
check (up to 1,000 subjects) runs in one worker thread, off the loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from workflow import Engine
from workflow.api.access import Caller, allowed, bearer


async def _bearer(request: Request) -> None:
    """No token at all is refused (401) before the input is validated, without a thread: the
    token itself is checked with the work (``_answer``)."""
    bearer(request)


router = APIRouter(tags=["credit 信用核查"], dependencies=[Depends(_bearer)])
_may_check = allowed("credit:read")

DEFAULT_REASON = "接口信用核查 (credit check over the API)"
Purposes = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=64)]] | None,
    Query(
        alias="purpose",
        max_length=16,
        description="honours, annual_appraisal, funding, procurement … (repeatable; default: all)",
    ),
]
AsOf = Annotated[
    dt.date | None, Query(description="核查日期 the day asked about (default: today, Asia/Shanghai)")
]
Reason = Annotated[str, Query(min_length=1, max_length=200, description="核查事由 why (query log)")]


class StatusQuery(BaseModel):
    """One subject by ID number (a person) or code (an organisation), in the body."""

    model_config = ConfigDict(extra="forbid")
    subject: str = Field(min_length=1, max_length=64, description="统一社会信用代码或身份证号码")
    as_of: dt.date | None = None
    purposes: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(None, max_length=16)
    reason: str = Field(DEFAULT_REASON, min_length=1, max_length=200)


class BatchQuery(BaseModel):
    """Up to 1,000 subjects checked at once (an appraisal office checks a whole department)."""

    model_config = ConfigDict(extra="forbid")
    subjects: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(min_length=1, max_length=1000)
    as_of: dt.date | None = None
    purposes: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(None, max_length=16)
    reason: str = Field(DEFAULT_REASON, min_length=1, max_length=200)


def _json(value: dict[str, Any]) -> Response:
    """The answer encoded once, by orjson: returned as a ``Response``, FastAPI neither validates
    it against the route's response model nor walks it with ``jsonable_encoder`` (a check's
    answer is built by the engine, not from user input). The OpenAPI document still names the
    route's response model."""
    return Response(orjson.dumps(value, default=jsonable_encoder), media_type="application/json")


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def _answer(request: Request, work: Callable[[Engine, Caller], dict[str, Any]]) -> Response:
    """``work`` with the checked caller (401/403 first), in one worker thread, as JSON."""

    def run() -> Response:
        return _json(work(_engine(request), _may_check(request)))

    return await run_in_threadpool(run)


async def _check(
    request: Request, subject: str, *, as_of: dt.date | None, purposes: list[str] | None, reason: str
) -> Response:
    """One subject checked on the event loop itself: the token and the indexed reads take a
    fraction of a millisecond; only the query-log commit waits, and it is awaited, not blocked
    on — concurrent checks' rows are committed together by the log's writer thread
    (``Engine.subject_status_logged_later``). The answer leaves only after its row is committed;
    a failed commit is a 503 for every check it held."""
    engine = _engine(request)
    who = _may_check(request)
    status, logged = engine.subject_status_logged_later(
        subject, as_of=as_of, purposes=purposes, actor=who.actor, reason=reason
    )
    await asyncio.wrap_future(logged)
    return _json(status.as_dict())


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
Plain = tuple[str, dt.date | None, list[str] | None, str]


def _plain_query(request: Request) -> Plain | None:
    """The path and query of ``GET /subjects/{code}/status`` when they are plainly valid —
    ``as_of`` absent or ``YYYY-MM-DD``, at most 16 ``purpose`` of 1–64 characters, ``reason``
    absent or once, 1–200 characters, the code 1–64 — read without FastAPI's parameter
    machinery; None for anything else, which the route's FastAPI handler then validates (and
    answers 422 for) exactly as before. Every value accepted here is one FastAPI's own
    validation accepts with the same result."""
    code = request.path_params.get("code")
    if not isinstance(code, str) or not 1 <= len(code) <= 64:
        return None
    query = request.query_params
    days = query.getlist("as_of")
    as_of = None
    if days:
        if len(days) > 1 or _DAY.fullmatch(days[0]) is None:
            return None
        try:
            as_of = dt.date.fromisoformat(days[0])
        except ValueError:
            return None
    named = query.getlist("purpose")
    if len(named) > 16 or any(not 1 <= len(name) <= 64 for name in named):
        return None
    reasons = query.getlist("reason")
    if len(reasons) > 1 or (reasons and not 1 <= len(reasons[0]) <= 200):
        return None
    return code, as_of, named or None, reasons[0] if reasons else DEFAULT_REASON


class _CheckRoute(APIRoute):
    """``GET /subjects/{code}/status`` past FastAPI's dependency resolution when its input is
    plain (``_plain_query``): the profile of a check over HTTP showed resolving the route's
    parameters and its router dependency — the same work for every request — as a fifth of
    the server's Python time on the route. The token is checked as by the router's dependency
    (401 first), then the check runs as the FastAPI handler runs it (``_check``). Any other
    input goes to FastAPI's handler: the same validation and the same 422 as before; the
    OpenAPI document is the route's, unchanged."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        slow = super().get_route_handler()

        async def handler(request: Request) -> Response:
            bearer(request)
            plain = _plain_query(request)
            if plain is None:
                return await slow(request)
            code, as_of, purposes, reason = plain
            return await _check(request, code, as_of=as_of, purposes=purposes, reason=reason)

        return handler


async def organisation_status(
    request: Request,
    code: Annotated[str, Path(min_length=1, max_length=64)],
    as_of: AsOf = None,
    purposes: Purposes = None,
    reason: Reason = DEFAULT_REASON,
) -> Response:
    return await _check(request, code, as_of=as_of, purposes=purposes, reason=reason)


router.add_api_route(
    "/subjects/{code}/status",
    organisation_status,
    methods=["GET"],
    summary="信用核查（单位） credit check of an organisation",
    response_model=dict[str, Any],
    route_class_override=_CheckRoute,
)


@router.post(
    "/subjects/status",
    summary="信用核查（个人或单位，主体在请求体中） credit check, subject in the body",
    response_model=dict[str, Any],
)
async def subject_status(request: Request, query: Annotated[StatusQuery, Body()]) -> Response:
    return await _check(
        request, query.subject, as_of=query.as_of, purposes=query.purposes, reason=query.reason
    )


@router.post(
    "/subjects/status/batch",
    summary="批量信用核查（至多1000个主体） batch credit check, up to 1,000",
    response_model=dict[str, Any],
)
async def batch_status(request: Request, query: Annotated[BatchQuery, Body()]) -> Response:
    def work(engine: Engine, who: Caller) -> dict[str, Any]:
        statuses = engine.subject_statuses(
            query.subjects, as_of=query.as_of, purposes=query.purposes, actor=who.actor, reason=query.reason
        )
        return {"count": len(statuses), "subjects": [s.as_dict() for s in statuses]}

    return await _answer(request, work)
