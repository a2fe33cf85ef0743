"""Parsed workflow definitions: plain frozen values, read from YAML before anything runs.

These classes are what the engine works with. They hold no behaviour beyond small lookups
and never touch the engine, storage or the clock; the loader (``definitions.loader``) is the
only place that builds them, after validating the source files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

SYSTEM_ROLE = "system"


@dataclass(frozen=True, slots=True, kw_only=True)
class Role:
    name: str
    label: str
    system: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class EnumValue:
    code: str
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EnumSet:
    name: str
    values: tuple[EnumValue, ...]
    legal_basis: str = ""

    def label_of(self, code: str) -> str:
        for value in self.values:
            if value.code == code:
                return value.label
        return code

    def codes(self) -> tuple[str, ...]:
        return tuple(value.code for value in self.values)


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldSpec:
    """One typed field of a record or of an event's payload.

    ``type`` is one of: string, text, int, bool, date, enum, enum_list, uscc, id_number, unit,
    documents, string_list. ``confidential`` fields (a complainant's identity) are never shown in a
    notice. ``required_when`` makes the field required when other record fields
    hold one of the listed values; ``sets`` names the record field an event payload writes. The
    loader fills ``max_length`` and ``max_items`` from the definition's ``limits`` when the field
    does not set them, so every text and every list of a loaded definition is bounded.
    """

    name: str
    type: str
    label: str
    required: bool = False
    required_when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    enum: str | None = None
    default: object = None
    min: int | None = None
    max: int | None = None
    max_length: int | None = None  # characters of the value, of each list item, of each document value
    max_items: int | None = None  # entries of a list field
    sets: str | None = None
    personal: bool = False
    confidential: bool = False  # kept with the case, never shown in a notice
    known_unit: bool = False  # the unit must be in the unit directory (checked by the engine)
    within: tuple[str, str] | None = None  # a date that must lie between these two date fields


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """How much one command may carry under a definition (``limits:``; defaults in
    ``definitions.schema.LimitsModel``): a payload's size as canonical JSON, a comment's length.
    The per-field limits are already resolved into each ``FieldSpec``."""

    payload_bytes: int
    comment: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StateSpec:
    name: str
    track: str
    label: str
    label_en: str = ""
    final: bool = False
    active: bool = False
    overdue: bool = False
    mark: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackSpec:
    name: str
    label: str
    initial: str
    states: Mapping[str, StateSpec]
    active_while: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Period:
    """A length of time. Exactly one unit is used.

    ``field_days`` reads a number of calendar days from a record field; ``publication`` is
    ``"min"`` or ``"max"`` of the publication period for the record's severity; ``by_field``
    maps the value of a record field to a period (disciplinary impact periods).
    """

    working_days: int = 0
    days: int = 0
    months: int = 0
    years: int = 0
    field_days: str | None = None
    field_working_days: str | None = None
    publication: str | None = None
    by_field: str | None = None
    by_value: Mapping[str, Period] = field(default_factory=dict)

    def describe(self) -> str:
        if self.working_days:
            return f"{self.working_days}个工作日"
        if self.days:
            return f"{self.days}日"
        if self.months:
            return f"{self.months}个月"
        if self.years:
            return f"{self.years}年"
        if self.field_days:
            return f"按字段 {self.field_days} 的日数"
        if self.field_working_days:
            return f"按字段 {self.field_working_days} 的工作日数"
        if self.publication:
            return f"公示期{'最短' if self.publication == 'min' else '最长'}期限"
        if self.by_field:
            return f"按字段 {self.by_field} 确定"
        return "0日"


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicationPeriod:
    severity: str
    min: Period | None
    max: Period | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicationRegime:
    """The publication periods in force for findings made on or after ``effective_from``."""

    effective_from: date | None
    legal_basis: str
    periods: Mapping[str, PublicationPeriod]


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """A mail to queue: a template sent to the units named by recipient expressions."""

    template: str
    to: tuple[str, ...]
    deadline: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Rung:
    name: str
    label: str
    kind: str  # before | due | overdue | escalate
    working_days: int  # before due (kind before) or after due (overdue, escalate)
    notices: tuple[Notice, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Ladder:
    name: str
    rungs: tuple[Rung, ...]
    legal_basis: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadlineSpec:
    name: str
    label: str
    while_: Mapping[str, tuple[str, ...]]
    period: Period
    anchor: tuple[str, ...] = ()  # record date fields tried in order; empty = the time the clock starts
    paused_while: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    extendable_to: Period | None = None
    ladder: str | None = None
    on_expiry_event: str | None = None
    on_expiry_notices: tuple[Notice, ...] = ()
    on_start_notices: tuple[Notice, ...] = ()
    legal_basis: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Guard:
    """A named condition with its parameters; the engine's guard table gives it meaning."""

    kind: str
    params: Mapping[str, object]
    message: str = ""
    legal_basis: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TransitionSpec:
    track: str
    sources: tuple[str, ...]
    dest: str
    optional: bool = False
    when: Mapping[str, object] = field(default_factory=dict)  # payload field -> value that enables it


@dataclass(frozen=True, slots=True, kw_only=True)
class OpensSpec:
    """A case of another definition an event opens in its own transaction, linked both ways.

    ``fields`` maps a field of the new case to a field of this case (as the event leaves it) or
    of the event's payload; ``values`` gives fixed values; ``then`` names events of the new case
    fired at once by the same person; ``link_field`` is the field of this case that keeps the
    new case's id. The person registers the new case in ``role`` of its definition.
    """

    definition: str
    role: str
    fields: Mapping[str, str]
    values: Mapping[str, object]
    then: tuple[str, ...] = ()
    link_field: str | None = None
    legal_basis: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class EventSpec:
    name: str
    label: str
    roles: tuple[str, ...]
    transitions: tuple[TransitionSpec, ...]
    payload: Mapping[str, FieldSpec]
    guards: tuple[Guard, ...] = ()
    comment_required: bool = False
    creates: bool = False
    notices: tuple[Notice, ...] = ()
    purge_personal_data: bool = False
    extends_deadline: str | None = None
    opens: OpensSpec | None = None
    legal_basis: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportItem:
    """What a supervision round counts: active records, records in a track state, or records of a definition."""

    name: str
    label: str
    active: bool | None = None
    track: str | None = None
    state: str | None = None
    definition: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Grade:
    """A credit grade of graded supervision: which units it applies to and when they are checked."""

    name: str
    label: str
    min_open_records: int | None
    min_overdue_records: int | None
    months: tuple[int, ...]
    legal_basis: str

    def applies(self, open_records: int, overdue_records: int) -> bool:
        return (self.min_open_records is None or open_records >= self.min_open_records) and (
            self.min_overdue_records is None or overdue_records >= self.min_overdue_records
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    """A recurring supervision round (cron fields in the definition's time zone)."""

    name: str
    label: str
    cron: Mapping[str, str]
    answer_within: Period
    units: str  # which units get a round: a unit field of the records, e.g. "responsible_unit"
    round: str | None = None  # the definition rounds run on; None: the one of kind supervision_round
    report: tuple[ReportItem, ...] = ()
    grades: tuple[Grade, ...] = ()  # graded supervision (信用分级分类监管); empty: every unit each time
    legal_basis: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerCheck:
    """A check on the jurisdiction's rhythm: due on the days the cron fields name."""

    name: str
    label: str
    kind: str  # check | assessment
    cron: Mapping[str, str]
    legal_basis: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerSpec:
    """How a definition of kind ``ledger_task`` runs a seed ledger.

    ``source`` is the ledger it imports (a key of ``definitions.ledgers.LEDGER_SOURCES``);
    ``first_year``..``last_year`` the years checks are planned for unless the import says
    otherwise; ``opens_before`` how long before its due date a check opens; ``checks`` the
    jurisdiction's own rhythm (empty: each task's own 检查考核 column).
    """

    source: str | None
    first_year: int
    last_year: int
    opens_before: Period
    checks: Mapping[str, LedgerCheck]
    legal_basis: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Purpose:
    """What an embedding service may ask a credit check about (信用核查用途)."""

    name: str
    label: str
    label_en: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SanctionEffect:
    """A sanction that acts: a measure applied, or a record condition, bars purposes for a time.

    ``measure``: the bar needs that value in the record's ``sanction_measures``; ``record``: record
    field -> the values it must hold; ``while_``: track -> states the record must be in; ``period``
    from the first ``anchor`` date present (none: for as long as ``while_`` holds);
    ``through_year_end``: the bar lasts to the end of the calendar (appraisal) year.
    """

    name: str
    label: str
    bars: tuple[str, ...]
    measure: str | None = None
    record: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    while_: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    period: Period | None = None
    anchor: tuple[str, ...] = ()
    through_year_end: bool = False
    legal_basis: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexSpec:
    """Which record fields the engine keeps in indexed columns, so cases are found by them.

    Each attribute names a record field of the definition (or None): the subject's name, its
    unified social credit code, its ID number (kept only as a keyed digest), the unit that owes
    the case an answer, the unit it came from, the date it is about, and its severity.
    """

    subject_name: str | None = None
    subject_code: str | None = None
    subject_id_number: str | None = None
    responsible_unit: str | None = None
    originating_unit: str | None = None
    case_date: str | None = None
    severity: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Definition:
    """A workflow definition version: what kind of case it runs and every rule of it."""

    name: str
    version: int
    kind: str  # record | complaint | ledger_task | commitment | supervision_round | …
    id_prefix: str  # the letters a case id starts with: SX20261122-7K3QF2
    main_track: str
    index: IndexSpec
    title: str
    jurisdiction: str
    legal_basis: str
    effective_from: date | None
    timezone: str
    deadline_time: time
    reminder_time: time
    roles: Mapping[str, Role]
    enums: Mapping[str, EnumSet]
    fields: Mapping[str, FieldSpec]
    tracks: Mapping[str, TrackSpec]
    events: Mapping[str, EventSpec]
    deadlines: Mapping[str, DeadlineSpec]
    ladders: Mapping[str, Ladder]
    publication_regimes: tuple[PublicationRegime, ...]  # newest first
    schedules: Mapping[str, Schedule]
    templates_dir: str | None
    local_days_off: Mapping[date, str]
    limits: Limits
    sha256: str
    source: str  # file (or "database:name@version") the definition was read from
    source_dir: str | None = None  # the folder of the file it was read from (None: from the database)
    ledger: LedgerSpec | None = None  # kind ledger_task: the seed ledger and its checks
    purposes: Mapping[str, Purpose] = field(default_factory=dict)  # what a credit check answers
    sanction_effects: Mapping[str, SanctionEffect] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def main(self) -> TrackSpec:
        return self.tracks[self.main_track]

    @property
    def templates_path(self) -> Path | None:
        """The folder of this definition's own mail templates, or None (see ``templates_folder``)."""
        return templates_folder(self.templates_dir, self.source_dir)

    def state(self, track: str, name: str) -> StateSpec:
        return self.tracks[track].states[name]

    def creation_event(self) -> EventSpec:
        return next(event for event in self.events.values() if event.creates)

    def publication_regime(self, finding_date: date) -> PublicationRegime | None:
        """The regime in force on the finding date (认定之日), or None if the definition has none."""
        for regime in self.publication_regimes:
            if regime.effective_from is None or regime.effective_from <= finding_date:
                return regime
        return None

    def label_of(self, track: str, state: str | None) -> str:
        if state is None:
            return "—"
        spec = self.tracks.get(track)
        if spec is None or state not in spec.states:
            return state
        return spec.states[state].label


def templates_folder(templates_dir: str | None, source_dir: str | None) -> Path | None:
    """Where a definition's own mail templates are: ``templates_dir`` as written, relative to the
    folder of the definition's file. A definition read from the database has no folder, so a
    relative ``templates_dir`` names none there."""
    if templates_dir is None:
        return None
    folder = Path(templates_dir)
    if folder.is_absolute():
        return folder
    return Path(source_dir) / folder if source_dir is not None else None
