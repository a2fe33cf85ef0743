"""The shapes of the HTTP API's bodies: what comes in, checked, and what goes out.

Response models mirror the engine's views (``workflow.engine.views``) so the OpenAPI document
says exactly what a caller gets. Request payloads are checked twice: first against a pydantic
model generated from the definition itself (``payload_model``: each field's type, length, enum,
bounds and list size, unknown fields refused), so a bad request is refused with the field it
is about before the engine sees it; then by the engine, which knows the rules between fields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from definitions.model import Definition, FieldSpec
from workflow import PayloadInvalid

TEXT = 20_000
CODE = 64


class Problem(BaseModel):
    """An error, as ``application/problem+json`` (RFC 9457) with chengxin's extensions."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    field: str | None = None
    argument: str | None = None
    event: str | None = None
    state: str | None = None
    record_id: str | None = None
    allowed_events: list[str] | None = None
    allowed_roles: list[str] | None = None
    reasons: list[str] | None = None
    problems: list[dict[str, str]] | None = None


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Track(BaseModel):
    track: str
    track_label: str
    state: str
    label: str


class Deadline(BaseModel):
    name: str
    label: str
    status: str
    started_at: dt.datetime
    due_at: dt.datetime
    provisional: bool
    extended: int
    remaining: int | None
    explanation: list[str]
    legal_basis: str
    closed_at: dt.datetime | None


class Record(BaseModel):
    """A case as the engine shows it (``RecordView``)."""

    id: str
    kind: str
    definition: str
    definition_title: str
    state: str
    state_label: str
    tracks: list[Track]
    data: dict[str, Any]
    marks: list[str]
    active: bool
    overdue: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deadlines: list[Deadline]


class Page(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[Record]


class HistoryItem(BaseModel):
    seq: int
    event: str
    event_label: str
    occurred_at: dt.datetime
    actor: str
    role: str
    unit: str
    changes: list[list[str | None]]
    payload: dict[str, Any]
    comment: str
    effects: dict[str, Any]
    definition: str
    hash: str


class EventChoice(BaseModel):
    event: str
    label: str
    roles: list[str]
    available: bool
    reason: str
    payload_fields: list[str]
    comment_required: bool
    legal_basis: str


class Unit(BaseModel):
    code: str
    name: str
    superior: str | None
    emails: list[str]
    contact: str | None


class DefinitionSummary(BaseModel):
    name: str
    version: int
    kind: str
    title: str
    jurisdiction: str
    effective_from: dt.date | None
    legal_basis: str
    sha256: str


class Mail(BaseModel):
    id: int
    record_id: str | None
    template: str
    recipient_unit: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    message_id: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


class OutboxStatus(BaseModel):
    counts: dict[str, int]
    items: list[Mail]


class Me(BaseModel):
    token_id: str
    person: str
    role: str
    unit: str
    expires_at: dt.datetime
    units: list[str] | None = Field(description="the units this token sees; null: every unit")


class Check(BaseModel):
    ok: bool
    detail: str


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, Check]


class Health(BaseModel):
    status: Literal["ok"]


class Register(Body):
    """A new case of ``definition`` (the version in force on its date unless ``version``)."""

    definition: Annotated[str, Field(min_length=1, max_length=CODE)]
    version: Annotated[int | None, Field(ge=1, le=2**31 - 1)] = None
    fields: dict[str, Any]
    comment: Annotated[str, Field(max_length=TEXT)] = ""
    submit: bool = False


class Fire(Body):
    """What an event carries: its payload and the reasons (required for a decision)."""

    payload: dict[str, Any] = Field(default_factory=dict)
    comment: Annotated[str, Field(max_length=TEXT)] = ""


# ------------------------------------------------------- models from the definitions


def _type(spec: FieldSpec, definition: Definition) -> Any:
    text = Annotated[str, Field(max_length=spec.max_length or TEXT)]
    items = spec.max_items
    if spec.type in {"string", "text", "uscc", "id_number"}:
        return text
    if spec.type == "unit":
        return Annotated[str, Field(min_length=1, max_length=min(spec.max_length or CODE, CODE))]
    if spec.type == "int":
        return Annotated[int, Field(strict=True, ge=spec.min, le=spec.max)]
    if spec.type == "bool":
        return Annotated[bool, Field(strict=True)]
    if spec.type == "date":
        return dt.date
    if spec.type in {"enum", "enum_list"}:
        codes = tuple(v.code for v in definition.enums[spec.enum].values) if spec.enum else ()
        one: Any = Literal[codes] if codes else str
        if spec.type == "enum":
            return one
        return Annotated[list[one], Field(max_length=items)]
    if spec.type == "string_list":
        return Annotated[list[text], Field(max_length=items)]
    if spec.type == "documents":
        return Annotated[list[dict[str, Any]], Field(max_length=items)]
    return Any


def _model_name(definition: Definition, event: str) -> str:
    return f"Payload_{definition.name}_v{definition.version}_{event}".replace("-", "_").replace(".", "_")


_MODELS: dict[tuple[str, str, str], type[BaseModel]] = {}


def payload_model(definition: Definition, event: str) -> type[BaseModel]:
    """The pydantic model of ``event``'s payload in ``definition``: every field optional (the
    engine knows when one is required), typed and bounded as the definition says, no others."""
    key = (definition.key, definition.sha256, event)
    found = _MODELS.get(key)
    if found is None:
        found = _MODELS[key] = _build(definition, event)
    return found


def _build(definition: Definition, event: str) -> type[BaseModel]:
    spec = definition.events[event]
    # a new case's fields are the definition's record fields, the required ones required
    creates = spec.creates
    given = definition.fields if creates else spec.payload
    fields: dict[str, Any] = {}
    for name, field in given.items():
        kind = _type(field, definition)
        if creates and field.required and not field.required_when and field.default is None:
            fields[name] = (kind, Field(title=field.label))
        else:
            fields[name] = (kind | None, Field(default=None, title=field.label))
    made: type[BaseModel] = create_model(
        _model_name(definition, event), __config__=ConfigDict(extra="forbid"), **fields
    )
    return made


def check_payload(definition: Definition, event: str, payload: Mapping[str, Any]) -> None:
    """Refuse ``payload`` if it breaks its definition's field rules.

    Raises:
        PayloadInvalid: naming the first field at fault.
    """
    if event not in definition.events:
        return  # the engine answers an unknown event with the events there are
    try:
        payload_model(definition, event).model_validate(dict(payload))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "payload"
        raise PayloadInvalid(event, where, str(first.get("msg", ""))) from None


class CaseDeadline(Deadline):
    record_id: str
