"""The values a decision works on and hands back: who acts, the command, the record as a
decision sees it, and the decision with its deadline and notice effects.

Frozen values, no behaviour beyond turning effects into the JSON a history row stores (and back).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

EXPIRED_EVENT = "@deadline_expired"
REMINDER_EVENT = "@reminder"
RECOMPUTED_EVENT = "@deadline_recomputed"
IMPORT_EVENT = "@import"  # the first event of a case brought in from an old system (core.importing)
INTERNAL_EVENTS = frozenset({EXPIRED_EVENT, REMINDER_EVENT, RECOMPUTED_EVENT, IMPORT_EVENT})


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """Who fires an event: a person (or ``system``), the role they act in, and their unit."""

    id: str
    role: str
    unit: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    event: str
    actor: Actor
    payload: Mapping[str, Any] = field(default_factory=dict)
    comment: str = ""
    deadline: str | None = None  # set when the expiry of this deadline fires the command
    links: tuple[Link, ...] = ()  # the cases this command links the case to (``Link``)


INTERNAL_LABELS: Mapping[str, str] = {  # the engine's own events, as a notice names them
    "@reminder": "期限提醒",
    "@deadline_expired": "期限届满",
    "@deadline_recomputed": "期限重新计算",
}
LINKS = "_links"  # the key of a case's data that lists its links (no definition field starts with _)


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """A link between two cases made in one transaction: ``relation`` is ``opened`` on the case
    whose event opened the other, ``opened_by`` on the case it opened."""

    relation: str  # opened | opened_by
    case: str
    definition: str  # name@version of the other case
    event: str  # the event of the opening case

    def to_json(self) -> dict[str, str]:
        return {
            "relation": self.relation,
            "case": self.case,
            "definition": self.definition,
            "event": self.event,
        }

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> Link:
        return cls(
            relation=str(stored["relation"]),
            case=str(stored["case"]),
            definition=str(stored["definition"]),
            event=str(stored["event"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenDeadline:
    name: str
    status: str  # active | paused | expired
    started_at: dt.datetime
    due_at: dt.datetime
    unit: str
    amount: int
    extended: int = 0
    paused_at: dt.datetime | None = None
    remaining: int | None = None
    id: int | None = None
    provisional: bool = False
    basis: Mapping[str, Any] = field(default_factory=dict)
    reminded: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """The record as a decision sees it."""

    record_id: str
    tracks: Mapping[str, str]
    data: Mapping[str, Any]
    actors: Mapping[str, Any]
    deadlines: Mapping[str, OpenDeadline]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadlineEffect:
    action: str  # start | pause | resume | extend | recompute | expire | close | remind
    name: str
    due_at: dt.datetime | None = None
    unit: str | None = None
    amount: int | None = None
    remaining: int | None = None
    extended: int | None = None
    provisional: bool = False
    outcome: str | None = None  # close: met | met_late | expired | cancelled
    basis: Mapping[str, Any] = field(default_factory=dict)
    rung: str | None = None  # remind: the rung that fired
    superseded: tuple[str, ...] = ()  # remind: earlier rungs that will never fire

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action, "name": self.name}
        if self.rung is not None:
            out["rung"] = self.rung
        if self.superseded:
            out["superseded"] = list(self.superseded)
        if self.due_at is not None:
            out["due_at"] = self.due_at.astimezone(dt.UTC).isoformat()
        for key in ("unit", "amount", "remaining", "extended", "outcome"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.provisional:
            out["provisional"] = True
        if self.basis:
            out["basis"] = dict(self.basis)
        return out

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> DeadlineEffect:
        """The effect a history row stored with ``to_json``."""
        due = stored.get("due_at")
        return cls(
            action=stored["action"],
            name=stored["name"],
            due_at=dt.datetime.fromisoformat(due) if isinstance(due, str) else None,
            unit=stored.get("unit"),
            amount=stored.get("amount"),
            remaining=stored.get("remaining"),
            extended=stored.get("extended"),
            provisional=bool(stored.get("provisional", False)),
            outcome=stored.get("outcome"),
            basis=stored.get("basis") or {},
            rung=stored.get("rung"),
            superseded=tuple(stored.get("superseded", ())),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeEffect:
    template: str
    recipients: tuple[str, ...]
    deadline: str | None = None
    missing: tuple[str, ...] = ()  # recipient expressions that named no unit on this record
    rung: str | None = None
    change: str | None = (
        None  # deadline_changed: pause | resume | extend | recompute | met | met_late | cancelled
    )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"template": self.template, "to": list(self.recipients)}
        if self.deadline:
            out["deadline"] = self.deadline
        if self.rung:
            out["rung"] = self.rung
        if self.change:
            out["change"] = self.change
        if self.missing:
            out["missing"] = list(self.missing)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    event: str
    changes: tuple[tuple[str, str | None, str | None], ...]
    tracks: Mapping[str, str]
    data: Mapping[str, Any]
    data_changes: tuple[tuple[str, Any, Any], ...]
    payload: Mapping[str, Any]
    personal: Mapping[str, str]
    actors: Mapping[str, Any]
    deadlines: tuple[DeadlineEffect, ...]
    notices: tuple[NoticeEffect, ...]
    purge_personal_data: bool = False
    links: tuple[Link, ...] = ()

    def effects_json(self) -> dict[str, Any]:
        """What the history row stores beside the state changes (hashed with it)."""
        out: dict[str, Any] = {}
        if self.data_changes:
            out["data"] = [[name, old, new] for name, old, new in self.data_changes]
        if self.deadlines:
            out["deadlines"] = [d.to_json() for d in self.deadlines]
        if self.notices:
            out["notices"] = [n.to_json() for n in self.notices]
        if self.purge_personal_data:
            out["purge_personal_data"] = True
        if self.links:
            out["links"] = [link.to_json() for link in self.links]
        return out
