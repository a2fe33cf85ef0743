"""The context of a queued mail: what a notice template is given, built when its cause commits.

The context is plain JSON (dates and times as ISO text) stored in the outbox row, so the mail
can be rendered and sent later — after a crash, by another process — exactly as it was
caused. Labels come from the definition; personal ID numbers never enter a context (they are
masked in the record already and are not copied here). Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from definitions.model import Definition, EventSpec
from workflow.deadlines import local_date, period_end

# Which decision an event's notice reports, for templates that name an outcome.
OUTCOMES: Mapping[str, tuple[str, str]] = {
    "maintain": ("maintained", "维持"),
    "correct": ("corrected", "更正"),
    "revoke": ("revoked", "撤销"),
    "grant_repair": ("granted", "准予修复"),
    "refuse_repair": ("refused", "不予修复"),
    "expire_publication": ("expired", "公示期满"),
    "confirm_withdrawal": ("withdrawn", "已撤下公示"),
    "archive": ("archived", "保存期满归档"),
}


def _label(definition: Definition, field: str, value: Any) -> str:
    spec = definition.fields.get(field)
    if spec is None or value is None:
        return "" if value is None else str(value)
    if spec.enum:
        return definition.enums[spec.enum].label_of(str(value))
    return str(value)


def record_context(definition: Definition, record_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
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
        "responsible_unit_name": data.get("responsible_unit", ""),
        "finding_unit_name": data.get("finding_unit", ""),
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
        "explanation": list(basis.get("explanation", [])),
        "provisional": bool(due.get("provisional", False)),
        "legal_basis": spec.legal_basis,
    }


def _repair(definition: Definition, data: Mapping[str, Any]) -> dict[str, Any]:
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
        "earliest_date": earliest,
        "means": [v.label for v in means.values] if means else [],
        "decided_by": data.get("finding_unit", ""),
    }


def build(
    definition: Definition,
    *,
    template: str,
    record_id: str,
    data: Mapping[str, Any],
    event: EventSpec | None,
    event_name: str,
    comment: str,
    payload: Mapping[str, Any],
    data_changes: Sequence[tuple[str, Any, Any]],
    actor_unit: str,
    occurred_at: dt.datetime,
    recipient: str,
    deadline: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The template context for one notice to one recipient unit."""
    legal = (deadline or {}).get("legal_basis") or (event.legal_basis if event else definition.legal_basis)
    context: dict[str, Any] = {
        "recipient": {"code": recipient, "name": recipient},
        "definition": {"title": definition.title, "jurisdiction": definition.jurisdiction},
        "legal_basis": legal,
        "record": record_context(definition, record_id, data),
        "event": {
            "name": event_name,
            "label": event.label if event else event_name,
            "comment": comment,
            "actor_unit_name": actor_unit,
            "occurred_at": occurred_at.astimezone(dt.UTC).isoformat(),
        },
    }
    if deadline is not None:
        context["deadline"] = dict(deadline)
    outcome, outcome_label = OUTCOMES.get(event_name, ("", ""))
    if template == "repair_notice":
        context["repair"] = _repair(definition, data)
    elif template == "objection_received":
        context["objection"] = {
            "filed_by": payload.get("filed_by") or actor_unit,
            "reasons": payload.get("reasons", ""),
        }
    elif template == "objection_decided":
        context["objection"] = {"outcome": outcome, "outcome_label": outcome_label, "reasons": comment}
    elif template == "correction":
        context["correction"] = {
            "changes": [
                {
                    "field": definition.fields[name].label if name in definition.fields else name,
                    "old": old,
                    "new": new,
                }
                for name, old, new in data_changes
            ],
            "reasons": comment,
        }
    elif template == "revocation":
        context["revocation"] = {"reasons": comment}
    elif template == "reputation_restoration":
        context["restoration"] = {"measures": payload.get("measures", ""), "reasons": comment}
    elif template == "repair_decided":
        context["repair"] = {"outcome": outcome, "outcome_label": outcome_label, "reasons": comment}
    elif template == "publication_ended":
        context["publication"] = {
            "reason": outcome or "ended",
            "reason_label": outcome_label or "停止公示",
            "ended_on": local_date(definition, occurred_at).isoformat(),
        }
    return context
