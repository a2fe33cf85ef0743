"""The contract between the engine and the mail templates: which notices exist and what each one needs.

``NOTICES`` names every notice the engine may queue, with its Chinese and English label, the top-level
context keys it requires and whether it carries a deadline (and so may have an ``.ics`` attachment). The
``TypedDict`` classes spell out the shape of each context section, so the engine can build contexts that
mypy checks, and :func:`check_context` validates a context against them before any template runs. This
module describes data only: it must not render, send, or import the engine, storage or definitions.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from datetime import date
from types import MappingProxyType
from typing import Any, Literal, NotRequired

from pydantic import AwareDatetime, TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic validates only this TypedDict on Python < 3.12

from notifications.errors import TemplateRenderError


class Party(TypedDict):
    """A unit mail is addressed to or about: ``recipient`` and ``subordinate``."""

    name: str
    code: str | None  # unified social credit code (统一社会信用代码); never a resident ID number


class DefinitionInfo(TypedDict):
    """The workflow definition that produced the notice: ``definition``."""

    title: str
    jurisdiction: str


class RecordInfo(TypedDict):
    """The dishonesty record the notice is about: ``record``."""

    id: str
    subject_name: str
    subject_code: str | None  # USCC of an organisation; None for a natural person
    subject_kind_label: str
    source_type_label: str
    document_number: str
    finding_date: date
    severity_label: str
    domain_label: str
    facts: str
    responsible_unit_name: str
    finding_unit_name: str


class SummaryItem(TypedDict):
    """One field of a case that is not a dishonesty record, as a label and its value."""

    label: str
    value: str


class CaseInfo(TypedDict):
    """A case of another kind (a complaint, a supervision round, a ledger task …): ``record``."""

    id: str
    kind: str
    title: str  # the definition's title: what kind of matter this is
    responsible_unit_name: str
    summary: list[SummaryItem]


class SenderInfo(TypedDict):
    """Who sends the notices of this deployment: ``sender`` (from configuration)."""

    office: str


class EventInfo(TypedDict):
    """The event that caused the notice, where there was one: ``event``."""

    label: str
    comment: str | None
    actor_unit_name: str
    occurred_at: AwareDatetime


class DeadlineInfo(TypedDict):
    """A deadline with the reasons for its due time: ``deadline``."""

    label: str
    due_at: AwareDatetime
    rule: str
    explanation: Sequence[str]  # one line per holiday or make-up day that moved the due date
    provisional: bool  # True while the holiday data of a year the period crosses are not loaded
    legal_basis: str


class Rung(TypedDict):
    """One rung of the reminder ladder: ``rung``."""

    kind: Literal["before", "due", "overdue"]
    working_days: NotRequired[int]  # required when kind is "before"
    label: str


class RepairOffer(TypedDict):
    """How credit repair can be applied for, sent with the record notice: ``repair`` of ``repair_notice``."""

    earliest_date: date
    means: Sequence[str]
    decided_by: str


class RepairDecision(TypedDict):
    """The decision on a repair application: ``repair`` of ``repair_decided``."""

    outcome: Literal["granted", "refused"]
    outcome_label: str
    reasons: str


class ObjectionFiled(TypedDict):
    """An objection that was received: ``objection`` of ``objection_received``."""

    filed_by: str
    reasons: str


class ObjectionDecision(TypedDict):
    """The decision on an objection: ``objection`` of ``objection_decided``."""

    outcome: Literal["maintained", "corrected", "revoked"]
    outcome_label: str
    reasons: str


class FieldChange(TypedDict):
    """One corrected field of a record."""

    field: str
    old: str
    new: str


class Correction(TypedDict):
    """What a correction changed: ``correction``."""

    changes: Sequence[FieldChange]
    reasons: str


class Revocation(TypedDict):
    """Why a record was revoked: ``revocation``."""

    reasons: str


class Restoration(TypedDict):
    """Reputation restoration after wrongful sanctions: ``restoration``."""

    measures: Sequence[str]
    reasons: str


class PublicationEnd(TypedDict):
    """Why and when publication stopped: ``publication``."""

    reason: Literal["expired", "repaired", "revoked"]
    reason_label: str
    ended_on: date


class RoundItems(TypedDict):
    """The counts a supervision round asks a unit about."""

    open_records: int
    overdue_explanations: int
    overdue_rectifications: int
    pending_objections: int
    ledger_tasks: int


class RoundRecord(TypedDict):
    """One open record listed in a supervision round."""

    id: str
    subject_name: str
    state_label: str


class SupervisionRound(TypedDict):
    """A special supervision round (专项督查): ``round``."""

    title: str
    period_label: str
    items: RoundItems
    records: Sequence[RoundRecord]


class DeadlineChange(TypedDict):
    """What happened to a deadline: ``change``."""

    kind: Literal["paused", "resumed", "extended", "recomputed", "met", "cancelled"]
    kind_label: str
    reason: str


COMMON_KEYS: Mapping[str, object] = MappingProxyType(
    {"recipient": Party, "definition": DefinitionInfo, "legal_basis": str}
)
"""Keys every notice requires; all but ``supervision_round_opened`` also require ``record``."""

OPTIONAL_KEYS: Mapping[str, object] = MappingProxyType({"event": EventInfo, "sender": SenderInfo})
"""Keys a notice may have: ``event`` where an event caused the notice, ``sender`` where the
deployment names its office."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NoticeSpec:
    """What one notice is and what its context must hold.

    Attributes:
        name: the template name, a contract with the engine (``record_notice``).
        label_zh: the Chinese title of the notice (失信记录告知书).
        label_en: the English title.
        sections: every required top-level context key and the type its value must have.
    """

    name: str
    label_zh: str
    label_en: str
    sections: Mapping[str, object]

    @property
    def required_keys(self) -> frozenset[str]:
        """The top-level context keys this notice cannot be rendered without."""
        return frozenset(self.sections)

    @property
    def carries_deadline(self) -> bool:
        """Whether the notice shows a deadline, so an ``.ics`` attachment may go with it."""
        return "deadline" in self.sections


def _spec(name: str, label_zh: str, label_en: str, *, record: bool = True, **extra: object) -> NoticeSpec:
    sections = dict(COMMON_KEYS) | ({"record": RecordInfo | CaseInfo} if record else {}) | extra
    return NoticeSpec(name=name, label_zh=label_zh, label_en=label_en, sections=MappingProxyType(sections))


NOTICES: Mapping[str, NoticeSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            _spec("record_notice", "失信记录告知书", "Notice of a dishonesty record", deadline=DeadlineInfo),
            _spec("repair_notice", "信用修复告知书", "Notice of credit repair", repair=RepairOffer),
            _spec(
                "explanation_request",
                "书面说明原因通知书",
                "Request for a written explanation",
                deadline=DeadlineInfo,
            ),
            _spec(
                "rectification_deadline", "限期整改通知书", "Rectification deadline", deadline=DeadlineInfo
            ),
            _spec("reminder", "期限提醒", "Deadline reminder", deadline=DeadlineInfo, rung=Rung),
            _spec("check_opened", "检查考核通知", "A check is open: report progress", deadline=DeadlineInfo),
            _spec("overdue", "逾期通知", "Deadline missed", deadline=DeadlineInfo),
            _spec(
                "escalation",
                "逾期情况通报",
                "Missed deadline of a subordinate unit",
                deadline=DeadlineInfo,
                subordinate=Party,
            ),
            _spec("superior_notice", "失信记录情况通报", "Record about a subordinate unit"),
            _spec(
                "objection_received",
                "异议受理通知",
                "Objection received",
                deadline=DeadlineInfo,
                objection=ObjectionFiled,
            ),
            _spec(
                "objection_decided",
                "异议处理决定告知书",
                "Decision on an objection",
                objection=ObjectionDecision,
            ),
            _spec("correction", "失信记录更正通知", "Record corrected", correction=Correction),
            _spec(
                "revocation",
                "失信记录撤销通知",
                "Record revoked",
                deadline=DeadlineInfo,
                revocation=Revocation,
            ),
            _spec(
                "reputation_restoration", "恢复信誉通知", "Reputation restoration", restoration=Restoration
            ),
            _spec("repair_decided", "信用修复决定告知书", "Decision on credit repair", repair=RepairDecision),
            _spec("publication_ended", "公示期结束通知", "Publication ended", publication=PublicationEnd),
            _spec(
                "supervision_round_opened",
                "政务诚信专项督查通知",
                "Supervision round opened",
                record=False,
                deadline=DeadlineInfo,
                round=SupervisionRound,
            ),
            _spec("case_deadline", "事项办理通知", "A matter to handle by a deadline", deadline=DeadlineInfo),
            _spec(
                "deadline_changed",
                "期限变更通知",
                "Deadline changed",
                deadline=DeadlineInfo,
                change=DeadlineChange,
            ),
        )
    }
)
"""Every notice the engine may queue, by template name."""


def plain(value: Any) -> Any:
    """Turn dataclasses and read-only mappings into dicts and tuples into lists, recursively.

    Templates and the contract check both read plain data; the engine may hand over frozen dataclasses.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


@functools.cache
def _adapter(name: str) -> TypeAdapter[Any]:
    spec = NOTICES[name]
    fields: dict[str, Any] = dict(spec.sections)
    fields |= {key: NotRequired[kind] for key, kind in OPTIONAL_KEYS.items()}
    return TypeAdapter(TypedDict(f"{name}_context", fields))  # type: ignore[operator]


def _dotted(location: Sequence[int | str]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else part
    return path


def check_context(name: str, context: Mapping[str, Any]) -> None:
    """Check a context against the contract of the notice ``name``.

    Values are checked strictly: a date must be a ``date``, a due time an aware ``datetime``, a count an
    ``int``. Keys the contract does not name are allowed (an override template may use them).

    Args:
        name: a key of :data:`NOTICES`.
        context: the context in plain form (see :func:`plain`).

    Raises:
        KeyError: ``name`` is not in :data:`NOTICES`.
        TemplateRenderError: the context lacks a required value or has one of the wrong type; ``variable``
            is the dotted path of the first problem (``deadline.due_at``).
    """
    try:
        _adapter(name).validate_python(context, strict=True)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_input=False)
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise TemplateRenderError(
            name, f"{first['msg']}{more}", variable=_dotted(first["loc"]) or None
        ) from exc
