"""What a deadline effect does to a deadline: one interpretation, used by the engine when it
turns a decision into rows and by the auditor when it folds a history into a projection.

Pure: the time the effect takes place is handed in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from workflow.core.values import DeadlineEffect, OpenDeadline


def apply(current: OpenDeadline | None, effect: DeadlineEffect, at: dt.datetime) -> OpenDeadline | None:
    """The deadline after ``effect`` took place at ``at``; None once it is closed (or never ran).

    A start begins it; pause keeps the working days left; resume and recompute give it a new due
    time (a deadline that had expired stays expired while its new due time has passed too; a
    paused one recomputed stays paused, with what is left counted again); an
    extension moves the due time or, while paused, adds to the days left; expire marks it
    overdue; a reminder records its rung (and those it superseded). A new due time starts a
    fresh reminder ladder.
    """
    action = effect.action
    if action == "start":
        assert effect.due_at is not None, "a started deadline has a due time"
        return OpenDeadline(
            name=effect.name,
            status="active",
            started_at=at,
            due_at=effect.due_at,
            unit=effect.unit or "days",
            amount=effect.amount or 0,
            provisional=effect.provisional,
            basis=dict(effect.basis),
        )
    if current is None or action == "close":
        return None
    if action == "pause":
        return dataclasses.replace(current, status="paused", paused_at=at, remaining=effect.remaining)
    if action == "recompute" and current.status == "paused" and effect.due_at is not None:
        return _moved(  # still paused: what is left and the basis it is counted on are new
            current,
            effect.due_at,
            remaining=effect.remaining if effect.remaining is not None else current.remaining,
            provisional=effect.provisional,
            basis=dict(effect.basis),
        )
    if action in {"resume", "recompute"} and effect.due_at is not None:
        status = "expired" if current.status == "expired" and effect.due_at <= at else "active"
        return _moved(
            current,
            effect.due_at,
            status=status,
            paused_at=None,
            remaining=None,
            provisional=effect.provisional,
            basis=dict(effect.basis),
        )
    if action == "extend":
        extended = effect.extended if effect.extended is not None else current.extended
        if effect.due_at is None:  # a paused deadline keeps more working days for later
            return dataclasses.replace(current, extended=extended, remaining=effect.remaining)
        return _moved(
            current,
            effect.due_at,
            status="active",
            extended=extended,
            provisional=effect.provisional,
            basis=dict(effect.basis),
        )
    if action == "expire":
        return dataclasses.replace(current, status="expired")
    if action == "remind" and effect.rung is not None:
        reminded = tuple(dict.fromkeys([*current.reminded, effect.rung, *effect.superseded]))
        return dataclasses.replace(current, reminded=reminded)
    return current


def _moved(current: OpenDeadline, due_at: dt.datetime, **values: object) -> OpenDeadline:
    if due_at != current.due_at:
        values["reminded"] = ()  # a new due time gets a fresh ladder
    return dataclasses.replace(current, due_at=due_at, **values)  # type: ignore[arg-type]
