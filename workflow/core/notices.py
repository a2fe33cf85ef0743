"""The context of a queued mail: what a notice template is given, built when its cause commits.

The context is plain JSON (dates and times as ISO text) stored in the outbox row with the
delivery facts the dispatcher needs (the calendar entry's UID, sequence and method), so the
mail can be rendered and sent later — after a crash, by another process — exactly as it was
caused. Labels come from the definition; personal ID numbers never enter a context (they are
masked in the record already and are not copied here, and one typed into free text is masked).
Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from definitions.model import Definition, EventSpec
from notifications.privacy import mask_id_numbers_in, may_hold_id_numbers
from workflow.core.periods import local_date, period_end
from workflow.core.values import INTERNAL_LABELS

# Which decision an event's notice reports, for templates that name an outcome.
OUTCOMES: Mapping[str, tuple[str, str]] = {
    "maintain": ("maintained", "维持"),
    "correct": ("corrected", "更正"),
    "revoke": ("revoked", "撤销"),
    "grant_repair": ("granted", "准予修复"),
    "refuse_repair": ("refused", "不予修复"),
    "expire_publication": ("expired", "公示期满"),
}
ENDED_BY: Mapping[str, tuple[str, str]] = {
    "repaired": ("repaired", "信用修复"),
    "revoked": ("revoked", "记录撤销"),
}
CHANGES: Mapping[str, tuple[str, str]] = {
    "pause": ("paused", "暂停计算"),
    "resume": ("resumed", "恢复计算"),
    "extend": ("extended", "延长"),
    "recompute": ("recomputed", "重新计算"),
    "met": ("met", "已办结"),
    "met_late": ("met", "已办结（逾期）"),
    "cancelled": ("cancelled", "已取消"),
}
RUNG_KINDS = {"before": "before", "due": "due", "overdue": "overdue", "escalate": "overdue"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Cause:
    """Everything about the event that caused a mail, as the context builder needs it."""

    record_id: str
    data: Mapping[str, Any]
    main_state: str
    event: EventSpec | None
    event_name: str
    comment: str
    payload: Mapping[str, Any]
    data_changes: Sequence[tuple[str, Any, Any]]
    actor_unit: str
    occurred_at: dt.datetime
    by_system: bool = False  # fired by the sweep or the scheduler, not by a person


def _label(definition: Definition, field: str, value: Any) -> str:
    spec = definition.fields.get(field)
    if spec is None or value is None:
        return "" if value is None else str(value)
    if spec.enum:
        return definition.enums[spec.enum].label_of(str(value))
    return str(value)


def _name(names: Mapping[str, str], code: Any) -> str:
    return names.get(str(code), str(code)) if code else ""


SUMMARY_TYPES = frozenset({"string", "text", "int", "bool", "date", "enum", "uscc", "unit"})
SUMMARY_LENGTH = 200  # a longer text is cut in a mail's summary (the case itself keeps it whole)


def case_summary(
    definition: Definition, data: Mapping[str, Any], names: Mapping[str, str]
) -> list[dict[str, str]]:
    """The fields of a case that is not a dishonesty record, labelled, in the definition's order:
    what a notice about it shows. Personal data (ID numbers), confidential fields (a complainant's
    identity) and document lists are left out."""
    items = []
    for name, spec in definition.fields.items():
        value = data.get(name)
        if value in (None, "", []) or spec.type not in SUMMARY_TYPES or spec.confidential:
            continue
        if spec.type == "unit":
            shown = _name(names, value)
        elif spec.type == "bool":
            shown = "是" if value else "否"
        else:
            shown = _label(definition, name, value)
        if len(shown) > SUMMARY_LENGTH:
            shown = shown[:SUMMARY_LENGTH] + "……"
        items.append({"label": spec.label, "value": shown})
    return items


def record_context(
    definition: Definition, record_id: str, data: Mapping[str, Any], names: Mapping[str, str]
) -> dict[str, Any]:
    """``record`` of a notice: the dishonesty record's particulars, or for a case of another kind
    its title and a summary of its fields."""
    if definition.kind != "record":
        unit = data.get(definition.index.responsible_unit) if definition.index.responsible_unit else None
        return {
            "id": record_id,
            "kind": definition.kind,
            "title": definition.title,
            "responsible_unit_name": _name(names, unit),
            "summary": case_summary(definition, data, names),
        }
    return {
        "id": record_id,
        "subject_name": data.get("subject_name", ""),
        "subject_code": data.get("subject_code"),
        "subject_kind_label": _label(definition, "subject_kind", data.get("subject_kind")),
        "source_type_label": _label(definition, "source_type", data.get("source_type")),
        "document_number": data.get("document_number", ""),
        "finding_date": data.get("finding_date"),
        "severity_label": _label(definition, "severity", data.get("severity")),
        "domain_label": _label(definition, "domain", data.get("domain")),
        "facts": data.get("facts", ""),
        "responsible_unit_name": _name(names, data.get("responsible_unit")),
        "finding_unit_name": _name(names, data.get("finding_unit")),
    }


def deadline_context(definition: Definition, name: str, due: Mapping[str, Any]) -> dict[str, Any]:
    """``due`` is a deadline effect or row as JSON: due_at, provisional, basis."""
    spec = definition.deadlines[name]
    basis = due.get("basis", {})
    return {
        "name": name,
        "label": spec.label,
        "due_at": due.get("due_at"),
        "rule": basis.get("rule", ""),
        # the rule has a line of its own in a notice; the explanation says how it was applied
        "explanation": [
            line for line in basis.get("explanation", []) if not str(line).startswith("计算规则")
        ],
        "provisional": bool(due.get("provisional", False)),
        "legal_basis": spec.legal_basis,
    }


def _repair(definition: Definition, data: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    earliest = None
    finding, severity = data.get("finding_date"), data.get("severity")
    if isinstance(finding, str) and isinstance(severity, str):
        finding_date = dt.date.fromisoformat(finding)
        regime = definition.publication_regime(finding_date)
        bounds = regime.periods.get(severity) if regime else None
        if bounds is not None and bounds.min is not None:
            earliest = (period_end(finding_date, bounds.min) + dt.timedelta(days=1)).isoformat()
    means = definition.enums.get("repair_means")
    return {
        "earliest_date": earliest or finding,
        "means": [v.label for v in means.values] if means else [],
        "decided_by": _name(names, data.get("finding_unit")),
    }


def build(
    definition: Definition,
    *,
    template: str,
    cause: Cause,
    recipient: str,
    names: Mapping[str, str],
    deadline: Mapping[str, Any] | None,
    rung: str | None = None,
    change: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The template context for one notice to one recipient unit."""
    event = cause.event
    legal = (deadline or {}).get("legal_basis") or (event.legal_basis if event else definition.legal_basis)
    data = cause.data
    context: dict[str, Any] = {
        "recipient": {"code": recipient, "name": _name(names, recipient)},
        "definition": {"title": definition.title, "jurisdiction": definition.jurisdiction},
        "legal_basis": legal,
        "record": record_context(definition, cause.record_id, data, names),
        "event": {
            "label": event.label if event else INTERNAL_LABELS.get(cause.event_name, "系统处理"),
            "comment": cause.comment,
            "actor_unit_name": "系统自动处理" if cause.by_system else _name(names, cause.actor_unit),
            "occurred_at": cause.occurred_at.astimezone(dt.UTC).isoformat(),
        },
    }
    if deadline is not None:
        context["deadline"] = dict(deadline)
    outcome, outcome_label = OUTCOMES.get(cause.event_name, ("", ""))
    payload = cause.payload
    if template == "repair_notice":
        context["repair"] = _repair(definition, data, names)
    elif template == "objection_received":
        context["objection"] = {
            "filed_by": payload.get("filed_by") or _name(names, cause.actor_unit),
            "reasons": payload.get("reasons", ""),
        }
    elif template == "objection_decided":
        context["objection"] = {"outcome": outcome, "outcome_label": outcome_label, "reasons": cause.comment}
    elif template == "correction":
        context["correction"] = {
            "changes": [
                {
                    "field": definition.fields[f].label if f in definition.fields else f,
                    "old": _text(old),
                    "new": _text(new),
                }
                for f, old, new in cause.data_changes
            ],
            "reasons": cause.comment,
        }
    elif template == "revocation":
        context["revocation"] = {"reasons": cause.comment}
    elif template == "reputation_restoration":
        measures = payload.get("measures", "")
        context["restoration"] = {
            "measures": [line for line in str(measures).splitlines() if line.strip()] or [str(measures)],
            "reasons": cause.comment,
        }
    elif template == "repair_decided":
        context["repair"] = {"outcome": outcome, "outcome_label": outcome_label, "reasons": cause.comment}
    elif template == "publication_ended":
        reason, reason_label = OUTCOMES.get(cause.event_name) or ENDED_BY.get(
            cause.main_state, ("expired", "公示期满")
        )
        context["publication"] = {
            "reason": reason,
            "reason_label": reason_label,
            "ended_on": local_date(definition, cause.occurred_at).isoformat(),
        }
    elif template in {"reminder", "overdue", "escalation"} and rung is not None and deadline is not None:
        spec = definition.deadlines[str(deadline.get("name"))]
        ladder = definition.ladders[spec.ladder or ""]
        found = next(r for r in ladder.rungs if r.name == rung)
        context["rung"] = {
            "kind": RUNG_KINDS[found.kind],
            "working_days": found.working_days,
            "label": found.label,
        }
    if template == "escalation":
        unit = data.get(definition.index.responsible_unit or "responsible_unit")
        # the directory knows a unit by its code, not its unified social credit code: none is shown
        context["subordinate"] = {"code": None, "name": _name(names, unit)}
    if template == "deadline_changed" and change is not None:
        kind, kind_label = CHANGES[change]
        context["change"] = {
            "kind": kind,
            "kind_label": kind_label,
            "reason": cause.comment or (event.label if event else ""),
        }
    if extra:
        context.update(extra)
    return masked(context, data)


def masked(context: dict[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """The context with every ID number typed into its free text (a comment, the facts, reasons)
    masked: the mail goes out with ``110105********002X``, not dead-lettered for carrying it. The
    case's own credit code is no ID number even where its digits would pass for one."""
    if not may_hold_id_numbers(context):
        return context
    code = data.get("subject_code")
    allow = {code.strip().upper()} if isinstance(code, str) else set()
    found: dict[str, Any] = mask_id_numbers_in(context, allow=allow)
    return found


def _text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


def round_context(data: Mapping[str, Any], records: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    """The ``round`` of a supervision_round_opened notice, from the round record's fields: the
    five counts every round has, and the open ledger checks by kind where the round has them."""
    items = {
        key: int(data.get(key, 0))
        for key in (
            "open_records",
            "overdue_explanations",
            "overdue_rectifications",
            "pending_objections",
            "ledger_tasks",
        )
    }
    items.update(
        {
            key: int(data[key])
            for key in ("ledger_checks_open", "ledger_assessments_open", "ledger_checks_overdue")
            if key in data
        }
    )
    return {
        "title": data.get("title", ""),
        "period_label": data.get("period", ""),
        "items": items,
        "records": list(records),
    }
