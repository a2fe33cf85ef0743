"""The "my work" page: every case the signed-in person may act on now, due soonest first.

A case is on the list when it is in the person's units and at least one event of its definition
is open to the person's role now, passes the definition's guards, and is the person's to fire by
the API's ownership rules (``workflow.api.access.owns``). Only cases in a state out of which one
of the role's events leads are read, the ``LOOKED_AT`` longest waiting per state (a deadline
starts when a case enters the state, so these are due first), so a large database is not read
whole; the filters reach the others. Overdue cases come
first and are marked; each row names what is owed and links to the deadline's explanation.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from workflow import Engine, RecordView, WorkflowError
from workflow.api.access import owns
from workflow.console.identity import Who, engine_of, who
from workflow.console.render import page

router = APIRouter(include_in_schema=False)
LOOKED_AT = 200  # cases read per waiting state and page view; the filters narrow what is read
WINDOWS = {
    "": "全部 any",
    "overdue": "已逾期 overdue",
    "7": "7日内 within 7 days",
    "30": "30日内 within 30 days",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    case: RecordView
    actions: list[tuple[str, str]]  # (event, label)
    due_at: dt.datetime | None
    due_label: str
    overdue: bool


def actionable(engine: Engine, person: Who, case: RecordView) -> list[tuple[str, str]]:
    """The events ``person`` may fire on ``case`` now."""
    if person.caller.role == "auditor" or owns(engine, person.caller, case):
        return []
    return [(o.event, o.label) for o in engine.events_for(case.id, person.caller.actor) if o.available]


def waiting(engine: Engine, role: str, kind: str | None) -> list[tuple[str, str]]:
    """(definition, ``track:state``) pairs in which an event of ``role`` may move a case: only
    cases in those states are looked at, so a busy database is not read whole."""
    found: set[tuple[str, str]] = set()
    for definition in engine.registry.all():
        if kind and definition.kind != kind:
            continue
        for spec in definition.events.values():
            if spec.creates or role not in spec.roles:
                continue
            for transition in spec.transitions:
                found.update((definition.name, f"{transition.track}:{s}") for s in transition.sources)
    return sorted(found)


def items_of(
    engine: Engine, person: Who, *, kind: str | None, state: str | None, unit: str | None
) -> list[Item]:
    now = engine.clock.now()
    scope = None if person.caller.scope is None else sorted(person.caller.scope)
    asks = [(None, state)] if state else waiting(engine, person.role, kind)
    seen: dict[str, RecordView] = {}
    for definition, in_state in asks:
        for brief in engine.query(
            definition=definition,
            kind=kind or None,
            state=in_state,
            unit=unit or None,
            units=scope,
            sort=("updated_at",),  # the longest waiting first: their deadlines started first
            limit=LOOKED_AT,
        ):
            seen.setdefault(brief.id, brief)
    found = []
    for brief in seen.values():
        actions = actionable(engine, person, brief)
        if not actions:
            continue
        case = engine.get(brief.id)
        open_ = sorted((d for d in case.deadlines if d.closed_at is None), key=lambda d: d.due_at)
        first = open_[0] if open_ else None
        found.append(
            Item(
                case=case,
                actions=actions,
                due_at=first.due_at if first else None,
                due_label=first.label if first else "",
                overdue=case.overdue or any(d.due_at <= now for d in open_),
            )
        )
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    found.sort(key=lambda i: (not i.overdue, i.due_at or far, i.case.id))
    return found


@router.get("/")
def my_work(
    request: Request,
    kind: Annotated[str, Query(max_length=64)] = "",
    state: Annotated[str, Query(max_length=129)] = "",
    unit: Annotated[str, Query(max_length=64)] = "",
    due: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    person = who(request)
    engine = engine_of(request)
    error = ""
    try:
        items = items_of(engine, person, kind=kind, state=state, unit=unit)
    except WorkflowError as exc:
        items, error = [], str(exc)
    now = engine.clock.now()
    if due == "overdue":
        items = [i for i in items if i.overdue]
    elif due.isdigit():
        limit = now + dt.timedelta(days=int(due))
        items = [i for i in items if i.due_at is not None and i.due_at <= limit]
    counts = Counter(f"{i.case.state_label} ({i.case.state})" for i in items)
    kinds = sorted({d.kind for d in engine.registry.all()})
    return page(
        "work.html",
        title="我的待办 my work",
        session=person.session,
        items=items,
        counts=sorted(counts.items()),
        kinds=kinds,
        windows=WINDOWS,
        filters={"kind": kind, "state": state, "unit": unit, "due": due},
        error=error,
    )
