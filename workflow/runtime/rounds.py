"""Supervision rounds: open one round per unit and period, from the schedules of each definition.

A schedule (``schedules:`` in a jurisdiction's definition) is a cron rule, read with
APScheduler's ``CronTrigger``. Every period that fell due since the last check — including
periods missed while the engine was down — opens a round for every unit concerned. The
round is a record of the ``supervision`` definition, registered with an idempotency key made
of definition, schedule, unit and period: however many engine processes run the check, each
round exists exactly once.

A schedule reaches the units of its own jurisdiction only (``definitions/jurisdictions.yaml``,
the directory's ``jurisdiction`` of each unit): a Tianjin unit never gets Guangyuan's quarterly
round. A unit the directory gives no jurisdiction is reached by the schedules of the definitions
it has open cases under. The round names the unit's superior — the case's, the directory's, or
the one unit at the level above — so that escalation goes somewhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from definitions.jurisdictions import load_jurisdictions
from definitions.model import Definition, Grade, Schedule
from workflow.core.periods import resolve_period
from workflow.engine.facade import Engine
from workflow.errors import DefinitionNotFound
from workflow.log import get_logger

log = get_logger("chengxin.rounds")
ROUND_KIND = "supervision_round"
LEDGER_KIND = "ledger_task"
OPEN_CHECK_STATES = ("awaiting_report", "check_overdue", "reported")  # a check not yet rated


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


def round_definition(engine: Engine, schedule: Schedule) -> str:
    """The definition a schedule's rounds run on: the one it names, else the one of kind
    ``supervision_round``.

    Raises:
        DefinitionNotFound: none, or several without the schedule naming one.
    """
    if schedule.round is not None:
        return engine.registry.select(schedule.round).name
    found = [d.name for d in engine.registry.of_kind(ROUND_KIND)]
    if len(found) != 1:
        raise DefinitionNotFound(f"<{ROUND_KIND}>", None, found)
    return found[0]


def _report(engine: Engine, definition: Definition, schedule: Schedule, unit: str) -> dict[str, Any]:
    finals = [s for s, spec in definition.main.states.items() if spec.final]
    fields: dict[str, Any] = {}
    ids: list[str] = []
    for item in schedule.report:
        count, found = engine.supervision.count_for_unit(
            definition=item.definition or definition.name,
            unit=unit,
            active=item.active,
            state=(item.track, item.state) if item.track is not None and item.state is not None else None,
            exclude_states=finals if item.definition is None else (),
        )
        fields[item.name] = count
        ids.extend(found)
    fields.update(_ledger_counts(engine, unit))
    fields["record_ids"] = list(dict.fromkeys(ids))[:200]
    return fields


def _final(engine: Engine, key: str, state: str) -> bool:
    name, _, version = key.partition("@")
    spec = engine.registry.get(name, int(version)).main.states.get(state)
    return spec is not None and spec.final


def _ledger_counts(engine: Engine, unit: str) -> dict[str, int]:
    """The unit's open ledger tasks, and its ledger checks not yet rated, by kind (检查 / 考核),
    and how many of those are overdue."""
    tasks = [
        task
        for task in engine.query(kind=LEDGER_KIND, unit=unit, limit=1000)
        if not _final(engine, task.definition, task.state)
    ]
    counts = {"ledger_tasks": len(tasks), "ledger_checks_open": 0, "ledger_assessments_open": 0}
    counts["ledger_checks_overdue"] = 0
    for task in tasks:
        checks = {t.track: t.state for t in task.tracks}.get("check")
        if checks not in OPEN_CHECK_STATES:
            continue
        kind = (
            "ledger_assessments_open" if task.data.get("check_kind") == "assessment" else "ledger_checks_open"
        )
        counts[kind] += 1
        counts["ledger_checks_overdue"] += checks == "check_overdue"
    return counts


def _grade(schedule: Schedule, report: dict[str, Any]) -> Grade | None:
    """The unit's credit grade under graded supervision (信用分级分类监管): the first grade whose
    conditions its open and overdue records meet; None when the schedule is not graded."""
    if not schedule.grades:
        return None
    open_records = int(report.get("open_records", 0))
    overdue = int(report.get("overdue_explanations", 0)) + int(report.get("overdue_rectifications", 0))
    return next(g for g in schedule.grades if g.applies(open_records, overdue))


def _units(engine: Engine, definition: Definition, schedule: Schedule) -> list[tuple[str, str | None]]:
    """(unit, superior) that get a round: the units with open cases of the definition, and with
    ``units: all`` also every unit of the directory in the definition's jurisdiction (a unit
    with nothing open is still supervised). A unit the directory places in another
    jurisdiction gets none."""
    finals = [s for s, spec in definition.main.states.items() if spec.final]
    place = load_jurisdictions().of_definition(definition.jurisdiction)
    directory = {u.code: u for u in engine.units.list()}
    found = {
        unit: superior
        for unit, superior in engine.supervision.units_with_open_cases(definition.name, exclude_states=finals)
        if unit not in directory or directory[unit].jurisdiction in (None, place)
    }
    if schedule.units == "all" and place is not None:
        for unit in directory.values():
            if unit.jurisdiction == place:
                found.setdefault(unit.code, None)
    return sorted((unit, engine.units.superior_of(unit, superior)) for unit, superior in found.items())


def open_due_rounds(engine: Engine) -> RoundsResult:
    """Open every round due up to now that is not open yet (idempotent, safe to run anywhere)."""
    now = engine.clock.now()
    opened: list[str] = []
    periods = 0
    for name, (version, since) in engine.supervision.definitions_in_use().items():
        # the schedules of the version in force now: a new version's rhythm (Tai'an's graded
        # supervision in taian@3) applies to the jurisdiction even while older records run on v1 or v2
        definition = max(
            engine.registry.select(name), engine.registry.get(name, version), key=lambda d: d.version
        )
        for schedule in definition.schedules.values():
            rounds = round_definition(engine, schedule)
            key = _meta_key(definition, schedule)
            start = engine.supervision.progress(key)
            after = dt.datetime.fromisoformat(start) if start else since
            period = resolve_period(definition, schedule.answer_within, {})
            days = period.working_days if period is not None and period.working_days else 10
            for when in fire_times(definition, schedule, after, now):
                periods += 1
                label = when.astimezone(ZoneInfo(definition.timezone)).date().isoformat()
                month = when.astimezone(ZoneInfo(definition.timezone)).month
                for unit, superior in _units(engine, definition, schedule):
                    report = _report(engine, definition, schedule, unit)
                    grade = _grade(schedule, report)
                    if grade is not None and month not in grade.months:
                        continue  # graded supervision: this unit's grade is not checked this time
                    fields: dict[str, Any] = {
                        "responsible_unit": unit,
                        "jurisdiction": name,
                        "schedule": schedule.name,
                        "period": label,
                        "title": schedule.label,  # the period is a field of its own
                        "answer_working_days": days,
                        **report,
                    }
                    if grade is not None:
                        fields["grade"] = grade.label
                    if superior:
                        fields["superior_unit"] = superior
                    record_id, created = engine.open_case(
                        rounds, fields, key=f"round/{name}/{schedule.name}/{unit}/{label}"
                    )
                    if created:
                        opened.append(record_id)
                engine.supervision.advance_progress(key, when.isoformat())
                log.info("supervision period", definition=name, schedule=schedule.name, period=label)
    return RoundsResult(opened=opened, periods=periods)
