"""Supervision rounds: open one round per unit and period, from the schedules of each definition.

A schedule (``schedules:`` in a jurisdiction's definition) is a cron rule, read with
APScheduler's ``CronTrigger``. Every period that fell due since the last check — including
periods missed while the engine was down — opens a round for every unit concerned. The
round is a record of the ``supervision`` definition, registered with an idempotency key made
of definition, schedule, unit and period: however many engine processes run the check, each
round exists exactly once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import structlog
from apscheduler.triggers.cron import CronTrigger

from definitions.model import Definition, Schedule
from workflow.core.periods import resolve_period

if TYPE_CHECKING:
    from workflow.engine.facade import Engine

log = structlog.get_logger("chengxin.rounds")
ROUND_DEFINITION = "supervision"


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundsResult:
    opened: list[str]  # record ids of rounds opened now
    periods: int  # schedule periods looked at


def fire_times(
    definition: Definition, schedule: Schedule, after: dt.datetime, until: dt.datetime
) -> Iterator[dt.datetime]:
    """Every instant the schedule fires in (after, until]."""
    trigger = CronTrigger(timezone=ZoneInfo(definition.timezone), **dict(schedule.cron))
    tick = dt.timedelta(microseconds=1)
    when = trigger.get_next_fire_time(None, after + tick)
    while when is not None and when <= until:
        yield when.astimezone(dt.UTC)
        when = trigger.get_next_fire_time(when, when + tick)


def _meta_key(definition: Definition, schedule: Schedule) -> str:
    return f"rounds:{definition.name}:{schedule.name}"


def _report(engine: Engine, definition: Definition, schedule: Schedule, unit: str) -> dict[str, Any]:
    finals = [s for s, spec in definition.main.states.items() if spec.final]
    fields: dict[str, Any] = {}
    ids: list[str] = []
    for item in schedule.report:
        count, found = engine.store.count_records(
            definition_name=item.definition or definition.name,
            unit=unit,
            active=item.active,
            track=item.track,
            state=item.state,
            exclude_states=finals if item.definition is None else (),
        )
        fields[item.name] = count
        ids.extend(found)
    fields["record_ids"] = list(dict.fromkeys(ids))[:200]
    return fields


def _units(engine: Engine, definition: Definition, schedule: Schedule) -> list[tuple[str, str | None]]:
    """(unit, superior) that get a round: the units with open records of the definition, and with
    ``units: all`` also every unit of the unit directory (a unit with nothing open is still supervised)."""
    finals = [s for s, spec in definition.main.states.items() if spec.final]
    found = dict(engine.store.distinct_units(definition.name, exclude_states=finals))
    if schedule.units == "all":
        for unit in engine.store.units():
            found[unit["code"]] = found.get(unit["code"]) or unit["superior"]
    return sorted(found.items())


def open_due_rounds(engine: Engine) -> RoundsResult:
    """Open every round due up to now that is not open yet (idempotent, safe to run anywhere)."""
    from workflow.core.decide import Actor

    now = engine.clock.now()
    opened: list[str] = []
    periods = 0
    in_use = engine.store.definitions_in_use()
    supervision = engine.registry.select(ROUND_DEFINITION)
    for name, (version, since) in in_use.items():
        if name == ROUND_DEFINITION:
            continue
        definition = engine.registry.get(name, version)
        for schedule in definition.schedules.values():
            key = _meta_key(definition, schedule)
            start = engine.store.meta().get(key)
            after = dt.datetime.fromisoformat(start) if start else since
            period = resolve_period(definition, schedule.answer_within, {})
            days = period.working_days if period is not None and period.working_days else 10
            for when in fire_times(definition, schedule, after, now):
                periods += 1
                label = when.astimezone(ZoneInfo(definition.timezone)).date().isoformat()
                for unit, superior in _units(engine, definition, schedule):
                    fields: dict[str, Any] = {
                        "responsible_unit": unit,
                        "jurisdiction": name,
                        "schedule": schedule.name,
                        "period": label,
                        "title": f"{schedule.label}（{label}）",
                        "answer_working_days": days,
                        **_report(engine, definition, schedule, unit),
                    }
                    if superior:
                        fields["superior_unit"] = superior
                    record_id, created = engine.open_system_record(
                        supervision,
                        fields,
                        actor=Actor(id="system", role="system", unit="chengxin"),
                        idempotency_key=f"round/{name}/{schedule.name}/{unit}/{label}",
                    )
                    if created:
                        opened.append(record_id)
                engine.store.advance_meta(key, when.isoformat())
                log.info("supervision period", definition=name, schedule=schedule.name, period=label)
    return RoundsResult(opened=opened, periods=periods)
