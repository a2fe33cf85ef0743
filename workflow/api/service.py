"""Routes about the service itself: who the caller is, the mail queue, health and readiness.

``/health`` answers while the process runs; ``/ready`` checks what serving needs: the database
answers, the scheduler of this process (when it runs one) has done a pass recently, and the
holiday tables cover the next twelve months. A missing official table does not make the
service unready — deadlines beyond it are computed provisionally and recomputed when the table
is loaded — but the check says which years are provisional.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from workflow import Engine, WorkflowError
from workflow.api import schemas
from workflow.api.access import Caller, allowed, caller
from workflow.engine.outbox import STATUSES

router = APIRouter()

SchedulerProbe = Callable[[], tuple[bool, str]]
"""Whether this process's scheduler is alive, and a line saying so."""


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


@router.get("/me", response_model=schemas.Me, tags=["identity 身份"], summary="当前令牌 who am I")
def me(who: Annotated[Caller, Depends(caller)]) -> schemas.Me:
    return schemas.Me(
        token_id=who.token.id,
        person=who.token.person,
        role=who.role,
        unit=who.unit,
        expires_at=who.token.expires_at,
        units=None if who.scope is None else sorted(who.scope),
    )


@router.get(
    "/outbox",
    response_model=schemas.OutboxStatus,
    tags=["outbox 发件箱"],
    summary="邮件队列状态 mail queue status",
    description="counts: the whole queue; items: mail to the caller's units (every unit for an auditor)",
)
def outbox(
    request: Request,
    who: Annotated[Caller, Depends(allowed("outbox:read"))],
    status: Annotated[str | None, Query(max_length=16, description=f"one of {', '.join(STATUSES)}")] = None,
    record_id: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> schemas.OutboxStatus:
    engine = _engine(request)
    rows = engine.outbox.list(record_id=record_id, status=status, limit=limit)
    return schemas.OutboxStatus(
        counts=engine.outbox.counts(),
        items=[
            schemas.Mail(
                id=r.id,
                record_id=r.record_id,
                template=r.template,
                recipient_unit=r.recipient_unit,
                status=r.status,
                attempts=r.attempts,
                next_attempt_at=r.next_attempt_at,
                last_error=r.last_error,
                message_id=r.message_id,
                created_at=r.created_at,
                sent_at=r.sent_at,
            )
            for r in rows
            if who.sees_unit(r.recipient_unit)
        ],
    )


@router.get("/health", response_model=schemas.Health, tags=["service 服务"], summary="存活 liveness")
def health() -> schemas.Health:
    return schemas.Health(status="ok")


@router.get(
    "/ready",
    response_model=schemas.Readiness,
    tags=["service 服务"],
    summary="就绪 readiness",
    responses={503: {"model": schemas.Readiness, "description": "not ready"}},
)
def ready(request: Request) -> JSONResponse:
    engine = _engine(request)
    probe: SchedulerProbe | None = request.app.state.scheduler
    alive, said = (True, "本进程不运行调度 (no scheduler in this process)") if probe is None else probe()
    checks = {
        "database": _database(engine),
        "scheduler": schemas.Check(ok=alive, detail=said),
        "calendar": _calendar(engine),
    }
    ok = checks["database"].ok and checks["scheduler"].ok
    body = schemas.Readiness(ready=ok, checks=checks)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ok else 503)


def _database(engine: Engine) -> schemas.Check:
    try:
        engine.units.get("ready-probe")
    except WorkflowError as exc:
        return schemas.Check(ok=False, detail=" ".join(str(exc).split()))
    return schemas.Check(ok=True, detail="数据库可用 (database reachable)")


def _calendar(engine: Engine) -> schemas.Check:
    today = engine.clock.now().date()
    years = range(today.year, (today + dt.timedelta(days=365)).year + 1)
    known = engine.calendars.working_calendar().known_years()
    missing = [
        f"{y}: {known.get(y, 'statutory rules')}"
        for y in years
        if "provisional" in known.get(y, "provisional")
    ]
    if missing:
        return schemas.Check(
            ok=False,
            detail="未来12个月的节假日安排不完整，期限按法定节假日暂算 (holiday data missing for the next 12 months; "
            "deadlines there are provisional): " + "; ".join(missing),
        )
    return schemas.Check(
        ok=True, detail=f"节假日数据覆盖未来12个月 (holiday data covers {years.start}–{years.stop - 1})"
    )
