"""The Chinese working-day calendar: which days are working days, and when a period ends.

Deadlines in 工作日 count working days under the official calendar (weekend make-up days
included, the start day not counted); periods in days, months and years run from the day after
the start day and move to the next working day when they end on a day off (民法典 arts. 201–203).
Where a day's status comes from is, in order: a loaded holiday table for its year, the
``chinesecalendar`` package (2004–2026 in version 1.11), then the statutory holidays of
《全国年节及纪念日放假办法》 plus weekends, marked provisional. A jurisdiction's local days off
are days off on top.

Everything here is a pure computation over data handed in: it must not read files, the network or
the clock (holiday tables are loaded by ``definitions.holidays`` and passed in), and it must never
fail for a year merely because no source knows that year's arrangement.

It runs past 500 lines and does one job: the three sources of a day's status (tables, the
package, the statutory rules with their lunar festivals and substitute days) and the
arithmetic on top of them share one per-day index, and splitting them would split that index.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from itertools import groupby
from types import MappingProxyType
from typing import Final

import chinese_calendar

# borax ships no type information (no py.typed); its two calls used here are wrapped and typed below.
from borax.calendars.lunardate import LunarDate, TermUtils

from definitions.holidays import HolidayTable

__all__ = [
    "CalendarError",
    "DayInfo",
    "DueDate",
    "WorkingCalendar",
    "statutory_days_off",
]

# English names of the statutory holidays, for the bilingual ``DayInfo.reason``.
_HOLIDAY_NAMES_EN: Final[Mapping[str, str]] = MappingProxyType(
    {
        "元旦": "New Year's Day",
        "春节": "Spring Festival",
        "清明节": "Tomb-sweeping Day",
        "劳动节": "Labour Day",
        "端午节": "Dragon Boat Festival",
        "中秋节": "Mid-autumn Festival",
        "国庆节": "National Day",
    }
)

# chinesecalendar's holiday values (English) → the names the State Council notices use.
_CC_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "New Year's Day": "元旦",
        "Spring Festival": "春节",
        "Tomb-sweeping Day": "清明节",
        "Labour Day": "劳动节",
        "Dragon Boat Festival": "端午节",
        "Mid-autumn Festival": "中秋节",
        "National Day": "国庆节",
    }
)

_SUBSTITUTE: Final = "（补假）"  # a statutory day on a weekend, made up on the next working day
_LUNAR_YEARS: Final = range(1900, 2101)  # the years borax's lunar and solar-term tables cover
_FIRST_YEAR, _LAST_YEAR = date.min.year, date.max.year

SOURCE_CHINESECALENDAR: Final = "chinesecalendar"
SOURCE_TABLE: Final = "table"
SOURCE_PROVISIONAL_TABLE: Final = "table (provisional)"
SOURCE_STATUTORY: Final = "statutory rules (provisional)"


class CalendarError(ValueError):
    """A calendar computation was asked for something it cannot answer.

    Raised for negative periods and for dates beyond the range of ``datetime.date``
    (years 1–9999) — never because a year's holiday arrangement is unknown.

    Attributes:
        problem: What was wrong with the request.
    """

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True, slots=True, kw_only=True)
class DayInfo:
    """The status of one day and why.

    Attributes:
        date: The day.
        working: True on a working day (including a weekend make-up working day).
        reason: Chinese first, then English, e.g. ``"国庆节 National Day"``, ``"周末 weekend"``,
            ``"调休上班（国庆节） make-up working day (National Day)"``, ``"工作日 working day"``.
        provisional: True when the status came from the statutory fallback rules or from a
            provisional holiday table, so it may change when the official table arrives.
        holiday: The Chinese name of the holiday the day is off for or made up for
            (a local day off's name for local days), or ``None`` for ordinary days and weekends.
    """

    date: date
    working: bool
    reason: str
    provisional: bool
    holiday: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DueDate:
    """A computed due date, with what moved it.

    Attributes:
        start: The start day (起算日); it is not counted.
        due: The last day of the period: a working day.
        provisional: True when a day that decided the result has a provisional status.
        rule: The counting rule, Chinese then English.
        moved_by: For a working-day period, the named days off skipped inside it (holidays and
            local days off; ordinary weekends are not listed) and the make-up working days
            counted; for a calendar period or ``n == 0``, every non-working day the end was
            rolled forward over. Sorted by date.
        period_end: For a calendar period, the last day before any roll-forward; otherwise ``None``.
        notes: Chinese-first lines saying which years were provisional and why.
    """

    start: date
    due: date
    provisional: bool
    rule: str
    moved_by: tuple[DayInfo, ...]
    period_end: date | None = None
    notes: tuple[str, ...] = ()

    def explain(self) -> list[str]:
        """Say in words why the due date is what it is, Chinese first.

        Consecutive days skipped for the same reason are grouped into one line.

        Returns:
            Lines such as ``"起算日 2026-09-30（不计入）"``,
            ``"跳过 2026-10-01 至 2026-10-07 国庆节"``, ``"计入调休上班日 2026-10-10"``,
            ``"到期日 2026-10-16"``.
        """
        lines = [f"计算规则：{self.rule}", f"起算日 {self.start.isoformat()}（不计入）"]
        if self.period_end is not None:
            rolled = "，为非工作日，顺延至下一个工作日" if self.period_end != self.due else ""
            lines.append(f"期间末日 {self.period_end.isoformat()}{rolled}")
        for (working, label), run in groupby(self.moved_by, key=_group_key):
            days = list(run)
            for first, last in _consecutive_runs([d.date for d in days]):
                span = first.isoformat() if first == last else f"{first.isoformat()} 至 {last.isoformat()}"
                lines.append(f"计入调休上班日 {span}" if working else f"跳过 {span} {label}")
        lines.append(f"到期日 {self.due.isoformat()}")
        lines.extend(self.notes)
        return lines


def _group_key(day: DayInfo) -> tuple[bool, str]:
    return day.working, day.holiday if day.holiday is not None else day.reason.split(" ", 1)[0]


def _consecutive_runs(days: list[date]) -> Iterator[tuple[date, date]]:
    first = last = days[0]
    for d in days[1:]:
        if d.toordinal() != last.toordinal() + 1:
            yield first, last
            first = d
        last = d
    yield first, last


# --- per-year data ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Year:
    """One year, precomputed once: named days, and the sorted ordinals of its working days."""

    year: int
    source: str
    provisional: bool
    days_off: Mapping[date, str]  # named days off (holidays); weekends are implicit
    makeup: Mapping[date, str]  # weekend days worked, → the holiday they make up for
    local: Mapping[date, str]  # the jurisdiction's own days off
    working: tuple[int, ...]  # ordinals of working days, ascending
    working_set: frozenset[int]
    named: tuple[int, ...]  # ordinals of every day in days_off, makeup or local, ascending
    note: str  # why the year is provisional, or ""


@dataclass(frozen=True, slots=True)
class _Base:
    source: str
    provisional: bool
    days_off: Mapping[date, str]
    makeup: Mapping[date, str]
    note: str


@cache
def _chinesecalendar_years() -> range:
    years = {d.year for d in chinese_calendar.holidays}
    return range(min(years), max(years) + 1)


@cache
def _chinesecalendar_year(year: int) -> _Base:
    def name(value: str) -> str:
        return _CC_NAMES.get(value) or str(chinese_calendar.Holiday(value).chinese)

    off = {d: name(v) for d, v in chinese_calendar.holidays.items() if d.year == year}
    work = {d: name(v) for d, v in chinese_calendar.workdays.items() if d.year == year}
    return _Base(SOURCE_CHINESECALENDAR, False, MappingProxyType(off), MappingProxyType(work), "")


@cache
def _statutory_year(year: int) -> _Base:
    off = statutory_days_off(year)
    if year in _LUNAR_YEARS:
        note = (
            f"暂定：{year}年放假安排未知，按周末和法定节假日（含补假、不含调休）推算，"
            "官方安排载入后应重新计算"
        )
    else:
        note = f"暂定：{year}年超出农历换算范围，仅按周末和元旦、劳动节、国庆节推算，官方安排载入后应重新计算"
    return _Base(SOURCE_STATUTORY, True, MappingProxyType(off), MappingProxyType({}), note)


def _table_base(table: HolidayTable) -> _Base:
    if table.provisional:
        note = f"暂定：{table.year}年使用暂定放假表，官方安排公布后应重新计算"
        return _Base(SOURCE_PROVISIONAL_TABLE, True, table.days_off, table.makeup_workdays, note)
    return _Base(SOURCE_TABLE, False, table.days_off, table.makeup_workdays, "")


def statutory_days_off(year: int) -> dict[date, str]:
    """The statutory days off of a year under 《全国年节及纪念日放假办法》 (2024 revision), no 调休.

    元旦 1 day, 春节 4 days (除夕 to 初三), 清明节 1, 劳动节 2 (5/1–2), 端午节 1, 中秋节 1,
    国庆节 3 (10/1–3). A statutory day on a Saturday or Sunday, or falling on another holiday's day,
    is made up (补假) on the next weekday that is not already off, named e.g. ``"劳动节（补假）"``.
    Lunar festivals and 清明 come from borax's tables (1900–2100); outside those years only the
    fixed-date holidays are returned. Used for years no table or ``chinesecalendar`` knows, with
    the current rules applied to every year (also to years before 2025, when they differed).

    Args:
        year: The Gregorian year.

    Returns:
        Date → holiday name, sorted by date.
    """
    entries: list[tuple[date, str]] = [(date(year, 1, 1), "元旦")]
    entries += [(date(year, 5, day), "劳动节") for day in (1, 2)]
    entries += [(date(year, 10, day), "国庆节") for day in (1, 2, 3)]
    if year in _LUNAR_YEARS:
        new_year = _lunar_to_solar(year, 1, 1)
        entries += [(new_year + timedelta(days=k), "春节") for k in (-1, 0, 1, 2)]
        entries.append((_qingming(year), "清明节"))
        entries.append((_lunar_to_solar(year, 5, 5), "端午节"))
        entries.append((_lunar_to_solar(year, 8, 15), "中秋节"))
    entries.sort(key=lambda e: e[0])
    off: dict[date, str] = {}
    owed: list[tuple[date, str]] = []
    for d, name in entries:
        if d in off:
            off[d] = f"{off[d]}、{name}"
            owed.append((d, name))
        else:
            off[d] = name
            if d.weekday() >= 5:
                owed.append((d, name))
    for d, name in owed:
        substitute = d + timedelta(days=1)
        while substitute.weekday() >= 5 or substitute in off:
            substitute += timedelta(days=1)
        off[substitute] = name + _SUBSTITUTE
    return dict(sorted(off.items()))


def _lunar_to_solar(year: int, month: int, day: int) -> date:
    solar: date = LunarDate(year, month, day).to_solar_date()
    return solar


def _qingming(year: int) -> date:
    solar: date = TermUtils.nth_term_day(year, term_name="清明")
    return solar


# --- the calendar -------------------------------------------------------------------------------


class WorkingCalendar:
    """The official working-day calendar, with loaded tables and local days off.

    Day lookups are cached per year (a sorted tuple of working-day ordinals), so counting
    N working days is a binary search per year touched, not a walk over days.

    Args:
        tables: Holiday tables; each replaces any other source for its year (a later table
            for the same year replaces an earlier one).
        local_days_off: The jurisdiction's own days off, date → name; they are days off even
            when the national calendar has a make-up working day there.
    """

    def __init__(
        self, tables: Iterable[HolidayTable] = (), local_days_off: Mapping[date, str] | None = None
    ) -> None:
        self._tables: dict[int, HolidayTable] = {t.year: t for t in tables}
        self._local: Mapping[date, str] = MappingProxyType(dict(local_days_off or {}))
        self._local_by_year: dict[int, dict[date, str]] = {}
        for d, name in self._local.items():
            self._local_by_year.setdefault(d.year, {})[d] = name
        self._years: dict[int, _Year] = {}
        self._named_infos: dict[date, DayInfo] = {}
        # due dates already computed: the calendar never changes, and commands on the same day
        # ask for the same few periods from the same start
        self._dues: dict[tuple[date, int, int, int, int], DueDate] = {}

    # ----- single days

    def day(self, d: date) -> DayInfo:
        """The status of one day and its reason.

        Args:
            d: The day.

        Returns:
            Whether it is a working day, why, and whether that is provisional.
        """
        info = self._named_infos.get(d)
        if info is not None:
            return info
        y = self._year(d.year)
        info = self._info(y, d)
        if info.holiday is not None:  # holidays, make-up and local days: a few dozen per year
            self._named_infos[d] = info
        return info

    def is_working_day(self, d: date) -> bool:
        """Whether a day is a working day (weekend make-up working days included).

        Args:
            d: The day.

        Returns:
            True on a working day.
        """
        return d.toordinal() in self._year(d.year).working_set

    # ----- periods

    def add_working_days(self, start: date, n: int) -> DueDate:
        """The due date of a period of ``n`` working days from ``start``.

        The start day is not counted: "within N working days of day S" is due on the Nth working
        day after S. With ``n == 0`` the due date is ``start`` itself if it is a working day,
        otherwise the next working day.

        Args:
            start: The start day (e.g. the day of receipt).
            n: The number of working days, ``>= 0``.

        Returns:
            The due date, the rule, the holidays skipped and make-up days counted.

        Raises:
            CalendarError: If ``n`` is negative or the due date would fall after 9999-12-31.
        """
        key = (start, n, -1, -1, -1)
        found = self._dues.get(key)
        if found is None:
            found = self._add_working_days(start, n)
            if len(self._dues) < 100_000:
                self._dues[key] = found
        return found

    def _add_working_days(self, start: date, n: int) -> DueDate:
        if n < 0:
            raise CalendarError(f"a period of working days cannot be negative: {n}")
        if n == 0:
            due = self._next_working(start.toordinal(), inclusive=True)
            rolled = self._all_days(start.toordinal(), due)
            return self._due(
                start=start,
                due=due,
                rule="当日（当日为非工作日的，顺延至下一个工作日） / the same day, or the next working day",
                moved_by=rolled,
                decided_from=start,
            )
        ordinal, remaining, year = start.toordinal(), n, start.year
        while True:
            y = self._year_checked(year)
            i = bisect.bisect_right(y.working, ordinal)
            available = len(y.working) - i
            if remaining <= available:
                due_ordinal = y.working[i + remaining - 1]
                break
            remaining -= available
            year += 1
        moved = self._named_days(start.toordinal() + 1, due_ordinal)
        return self._due(
            start=start,
            due=date.fromordinal(due_ordinal),
            rule=f"{n}个工作日（起算日不计入） / {n} working days, start day not counted",
            moved_by=moved,
            decided_from=start + timedelta(days=1),
        )

    def add_period(self, start: date, *, days: int = 0, months: int = 0, years: int = 0) -> DueDate:
        """The due date of a period in calendar days, months and years (民法典 arts. 201–203).

        The period runs from the day after ``start``. Years and months end on the same day number
        in the target month, or on that month's last day when it has no such day; days are then
        added. If the last day is not a working day, the period ends on the next working day.

        Args:
            start: The start day; it is not counted.
            days: Calendar days, ``>= 0``.
            months: Months, ``>= 0``.
            years: Years, ``>= 0``.

        Returns:
            The due date, with the days it was rolled forward over.

        Raises:
            CalendarError: If a component is negative or the end falls after 9999-12-31.
        """
        key = (start, -1, days, months, years)
        found = self._dues.get(key)
        if found is None:
            found = self._add_period(start, days=days, months=months, years=years)
            if len(self._dues) < 100_000:
                self._dues[key] = found
        return found

    def _add_period(self, start: date, *, days: int, months: int, years: int) -> DueDate:
        if min(days, months, years) < 0:
            raise CalendarError(f"a period cannot be negative: {years} years, {months} months, {days} days")
        try:
            end = _add_months(start, years * 12 + months) + timedelta(days=days)
        except (OverflowError, ValueError) as exc:
            raise CalendarError(f"the period from {start} ends after {date.max}") from exc
        due = self._next_working(end.toordinal(), inclusive=True)
        return self._due(
            start=start,
            due=due,
            rule=_period_rule(days, months, years),
            moved_by=self._all_days(end.toordinal(), due),
            decided_from=end,
            period_end=end,
        )

    def working_days_before(self, due: date, n: int) -> date:
        """The Nth working day before ``due`` (e.g. for "5 working days before the due date").

        With ``n == 0``: ``due`` itself if it is a working day, otherwise the working day before.

        Args:
            due: The reference day; it is not counted.
            n: The number of working days, ``>= 0``.

        Returns:
            The working day.

        Raises:
            CalendarError: If ``n`` is negative or the day would fall before 0001-01-01.
        """
        if n < 0:
            raise CalendarError(f"a number of working days cannot be negative: {n}")
        ordinal = due.toordinal()
        if n == 0:
            return self._previous_working(ordinal, inclusive=True)
        remaining, year = n, due.year
        while True:
            y = self._year_checked(year)
            i = bisect.bisect_left(y.working, ordinal)  # working days of the year before `due`
            if remaining <= i:
                return date.fromordinal(y.working[i - remaining])
            remaining -= i
            year -= 1

    def working_days_between(self, start: date, end: date) -> int:
        """The number of working days in ``(start, end]`` (e.g. remaining days of a paused deadline).

        Args:
            start: Not counted.
            end: Counted.

        Returns:
            The count; negative (the count in ``(end, start]``, negated) when ``end < start``.
        """
        if end < start:
            return -self.working_days_between(end, start)
        low, high = start.toordinal(), end.toordinal()
        count = 0
        for year in range(start.year, end.year + 1):
            w = self._year(year).working
            count += bisect.bisect_right(w, high) - bisect.bisect_right(w, low)
        return count

    # ----- data

    def with_table(self, table: HolidayTable) -> WorkingCalendar:
        """A new calendar with one more holiday table, replacing any table for the same year.

        Args:
            table: The table.

        Returns:
            The new calendar; this one is unchanged.
        """
        return WorkingCalendar([*self._tables.values(), table], self._local)

    def known_years(self) -> dict[int, str]:
        """The years whose arrangement is known, and from where.

        Returns:
            Year → ``"chinesecalendar"``, ``"table"`` or ``"table (provisional)"``, sorted by
            year. Years not listed are computed from the statutory rules, provisionally.
        """
        known = dict.fromkeys(_chinesecalendar_years(), SOURCE_CHINESECALENDAR)
        for year, table in self._tables.items():
            known[year] = SOURCE_PROVISIONAL_TABLE if table.provisional else SOURCE_TABLE
        return dict(sorted(known.items()))

    # ----- internals

    def _base(self, year: int) -> _Base:
        if year in self._tables:
            return _table_base(self._tables[year])
        if year in _chinesecalendar_years():
            return _chinesecalendar_year(year)
        return _statutory_year(year)

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        base = self._base(year)
        local = MappingProxyType(self._local_by_year.get(year, {}))
        first = date(year, 1, 1).toordinal()
        last = date(year, 12, 31).toordinal()
        working = tuple(
            o for o in range(first, last + 1) if self._is_working(date.fromordinal(o), base, local)
        )
        named = sorted({d.toordinal() for d in (*base.days_off, *base.makeup, *local)})
        built = _Year(
            year=year,
            source=base.source,
            provisional=base.provisional,
            days_off=base.days_off,
            makeup=base.makeup,
            local=local,
            working=working,
            working_set=frozenset(working),
            named=tuple(named),
            note=base.note,
        )
        self._years[year] = built
        return built

    @staticmethod
    def _is_working(d: date, base: _Base, local: Mapping[date, str]) -> bool:
        if d in local or d in base.days_off:
            return False
        return d.weekday() < 5 or d in base.makeup

    def _year_checked(self, year: int) -> _Year:
        if not _FIRST_YEAR <= year <= _LAST_YEAR:
            raise CalendarError(f"the result would fall outside {date.min} – {date.max}")
        return self._year(year)

    def _info(self, y: _Year, d: date) -> DayInfo:
        p = y.provisional
        if d in y.local:
            name = y.local[d]
            return DayInfo(
                date=d,
                working=False,
                reason=f"{name}（地方休息日） local day off",
                provisional=p,
                holiday=name,
            )
        if d in y.days_off:
            name = y.days_off[d]
            return DayInfo(date=d, working=False, reason=_bilingual(name), provisional=p, holiday=name)
        if d in y.makeup:
            name = y.makeup[d]
            english = _english(name)
            reason = f"调休上班（{name}） make-up working day" + (f" ({english})" if english else "")
            return DayInfo(date=d, working=True, reason=reason, provisional=p, holiday=name)
        if d.weekday() >= 5:
            return DayInfo(date=d, working=False, reason="周末 weekend", provisional=p)
        return DayInfo(date=d, working=True, reason="工作日 working day", provisional=p)

    def _next_working(self, ordinal: int, *, inclusive: bool) -> date:
        year = date.fromordinal(ordinal).year
        while True:
            w = self._year_checked(year).working
            i = (bisect.bisect_left if inclusive else bisect.bisect_right)(w, ordinal)
            if i < len(w):
                return date.fromordinal(w[i])
            year += 1

    def _previous_working(self, ordinal: int, *, inclusive: bool) -> date:
        year = date.fromordinal(ordinal).year
        while True:
            w = self._year_checked(year).working
            i = (bisect.bisect_right if inclusive else bisect.bisect_left)(w, ordinal)
            if i > 0:
                return date.fromordinal(w[i - 1])
            year -= 1

    def _named_days(self, first: int, last: int) -> tuple[DayInfo, ...]:
        """Named days off in [first, last) and make-up days counted in [first, last]."""
        found: list[DayInfo] = []
        for year in range(date.fromordinal(first).year, date.fromordinal(last).year + 1):
            y = self._year(year)
            lo = bisect.bisect_left(y.named, first)
            hi = bisect.bisect_right(y.named, last)
            for o in y.named[lo:hi]:
                info = self.day(date.fromordinal(o))
                if info.working or o < last:
                    found.append(info)
        return tuple(found)

    def _all_days(self, first: int, due: date) -> tuple[DayInfo, ...]:
        """Every day in [first, due): the non-working days a period's end was rolled over."""
        return tuple(self.day(date.fromordinal(o)) for o in range(first, due.toordinal()))

    def _due(
        self,
        *,
        start: date,
        due: date,
        rule: str,
        moved_by: tuple[DayInfo, ...],
        decided_from: date,
        period_end: date | None = None,
    ) -> DueDate:
        # The days whose status decided the result are those from `decided_from` to `due`.
        years = [self._year(y) for y in range(min(decided_from, due).year, due.year + 1)]
        notes = tuple(y.note for y in years if y.provisional)
        return DueDate(
            start=start,
            due=due,
            provisional=bool(notes),
            rule=rule,
            moved_by=moved_by,
            period_end=period_end,
            notes=notes,
        )


def _english(name: str) -> str | None:
    base, substitute = (name[: -len(_SUBSTITUTE)], True) if name.endswith(_SUBSTITUTE) else (name, False)
    parts = [_HOLIDAY_NAMES_EN.get(part) for part in base.split("、")]
    if any(p is None for p in parts):
        return None
    english = " / ".join(p for p in parts if p)
    return f"{english} (substitute day off)" if substitute else english


def _bilingual(name: str) -> str:
    english = _english(name)
    return f"{name} {english}" if english else name


def _add_months(start: date, months: int) -> date:
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    if year > _LAST_YEAR:
        raise OverflowError(year)
    return date(year, month, min(start.day, _days_in_month(year, month)))


def _days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - timedelta(days=1)).day


def _period_rule(days: int, months: int, years: int) -> str:
    zh = "".join(
        text
        for value, text in ((years, f"{years}年"), (months, f"{months}个月"), (days, f"{days}日"))
        if value
    )
    en = " ".join(
        text
        for value, text in (
            (years, f"{years} year{'s' if years != 1 else ''}"),
            (months, f"{months} month{'s' if months != 1 else ''}"),
            (days, f"{days} day{'s' if days != 1 else ''}"),
        )
        if value
    )
    return (
        f"{zh or '0日'}（自起算日次日起算，末日为非工作日的顺延至下一个工作日） / "
        f"{en or '0 days'} from the day after the start day;"
        " an end on a day off moves to the next working day"
    )
