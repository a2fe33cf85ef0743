"""Work ledgers (工作台账): register a seed ledger's tasks as cases, open each task's checks when
they fall due, and report progress per task and per department.

A jurisdiction's ledger definition (kind ``ledger_task``, its ``ledger:`` block) names the seed
ledger it runs, the years its checks are planned for, how long before its due date a check opens
and — where the ledger has no check column — the jurisdiction's own rhythm of checks. Each task is
registered once per jurisdiction and number; each check is opened once per task and due date, by
a system event with an idempotency key, so several engine processes open it once. After downtime
the latest check whose window has opened is opened and the earlier ones it skipped are named in
its history row, never opened in a burst.

This module uses only the engine's public API; it reads no clock of its own and holds no rule
that is not in a definition.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from dateutil.relativedelta import relativedelta

from definitions.ledgers import LEDGER_SOURCES, LedgerError, LedgerTask, load_ledger, parse_check_schedule
from definitions.model import Definition
from workflow.core.fields import UNIT_CODE
from workflow.engine.directory import superior_by_level
from workflow.engine.facade import Engine
from workflow.engine.views import RecordView
from workflow.errors import WorkflowError
from workflow.log import get_logger

log = get_logger("chengxin.ledgers")
LEDGER_KIND = "ledger_task"
CHECK_TRACK = "check"
OPENABLE = frozenset({"idle", "rated", "check_overdue"})  # check states in which the next check may open
PENDING = frozenset({"awaiting_report", "check_overdue"})  # a check the department still owes
_PAGE = 500


class LedgerInputError(WorkflowError, ValueError):
    """A ledger command was given something that names nothing (a jurisdiction, a department) or
    does not read (a range of years). The message is one line, Chinese first."""

    def __init__(self, what: str, value: str, problem: str) -> None:
        super().__init__(f"{problem}: {what} {value!r}")
        self.what, self.value, self.problem = what, value, problem


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """A dated check of a task."""

    kind: str  # check | assessment
    label: str
    due: dt.date


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportResult:
    definition: str
    jurisdiction: str
    created: list[str]  # case ids registered now
    existing: list[str]  # case ids registered by an earlier import


@dataclass(frozen=True, slots=True, kw_only=True)
class ChecksResult:
    opened: list[str] = field(default_factory=list)  # case ids whose check was opened now
    lapsed: list[str] = field(default_factory=list)  # case ids whose overdue check gave way to the next


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskStatus:
    id: str
    jurisdiction: str
    number: int
    group: str
    lead: str
    lead_name: str
    state: str
    state_label: str
    finished: bool
    check_state: str
    check_state_label: str
    check_label: str
    check_due: str
    overdue: bool
    last_rating: str
    last_rating_label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DepartmentCount:
    department: str
    name: str
    tasks: int = 0
    open_checks: int = 0
    overdue: int = 0
    awaiting_rating: int = 0
    finished: int = 0


# ------------------------------------------------------------------------------ definitions


def ledger_definitions(engine: Engine) -> list[Definition]:
    """The newest version of every ledger definition that runs a seed ledger."""
    return [d for d in engine.registry.of_kind(LEDGER_KIND) if d.ledger is not None and d.ledger.source]


def ledger_definition(engine: Engine, jurisdiction: str) -> Definition:
    """The definition that runs ``jurisdiction``'s ledger.

    Raises:
        LedgerInputError: no definition runs it.
    """
    found = [
        d for d in ledger_definitions(engine) if d.ledger is not None and d.ledger.source == jurisdiction
    ]
    if not found:
        known = ", ".join(sorted(d.ledger.source or "" for d in ledger_definitions(engine) if d.ledger))
        raise LedgerInputError(
            "jurisdiction",
            jurisdiction,
            f"没有该地区的工作台账 (no ledger for this jurisdiction; known: {known or 'none'})",
        )
    return found[0]


def parse_years(text: str) -> tuple[int, int]:
    """``2018-2019`` (or one year, ``2018``) as (first, last).

    Raises:
        LedgerInputError: not a range of years, or out of order.
    """
    m = re.fullmatch(r"\s*(\d{4})\s*(?:[-–~至]\s*(\d{4}))?\s*", text)
    if m is None:
        raise LedgerInputError(
            "--years", text, "年度范围应为 YYYY-YYYY (expected a range of years such as 2018-2019)"
        )
    first, last = int(m[1]), int(m[2] or m[1])
    if first > last:
        raise LedgerInputError("--years", text, "年度范围顺序颠倒 (the range of years is out of order)")
    return first, last


# ----------------------------------------------------------------------------------- import


def _code(name: str, codes: Mapping[str, str]) -> str:
    """A department's unit code: the code of the unit of that name, else the name itself (cut
    before a parenthesis that holds punctuation a unit code cannot: 各县区人民政府（含…，下同）)."""
    if name in codes:
        return codes[name]
    if UNIT_CODE.match(name):
        return name
    return re.split(r"[（(]", name, maxsplit=1)[0].strip() or name


def _fields(
    definition: Definition,
    task: LedgerTask,
    codes: Mapping[str, str],
    superiors: Mapping[str, str | None],
    years: tuple[int, int],
) -> dict[str, Any]:
    leads = [_code(name, codes) for name in task.lead_departments]
    fields: dict[str, Any] = {
        "jurisdiction": definition.ledger.source if definition.ledger else "",
        "number": task.number,
        "task": task.text,
        "lead_department": leads[0],
        "lead_departments": leads,
        "departments_text": task.departments_text,
        "time_schedule": task.time_schedule.text,
        "check_from_year": years[0],
        "check_to_year": years[1],
    }
    optional: dict[str, Any] = {
        "group": task.group,
        "group_title": task.group_title,
        "measures": "\n".join(task.measures),
        "participating_departments": [_code(n, codes) for n in task.participating_departments],
        "superior_unit": superiors.get(leads[0]),
        "due_date": task.time_schedule.due.isoformat() if task.time_schedule.due else None,
        "check_schedule": task.check_schedule.text if task.check_schedule else None,
    }
    fields.update({k: v for k, v in optional.items() if v not in (None, "", [])})
    return fields


def import_ledger(
    engine: Engine,
    jurisdiction: str,
    years: tuple[int, int] | None = None,
    *,
    progress: Callable[[], None] | None = None,
) -> ImportResult:
    """Register one case per task of ``jurisdiction``'s ledger, each at most once (``progress``
    is called after each task, for a progress bar).

    Department names become unit codes through the unit directory (the unit whose name is the
    department's); a name the directory does not know is its own code.

    Raises:
        LedgerInputError: an unknown jurisdiction, years out of order, or a source text that does
            not parse (nothing is registered then).
    """
    if jurisdiction not in LEDGER_SOURCES:
        raise LedgerInputError(
            "jurisdiction",
            jurisdiction,
            f"没有该地区的工作台账 (no ledger for this jurisdiction; known: {', '.join(LEDGER_SOURCES)})",
        )
    definition = ledger_definition(engine, jurisdiction)
    assert definition.ledger is not None
    first, last = years or (definition.ledger.first_year, definition.ledger.last_year)
    if first > last:
        raise LedgerInputError(
            "--years", f"{first}-{last}", "年度范围顺序颠倒 (the range of years is out of order)"
        )
    try:
        ledger = load_ledger(jurisdiction)
    except LedgerError as exc:
        raise LedgerInputError(
            "source", exc.source, f"台账原文无法解析 (the ledger text does not parse): {exc}"
        ) from exc
    units = engine.units.list()
    codes = {unit.name: unit.code for unit in units}
    # the directory's superior, else the one unit at the level above (a city department: the city)
    superiors = {unit.code: unit.superior or superior_by_level(unit, units) for unit in units}
    created: list[str] = []
    existing: list[str] = []
    for task in ledger.tasks:
        fields = _fields(definition, task, codes, superiors, (first, last))
        case_id, new = engine.open_case(definition.name, fields, key=f"ledger/{jurisdiction}/{task.number}")
        (created if new else existing).append(case_id)
        if progress is not None:
            progress()
    log.info("ledger imported", jurisdiction=jurisdiction, created=len(created), existing=len(existing))
    return ImportResult(
        definition=definition.name, jurisdiction=jurisdiction, created=created, existing=existing
    )


# ----------------------------------------------------------------------------------- checks


def _rhythm_steps(definition: Definition, first: int, last: int) -> list[Step]:
    assert definition.ledger is not None
    zone = ZoneInfo(definition.timezone)
    steps: list[Step] = []
    for check in definition.ledger.checks.values():
        trigger = CronTrigger(timezone=zone, **dict(check.cron))
        when = trigger.get_next_fire_time(None, dt.datetime(first, 1, 1, tzinfo=zone))
        while when is not None and when.year <= last:
            day = when.date()
            steps.append(Step(kind=check.kind, label=f"{day.year}年{day.month}月{check.label}", due=day))
            when = trigger.get_next_fire_time(when, when + dt.timedelta(days=1))
    return steps


def check_steps(definition: Definition, data: Mapping[str, Any]) -> list[Step]:
    """A task's dated checks, in order: from its own check schedule, else the definition's rhythm."""
    first, last = int(data["check_from_year"]), int(data["check_to_year"])
    text = data.get("check_schedule")
    if definition.ledger is not None and definition.ledger.checks:
        steps = _rhythm_steps(definition, first, last)
    elif isinstance(text, str) and text:
        steps = []
        for rule in parse_check_schedule(text).rules:
            for year in range(first, last + 1) if rule.year is None else [rule.year]:
                if first <= year <= last:
                    steps.append(Step(kind=str(rule.kind), label=rule.label_in(year), due=rule.due_in(year)))
    else:
        return []
    return sorted(steps, key=lambda s: s.due)


def opens_on(engine: Engine, definition: Definition, due: dt.date) -> dt.date:
    """The day a check due on ``due`` opens: the definition's window before it."""
    assert definition.ledger is not None
    window = definition.ledger.opens_before
    if window.working_days:
        return engine.registry.calendar(definition).working_days_before(due, window.working_days)
    return due - relativedelta(days=window.days, months=window.months, years=window.years)


def _cases(engine: Engine, definition: str, state: str | None = None) -> Iterator[RecordView]:
    offset = 0
    while True:
        page = engine.query(definition=definition, state=state, limit=_PAGE, offset=offset)
        yield from page
        if len(page) < _PAGE:
            return
        offset += _PAGE


def _track(view: RecordView, track: str) -> str:
    return next((t.state for t in view.tracks if t.track == track), "")


def open_due_checks(engine: Engine) -> ChecksResult:
    """Open, on every task in progress, the latest check whose window has opened and that is not
    open yet (idempotent, safe to run in several processes at once).

    A check still unreported when the next one opens gives way to it (``lapse_check``: rated
    unanswered); a check reported but not yet rated holds the next one back until it is rated.
    """
    result = ChecksResult()
    today = engine.clock.now()
    for definition in engine.registry.of_kind(LEDGER_KIND):
        if definition.ledger is None:
            continue
        local = today.astimezone(ZoneInfo(definition.timezone)).date()
        for view in list(_cases(engine, definition.name, definition.main.initial)):
            state = _track(view, CHECK_TRACK)
            if state not in OPENABLE:
                continue
            of = engine.registry.get(*_name_version(view.definition))
            current = view.data.get("check_due")
            due = [
                s
                for s in check_steps(of, view.data)
                if (current is None or s.due.isoformat() > current) and opens_on(engine, of, s.due) <= local
            ]
            if not due:
                continue
            step, skipped = due[-1], due[:-1]
            if state == "check_overdue":
                engine.fire_system(
                    view.id,
                    "lapse_check",
                    {"outcome": "unanswered", "next_check": step.label},
                    key=f"lapse/{view.id}/{current}",
                )
                result.lapsed.append(view.id)
            payload: dict[str, Any] = {
                "check_kind": step.kind,
                "check_label": step.label,
                "check_due": step.due.isoformat(),
            }
            if skipped:
                payload["missed"] = [s.label for s in skipped]
            _view, fired = engine.fire_system(
                view.id, "open_check", payload, key=f"check/{view.id}/{step.due.isoformat()}"
            )
            if fired:
                result.opened.append(view.id)
                log.info("ledger check opened", case=view.id, check=step.label, due=step.due.isoformat())
    return result


def _name_version(key: str) -> tuple[str, int]:
    name, _, version = key.rpartition("@")
    return name, int(version)


# ----------------------------------------------------------------------------------- status


def ledger_status(
    engine: Engine, *, jurisdiction: str | None = None, department: str | None = None
) -> tuple[list[TaskStatus], list[DepartmentCount]]:
    """Every ledger task with its progress, overdue checks first, and a count per lead department.

    ``department`` matches a unit code or name among a task's lead departments.

    Raises:
        LedgerInputError: an unknown jurisdiction, or a department that leads no task.
    """
    if jurisdiction is not None:
        definitions = [ledger_definition(engine, jurisdiction)]
    else:
        definitions = ledger_definitions(engine)
    names = {unit.code: unit.name for unit in engine.units.list()}
    wanted = None
    if department is not None:
        wanted = {department} | {code for code, name in names.items() if name == department}
    tasks: list[TaskStatus] = []
    for definition in definitions:
        for view in _cases(engine, definition.name):
            leads = [str(x) for x in view.data.get("lead_departments") or [view.data.get("lead_department")]]
            if wanted is not None and not wanted & set(leads):
                continue
            of = engine.registry.get(*_name_version(view.definition))
            check_state = _track(view, CHECK_TRACK)
            rating = str(view.data.get("last_rating") or "")
            lead = str(view.data.get("lead_department", ""))
            tasks.append(
                TaskStatus(
                    id=view.id,
                    jurisdiction=str(view.data.get("jurisdiction", "")),
                    number=int(view.data.get("number", 0)),
                    group=str(view.data.get("group") or ""),
                    lead=lead,
                    lead_name=names.get(lead, lead),
                    state=view.state,
                    state_label=view.state_label,
                    finished=of.main.states[view.state].final,
                    check_state=check_state,
                    check_state_label=of.label_of(CHECK_TRACK, check_state) if check_state else "",
                    check_label=str(view.data.get("check_label") or ""),
                    check_due=str(view.data.get("check_due") or ""),
                    overdue=check_state == "check_overdue",
                    last_rating=rating,
                    last_rating_label=of.enums["outcome"].label_of(rating)
                    if rating and "outcome" in of.enums
                    else rating,
                )
            )
    if department is not None and not tasks:
        raise LedgerInputError(
            "--department",
            department,
            "没有由该部门牵头的台账任务 (no ledger task is led by this department)",
        )
    tasks.sort(key=lambda t: (not t.overdue, t.jurisdiction, t.number))
    return tasks, _per_department(tasks, names)


def _per_department(tasks: Sequence[TaskStatus], names: Mapping[str, str]) -> list[DepartmentCount]:
    counts: dict[str, dict[str, int]] = {}
    for task in tasks:
        count = counts.setdefault(
            task.lead, dict.fromkeys(("tasks", "open_checks", "overdue", "awaiting_rating", "finished"), 0)
        )
        count["tasks"] += 1
        count["open_checks"] += task.check_state in PENDING
        count["overdue"] += task.overdue
        count["awaiting_rating"] += task.check_state == "reported"
        count["finished"] += task.finished
    rows = [DepartmentCount(department=code, name=names.get(code, code), **c) for code, c in counts.items()]
    return sorted(rows, key=lambda r: (-r.overdue, r.department))
