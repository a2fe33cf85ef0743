"""The case page and its actions: states, data, deadlines with their reasons, history, diagram,
and one form per event the person may fire now.

A case outside the person's units answers 404, as a case that does not exist does, so a URL
does not tell whether a case exists. Every action checks on the server, with the API's rules,
that the person sees the case and owns the event, whatever the page showed; the engine then
checks the role and the definition's rules. A refused form comes back with each problem beside
its field and the input kept; nothing is written.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from definitions.model import Definition
from workflow import Conflict, Engine, PayloadInvalid, PermissionDenied, RecordView, WorkflowError
from workflow.api.access import check_owns, owns, sees
from workflow.console import forms
from workflow.console.identity import PREFIX, Who, check_csrf, engine_of, redirect, who
from workflow.console.render import page

router = APIRouter(include_in_schema=False)
CaseId = Annotated[str, Path(min_length=1, max_length=40)]
EventName = Annotated[str, Path(min_length=1, max_length=64)]


class CaseHidden(Exception):
    """No such case, or not one the person may see: the same 404 page either way."""


def definition_of(engine: Engine, view: RecordView) -> Definition:
    name, _, version = view.definition.rpartition("@")
    return engine.registry.get(name, int(version))


def visible(engine: Engine, person: Who, record_id: str) -> RecordView:
    try:
        view = engine.get(record_id)
    except WorkflowError as exc:
        raise CaseHidden from exc
    if not sees(engine, person.caller, view):
        raise CaseHidden
    return view


def _labels(definition: Definition, data: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(label, code, value shown) for each field the case holds, enums by their Chinese label."""
    rows = []
    for name, value in data.items():
        spec = definition.fields.get(name)
        shown: Any = value
        if spec is not None and spec.enum and spec.enum in definition.enums:
            enum = definition.enums[spec.enum]
            if isinstance(value, list):
                shown = "、".join(enum.label_of(str(v)) for v in value)
            elif isinstance(value, str):
                shown = enum.label_of(value)
        rows.append((spec.label if spec else name, name, shown))
    return rows


def case_page(
    request: Request,
    person: Who,
    view: RecordView,
    *,
    status: int = 200,
    open_event: str = "",
    filled: forms.Filled | None = None,
    error: str = "",
    done: str = "",
) -> Response:
    engine = engine_of(request)
    definition = definition_of(engine, view)
    why_not = (
        owns(engine, person.caller, view) if person.role != "auditor" else "审计只读 (auditors read only)"
    )
    actions = []
    if not why_not:
        for option in engine.events_for(view.id, person.caller.actor):
            if not option.available:
                continue
            is_open = option.event == open_event and filled is not None
            actions.append(
                {
                    "event": option.event,
                    "label": option.label,
                    "legal_basis": option.legal_basis,
                    "comment_required": option.comment_required,
                    "inputs": forms.inputs(
                        definition,
                        option.event,
                        kept=filled.kept if is_open and filled else None,
                        errors=filled.errors if is_open and filled else None,
                    ),
                    "comment": filled.comment if is_open and filled else "",
                    "comment_error": filled.errors.get("comment", "") if is_open and filled else "",
                    "open": is_open,
                }
            )
    history = engine.history(view.id)
    engine.log_person_reads(
        [view],
        requester=f"{person.session.user.person}/{person.role}/{person.session.user.unit}"[:128],
        purpose="控制台查阅 console case page",
    )
    return page(
        "case.html",
        status,
        title=f"{view.id} {view.definition_title}",
        session=person.session,
        case=view,
        data=_labels(definition, dict(view.data)),
        history=history,
        actions=actions,
        why_not=why_not,
        error=error,
        done=done,
    )


@router.get("/cases/{record_id}")
def show(request: Request, record_id: CaseId) -> Response:
    person = who(request)
    engine = engine_of(request)
    view = visible(engine, person, record_id)
    done = request.query_params.get("done", "")[:64]
    spec = definition_of(engine, view).events.get(done)
    return case_page(request, person, view, done=spec.label if spec else "")


@router.get("/cases/{record_id}/diagram.svg")
def diagram(request: Request, record_id: CaseId) -> Response:
    from workflow.core.diagram import diagram as draw

    person = who(request)
    engine = engine_of(request)
    view = visible(engine, person, record_id)
    current = {t.track: t.state for t in view.tracks}
    svg = draw(definition_of(engine, view), "svg", current=current)
    body = svg if isinstance(svg, bytes) else svg.encode("utf-8")
    return Response(body, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.post("/cases/{record_id}/events/{event}")
async def fire(request: Request, record_id: CaseId, event: EventName) -> Response:
    async with request.form() as form:  # closes the uploads' temporary files
        return await _fire(request, record_id, event, form)


async def _fire(request: Request, record_id: str, event: str, form: FormData) -> Response:
    person = who(request)
    engine = engine_of(request)
    check_csrf(person, str(form.get("csrf") or ""))
    view = visible(engine, person, record_id)
    definition = definition_of(engine, view)
    try:
        check_owns(engine, person.caller, view, event)
        if event not in definition.events or definition.events[event].creates:
            raise PayloadInvalid(event, "event", "不是本案件的事件 (not an event of this case)")
    except WorkflowError as exc:
        return case_page(request, person, view, status=_status(exc), error=str(exc))
    filled = await forms.read(definition, event, form)
    if filled.errors:
        return case_page(
            request,
            person,
            view,
            status=422,
            open_event=event,
            filled=filled,
            error="请更正标出的字段 (please correct the marked fields)",
        )
    version = str(form.get("version") or "")
    try:
        after = engine.fire(
            record_id,
            event,
            actor=person.caller.actor,
            payload=filled.payload,
            comment=filled.comment,
            expected_version=int(version) if version.isdigit() else None,
        )
    except WorkflowError as exc:
        if isinstance(exc, PayloadInvalid) and exc.field in forms.specs(definition, event):
            filled.errors[exc.field] = exc.problem
        return case_page(
            request, person, view, status=_status(exc), open_event=event, filled=filled, error=str(exc)
        )
    return redirect(f"{PREFIX}/cases/{after.id}?done={event}")


def _status(error: WorkflowError) -> int:
    if isinstance(error, PermissionDenied):
        return 403
    return 409 if isinstance(error, Conflict) else 422


@router.get("/new")
def new_form(request: Request, definition: str = "") -> Response:
    person = who(request)
    engine = engine_of(request)
    return _new_page(person, engine, definition)


def _new_page(
    person: Who,
    engine: Engine,
    chosen: str,
    *,
    filled: forms.Filled | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    options = [d for d in _newest(engine) if person.role in d.creation_event().roles]
    found = next((d for d in options if d.name == chosen), None)
    inputs = (
        forms.inputs(
            found,
            found.creation_event().name,
            kept=filled.kept if filled else None,
            errors=filled.errors if filled else None,
        )
        if found
        else []
    )
    return page(
        "new.html",
        status,
        title="登记新案件 register a case",
        session=person.session,
        options=options,
        chosen=found,
        inputs=inputs,
        comment=filled.comment if filled else "",
        error=error,
    )


def _newest(engine: Engine) -> list[Definition]:
    newest: dict[str, Definition] = {}
    for d in engine.registry.all():
        if d.name not in newest or d.version > newest[d.name].version:
            newest[d.name] = d
    return sorted(newest.values(), key=lambda d: d.name)


@router.post("/new")
async def register(request: Request) -> Response:
    async with request.form() as form:  # closes the uploads' temporary files
        return await _register(request, form)


async def _register(request: Request, form: FormData) -> Response:
    person = who(request)
    engine = engine_of(request)
    check_csrf(person, str(form.get("csrf") or ""))
    chosen = str(form.get("definition") or "")
    found = next((d for d in _newest(engine) if d.name == chosen), None)
    if found is None or person.role not in found.creation_event().roles:
        return _new_page(
            person, engine, "", error="请选择可登记的案件种类 (choose a kind you may register)", status=422
        )
    filled = await forms.read(found, found.creation_event().name, form)
    origin = filled.payload.get(found.index.originating_unit or "")
    if isinstance(origin, str) and not person.caller.sees_unit(origin):
        filled.errors[found.index.originating_unit or ""] = (
            f"只能登记本单位（及下级）认定的案件 (the finding unit {origin} is outside your units)"
        )
    if filled.errors:
        return _new_page(
            person,
            engine,
            chosen,
            filled=filled,
            status=422,
            error="请更正标出的字段 (please correct the marked fields)",
        )
    try:
        view = engine.register(
            chosen,
            filled.payload,
            actor=person.caller.actor,
            comment=filled.comment,
            submit=form.get("submit") == "1",
        )
    except WorkflowError as exc:
        if isinstance(exc, PayloadInvalid):
            filled.errors[exc.field] = exc.problem
        return _new_page(person, engine, chosen, filled=filled, error=str(exc), status=422)
    return redirect(f"{PREFIX}/cases/{view.id}?done=register")
