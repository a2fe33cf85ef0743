"""Work ledgers (工作台账) read from the source documents under ``definitions/sources/``.

Tianjin's ledger (26 tasks in four groups, printed twice), Guangyuan's and Tongxin's division
tables (重点任务分工及进度安排表, 15 tasks each) are parsed by code from the published texts into
frozen values: each task's number, group, text, lead and participating departments, its time
schedule and (Tianjin only) its check schedule, both as data beside the original wording. A text
that does not read as expected is refused whole with ``source:line: what was expected``.

This module only parses and expands schedules into dated check steps. It must not run checks,
read the clock, or import ``workflow``, ``storage`` or ``notifications``; the only I/O is reading
the source file in :func:`load_ledger`.

Table layout in the texts: each cell is a line starting with a tab; a cell continues on the
following lines that do not start with a tab; blank lines carry nothing. The first cells after the
table's title are the column headers, and columns are mapped by their header, never by position.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from importlib import resources
from pathlib import Path
from types import MappingProxyType

__all__ = [
    "CHECK_POINTS",
    "CHECK_VERBS",
    "LEDGER_SOURCES",
    "TIANJIN_GROUPS",
    "Afterwards",
    "CheckKind",
    "CheckRule",
    "CheckSchedule",
    "CheckStep",
    "Ledger",
    "LedgerError",
    "LedgerSource",
    "LedgerTask",
    "ScheduleKind",
    "TimeSchedule",
    "check_steps",
    "load_ledger",
    "parse_check_schedule",
    "parse_division_table",
    "parse_tianjin_ledger",
    "parse_time_schedule",
]


class LedgerError(ValueError):
    """A source text does not read as the ledger it should be; nothing of it is kept.

    The message is one line, ``source:line: problem`` (``source: problem`` when no line is known).

    Attributes:
        source: The file (or other origin) the text came from.
        line: The 1-based line of the offending cell, or ``None``.
        problem: What was expected, without the location.
    """

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        problem = " ".join(problem.split())
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {problem}")
        self.source, self.line, self.problem = source, line, problem


# --- the vocabulary, as data in one place ---------------------------------------------------------


class ScheduleKind(StrEnum):
    """What a time schedule (时间进度 / 进度时限) asks for first."""

    CONTINUOUS = "continuous"  # 持续实施: ongoing, no date
    DUE = "due"  # …底前完成: done by a date
    DURING = "during"  # 2018年，…: carried out during a year


class Afterwards(StrEnum):
    """What a time schedule asks for once its first part is done."""

    CONTINUOUS = "continuous"  # …，持续实施
    YEARLY = "yearly"  # …并逐年实施


class CheckKind(StrEnum):
    """A check (检查, 考查: progress looked at) or an assessment (考核: progress rated)."""

    CHECK = "check"
    ASSESSMENT = "assessment"


CHECK_POINTS: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        # The ledger names points of the year, not dates. Convention of this project: 年初 (early in
        # the year) is due by the end of January, 年中 (mid-year) by 30 June, 年底 (year end) by
        # 31 December. A jurisdiction that fixes other dates changes them here, nowhere else.
        "年初": (1, 31),
        "年中": (6, 30),
        "年底": (12, 31),
    }
)
"""Point of the year named in a check schedule → (month, day) the step is due."""

CHECK_VERBS: Mapping[str, CheckKind] = MappingProxyType(
    {"检查": CheckKind.CHECK, "考查": CheckKind.CHECK, "考核": CheckKind.ASSESSMENT}
)
"""Verb of a check schedule → kind of step."""

TIANJIN_GROUPS: Mapping[str, str] = MappingProxyType(
    {
        "探索构建广泛有效的政务诚信监督体系": "监督体系",
        "建立健全政务信用管理体系": "信用管理",
        "加强重点领域政务诚信建设": "重点领域",
        "组织保障": "组织保障",
    }
)
"""Group header of Tianjin's ledger (措施任务 column) → the group's short name."""

# Column header (whitespace removed) → field. Both spellings of the departments and time columns occur.
_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "措施任务": "group",
        "序号": "number",
        "工作任务": "text",
        "责任部门": "departments",
        "责任单位": "departments",
        "时间进度": "time",
        "进度时限": "time",
        "检查考核": "check",
        "主要举措、成果形式": "measures",
    }
)

# Tianjin states each department's role at the end of a clause; longest ending first.
_ROLE_ENDINGS: tuple[tuple[str, str], ...] = (
    ("按照职责分工分别负责", "lead"),
    ("牵头负责", "lead"),
    ("牵头", "lead"),
    ("负责", "lead"),
    ("参加", "participating"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerSource:
    """A bundled source text that holds a ledger.

    Attributes:
        jurisdiction: The jurisdiction's key (``tianjin``, ``guangyuan``, ``tongxin``).
        file: The file name under ``definitions/sources/``.
        layout: ``"tianjin"`` (the work ledger, printed twice) or ``"division_table"``.
        tasks: How many tasks the document has; a text with another count is refused.
    """

    jurisdiction: str
    file: str
    layout: str
    tasks: int


LEDGER_SOURCES: Mapping[str, LedgerSource] = MappingProxyType(
    {
        "tianjin": LedgerSource(
            jurisdiction="tianjin", file="tianjin-ledger-2017.txt", layout="tianjin", tasks=26
        ),
        "guangyuan": LedgerSource(
            jurisdiction="guangyuan", file="guangyuan-plan.txt", layout="division_table", tasks=15
        ),
        "tongxin": LedgerSource(
            jurisdiction="tongxin", file="tongxin-division-table.txt", layout="division_table", tasks=15
        ),
    }
)
"""Jurisdiction → its ledger's source file, layout and task count."""

_TIANJIN_TITLE = "政务诚信体系建设工作台账"
_DIVISION_TITLE = "重点任务分工及进度安排表"


# --- parsed values --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeSchedule:
    """A task's time schedule, parsed, beside the text it was read from.

    Attributes:
        text: The cell as printed (lines joined), e.g. ``"2020年底前完成，持续实施"``.
        kind: What is asked first.
        due: For ``DUE``: the day by which it is done (``2018年12月底`` → 2018-12-31).
        year: For ``DURING``: the year it is carried out in.
        then: What follows the first part, if anything.
    """

    text: str
    kind: ScheduleKind
    due: date | None = None
    year: int | None = None
    then: Afterwards | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckRule:
    """One part of a check schedule: ``每年年中检查`` (every year) or ``2018年年初考核`` (once).

    Attributes:
        kind: Check or assessment.
        verb: The word in the text (检查, 考查, 考核).
        point: The point of the year (年初, 年中, 年底), a key of :data:`CHECK_POINTS`.
        year: The year of a one-off step; ``None`` for a step every year.
    """

    kind: CheckKind
    verb: str
    point: str
    year: int | None

    def due_in(self, year: int) -> date:
        """The day this rule's step is due in ``year``."""
        month, day = CHECK_POINTS[self.point]
        return date(year, month, day)

    def label_in(self, year: int) -> str:
        """The step's Chinese label in ``year``, e.g. ``"2018年年中检查"``."""
        return f"{year}年{self.point}{self.verb}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckSchedule:
    """A task's check schedule (检查考核), parsed into rules, beside its text."""

    text: str
    rules: tuple[CheckRule, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckStep:
    """One dated check or assessment of a task.

    Attributes:
        kind: Check or assessment.
        label: Chinese label, e.g. ``"2018年年中检查"``.
        due: The day it is due.
        source_text: The task's check schedule as printed, for citing.
    """

    kind: CheckKind
    label: str
    due: date
    source_text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerTask:
    """One task (row) of a ledger.

    Attributes:
        number: The 序号, 1..N in order.
        group: Short group name (Tianjin: 监督体系, 信用管理, 重点领域, 组织保障); ``None`` where the
            table has no groups.
        group_title: The group header as printed in the text, or ``None``.
        text: The 工作任务 cell (paragraphs joined by newlines).
        departments_text: The 责任部门 / 责任单位 cell as printed.
        lead_departments: Departments that lead, in the order of the text. Where the text does not
            say who leads and who takes part, every department is listed here. ``X等有关部门``
            gives ``X`` and ``有关部门`` (the category the text leaves unnamed).
        participating_departments: Departments the text says take part (参加).
        time_schedule: The time schedule.
        check_schedule: Tianjin's check schedule; ``None`` where the table has no check column
            (the jurisdiction's own supervision rhythm applies).
        measures: The 主要举措、成果形式 paragraphs; empty where the table has no such column.
        line: The line of the task's number in the source text.
    """

    number: int
    group: str | None
    group_title: str | None
    text: str
    departments_text: str
    lead_departments: tuple[str, ...]
    participating_departments: tuple[str, ...]
    time_schedule: TimeSchedule
    check_schedule: CheckSchedule | None
    measures: tuple[str, ...]
    line: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Ledger:
    """A jurisdiction's work ledger.

    Attributes:
        jurisdiction: The jurisdiction's key.
        source: Where the text came from (file name), as cited in errors.
        title: The table's title as printed.
        tasks: The tasks, numbered 1..N in order.
    """

    jurisdiction: str
    source: str
    title: str
    tasks: tuple[LedgerTask, ...]

    def task(self, number: int) -> LedgerTask:
        """The task numbered ``number``.

        Raises:
            KeyError: When there is no such task.
        """
        if 1 <= number <= len(self.tasks):
            return self.tasks[number - 1]
        raise KeyError(number)


# --- schedules ------------------------------------------------------------------------------------

_TIME_RE = re.compile(
    r"(?:(?P<continuous>持续实施)"
    r"|(?P<year>\d{4})年(?:(?P<month>\d{1,2})月)?底前?完成"
    r"|(?P<during>\d{4})年)"
    r"(?:(?:，|,|并)(?P<then>持续实施|逐年实施))?"
)
_CHECK_RE = re.compile(
    r"(?:(?P<every>每年)|(?P<year>\d{4})年)?(?P<point>年初|年中|年底)(?P<verb>检查|考查|考核)"
)
_AFTERWARDS = {"持续实施": Afterwards.CONTINUOUS, "逐年实施": Afterwards.YEARLY}


def parse_time_schedule(text: str) -> TimeSchedule:
    """Parse a time schedule phrase (时间进度 / 进度时限).

    Known forms: ``持续实施``; ``2017年底前完成``; ``2018年12月底前完成``; ``2020年底前完成，持续实施``;
    ``2017年底完成并逐年实施``; ``2018年，持续实施``.

    Raises:
        ValueError: When the phrase is none of these forms.
    """
    phrase = "".join(text.split())
    m = _TIME_RE.fullmatch(phrase)
    if m is None or (m["continuous"] and m["then"]):
        raise ValueError(f"unknown time schedule phrase {phrase!r}")
    then = _AFTERWARDS[m["then"]] if m["then"] else None
    if m["continuous"]:
        return TimeSchedule(text=phrase, kind=ScheduleKind.CONTINUOUS)
    if m["during"]:
        return TimeSchedule(text=phrase, kind=ScheduleKind.DURING, year=int(m["during"]), then=then)
    year, month = int(m["year"]), int(m["month"] or 12)
    if not 1 <= month <= 12:
        raise ValueError(f"time schedule {phrase!r}: there is no month {month}")
    return TimeSchedule(text=phrase, kind=ScheduleKind.DUE, due=_month_end(year, month), then=then)


def parse_check_schedule(text: str) -> CheckSchedule:
    """Parse a check schedule phrase (检查考核) into rules.

    Parts are separated by ``，`` or ``；``; a part without a year takes the previous part's
    (``每年年中检查，年底考核`` is two yearly rules).

    Raises:
        ValueError: When a part is not ``[每年|YYYY年](年初|年中|年底)(检查|考查|考核)``, or the first part
            names no year.
    """
    phrase = "".join(text.split())
    rules: list[CheckRule] = []
    year: int | None = None
    named = False
    for part in filter(None, re.split(r"[；;，,]", phrase)):
        m = _CHECK_RE.fullmatch(part)
        if m is None:
            raise ValueError(f"unknown check schedule phrase {part!r} in {phrase!r}")
        if m["every"] or m["year"]:
            year, named = (int(m["year"]) if m["year"] else None), True
        elif not named:
            raise ValueError(f"check schedule {phrase!r}: {part!r} says neither 每年 nor which year")
        rules.append(CheckRule(kind=CHECK_VERBS[m["verb"]], verb=m["verb"], point=m["point"], year=year))
    if not rules:
        raise ValueError("the check schedule is empty")
    return CheckSchedule(text=phrase, rules=tuple(rules))


def check_steps(task: LedgerTask, from_year: int, to_year: int) -> list[CheckStep]:
    """The dated check steps of a task in the years ``from_year``..``to_year`` (both included).

    Yearly rules give a step in every year of the range; one-off rules give their step when its
    year lies in the range. Steps are sorted by due date. A task without a check schedule
    (Guangyuan, Tongxin) has no steps of its own: its checks follow the jurisdiction's rhythm.
    """
    if task.check_schedule is None:
        return []
    found: list[tuple[date, int, CheckStep]] = []
    for order, rule in enumerate(task.check_schedule.rules):
        years = range(from_year, to_year + 1) if rule.year is None else [rule.year]
        for year in years:
            if from_year <= year <= to_year:
                step = CheckStep(
                    kind=rule.kind,
                    label=rule.label_in(year),
                    due=rule.due_in(year),
                    source_text=task.check_schedule.text,
                )
                found.append((step.due, order, step))
    return [step for _, _, step in sorted(found, key=lambda f: (f[0], f[1]))]


def _month_end(year: int, month: int) -> date:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


# --- tables ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Cell:
    lines: tuple[str, ...]
    line: int

    @property
    def joined(self) -> str:
        return "".join(self.lines)


_Row = dict[str, _Cell]


def _cells(lines: Sequence[str], start: int, stop: int) -> list[_Cell]:
    """The cells of lines[start:stop] (0-based), each with its 1-based line."""
    cells: list[tuple[list[str], int]] = []
    for index in range(start, stop):
        raw = lines[index]
        if raw.startswith("\t"):
            first = raw[1:].strip()
            cells.append(([first] if first else [], index + 1))
        elif raw.strip() and cells:
            cells[-1][0].append(raw.strip())
    return [_Cell(lines=tuple(parts), line=line) for parts, line in cells]


def _rows(cells: list[_Cell], source: str, title_line: int) -> tuple[dict[str, str], list[_Row]]:
    """Map the header cells to fields and cut the following cells into rows, one per task.

    Returns the field → header as printed, in the table's order, and the rows.
    """
    fields: list[str] = []
    printed: dict[str, str] = {}
    position = 0
    # The header is the run of cells that name known columns; the first other cell starts the body.
    while position < len(cells) and (name := "".join(cells[position].joined.split())) in _COLUMNS:
        if _COLUMNS[name] in fields:
            raise LedgerError(source, cells[position].line, f"the column header {name!r} is repeated")
        fields.append(_COLUMNS[name])
        printed[_COLUMNS[name]] = name
        position += 1
    for required in ("number", "text", "departments", "time"):
        if required not in fields:
            line = cells[position].line if position < len(cells) else title_line
            raise LedgerError(
                source, line, f"expected a column header {_header_of(required)} before the first row"
            )
    body = cells[position:]
    width, offset = len(fields), fields.index("number")
    # A bare number is a task's 序号 (no other cell is one): it anchors its row, so a missing
    # cell is reported at the row it is missing from instead of shifting every later row.
    starts = [i - offset for i, cell in enumerate(body) if cell.joined.isdigit()]
    if not starts:
        line = body[0].line if body else title_line
        raise LedgerError(source, line, "expected task rows after the column headers, found none")
    if starts[0] != 0:
        cell = body[starts[0] + offset]
        raise LedgerError(
            source,
            cell.line,
            f"task {cell.joined} has {starts[0] + offset} cells before its 序号, expected {offset}",
        )
    rows: list[_Row] = []
    for begin, stop in zip(starts, [*starts[1:], len(body)], strict=True):
        chunk = body[begin:stop]
        number = body[begin + offset]
        if len(chunk) != width:
            headers = " | ".join(printed.values())
            problem = "a cell is missing" if len(chunk) < width else "there is an extra cell"
            raise LedgerError(
                source,
                number.line,
                f"task {number.joined} has {len(chunk)} cells, expected {width} ({headers}): {problem}",
            )
        row = dict(zip(fields, chunk, strict=True))
        for name, cell in row.items():
            if name != "group" and not cell.lines:
                raise LedgerError(
                    source, cell.line, f"the {printed[name]} cell of task {number.joined} is empty"
                )
        rows.append(row)
    return printed, rows


def _header_of(field_name: str) -> str:
    return next(header for header, name in _COLUMNS.items() if name == field_name)


def _check_numbers(rows: Sequence[_Row], source: str, expected: int | None, end_line: int) -> None:
    for index, row in enumerate(rows, 1):
        cell = row["number"]
        if int(cell.joined) != index:
            raise LedgerError(
                source,
                cell.line,
                f"expected task number {index}, found {cell.joined} (a row missing, out of order or repeated)",
            )
    if expected is not None and len(rows) != expected:
        line = rows[-1]["number"].line if rows else end_line
        raise LedgerError(source, line, f"expected {expected} tasks, found {len(rows)}")


def _split_top(text: str, separators: str) -> list[str]:
    """Split at separators outside brackets: ``各县区人民政府（含…，下同）`` stays one unit."""
    parts, current, depth = [], "", 0
    for char in text:
        if char in "（(":
            depth += 1
        elif char in "）)":
            depth = max(depth - 1, 0)
        if char in separators and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _units(text: str, separators: str, source: str, line: int) -> list[str]:
    units: list[str] = []
    for part in _split_top(text, separators):
        # "X等有关部门": the named unit, then the category the text leaves unnamed.
        for unit in part.split("等"):
            if not unit.strip():
                raise LedgerError(source, line, f"an empty department name in {text!r}")
            units.append(unit.strip())
    return units


def _tianjin_departments(cell: _Cell, source: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    lead: list[str] = []
    participating: list[str] = []
    for clause in _split_top(cell.joined, "，,"):
        ending = next(((e, role) for e, role in _ROLE_ENDINGS if clause.endswith(e)), None)
        if ending is None:
            raise LedgerError(
                source,
                cell.line,
                f"expected departments ending in 牵头, 负责 or 参加, found {clause!r}",
            )
        names = _units(clause.removesuffix(ending[0]), "、和", source, cell.line)
        (lead if ending[1] == "lead" else participating).extend(names)
    return tuple(lead), tuple(participating)


def _time(cell: _Cell, source: str) -> TimeSchedule:
    try:
        return parse_time_schedule(cell.joined)
    except ValueError as exc:
        raise LedgerError(source, cell.line, str(exc)) from None


def _check(cell: _Cell, source: str) -> CheckSchedule:
    try:
        return parse_check_schedule(cell.joined)
    except ValueError as exc:
        raise LedgerError(source, cell.line, str(exc)) from None


def _titles(lines: Sequence[str], title: str) -> list[int]:
    return [i for i, line in enumerate(lines) if line.strip() == title]


# --- Tianjin --------------------------------------------------------------------------------------


def parse_tianjin_ledger(
    text: str, *, source: str = "tianjin-ledger-2017.txt", expected_tasks: int | None = 26
) -> Ledger:
    """Parse Tianjin's work ledger (政务诚信体系建设工作台账).

    The table is printed twice; both copies are parsed and must agree cell by cell. Group headers
    (措施任务) open a group and may be repeated on later rows of the same group.

    Args:
        text: The source text.
        source: Where it came from, used in errors and kept on the ledger.
        expected_tasks: The number of tasks the document has, or ``None`` not to check it.

    Returns:
        The ledger of the first copy.

    Raises:
        LedgerError: When the title is not printed exactly twice, a header is unknown, a cell is
            missing or empty, task numbers are not 1..N in order, the count differs from
            ``expected_tasks``, a group header is unknown or comes back after another group, a
            department clause names no role, a schedule phrase is unknown, or the copies differ.
    """
    lines = text.splitlines()
    titles = _titles(lines, _TIANJIN_TITLE)
    if len(titles) != 2:
        line = titles[2] + 1 if len(titles) > 2 else None
        raise LedgerError(
            source, line, f"expected the table {_TIANJIN_TITLE} printed twice, found it {len(titles)} times"
        )
    bounds = ((titles[0], titles[1]), (titles[1], len(lines)))
    copies: list[list[_Row]] = []
    tasks: tuple[LedgerTask, ...] = ()
    for copy, (begin, end) in enumerate(bounds):
        fields, rows = _rows(_cells(lines, begin + 1, end), source, begin + 1)
        for required in ("group", "check"):
            if required not in fields:
                raise LedgerError(source, begin + 1, f"Tianjin's ledger has no {_header_of(required)} column")
        _check_numbers(rows, source, expected_tasks, end)
        built = _tianjin_tasks(rows, source)
        if copy == 0:
            tasks = built
        copies.append(rows)
    _same_copies(copies[0], copies[1], source, titles[1] + 1)
    return Ledger(jurisdiction="tianjin", source=source, title=_TIANJIN_TITLE, tasks=tasks)


def _tianjin_tasks(rows: Sequence[_Row], source: str) -> tuple[LedgerTask, ...]:
    tasks: list[LedgerTask] = []
    group_title: str | None = None
    seen: set[str] = set()
    for row in rows:
        cell = row["group"]
        title = cell.joined
        if title:
            if title not in TIANJIN_GROUPS:
                known = "、".join(TIANJIN_GROUPS)
                raise LedgerError(source, cell.line, f"unknown group header {title!r}; known: {known}")
            if title != group_title and title in seen:
                raise LedgerError(source, cell.line, f"group {title!r} comes back after {group_title!r}")
            group_title = title
            seen.add(title)
        elif group_title is None:
            raise LedgerError(source, cell.line, "the first task has no group header (措施任务)")
        lead, participating = _tianjin_departments(row["departments"], source)
        tasks.append(
            LedgerTask(
                number=int(row["number"].joined),
                group=TIANJIN_GROUPS[group_title],
                group_title=group_title,
                text="\n".join(row["text"].lines),
                departments_text=row["departments"].joined,
                lead_departments=lead,
                participating_departments=participating,
                time_schedule=_time(row["time"], source),
                check_schedule=_check(row["check"], source),
                measures=(),
                line=row["number"].line,
            )
        )
    return tuple(tasks)


def _same_copies(first: Sequence[_Row], second: Sequence[_Row], source: str, title_line: int) -> None:
    for one, two in zip(first, second, strict=False):
        for name, cell in two.items():
            if one[name].lines != cell.lines:
                raise LedgerError(
                    source,
                    cell.line,
                    f"the second copy of the table differs from the first (line {one[name].line}):"
                    f" the {_header_of(name)} cell of task {two['number'].joined} reads {cell.joined!r},"
                    f" the first copy {one[name].joined!r}",
                )
    if len(first) != len(second):
        raise LedgerError(
            source,
            title_line,
            f"the second copy of the table has {len(second)} tasks, the first {len(first)}",
        )


# --- division tables (Guangyuan, Tongxin) ---------------------------------------------------------


def parse_division_table(
    text: str, jurisdiction: str, *, source: str | None = None, expected_tasks: int | None = None
) -> Ledger:
    """Parse a division table (重点任务分工及进度安排表), as Guangyuan and Tongxin print it.

    Columns are mapped by their headers, so Tongxin's order (举措 before 责任单位) reads the same as
    Guangyuan's. The tables have no groups and no check column.

    Args:
        text: The source text; the table starts at the line that is its title.
        jurisdiction: The jurisdiction's key; a key of :data:`LEDGER_SOURCES` also sets the source
            name and the expected task count when those are not given.
        source: Where the text came from, used in errors and kept on the ledger.
        expected_tasks: The number of tasks the document has, or ``None`` not to check it.

    Returns:
        The ledger.

    Raises:
        LedgerError: When the title is not printed once, a header is unknown or a column is
            missing, a cell is missing or empty, task numbers are not 1..N in order, the count
            differs from the expected one, or a schedule phrase is unknown.
    """
    known = LEDGER_SOURCES.get(jurisdiction)
    if source is None:
        source = known.file if known is not None else jurisdiction
    if expected_tasks is None and known is not None:
        expected_tasks = known.tasks
    lines = text.splitlines()
    titles = _titles(lines, _DIVISION_TITLE)
    if len(titles) != 1:
        line = titles[1] + 1 if len(titles) > 1 else None
        raise LedgerError(
            source, line, f"expected the table {_DIVISION_TITLE} once, found it {len(titles)} times"
        )
    fields, rows = _rows(_cells(lines, titles[0] + 1, len(lines)), source, titles[0] + 1)
    if "group" in fields or "check" in fields:
        raise LedgerError(source, titles[0] + 1, "a division table has no 措施任务 or 检查考核 column")
    _check_numbers(rows, source, expected_tasks, len(lines))
    tasks = tuple(
        LedgerTask(
            number=int(row["number"].joined),
            group=None,
            group_title=None,
            text="\n".join(row["text"].lines),
            departments_text=row["departments"].joined,
            lead_departments=tuple(
                _units(row["departments"].joined, "、，,", source, row["departments"].line)
            ),
            participating_departments=(),
            time_schedule=_time(row["time"], source),
            check_schedule=None,
            measures=row["measures"].lines if "measures" in row else (),
            line=row["number"].line,
        )
        for row in rows
    )
    return Ledger(jurisdiction=jurisdiction, source=source, title=_DIVISION_TITLE, tasks=tasks)


# --- reading a file -------------------------------------------------------------------------------


def load_ledger(jurisdiction: str, path: Path | None = None) -> Ledger:
    """Read and parse a jurisdiction's ledger.

    Args:
        jurisdiction: A key of :data:`LEDGER_SOURCES` (``tianjin``, ``guangyuan``, ``tongxin``).
        path: The source file; by default the one bundled under ``definitions/sources/``.

    Returns:
        The ledger.

    Raises:
        LedgerError: When the jurisdiction has no ledger, the file cannot be read, or for any
            problem listed in :func:`parse_tianjin_ledger` and :func:`parse_division_table`.
    """
    known = LEDGER_SOURCES.get(jurisdiction)
    if known is None:
        raise LedgerError(
            jurisdiction, None, f"no ledger for this jurisdiction; known: {', '.join(LEDGER_SOURCES)}"
        )
    source = str(path) if path is not None else f"definitions/sources/{known.file}"
    try:
        if path is not None:
            text = path.read_text(encoding="utf-8")
        else:
            text = (resources.files("definitions") / "sources" / known.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(source, None, f"cannot read the file: {exc}") from exc
    if known.layout == "tianjin":
        return parse_tianjin_ledger(text, source=source, expected_tasks=known.tasks)
    return parse_division_table(text, jurisdiction, source=source, expected_tasks=known.tasks)
