"""The schema of a workflow definition file, as pydantic models.

Only the loader uses these: they check untrusted YAML (unknown keys are errors) and are then
turned into the frozen values of ``definitions.model``. They hold no engine logic.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from definitions.ceilings import CEILING_ITEMS, CEILING_PAYLOAD_BYTES, CEILING_TEXT

NAME = r"^[a-z][a-z0-9_]*$"
FieldType = Literal[
    "string",
    "text",
    "int",
    "bool",
    "date",
    "enum",
    "enum_list",
    "uscc",
    "id_number",
    "unit",
    "documents",
    "string_list",
]
FIELD_TYPES: tuple[str, ...] = get_args(FieldType)
LIST_TYPES = frozenset({"documents", "string_list", "enum_list"})

# The most a definition may allow: ``definitions.ceilings`` (CEILING_TEXT, CEILING_ITEMS,
# CEILING_PAYLOAD_BYTES), imported here for the schema's bounds and for its importers.


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class PeriodModel(_Strict):
    working_days: int | None = Field(default=None, ge=0)
    days: int | None = Field(default=None, ge=0)
    months: int | None = Field(default=None, ge=0)
    years: int | None = Field(default=None, ge=0)
    field_days: str | None = None
    field_working_days: str | None = None
    publication: Literal["min", "max"] | None = None
    by_field: str | None = None
    by_value: dict[str, PeriodModel] | None = None

    @model_validator(mode="after")
    def _exactly_one_unit(self) -> PeriodModel:
        units = [
            name
            for name in (
                "working_days",
                "days",
                "months",
                "years",
                "field_days",
                "field_working_days",
                "publication",
                "by_field",
            )
            if getattr(self, name) is not None
        ]
        if len(units) != 1:
            raise ValueError(
                "a period needs exactly one of working_days, days, months, years, field_days, "
                f"field_working_days, publication, by_field; got {', '.join(units) or 'none'}"
            )
        if (self.by_field is None) != (self.by_value is None):
            raise ValueError("by_field and by_value go together")
        return self


class RoleModel(_Strict):
    label: str
    label_en: str = ""
    system: bool = False


class EnumModel(_Strict):
    values: dict[str, str] = Field(min_length=1)
    legal_basis: str = ""


class LimitsModel(_Strict):
    """How much one command may carry under a definition; each has a default, so a definition
    names only what it changes. A field's own ``max_length`` or ``max_items`` overrides the
    default of its type."""

    string: int = Field(default=200, ge=1, le=CEILING_TEXT)  # characters of a string field or list item
    text: int = Field(default=20_000, ge=1, le=CEILING_TEXT)  # characters of a text field
    list_items: int = Field(default=200, ge=1, le=CEILING_ITEMS)  # entries of a string_list or enum_list
    documents: int = Field(default=50, ge=1, le=CEILING_ITEMS)  # entries of a documents field
    document_value: int = Field(
        default=1_000, ge=1, le=CEILING_TEXT
    )  # characters of a document's number, name, url
    payload_bytes: int = Field(
        default=256 * 1024, ge=1024, le=CEILING_PAYLOAD_BYTES
    )  # a payload as canonical JSON
    comment: int = Field(default=20_000, ge=1, le=CEILING_TEXT)  # characters of a command's comment


class FieldModel(_Strict):
    type: FieldType
    label: str
    required: bool = False
    required_when: dict[str, list[str]] = Field(default_factory=dict)
    enum: str | None = None
    default: Any = None
    min: int | None = None
    max: int | None = None
    max_length: int | None = Field(default=None, ge=1, le=CEILING_TEXT)
    max_items: int | None = Field(default=None, ge=1, le=CEILING_ITEMS)
    sets: str | None = None
    confidential: bool = False  # never shown in a notice (a complainant's identity)
    known_unit: bool = False  # a unit field whose unit must be in the unit directory
    within: list[str] | None = Field(
        default=None, min_length=2, max_length=2
    )  # a date field: [from, to] fields

    @model_validator(mode="after")
    def _enum_needs_a_set(self) -> FieldModel:
        if self.type in {"enum", "enum_list"} and not self.enum:
            raise ValueError(f"a field of type {self.type} needs 'enum: <name of an enum>'")
        if self.type not in {"enum", "enum_list"} and self.enum:
            raise ValueError(f"'enum' is only for fields of type enum or enum_list, not {self.type}")
        if self.known_unit and self.type != "unit":
            raise ValueError("'known_unit' is only for fields of type unit")
        if self.within is not None and self.type != "date":
            raise ValueError("'within' is only for fields of type date")
        if self.max_items is not None and self.type not in LIST_TYPES:
            raise ValueError(f"'max_items' is only for list fields ({', '.join(sorted(LIST_TYPES))})")
        return self


class StateModel(_Strict):
    label: str
    label_en: str = ""
    final: bool = False
    active: bool = False
    overdue: bool = False
    mark: str | None = None


class TrackModel(_Strict):
    label: str
    initial: str
    active_while: dict[str, list[str]] = Field(default_factory=dict)
    states: dict[str, StateModel] = Field(min_length=1)


class TransitionModel(_Strict):
    track: str | None = None  # the definition's main track when omitted
    from_: list[str] = Field(alias="from", min_length=1)
    to: str
    optional: bool = False
    when: dict[str, Any] = Field(default_factory=dict)

    _listify = field_validator("from_", mode="before")(_as_list)


class NoticeModel(_Strict):
    template: str
    to: list[str] = Field(min_length=1)
    deadline: str | None = None

    _listify = field_validator("to", mode="before")(_as_list)


class _GuardBase(_Strict):
    message: str = ""
    legal_basis: str = ""


class FourEyesGuard(_GuardBase):
    guard: Literal["four_eyes"]
    events: list[str] = Field(min_length=1)


class RequiresStateGuard(_GuardBase):
    guard: Literal["requires_state"]
    states: dict[str, list[str]] = Field(min_length=1)


class ForbidsStateGuard(_GuardBase):
    guard: Literal["forbids_state"]
    states: dict[str, list[str]] = Field(min_length=1)


class ActorUnitGuard(_GuardBase):
    guard: Literal["actor_unit"]
    field: str


class PublicationMinimumGuard(_GuardBase):
    guard: Literal["publication_minimum_elapsed"]


class FieldNotInGuard(_GuardBase):
    guard: Literal["field_not_in"]
    values: dict[str, list[str]] = Field(min_length=1)
    waived_by: str | None = None


class PayloadRequiresGuard(_GuardBase):
    """A payload value (e.g. one sanction measure) that only a record of a kind may take."""

    guard: Literal["payload_requires"]
    field: str  # the payload field (an enum or enum_list)
    values: list[str] = Field(min_length=1)  # the payload values the condition is for
    record: dict[str, list[str]] = Field(min_length=1)  # record field -> the values it must hold


class ChangesFieldsGuard(_GuardBase):
    guard: Literal["changes_fields"]


class ConfirmsGuard(_GuardBase):
    guard: Literal["confirms"]
    fields: list[str] = Field(min_length=1)


GuardModel = Annotated[
    FourEyesGuard
    | RequiresStateGuard
    | ForbidsStateGuard
    | ActorUnitGuard
    | PublicationMinimumGuard
    | FieldNotInGuard
    | ChangesFieldsGuard
    | ConfirmsGuard
    | PayloadRequiresGuard,
    Field(discriminator="guard"),
]


class OpensModel(_Strict):
    """A case of another definition that an event opens in the same transaction (a founded
    complaint confirmed as a breach opens a dishonesty record), linked both ways."""

    definition: str = Field(pattern=NAME)  # the definition's name; the version in force is chosen
    role: str = Field(pattern=NAME)  # the role of that definition the firing person registers it in
    fields: dict[str, str] = Field(default_factory=dict)  # its field -> a field of this case or payload
    values: dict[str, Any] = Field(default_factory=dict)  # its field -> a fixed value
    then: list[str] = Field(default_factory=list)  # its events fired at once by the same person
    link_field: str | None = None  # a string field of this case that keeps the new case's id
    legal_basis: str = Field(min_length=1)


class EventModel(_Strict):
    label: str
    roles: list[str] = Field(min_length=1)
    transitions: list[TransitionModel] = Field(default_factory=list)
    payload: dict[str, FieldModel] = Field(default_factory=dict)
    guards: list[GuardModel] = Field(default_factory=list)
    comment: Literal["required", "optional"] = "optional"
    creates: bool = False
    notify: list[NoticeModel] = Field(default_factory=list)
    purge_personal_data: bool = False
    extends_deadline: str | None = None
    opens: OpensModel | None = None
    legal_basis: str = Field(min_length=1)


class ExpiryModel(_Strict):
    event: str | None = None
    notify: list[NoticeModel] = Field(default_factory=list)


class StartModel(_Strict):
    notify: list[NoticeModel] = Field(default_factory=list)


class DeadlineModel(_Strict):
    label: str
    while_: dict[str, list[str]] = Field(alias="while", min_length=1)
    period: PeriodModel
    anchor: list[str] = Field(default_factory=list)
    paused_while: dict[str, list[str]] = Field(default_factory=dict)
    extendable_to: PeriodModel | None = None
    ladder: str | None = None
    on_expiry: ExpiryModel = Field(default_factory=ExpiryModel)
    on_start: StartModel = Field(default_factory=StartModel)
    legal_basis: str = Field(min_length=1)

    _listify = field_validator("anchor", mode="before")(_as_list)


class RungModel(_Strict):
    name: str = Field(pattern=NAME)
    label: str
    kind: Literal["before", "due", "overdue", "escalate"]
    working_days: int = Field(default=0, ge=0)
    notify: list[NoticeModel] = Field(min_length=1)


class LadderModel(_Strict):
    legal_basis: str = Field(min_length=1)
    rungs: list[RungModel] = Field(min_length=1)


class SeverityPeriodModel(_Strict):
    min: PeriodModel | None = None
    max: PeriodModel | None = None


class PublicationRegimeModel(_Strict):
    effective_from: dt.date | None = None
    legal_basis: str = Field(min_length=1)
    by_severity: dict[str, SeverityPeriodModel] = Field(min_length=1)


class ReportItemModel(_Strict):
    """What a supervision round counts for a unit: records that are active, or in a track state."""

    label: str
    active: bool | None = None
    state: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")
    definition: str | None = None

    @model_validator(mode="after")
    def _one_criterion(self) -> ReportItemModel:
        if sum(x is not None for x in (self.active, self.state, self.definition)) != 1:
            raise ValueError("a report item counts by exactly one of active, state (track:state), definition")
        return self


DEFAULT_REPORT: dict[str, dict[str, Any]] = {
    "open_records": {"label": "有效失信记录", "active": True},
    "overdue_explanations": {"label": "逾期未书面说明", "state": "rectification:explanation_overdue"},
    "overdue_rectifications": {"label": "逾期未整改", "state": "rectification:rectification_overdue"},
    "pending_objections": {"label": "异议处理中", "state": "objection:pending"},
    "ledger_tasks": {"label": "工作台账任务", "definition": "ledger"},
}


class GradeModel(_Strict):
    """A credit grade of graded supervision (信用分级分类监管): the units it applies to (by what they
    have open under the definition; no condition: every unit) and the months they are checked in."""

    label: str = Field(min_length=1)
    min_open_records: int | None = Field(default=None, ge=1)
    min_overdue_records: int | None = Field(default=None, ge=1)
    months: list[int] = Field(min_length=1)
    legal_basis: str = Field(min_length=1)

    @model_validator(mode="after")
    def _months(self) -> GradeModel:
        if any(not 1 <= m <= 12 for m in self.months):
            raise ValueError("months are 1–12")
        return self


class ScheduleModel(_Strict):
    label: str
    round: str | None = Field(
        default=None, pattern=NAME
    )  # the definition of the rounds; default: the one of kind supervision_round
    cron: dict[Literal["year", "month", "day", "week", "day_of_week", "hour", "minute"], str]
    answer_within: PeriodModel
    units: str = "responsible_unit"
    report: dict[str, ReportItemModel] = Field(
        default_factory=lambda: {k: ReportItemModel(**v) for k, v in DEFAULT_REPORT.items()}
    )
    # graded supervision: the first grade whose conditions a unit meets sets the months it is
    # checked in (the last grade must have no condition); empty: every unit at every firing
    grades: dict[str, GradeModel] = Field(default_factory=dict)
    legal_basis: str = Field(min_length=1)

    @model_validator(mode="after")
    def _last_grade_catches_all(self) -> ScheduleModel:
        if self.grades:
            last = list(self.grades.values())[-1]
            if last.min_open_records is not None or last.min_overdue_records is not None:
                raise ValueError("the last grade must have no condition: every unit gets a grade")
        return self


class LedgerCheckModel(_Strict):
    """A check every task of a ledger gets on the jurisdiction's own rhythm (cron fields give the
    days checks are due on, in the definition's time zone)."""

    label: str
    kind: Literal["check", "assessment"] = "check"
    cron: dict[Literal["month", "day", "week", "day_of_week"], str]
    legal_basis: str = Field(min_length=1)


class LedgerModel(_Strict):
    """What ties a definition of kind ``ledger_task`` to a seed ledger and its checks."""

    source: str | None = Field(default=None, pattern=NAME)  # a key of definitions.ledgers.LEDGER_SOURCES
    years: str = Field(pattern=r"^[0-9]{4}-[0-9]{4}$")  # the years checks are planned for by default
    opens_before: PeriodModel  # how long before its due date a check opens
    checks: dict[str, LedgerCheckModel] = Field(default_factory=dict)  # empty: each task's own 检查考核
    legal_basis: str = Field(min_length=1)


class PurposeModel(_Strict):
    """What an embedding service may ask a credit check about (信用核查用途)."""

    label: str
    label_en: str = ""


class SanctionEffectModel(_Strict):
    """A sanction that acts: which measure or record condition bars which purposes, for how long.

    The bar holds while the record's tracks are in ``while`` (every listed track in one of its
    states) and, with a ``period``, until that period has run from the first ``anchor`` date the
    record has; ``through_year_end`` stretches it to the end of the calendar (appraisal) year.
    """

    label: str
    bars: list[str] = Field(min_length=1)  # purposes
    measure: str | None = None  # a value of the record's `sanction_measures` (applied by a decision)
    record: dict[str, list[str]] = Field(default_factory=dict)  # record field -> values
    while_: dict[str, list[str]] = Field(alias="while", default_factory=dict)
    period: PeriodModel | None = None
    anchor: list[str] = Field(default_factory=list)
    through_year_end: bool = False
    legal_basis: str = Field(min_length=1)


class IndexModel(_Strict):
    """Record fields the engine keeps in indexed columns (each names a field of the definition)."""

    subject_name: str | None = None
    subject_code: str | None = None
    subject_id_number: str | None = None
    responsible_unit: str | None = None
    originating_unit: str | None = None
    case_date: str | None = None
    severity: str | None = None


class DefinitionModel(_Strict):
    name: str = Field(pattern=NAME)
    version: int = Field(ge=1)
    kind: str = Field(pattern=NAME)
    id_prefix: str = Field(pattern=r"^[A-Z]{2,4}$")
    main_track: str = Field(pattern=NAME)
    index: IndexModel = Field(default_factory=IndexModel)
    title: str
    jurisdiction: str
    legal_basis: str = Field(min_length=1)
    effective_from: dt.date | None = None
    extends: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*@[1-9][0-9]*$")
    timezone: str = "Asia/Shanghai"
    deadline_time: str = Field(default="17:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    reminder_time: str = Field(default="09:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    roles: dict[str, RoleModel] = Field(min_length=1)
    enums: dict[str, EnumModel] = Field(default_factory=dict)
    fields: dict[str, FieldModel] = Field(default_factory=dict)
    tracks: dict[str, TrackModel] = Field(min_length=1)
    events: dict[str, EventModel] = Field(min_length=1)
    deadlines: dict[str, DeadlineModel] = Field(default_factory=dict)
    ladders: dict[str, LadderModel] = Field(default_factory=dict)
    publication_periods: list[PublicationRegimeModel] = Field(default_factory=list)
    schedules: dict[str, ScheduleModel] = Field(default_factory=dict)
    ledger: LedgerModel | None = None
    purposes: dict[str, PurposeModel] = Field(default_factory=dict)
    sanction_effects: dict[str, SanctionEffectModel] = Field(default_factory=dict)
    templates_dir: str | None = None
    local_days_off: dict[dt.date, str] = Field(default_factory=dict)
    limits: LimitsModel = Field(default_factory=LimitsModel)
