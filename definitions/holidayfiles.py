"""Reading holiday table files: YAML with line numbers, checked by a pydantic schema, into the
frozen ``HolidayTable`` of ``definitions.holidays`` (which loads this module when a file is read:
a command that reads its tables from the cache imports neither YAML nor pydantic)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from definitions.holidays import HolidayTable, HolidayTableError

# --- the file schema (pydantic, only at this edge) -------------------------------------------

_Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _HolidayEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: _Name
    first: date = Field(alias="from")
    last: date | None = Field(default=None, alias="to")
    makeup_workdays: list[date] = []


class _TableFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    year: int = Field(ge=1, le=9999)
    provisional: bool
    source: _Name
    holidays: list[_HolidayEntry]


# --- parsing ----------------------------------------------------------------------------------


def parse_holiday_table(text: str, origin: str) -> HolidayTable:
    """Parse and check one holiday table given as YAML text.

    Args:
        text: The YAML document.
        origin: Where the text came from (a file name), used in error messages.

    Returns:
        The checked table.

    Raises:
        HolidayTableError: With ``origin:line: problem`` for bad YAML, a duplicate key, a missing,
            unknown or mistyped field, a date outside the table's year, ``to`` before ``from``,
            a day that is off for two holidays, a day both off and a make-up working day, or a
            make-up working day that is not a Saturday or Sunday.
    """
    root = _compose(text, origin)
    data = _construct(root, origin) if root is not None else None
    if not isinstance(data, dict):
        line = root.start_mark.line + 1 if root is not None else 1
        raise HolidayTableError(
            origin, line, "a holiday table must be a YAML mapping with year, provisional, …"
        )
    try:
        parsed = _TableFile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        raise HolidayTableError(origin, _line_of(root, loc), f"{_loc_text(loc)}: {error['msg']}") from None
    return _build(parsed, root, origin)


def load_holiday_table(path: Path) -> HolidayTable:
    """Read and check one holiday table file.

    A file named after a year (``2027.yaml``) must hold that year's table.

    Args:
        path: The YAML file.

    Returns:
        The checked table.

    Raises:
        HolidayTableError: When the file cannot be read, or for any problem listed in
            :func:`parse_holiday_table`, or when the file name names another year.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HolidayTableError(str(path), None, f"cannot read the file: {exc}") from exc
    return _checked_name(parse_holiday_table(text, str(path)), path.name, str(path), text)


def bundled_tables() -> list[HolidayTable]:
    """Load every holiday table shipped under ``definitions/holidays/``, sorted by year.

    Returns:
        The tables, one per year.

    Raises:
        HolidayTableError: When a bundled file is invalid or two files cover the same year.
    """
    tables: dict[int, HolidayTable] = {}
    for entry in sorted(_bundled_files(), key=lambda e: e.name):
        origin = f"definitions/holidays/{entry.name}"
        text = entry.read_text(encoding="utf-8")
        table = _checked_name(parse_holiday_table(text, origin), entry.name, origin, text)
        if table.year in tables:
            raise HolidayTableError(origin, None, f"a second table for {table.year}")
        tables[table.year] = table
    return [tables[year] for year in sorted(tables)]


def _bundled_files() -> Iterator[Traversable]:
    folder = resources.files("definitions") / "holidays"
    return (e for e in folder.iterdir() if e.is_file() and e.name.endswith((".yaml", ".yml")))


def _checked_name(table: HolidayTable, name: str, origin: str, text: str) -> HolidayTable:
    stem = name.rsplit(".", 1)[0]
    if stem.isdigit() and int(stem) != table.year:
        line = next((i for i, row in enumerate(text.splitlines(), 1) if row.startswith("year:")), None)
        raise HolidayTableError(origin, line, f"the file is named {name} but says year: {table.year}")
    return table


def _compose(text: str, origin: str) -> yaml.Node | None:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise HolidayTableError(origin, line, f"bad YAML: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise HolidayTableError(origin, None, f"bad YAML: {exc}") from exc
    if root is not None:
        _reject_duplicate_keys(root, origin)
    return root


def _construct(root: yaml.Node, origin: str) -> object:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(root)
    except (yaml.YAMLError, ValueError) as exc:
        # PyYAML reports an impossible date such as 2027-02-30 without its place: find the node.
        raise HolidayTableError(origin, _bad_scalar_line(loader, root), f"bad YAML value: {exc}") from exc
    finally:
        loader.dispose()


def _bad_scalar_line(loader: yaml.SafeLoader, node: yaml.Node) -> int | None:
    if isinstance(node, yaml.ScalarNode):
        try:
            loader.construct_object(node)
        except (yaml.YAMLError, ValueError):
            return node.start_mark.line + 1
        return None
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    return next((line for child in children if (line := _bad_scalar_line(loader, child)) is not None), None)


def _reject_duplicate_keys(node: yaml.Node, origin: str) -> None:
    # PyYAML keeps the last of two equal keys silently; in a rules file that hides a mistake.
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    raise HolidayTableError(origin, key.start_mark.line + 1, f"duplicate key {key.value!r}")
                seen.add(key.value)
            _reject_duplicate_keys(value, origin)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _reject_duplicate_keys(item, origin)


def _line_of(root: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """The line of the YAML node at a pydantic error location (the nearest existing parent's line)."""
    if root is None:
        return None
    node = root
    for step in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == step:
                    child = value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            child = node.value[step]
        if child is None:
            break
        node = child
    return node.start_mark.line + 1


def _loc_text(loc: Sequence[int | str]) -> str:
    text = ""
    for step in loc:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "table"


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_Fail = Callable[[tuple[int | str, ...], str], HolidayTableError]


def _build(parsed: _TableFile, root: yaml.Node | None, origin: str) -> HolidayTable:
    def fail(loc: tuple[int | str, ...], problem: str) -> HolidayTableError:
        return HolidayTableError(origin, _line_of(root, loc), f"{_loc_text(loc)}: {problem}")

    days_off = _days_off(parsed, fail)
    return HolidayTable(
        year=parsed.year,
        provisional=parsed.provisional,
        source=parsed.source,
        days_off=days_off,
        makeup_workdays=_makeup_workdays(parsed, days_off, fail),
    )


def _days_off(parsed: _TableFile, fail: _Fail) -> dict[date, str]:
    days_off: dict[date, str] = {}
    owner: dict[date, int] = {}
    for i, entry in enumerate(parsed.holidays):
        last = entry.last if entry.last is not None else entry.first
        for key, d in (("from", entry.first), ("to", last)):
            if d.year != parsed.year:
                raise fail(("holidays", i, key), f"{d} is outside the table's year {parsed.year}")
        if last < entry.first:
            raise fail(("holidays", i, "to"), f"{last} is before from: {entry.first}")
        for ordinal in range(entry.first.toordinal(), last.toordinal() + 1):
            d = date.fromordinal(ordinal)
            if d in days_off:
                raise fail(
                    ("holidays", i, "from"),
                    f"{d} is already a day off for {days_off[d]} (holidays[{owner[d]}])",
                )
            days_off[d], owner[d] = entry.name, i
    return days_off


def _makeup_workdays(parsed: _TableFile, days_off: Mapping[date, str], fail: _Fail) -> dict[date, str]:
    makeup: dict[date, str] = {}
    for i, entry in enumerate(parsed.holidays):
        for j, d in enumerate(entry.makeup_workdays):
            spot: tuple[int | str, ...] = ("holidays", i, "makeup_workdays", j)
            if d.year != parsed.year:
                raise fail(spot, f"{d} is outside the table's year {parsed.year}")
            if d.weekday() < 5:
                raise fail(
                    spot,
                    f"{d} is a {_WEEKDAYS[d.weekday()]}, a working day anyway;"
                    " make-up working days are Saturdays or Sundays",
                )
            if d in days_off:
                raise fail(spot, f"{d} is both a day off ({days_off[d]}) and a make-up working day")
            if d in makeup:
                raise fail(spot, f"{d} is listed twice as a make-up working day")
            makeup[d] = entry.name
    return makeup
