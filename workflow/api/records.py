"""Routes over cases of every kind: register, fire, read, query, history, state as of a time,
the events the caller may fire now, deadlines.

One set of routes serves dishonesty records, complaints, ledger tasks, commitments and
supervision rounds alike: a case is whatever its definition says. Every route goes through the
public engine API as the token's person, role and unit; ``workflow.api.access`` decides what the
caller sees and may touch before the engine is asked.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from definitions.model import Definition
from workflow import ArgumentInvalid, Engine, PermissionDenied, RecordView
from workflow.api import schemas
from workflow.api.access import Caller, allowed, case_units, check_owns, owns, sees

router = APIRouter(tags=["records 案件"])

RecordId = Annotated[
    str, Path(min_length=1, max_length=40, description="案件编号 case id, e.g. SX20261122-7K3QF2")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="幂等键：同一键重复提交只执行一次 (the same key twice applies once)",
    ),
]
Reader = Annotated[Caller, Depends(allowed("records:read"))]
Purpose = Annotated[
    str | None,
    Query(
        max_length=200,
        description="查阅目的，记入查询日志 why the caller reads (kept in the query log for a person's case)",
    ),
]
Writer = Annotated[Caller, Depends(allowed("records:write"))]
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def definition_of(engine: Engine, view: RecordView) -> Definition:
    name, _, version = view.definition.rpartition("@")
    return engine.registry.get(name, int(version))


def visible(engine: Engine, who: Caller, record_id: str) -> RecordView:
    """The case, if the caller may see it.

    Raises:
        RecordNotFound: no such case.
        PermissionDenied: the case is outside the caller's units.
    """
    view = engine.get(record_id)
    if not sees(engine, who, view):
        raise PermissionDenied(
            who.role,
            "read",
            (),
            why="该案件不在本单位及下级单位范围内 (the case is outside the caller's units)",
        )
    return view


def logged(engine: Engine, who: Caller, views: list[RecordView], purpose: str | None, route: str) -> None:
    """Every read of a natural person's case goes to the query log: who, when, why, which person
    (by masked ID number)."""
    requester = f"{who.token.person}/{who.role}/{who.unit}"[:128]
    engine.log_person_reads(views, requester=requester, purpose=(purpose or f"API {route}")[:200])


def tagged(response: Response, view: RecordView) -> schemas.Record:
    response.headers["ETag"] = f'"{view.version}"'
    return schemas.Record.model_validate(view.to_json())


def expected(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    found = _ETAG.match(if_match)
    if found is None:
        raise ArgumentInvalid(
            "If-Match",
            f'需要记录版本号，如 "3" (expected the record version as an ETag, got {if_match[:40]!r})',
        )
    return int(found.group(1))


# -------------------------------------------------------------------------- reads


@router.get("/records", response_model=schemas.Page, summary="查询案件 query cases")
def query_records(
    request: Request,
    who: Reader,
    state: Annotated[str | None, Query(max_length=129, description="state or track:state")] = None,
    unit: Annotated[str | None, Query(max_length=64)] = None,
    subject: Annotated[
        str | None, Query(max_length=200, description="统一社会信用代码或名称 code or name")
    ] = None,
    overdue: bool = False,
    active: bool | None = None,
    definition: Annotated[str | None, Query(max_length=64)] = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    sort: Annotated[
        list[str] | None,
        Query(max_length=7, description=f"one of {', '.join(Engine.SORTABLE)}; '-' for descending"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
    purpose: Purpose = None,
) -> schemas.Page:
    engine = engine_of(request)
    filters: dict[str, Any] = {
        "state": state,
        "unit": unit,
        "subject": subject,
        "overdue": overdue,
        "active": active,
        "definition": definition,
        "kind": kind,
        "units": None if who.scope is None else sorted(who.scope),
    }
    items = engine.query(**filters, sort=sort or (), limit=limit, offset=offset)
    total = engine.count(**filters)
    logged(engine, who, items, purpose, "GET /records")
    return schemas.Page(
        total=total,
        limit=limit,
        offset=offset,
        items=[schemas.Record.model_validate(v.to_json()) for v in items],
    )


@router.get("/records/{record_id}", response_model=schemas.Record, summary="案件详情 one case")
def get_record(
    request: Request, response: Response, who: Reader, record_id: RecordId, purpose: Purpose = None
) -> schemas.Record:
    engine = engine_of(request)
    view = visible(engine, who, record_id)
    logged(engine, who, [view], purpose, "GET /records/{id}")
    return tagged(response, view)


@router.get("/records/{record_id}/history", response_model=list[schemas.HistoryItem], summary="历史 history")
def get_history(
    request: Request, who: Reader, record_id: RecordId, purpose: Purpose = None
) -> list[schemas.HistoryItem]:
    engine = engine_of(request)
    logged(engine, who, [visible(engine, who, record_id)], purpose, "GET /records/{id}/history")
    return [schemas.HistoryItem.model_validate(e.to_json()) for e in engine.history(record_id)]


@router.get(
    "/records/{record_id}/as-of", response_model=schemas.Record, summary="某一时刻的状态 state as of a time"
)
def get_state_at(
    request: Request,
    who: Reader,
    record_id: RecordId,
    at: Annotated[
        dt.datetime, Query(description="带时区的时间 an aware time, e.g. 2026-06-01T12:00:00+08:00")
    ],
) -> schemas.Record:
    engine = engine_of(request)
    visible(engine, who, record_id)
    return schemas.Record.model_validate(engine.state_at(record_id, at).to_json())


@router.get(
    "/records/{record_id}/events",
    response_model=list[schemas.EventChoice],
    summary="调用者现在可执行的事件 the events the caller may fire now",
)
def get_events(request: Request, who: Reader, record_id: RecordId) -> list[schemas.EventChoice]:
    engine = engine_of(request)
    view = visible(engine, who, record_id)
    why = owns(engine, who, view)
    choices = []
    for option in engine.events_for(record_id, who.actor):
        item = option.to_json()
        if why and item["available"]:
            item.update(available=False, reason=why)
        choices.append(schemas.EventChoice.model_validate(item))
    return choices


@router.get(
    "/records/{record_id}/deadlines",
    response_model=list[schemas.Deadline],
    summary="期限 deadlines of a case",
)
def get_deadlines(request: Request, who: Reader, record_id: RecordId) -> list[schemas.Deadline]:
    view = visible(engine_of(request), who, record_id)
    return [schemas.Deadline.model_validate(d) for d in view.to_json()["deadlines"]]


@router.get(
    "/deadlines",
    response_model=list[schemas.CaseDeadline],
    summary="未结期限 open deadlines of the caller's cases",
)
def open_deadlines(
    request: Request,
    who: Reader,
    overdue: Annotated[bool, Query(description="只看逾期 only overdue cases")] = False,
    limit: Annotated[int, Query(ge=1, le=200, description="cases looked at")] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> list[schemas.CaseDeadline]:
    engine = engine_of(request)
    units = None if who.scope is None else sorted(who.scope)
    found = []
    for case in engine.query(overdue=overdue, units=units, sort=("created_at",), limit=limit, offset=offset):
        for deadline in engine.get(case.id).to_json()["deadlines"]:
            if deadline["closed_at"] is None:
                found.append(schemas.CaseDeadline.model_validate({**deadline, "record_id": case.id}))
    found.sort(key=lambda d: d.due_at)
    return found


# ------------------------------------------------------------------------ commands


def _chosen(engine: Engine, body: schemas.Register) -> Definition:
    if body.version is not None:
        return engine.registry.get(body.definition, body.version)
    newest = engine.registry.select(body.definition)
    day = body.fields.get(newest.index.case_date or "")
    try:
        return engine.registry.select(
            body.definition, dt.date.fromisoformat(day) if isinstance(day, str) else None
        )
    except ValueError:
        return newest  # the field check below names the bad date


@router.post(
    "/records",
    response_model=schemas.Record,
    status_code=201,
    summary="登记（并提交）案件 register (and submit) a case",
)
def register(
    request: Request,
    response: Response,
    who: Writer,
    body: schemas.Register,
    idempotency_key: IdempotencyKey = None,
) -> schemas.Record:
    engine = engine_of(request)
    chosen = _chosen(engine, body)
    schemas.check_payload(chosen, chosen.creation_event().name, body.fields)
    origin_field = chosen.index.originating_unit
    origin = body.fields.get(origin_field) if origin_field else None
    if who.scope is not None and isinstance(origin, str) and origin not in who.scope:
        raise PermissionDenied(
            who.role,
            chosen.creation_event().name,
            (),
            why=f"只能登记本单位（及下级）认定的案件 (the finding unit {origin} is outside the caller's units)",
        )
    view = engine.register(
        body.definition,
        body.fields,
        actor=who.actor,
        version=chosen.version,
        comment=body.comment,
        idempotency_key=idempotency_key,
        submit=body.submit,
    )
    response.headers["Location"] = f"/records/{view.id}"
    return tagged(response, view)


@router.post(
    "/records/{record_id}/events/{event}",
    response_model=schemas.Record,
    summary="执行事件 fire an event",
    description="If-Match: the version (ETag) the caller saw; a case that moved on since answers 409.",
)
def fire(
    request: Request,
    response: Response,
    who: Writer,
    record_id: RecordId,
    event: Annotated[str, Path(min_length=1, max_length=64)],
    body: schemas.Fire,
    if_match: Annotated[str | None, Header(alias="If-Match", max_length=64)] = None,
    idempotency_key: IdempotencyKey = None,
) -> schemas.Record:
    engine = engine_of(request)
    version = expected(if_match)
    view = visible(engine, who, record_id)
    check_owns(engine, who, view, event)
    schemas.check_payload(definition_of(engine, view), event, body.payload)
    after = engine.fire(
        record_id,
        event,
        actor=who.actor,
        payload=body.payload,
        comment=body.comment,
        idempotency_key=idempotency_key,
        expected_version=version,
    )
    return tagged(response, after)


__all__ = ["case_units", "router"]
