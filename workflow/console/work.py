"""The "my work" page: every case the signed-in person may act on now, due soonest first.

A case is on the list when it is in the person's units, in a state out of which an event of the
person's role leads, and at least one such event is open to the person now: it passes the
definition's guards and is the person's to fire by the API's ownership rules
(``workflow.api.access.owns``). The engine's work list (``Engine.worklist``) answers the first
two from indexed queries, soonest due first and a page at a time, so the page costs the same at
100,000 open cases as at 100; only the cases of the page are asked the third. Overdue cases come
first (their due time is past) and are marked; each row names what is owed and links to the
deadline's explanation. The count per state is one ``GROUP BY`` of the cases in those states.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from workflow import Engine, RecordView, WorkflowError
from workflow.api.access import owns
from workflow.console.identity import Who, engine_of, who
from workflow.console.render import page

router = APIRouter(include_in_schema=False)
PAGE = 50  # rows a page shows
SCANNED = 4  # work-list pages read at most per view, when guards turn many cases away
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


def items_of(
    engine: Engine,
    person: Who,
    *,
    kind: str | None,
    state: str | None,
    unit: str | None,
    due_by: dt.datetime | None = None,
    cursor: str | None = None,
) -> tuple[list[Item], str | None, list[tuple[str, int]]]:
    """One page of the person's work, the cursor of the next page, and the counts per state."""
    now = engine.clock.now()
    scope = None if person.caller.scope is None else sorted(person.caller.scope)
    waiting = engine.worklist.waiting(person.role, kind=kind, state=state, units=scope, unit=unit)
    found: list[Item] = []
    for _ in range(SCANNED):
        listed = engine.worklist.page(waiting, due_by=due_by, limit=PAGE - len(found), cursor=cursor)
        cursor = listed.next
        for entry in listed.items:
            actions = actionable(engine, person, entry.view)
            if actions:
                due = entry.next_due
                found.append(
                    Item(
                        case=entry.view,
                        actions=actions,
                        due_at=due,
                        due_label=entry.next_deadline or "",
                        overdue=entry.view.overdue or (due is not None and due <= now),
                    )
                )
        if cursor is None or len(found) >= PAGE:
            break
    return found, cursor, engine.worklist.counts(waiting)


@router.get("/")
def my_work(
    request: Request,
    kind: Annotated[str, Query(max_length=64)] = "",
    state: Annotated[str, Query(max_length=129)] = "",
    unit: Annotated[str, Query(max_length=64)] = "",
    due: Annotated[str, Query(max_length=16)] = "",
    after: Annotated[str, Query(max_length=24, pattern=r"^([cdu]:\d{1,12})?$")] = "",
) -> Response:
    person = who(request)
    engine = engine_of(request)
    now = engine.clock.now()
    due_by = (
        now if due == "overdue" else now + dt.timedelta(days=int(due)) if due in WINDOWS and due else None
    )
    error = ""
    items: list[Item] = []
    more: str | None = None
    counts: list[tuple[str, int]] = []
    try:
        items, more, counts = items_of(
            engine, person, kind=kind, state=state, unit=unit, due_by=due_by, cursor=after or None
        )
    except WorkflowError as exc:
        error = str(exc)
    kinds = sorted({d.kind for d in engine.registry.all()})
    return page(
        "work.html",
        title="我的待办 my work",
        session=person.session,
        items=items,
        counts=counts,
        more=more,
        kinds=kinds,
        windows=WINDOWS,
        filters={"kind": kind, "state": state, "unit": unit, "due": due},
        error=error,
    )
