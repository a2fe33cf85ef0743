"""Report periods: a year (``2026``), a half year (``2026H2``) or a quarter (``2026Q3``).

A period is the dates it covers, first day included and the day after its last excluded, in the
jurisdiction's calendar (Asia/Shanghai). Pure: no clock, no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

__all__ = ["GRAINS", "PATTERNS", "ReportPeriod", "parse_period"]

GRAINS = {"year": "2026", "half": "2026H1, 2026H2", "quarter": "2026Q1 … 2026Q4"}
PATTERNS = {
    "year": re.compile(r"^(?P<year>[0-9]{4})$"),
    "half": re.compile(r"^(?P<year>[0-9]{4})H(?P<part>[12])$"),
    "quarter": re.compile(r"^(?P<year>[0-9]{4})Q(?P<part>[1-4])$"),
}
_MONTHS = {"year": 12, "half": 6, "quarter": 3}
_LABELS = {"year": "{y}年", "half": "{y}年{p}", "quarter": "{y}年第{p}季度"}
_HALVES = {1: "上半年", 2: "下半年"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportPeriod:
    key: str  # 2026H2
    grain: str  # year | half | quarter
    year: int
    part: int  # 1 for a year; 1–2 for a half; 1–4 for a quarter
    start: dt.date  # first day
    end: dt.date  # the day after the last

    @property
    def label(self) -> str:
        """The period in Chinese: 2026年下半年, 2026年第3季度, 2026年."""
        part = _HALVES[self.part] if self.grain == "half" else str(self.part)
        return _LABELS[self.grain].format(y=self.year, p=part)

    def previous(self) -> ReportPeriod:
        """The period of the same grain before this one."""
        if self.part > 1:
            return _make(self.grain, self.year, self.part - 1)
        return _make(self.grain, self.year - 1, 12 // _MONTHS[self.grain])

    def contains(self, other: ReportPeriod) -> bool:
        return self.start <= other.start and other.end <= self.end


def _make(grain: str, year: int, part: int) -> ReportPeriod:
    months = _MONTHS[grain]
    first_month = (part - 1) * months + 1
    start = dt.date(year, first_month, 1)
    after = first_month + months
    end = dt.date(year + 1, 1, 1) if after > 12 else dt.date(year, after, 1)
    key = str(year) if grain == "year" else f"{year}{'H' if grain == 'half' else 'Q'}{part}"
    return ReportPeriod(key=key, grain=grain, year=year, part=part, start=start, end=end)


def parse_period(text: str, allowed: tuple[str, ...] = ("year", "half", "quarter")) -> ReportPeriod | None:
    """The period ``text`` names, if it is of one of the ``allowed`` grains; else None."""
    value = text.strip().upper()
    for grain in allowed:
        found = PATTERNS[grain].match(value)
        if found is not None:
            year = int(found["year"])
            if not 2000 <= year <= 2100:
                return None
            return _make(grain, year, int(found.groupdict().get("part") or 1))
    return None
