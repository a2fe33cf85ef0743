"""Which mails a decision queues: the event's notices, those of deadlines it starts or lets
expire, a reminder rung's, and an update to every unit told of a deadline that changed. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from definitions.model import Definition, EventSpec, Notice
from workflow.core.values import RECOMPUTED_EVENT, REMINDER_EVENT, Command, DeadlineEffect, NoticeEffect


def _recipients(
    notice: Notice, data: Mapping[str, Any], actors: Mapping[str, Any], rung: str | None = None
) -> NoticeEffect:
    units: list[str] = []
    missing: list[str] = []
    for expr in notice.to:
        if expr.startswith("unit_of:"):
            firings = actors.get(expr.removeprefix("unit_of:"), [])
            unit = firings[-1][1] if firings else None
        else:
            value = data.get(expr)
            unit = value if isinstance(value, str) else None
        if unit is None:
            missing.append(expr)
        elif unit not in units:
            units.append(unit)
    return NoticeEffect(
        template=notice.template, recipients=tuple(units), deadline=notice.deadline, missing=tuple(missing)
    )


def notices_of(
    definition: Definition,
    spec: EventSpec | None,
    command: Command,
    effects: Sequence[DeadlineEffect],
    data: Mapping[str, Any],
    actors: Mapping[str, Any],
) -> list[NoticeEffect]:
    wanted: list[Notice] = list(spec.notices) if spec is not None else []
    for effect in effects:
        if effect.action == "start":
            wanted.extend(definition.deadlines[effect.name].on_start_notices)
    found = []
    if (
        command.event == REMINDER_EVENT
        and command.deadline is not None
        and command.deadline in definition.deadlines
    ):
        dspec = definition.deadlines[command.deadline]
        ladder = definition.ladders[dspec.ladder or ""]
        rung = next(r for r in ladder.rungs if r.name == command.payload.get("rung"))
        for notice in rung.notices:
            found.append(_recipients(notice, data, actors, rung=rung.name))
            if found[-1].deadline is None:
                found[-1] = NoticeEffect(
                    template=notice.template,
                    recipients=found[-1].recipients,
                    deadline=command.deadline,
                    missing=found[-1].missing,
                    rung=rung.name,
                )
        return found
    if (
        command.deadline is not None
        and command.deadline in definition.deadlines
        and command.event != RECOMPUTED_EVENT
    ):
        wanted.extend(definition.deadlines[command.deadline].on_expiry_notices)
    found = [_recipients(notice, data, actors) for notice in wanted]
    return found + _deadline_changes(definition, effects, data, actors)


CHANGES = frozenset({"pause", "resume", "extend", "recompute"})
ENDINGS = frozenset({"met", "met_late", "cancelled"})


def _deadline_changes(
    definition: Definition,
    effects: Sequence[DeadlineEffect],
    data: Mapping[str, Any],
    actors: Mapping[str, Any],
) -> list[NoticeEffect]:
    """A deadline a unit was told about gets an update (or a cancellation) whenever it changes."""
    found = []
    for effect in effects:
        change = (
            effect.action
            if effect.action in CHANGES
            else effect.outcome
            if effect.action == "close"
            else None
        )
        if change is None or (effect.action == "close" and change not in ENDINGS):
            continue
        if effect.action == "recompute" and effect.remaining is not None:
            continue  # a paused clock: the unit hears of its new due time when it runs again
        told = definition.deadlines[effect.name].on_start_notices
        if not told:
            continue
        recipients = tuple(dict.fromkeys(r for n in told for r in n.to))
        notice = _recipients(
            Notice(template="deadline_changed", to=recipients, deadline=effect.name), data, actors
        )
        found.append(
            NoticeEffect(
                template=notice.template,
                recipients=notice.recipients,
                deadline=effect.name,
                missing=notice.missing,
                change=change,
            )
        )
    return found
