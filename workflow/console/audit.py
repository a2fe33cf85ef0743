"""Pages for auditors and the lead department: verify or replay the histories (all cases or one), a
case's state as of a date, its full history, the query log, and a dashboard of overdue cases by unit and cases
by state, drawn on the server.

Auditors read everything and change nothing (``workflow.api.access.SEES_ALL``); the dashboard
is for the credit lead department and auditors and counts only the cases they see.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from workflow import Engine, WorkflowError, audit
from workflow.api.access import SEES_ALL, case_units
from workflow.console.case import visible
from workflow.console.charts import bars
from workflow.console.identity import Who, engine_of, who
from workflow.console.render import SHANGHAI, page

router = APIRouter(include_in_schema=False)
DASHBOARD_ROLES = frozenset({"verifier", *SEES_ALL})
DASHBOARD_CASES = 20_000  # cases counted per view


def refused(person: Who, title: str) -> Response:
    return page(
        "message.html",
        403,
        title=title,
        session=person.session,
        message=f"角色 {person.role} 不能查看此页 (this page is not open to the role {person.role})",
    )


@router.get("/audit")
def audit_page(
    request: Request,
    record_id: Annotated[str, Query(max_length=40)] = "",
    verify: Annotated[str, Query(max_length=8)] = "",
    at: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    person = who(request)
    if person.role not in SEES_ALL:
        return refused(person, "审计 audit")
    engine = engine_of(request)
    record_id = record_id.strip()
    report: audit.Report | Replayed | None = None
    error = ""
    case = history = as_of = None
    if verify == "replay":
        report = _replayed(engine, record_id)
    elif verify:
        cases = engine.cases(only=record_id) if record_id else engine.cases()
        report = audit.verify(
            engine.registry,
            cases,
            real_time=not engine.simulated,
            subject_key=engine.subject_key,
            key=engine.history_key,
            key_mark=engine.key_mark,
            whole=not record_id,
        )
    if record_id and not verify:
        try:
            case = visible(engine, person, record_id)
            history = engine.history(record_id)
            if at:
                day = dt.date.fromisoformat(at[:10])
                when = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=SHANGHAI)
                as_of = engine.state_at(record_id, when)
        except ValueError:
            error = f"日期格式应为 YYYY-MM-DD (a date like 2026-06-01), got {at!r}"
        except WorkflowError as exc:
            error = str(exc)
    return page(
        "audit.html",
        title="审计 audit",
        session=person.session,
        record_id=record_id,
        at=at,
        report=report,
        case=case,
        history=history or [],
        as_of=as_of,
        error=error,
    )


def _jurisdiction(engine: Engine, definition: str) -> str:
    found = engine.registry.select(definition)
    return found.jurisdiction or found.title


@dataclass(frozen=True, slots=True)
class Replayed:
    """What a replay found, shaped like ``audit.Report`` for the page."""

    records: int
    events: int
    problems: list[audit.Problem]
    replay: bool = True


def _replayed(engine: Engine, record_id: str) -> Replayed:
    """Re-run every stored command (of one case, or all) through the decision function."""
    histories = (
        (case.events for case in engine.cases(only=record_id) if case.events)
        if record_id
        else (events for _record, events in engine.histories() if events)
    )
    records = events_seen = 0
    problems: list[audit.Problem] = []
    for events in histories:  # one case at a time: memory stays flat
        records += 1
        events_seen += len(events)
        problems.extend(audit.replay(engine.registry, events))
    return Replayed(records, events_seen, problems)


@router.get("/audit/query-log")
def query_log(request: Request, requester: Annotated[str, Query(max_length=128)] = "") -> Response:
    person = who(request)
    if person.role not in SEES_ALL:
        return refused(person, "查询日志 query log")
    entries = engine_of(request).query_log(limit=500, requester=requester.strip() or None)
    return page(
        "querylog.html",
        title="查询日志 query log",
        session=person.session,
        entries=entries,
        requester=requester,
    )


@router.get("/dashboard")
def dashboard(request: Request) -> Response:
    person = who(request)
    if person.role not in DASHBOARD_ROLES:
        return refused(person, "统计 dashboard")
    engine = engine_of(request)
    scope = None if person.caller.scope is None else sorted(person.caller.scope)
    names = {u.code: u.name for u in engine.units.list()}
    overdue: Counter[str] = Counter()
    states: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    places: Counter[str] = Counter()
    for case in engine.query(units=scope, limit=DASHBOARD_CASES):
        states[f"{case.state_label} ({case.state})"] += 1
        kinds[case.kind] += 1
        places[case.definition.rpartition("@")[0]] += 1
    for case in engine.query(units=scope, overdue=True, limit=DASHBOARD_CASES):
        unit = case_units(engine, case).responsible or "—"
        overdue[f"{names.get(unit, unit)} ({unit})"] += 1
    return page(
        "dashboard.html",
        title="统计 dashboard",
        session=person.session,
        overdue=bars(
            "逾期案件（按责任单位） overdue cases by responsible unit", overdue.most_common(), tone="late"
        ),
        states=bars("案件状态 cases by state", states.most_common()),
        kinds=bars("案件种类 cases by kind", kinds.most_common()),
        places=bars(
            "辖区（规则） cases by jurisdiction",
            [(f"{_jurisdiction(engine, name)} ({name})", n) for name, n in places.most_common()],
        ),
    )
