"""Holiday tables: the State Council's yearly holiday arrangement kept as YAML data.

Each table says, for one year, which days are off (放假) and which weekend days are make-up
working days (调休上班), so that a new year's arrangement is loaded as data, without a code change.
This module parses and checks those files and hands out plain frozen dataclasses. It holds no
engine logic: it must not compute deadlines, and must not import ``workflow``, ``storage`` or
``notifications``.

The file format is documented at the top of ``definitions/holidays/2027.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType

__all__ = [
    "HolidayTable",
    "HolidayTableError",
    "bundled_tables",
    "load_holiday_table",
    "parse_holiday_table",
]


class HolidayTableError(ValueError):
    """A holiday table is not valid: bad YAML, a wrong field, or dates that contradict each other.

    The message is one line, ``origin:line: problem`` (``origin: problem`` when no line is known).

    Attributes:
        origin: The file (or other origin) the table came from.
        line: The 1-based line of the offending value, or ``None``.
        problem: What is wrong, without the location.
    """

    def __init__(self, origin: str, line: int | None, problem: str) -> None:
        problem = " ".join(problem.split())  # one line, whatever the YAML or pydantic text holds
        where = f"{origin}:{line}" if line is not None else origin
        super().__init__(f"{where}: {problem}")
        self.origin, self.line, self.problem = origin, line, problem


@dataclass(frozen=True, slots=True, kw_only=True)
class HolidayTable:
    """One year's official (or provisional) holiday arrangement.

    Attributes:
        year: The Gregorian year the table covers; every date in it lies in this year.
        provisional: True while the table is an estimate rather than the published notice.
        source: Where the data come from, e.g. the notice's title and number, or ``"provisional: …"``.
        days_off: Date → name of the holiday (Chinese, e.g. ``"春节"``) for every day off,
            including the weekend days inside a holiday block.
        makeup_workdays: Date → name of the holiday it makes up for, for every weekend day that
            is a working day (调休上班).

    Raises:
        HolidayTableError: On construction, when a date lies outside ``year`` or a date is both
            a day off and a make-up working day.
    """

    year: int
    provisional: bool
    source: str
    days_off: Mapping[date, str] = field(hash=False)
    makeup_workdays: Mapping[date, str] = field(hash=False)

    def __post_init__(self) -> None:
        origin = f"holiday table {self.year}"
        for kind, days in (("day off", self.days_off), ("make-up working day", self.makeup_workdays)):
            for d in days:
                if d.year != self.year:
                    raise HolidayTableError(origin, None, f"{kind} {d} is outside the table's year")
        both = sorted(set(self.days_off) & set(self.makeup_workdays))
        if both:
            raise HolidayTableError(origin, None, f"{both[0]} is both a day off and a make-up working day")
        # Read-only views, so a table handed to several calendars cannot be changed under them.
        object.__setattr__(self, "days_off", MappingProxyType(dict(sorted(self.days_off.items()))))
        object.__setattr__(
            self, "makeup_workdays", MappingProxyType(dict(sorted(self.makeup_workdays.items())))
        )


# --- reading files (``definitions.holidayfiles``: YAML and pydantic, loaded when a file is read) --


def parse_holiday_table(text: str, origin: str) -> HolidayTable:
    """Parse and check one holiday table given as YAML text (``holidayfiles.parse_holiday_table``).

    Raises:
        HolidayTableError: see ``definitions.holidayfiles.parse_holiday_table``.
    """
    from definitions import holidayfiles

    return holidayfiles.parse_holiday_table(text, origin)


def load_holiday_table(path: Path) -> HolidayTable:
    """Read and check one holiday table file (``holidayfiles.load_holiday_table``).

    Raises:
        HolidayTableError: see ``definitions.holidayfiles.load_holiday_table``.
    """
    from definitions import holidayfiles

    return holidayfiles.load_holiday_table(path)


def bundled_tables() -> list[HolidayTable]:
    """Every holiday table shipped under ``definitions/holidays/``, sorted by year
    (``holidayfiles.bundled_tables``).

    Raises:
        HolidayTableError: When a bundled file is invalid or two files cover the same year.
    """
    from definitions import holidayfiles

    return holidayfiles.bundled_tables()


def bundled_files() -> list[Path]:
    """The bundled holiday table files, by name."""
    folder = Path(__file__).resolve().parent / "holidays"
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith((".yaml", ".yml")))
