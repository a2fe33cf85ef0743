"""The working-day calendar against the official 2026 arrangement, and holiday tables as data.

Single days carry their official status and reason; working-day and calendar-day periods give
the due dates of the 2026 notice and explain every skipped holiday and counted make-up day;
years beyond every source fall back to the statutory holidays and are marked provisional; a
loaded holiday table takes precedence and clears the mark; local days off are skipped and
named; the fast counting path agrees with counting day by day. Parsing holiday table files is
pinned in ``tests/definitions/test_holiday_tables.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.holiday_tables import TABLE_2028

from definitions.holidays import (
    HolidayTable,
    bundled_tables,
    parse_holiday_table,
)
from workflow.core.calendar import CalendarError, DayInfo, WorkingCalendar, statutory_days_off

D = date.fromisoformat

# The State Council's 2026 notice (国办发明电〔2025〕…, 2025-11-04), as listed in DOMAIN.md.
OFFICIAL_2026_OFF = [
    ("2026-01-01", "2026-01-03"),
    ("2026-02-15", "2026-02-23"),
    ("2026-04-04", "2026-04-06"),
    ("2026-05-01", "2026-05-05"),
    ("2026-06-19", "2026-06-21"),
    ("2026-09-25", "2026-09-27"),
    ("2026-10-01", "2026-10-07"),
]
OFFICIAL_2026_MAKEUP = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def _bundled(year: int) -> HolidayTable:
    return {t.year: t for t in bundled_tables()}[year]


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


# --- single days -------------------------------------------------------------------------------


def test_2026_days_off_and_makeup_days_are_exactly_the_official_notice(cal: WorkingCalendar) -> None:
    weekday_off = {
        d for d in _days(D("2026-01-01"), D("2026-12-31")) if d.weekday() < 5 and not cal.is_working_day(d)
    }
    weekend_worked = {
        d for d in _days(D("2026-01-01"), D("2026-12-31")) if d.weekday() >= 5 and cal.is_working_day(d)
    }
    expected_off = {d for a, b in OFFICIAL_2026_OFF for d in _days(D(a), D(b)) if d.weekday() < 5}
    assert weekday_off == expected_off
    assert weekend_worked == {D(d) for d in OFFICIAL_2026_MAKEUP}


@pytest.mark.parametrize(
    ("day", "working", "reason"),
    [
        ("2026-10-01", False, "国庆节 National Day"),
        ("2026-10-03", False, "国庆节 National Day"),
        ("2026-10-10", True, "调休上班（国庆节） make-up working day (National Day)"),
        ("2026-09-20", True, "调休上班（国庆节） make-up working day (National Day)"),
        ("2026-02-28", True, "调休上班（春节） make-up working day (Spring Festival)"),
        ("2026-01-04", True, "调休上班（元旦） make-up working day (New Year's Day)"),
        ("2026-02-23", False, "春节 Spring Festival"),
        ("2026-04-06", False, "清明节 Tomb-sweeping Day"),
        ("2026-05-05", False, "劳动节 Labour Day"),
        ("2026-06-19", False, "端午节 Dragon Boat Festival"),
        ("2026-09-25", False, "中秋节 Mid-autumn Festival"),
        ("2026-10-11", False, "周末 weekend"),
        ("2026-10-09", True, "工作日 working day"),
    ],
)
def test_day_reports_official_2026_status_and_reason(
    cal: WorkingCalendar, day: str, working: bool, reason: str
) -> None:
    info = cal.day(D(day))
    assert (info.working, info.reason, info.provisional) == (working, reason, False)
    assert cal.is_working_day(D(day)) is working


# --- working-day periods -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        pytest.param("2026-03-02", 1, "2026-03-03", id="start-day-not-counted"),
        pytest.param("2026-03-06", 1, "2026-03-09", id="friday-start-skips-the-weekend"),
        pytest.param("2026-03-07", 1, "2026-03-09", id="saturday-start"),
        pytest.param("2026-10-03", 1, "2026-10-08", id="start-inside-a-holiday"),
        pytest.param("2026-03-03", 0, "2026-03-03", id="zero-days-on-a-working-day-is-the-start"),
        pytest.param("2026-10-03", 0, "2026-10-08", id="zero-days-on-a-holiday-rolls-forward"),
        pytest.param("2026-02-13", 1, "2026-02-14", id="make-up-saturday-before-spring-festival"),
        pytest.param("2026-02-12", 3, "2026-02-24", id="across-spring-festival"),
        pytest.param("2026-02-13", 6, "2026-02-28", id="onto-make-up-saturday-feb-28"),
        pytest.param("2026-09-18", 1, "2026-09-20", id="onto-make-up-sunday-sep-20"),
        pytest.param("2026-09-24", 1, "2026-09-28", id="across-mid-autumn"),
        pytest.param("2026-09-30", 3, "2026-10-10", id="across-national-day-onto-make-up-saturday"),
        pytest.param("2026-09-30", 8, "2026-10-16", id="eight-days-across-national-day"),
        pytest.param("2026-09-30", 10, "2026-10-20", id="ten-days-across-national-day"),
        pytest.param("2026-04-30", 2, "2026-05-07", id="across-labour-day"),
        pytest.param("2026-04-30", 4, "2026-05-09", id="onto-make-up-saturday-may-9"),
        pytest.param("2025-12-31", 1, "2026-01-04", id="across-new-year-onto-make-up-sunday"),
    ],
)
def test_working_day_period_due_dates_2026(cal: WorkingCalendar, start: str, n: int, due: str) -> None:
    result = cal.add_working_days(D(start), n)
    assert (result.start, result.due, result.provisional) == (D(start), D(due), False)


def test_working_day_period_explains_skipped_holiday_and_counted_makeup_day(cal: WorkingCalendar) -> None:
    result = cal.add_working_days(D("2026-09-30"), 8)
    assert result.rule == "8个工作日（起算日不计入） / 8 working days, start day not counted"
    assert result.explain() == [
        "计算规则：8个工作日（起算日不计入） / 8 working days, start day not counted",
        "起算日 2026-09-30（不计入）",
        "跳过 2026-10-01 至 2026-10-07 国庆节",
        "计入调休上班日 2026-10-10",
        "到期日 2026-10-16",
    ]


def test_moved_by_lists_makeup_day_counted_and_holidays_skipped_across_spring_festival(
    cal: WorkingCalendar,
) -> None:
    result = cal.add_working_days(D("2026-02-12"), 3)
    assert [(d.date, d.working) for d in result.moved_by] == [(D("2026-02-14"), True)] + [
        (d, False) for d in _days(D("2026-02-15"), D("2026-02-23"))
    ]
    assert result.explain()[2:] == [
        "计入调休上班日 2026-02-14",
        "跳过 2026-02-15 至 2026-02-23 春节",
        "到期日 2026-02-24",
    ]


# --- calendar periods --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "period", "end", "due"),
    [
        pytest.param(
            "2026-09-01", {"days": 30}, "2026-10-01", "2026-10-08", id="30-days-ending-on-national-day"
        ),
        pytest.param(
            "2026-02-01", {"days": 15}, "2026-02-16", "2026-02-24", id="days-ending-in-spring-festival"
        ),
        pytest.param("2026-03-01", {"days": 6}, "2026-03-07", "2026-03-09", id="days-ending-on-saturday"),
        pytest.param(
            "2026-09-10", {"days": 30}, "2026-10-10", "2026-10-10", id="end-on-make-up-saturday-stays"
        ),
        pytest.param(
            "2026-01-31", {"months": 1}, "2026-02-28", "2026-02-28", id="month-end-clamps-to-feb-28"
        ),
        pytest.param("2025-01-31", {"months": 1}, "2025-02-28", "2025-02-28", id="month-end-clamps-2025"),
        pytest.param("2026-03-31", {"months": 1}, "2026-04-30", "2026-04-30", id="month-end-clamps-to-30th"),
        pytest.param("2024-02-29", {"years": 1}, "2025-02-28", "2025-02-28", id="leap-day-plus-a-year"),
        pytest.param(
            "2026-09-01", {"months": 1}, "2026-10-01", "2026-10-08", id="month-ending-on-national-day"
        ),
        pytest.param(
            "2025-10-01", {"years": 1}, "2026-10-01", "2026-10-08", id="year-ending-on-national-day"
        ),
        pytest.param(
            "2026-01-31", {"months": 1, "days": 1}, "2026-03-01", "2026-03-02", id="months-then-days"
        ),
        pytest.param("2026-03-03", {}, "2026-03-03", "2026-03-03", id="empty-period-on-a-working-day"),
        pytest.param("2026-10-31", {"months": 2}, "2026-12-31", "2026-12-31", id="month-end-into-december"),
        pytest.param(
            "2022-12-01", {"days": 30}, "2022-12-31", "2023-01-03", id="roll-forward-across-the-year"
        ),
    ],
)
def test_calendar_period_ends_day_after_start_and_rolls_forward(
    cal: WorkingCalendar, start: str, period: dict[str, int], end: str, due: str
) -> None:
    result = cal.add_period(D(start), **period)
    assert (result.period_end, result.due, result.provisional) == (D(end), D(due), False)


def test_calendar_period_explains_the_roll_forward(cal: WorkingCalendar) -> None:
    result = cal.add_period(D("2026-09-01"), days=30)
    assert result.explain() == [
        "计算规则：30日（自起算日次日起算，末日为非工作日的顺延至下一个工作日） / "
        "30 days from the day after the start day; an end on a day off moves to the next working day",
        "起算日 2026-09-01（不计入）",
        "期间末日 2026-10-01，为非工作日，顺延至下一个工作日",
        "跳过 2026-10-01 至 2026-10-07 国庆节",
        "到期日 2026-10-08",
    ]


def test_calendar_period_rolled_over_a_plain_weekend_lists_the_weekend(cal: WorkingCalendar) -> None:
    result = cal.add_period(D("2026-03-01"), days=6)
    assert [d.reason for d in result.moved_by] == ["周末 weekend", "周末 weekend"]
    assert "跳过 2026-03-07 至 2026-03-08 周末" in result.explain()


# --- counting backwards and between --------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "n", "expected"),
    [
        pytest.param("2026-10-16", 5, "2026-10-10", id="five-before-lands-on-make-up-saturday"),
        pytest.param("2026-10-09", 1, "2026-10-08", id="one-before"),
        pytest.param("2026-10-09", 2, "2026-09-30", id="back-across-national-day"),
        pytest.param("2026-02-24", 1, "2026-02-14", id="back-across-spring-festival"),
        pytest.param("2026-01-05", 1, "2026-01-04", id="back-onto-make-up-sunday"),
        pytest.param("2026-01-04", 1, "2025-12-31", id="back-across-the-year"),
        pytest.param("2026-03-03", 0, "2026-03-03", id="zero-on-a-working-day"),
        pytest.param("2026-10-03", 0, "2026-09-30", id="zero-on-a-holiday-goes-back"),
        pytest.param("2026-01-03", 0, "2025-12-31", id="zero-on-a-holiday-goes-back-across-the-year"),
    ],
)
def test_working_days_before(cal: WorkingCalendar, due: str, n: int, expected: str) -> None:
    assert cal.working_days_before(D(due), n) == D(expected)


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        pytest.param("2026-09-30", "2026-10-16", 8, id="across-national-day"),
        pytest.param("2026-02-13", "2026-02-28", 6, id="spring-festival-with-two-make-up-days"),
        pytest.param("2026-10-01", "2026-10-07", 0, id="inside-a-holiday"),
        pytest.param("2026-03-03", "2026-03-03", 0, id="same-day"),
        pytest.param("2025-12-31", "2026-01-05", 2, id="across-the-year"),
        pytest.param("2026-10-16", "2026-09-30", -8, id="reversed-is-negative"),
    ],
)
def test_working_days_between_counts_start_exclusive_end_inclusive(
    cal: WorkingCalendar, start: str, end: str, count: int
) -> None:
    assert cal.working_days_between(D(start), D(end)) == count


# --- beyond every source: the statutory fallback ---------------------------------------------------


def test_year_beyond_every_source_is_computed_provisionally(cal: WorkingCalendar) -> None:
    result = cal.add_working_days(D("2028-01-24"), 1)  # 2028: 除夕 01-25, 春节 01-26
    assert (result.due, result.provisional) == (D("2028-01-31"), True)
    assert result.notes == (
        "暂定：2028年放假安排未知，按周末和法定节假日（含补假、不含调休）推算，官方安排载入后应重新计算",
    )
    assert cal.day(D("2028-01-26")) == DayInfo(
        date=D("2028-01-26"), working=False, reason="春节 Spring Festival", provisional=True, holiday="春节"
    )


def test_deadline_crossing_from_a_known_year_into_an_unknown_one_is_provisional(cal: WorkingCalendar) -> None:
    result = cal.add_working_days(D("2026-12-30"), 3)  # no table for 2027 here: 01-01 元旦 only
    assert (result.due, result.provisional) == (D("2027-01-05"), True)
    assert cal.add_working_days(D("2026-12-21"), 3).provisional is False


def test_statutory_fallback_substitutes_weekend_and_coinciding_holidays(cal: WorkingCalendar) -> None:
    result = cal.add_working_days(D("2028-09-28"), 3)  # 国庆 10/1 is a Sunday, 中秋 falls on 10/3
    assert result.due == D("2028-10-09")
    assert result.explain()[2:-2] == [
        "跳过 2028-10-01 至 2028-10-02 国庆节",
        "跳过 2028-10-03 国庆节、中秋节",
        "跳过 2028-10-04 国庆节（补假）",
        "跳过 2028-10-05 中秋节（补假）",
    ]


def test_statutory_days_off_2027_follow_the_2024_revision() -> None:
    expected = {
        "2027-01-01": "元旦",
        **{f"2027-02-0{d}": "春节" for d in (5, 6, 7, 8)},
        "2027-02-09": "春节（补假）",
        "2027-02-10": "春节（补假）",
        "2027-04-05": "清明节",
        "2027-05-01": "劳动节",
        "2027-05-02": "劳动节",
        "2027-05-03": "劳动节（补假）",
        "2027-05-04": "劳动节（补假）",
        "2027-06-09": "端午节",
        "2027-09-15": "中秋节",
        "2027-10-01": "国庆节",
        "2027-10-02": "国庆节",
        "2027-10-03": "国庆节",
        "2027-10-04": "国庆节（补假）",
        "2027-10-05": "国庆节（补假）",
    }
    assert statutory_days_off(2027) == {D(k): v for k, v in expected.items()}


@pytest.mark.parametrize("year", [2025, 2026])
def test_statutory_days_off_are_days_off_in_the_official_calendar(cal: WorkingCalendar, year: int) -> None:
    """The fallback never invents a day off that the State Council did not give (2024 rules in force)."""
    working = [d for d in statutory_days_off(year) if cal.is_working_day(d)]
    assert working == []


@pytest.mark.parametrize("start", ["2101-09-28", "2300-02-01", "1850-01-01"])
def test_years_outside_the_lunar_tables_still_compute(cal: WorkingCalendar, start: str) -> None:
    result = cal.add_working_days(D(start), 20)
    assert result.provisional is True
    assert result.due > D(start)
    assert cal.working_days_between(D(start), result.due) == 20


def test_dates_beyond_the_python_date_range_raise_calendar_error(cal: WorkingCalendar) -> None:
    with pytest.raises(CalendarError, match="outside"):
        cal.add_working_days(D("9999-12-30"), 5)
    with pytest.raises(CalendarError, match="ends after"):
        cal.add_period(D("9999-06-01"), years=1)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.add_working_days(D("2026-03-03"), -1),
        lambda c: c.working_days_before(D("2026-03-03"), -1),
        lambda c: c.add_period(D("2026-03-03"), months=-1),
    ],
    ids=["add", "before", "period"],
)
def test_negative_periods_are_refused(
    cal: WorkingCalendar, call: Callable[[WorkingCalendar], object]
) -> None:
    with pytest.raises(CalendarError, match="negative"):
        call(cal)


# --- holiday tables as data ----------------------------------------------------------------------


def test_loading_a_2028_table_changes_the_result_and_clears_provisional(cal: WorkingCalendar) -> None:
    before = cal.add_working_days(D("2028-01-21"), 1)
    assert (before.due, before.provisional) == (D("2028-01-24"), True)

    loaded = cal.with_table(parse_holiday_table(TABLE_2028, "2028.yaml"))
    after = loaded.add_working_days(D("2028-01-21"), 1)
    assert (after.due, after.provisional, after.notes) == (D("2028-01-31"), False, ())
    assert after.explain()[2] == "跳过 2028-01-22 至 2028-01-30 春节"
    assert loaded.is_working_day(D("2028-02-05")) is True  # the table's make-up Saturday
    assert loaded.is_working_day(D("2028-10-02")) is True  # the table replaces the fallback whole
    assert loaded.known_years()[2028] == "table"
    assert 2028 not in cal.known_years()  # with_table leaves the original alone


def test_a_loaded_table_takes_precedence_over_chinesecalendar(cal: WorkingCalendar) -> None:
    table = HolidayTable(
        year=2026,
        provisional=False,
        source="corrected 2026 (test data)",
        days_off={D("2026-03-02"): "春节"},
        makeup_workdays={},
    )
    corrected = cal.with_table(table)
    assert corrected.add_working_days(D("2026-02-27"), 1).due == D("2026-03-03")
    assert corrected.is_working_day(D("2026-10-01")) is True
    assert corrected.known_years()[2026] == "table"
    assert cal.known_years()[2026] == "chinesecalendar"


def test_bundled_2027_table_is_provisional_and_used_for_2027() -> None:
    """Update this test when the published 2027 notice replaces the estimate."""
    tables = bundled_tables()
    table_2027 = _bundled(2027)
    assert table_2027.provisional is True
    assert table_2027.source.startswith("provisional:")
    cal = WorkingCalendar(tables)
    assert cal.known_years()[2027] == "table (provisional)"
    result = cal.add_working_days(D("2027-09-30"), 2)
    assert (result.due, result.provisional) == (D("2027-10-09"), True)
    assert result.notes == ("暂定：2027年使用暂定放假表，官方安排公布后应重新计算",)
    assert cal.day(D("2027-06-09")).working is False  # a one-day holiday written without `to`
    assert cal.day(D("2027-06-10")).working is True


def test_bundled_2027_table_gives_every_statutory_day_off() -> None:
    table_2027 = _bundled(2027)
    assert set(statutory_days_off(2027)) - set(table_2027.days_off) == set()


@pytest.mark.parametrize("year", [2026, 2027])
def test_no_more_than_six_working_days_in_a_row(year: int) -> None:
    """The State Council's rule for arranging 调休, checked on the official 2026 and provisional 2027."""
    cal = WorkingCalendar(bundled_tables())
    longest = run = 0
    for d in _days(date(year, 1, 1), date(year, 12, 31)):
        run = run + 1 if cal.is_working_day(d) else 0
        longest = max(longest, run)
    assert longest == 6


# --- local days off ------------------------------------------------------------------------------


def test_local_day_off_is_skipped_and_named() -> None:
    cal = WorkingCalendar(local_days_off={D("2026-03-09"): "地方节日"})
    assert cal.day(D("2026-03-09")) == DayInfo(
        date=D("2026-03-09"),
        working=False,
        reason="地方节日（地方休息日） local day off",
        provisional=False,
        holiday="地方节日",
    )
    result = cal.add_working_days(D("2026-03-06"), 1)
    assert result.due == D("2026-03-10")
    assert "跳过 2026-03-09 地方节日" in result.explain()


def test_separate_local_days_with_one_name_get_separate_lines() -> None:
    cal = WorkingCalendar(local_days_off={D("2026-03-09"): "地方节日", D("2026-03-11"): "地方节日"})
    result = cal.add_working_days(D("2026-03-06"), 2)
    assert result.due == D("2026-03-12")
    assert result.explain()[2:4] == ["跳过 2026-03-09 地方节日", "跳过 2026-03-11 地方节日"]


def test_local_day_off_overrides_a_national_makeup_day() -> None:
    cal = WorkingCalendar(local_days_off={D("2026-10-10"): "地方节日"})
    assert cal.add_working_days(D("2026-09-30"), 3).due == D("2026-10-12")
    assert cal.with_table(_bundled(2027)).is_working_day(D("2026-10-10")) is False  # kept by with_table


# --- the fast path agrees with counting day by day ----------------------------------------------

_PROPERTY_CAL = WorkingCalendar(bundled_tables(), local_days_off={D("2026-03-09"): "地方节日"})
_dates = st.dates(min_value=D("2025-06-01"), max_value=D("2029-06-30"))


def _walk(start: date, n: int) -> date:
    d, counted = start, 0
    while counted < n or not _PROPERTY_CAL.is_working_day(d):
        d += timedelta(days=1)
        counted += _PROPERTY_CAL.is_working_day(d)
    return d


@settings(max_examples=300, deadline=None)
@given(start=_dates, n=st.integers(min_value=0, max_value=60))
def test_add_working_days_matches_a_day_by_day_count(start: date, n: int) -> None:
    due = _PROPERTY_CAL.add_working_days(start, n).due
    assert due == _walk(start, n)
    if n > 0:
        assert _PROPERTY_CAL.working_days_between(start, due) == n
        assert _PROPERTY_CAL.working_days_before(due, n) <= start
        assert _PROPERTY_CAL.working_days_between(_PROPERTY_CAL.working_days_before(due, n), due) == n


@settings(max_examples=200, deadline=None)
@given(start=_dates, end=_dates)
def test_working_days_between_matches_a_day_by_day_count(start: date, end: date) -> None:
    low, high = min(start, end), max(start, end)
    count = (
        sum(_PROPERTY_CAL.is_working_day(d) for d in _days(low + timedelta(days=1), high))
        if high > low
        else 0
    )
    assert _PROPERTY_CAL.working_days_between(start, end) == (count if end >= start else -count)


def test_thousands_of_due_dates_across_known_and_provisional_years_are_consistent() -> None:
    """The work of the old timed test, without the clock (``python -m bench.calendar`` times it):
    20,000 due dates from start days cycling over 1,200 days, into the provisional years."""
    cal = WorkingCalendar(bundled_tables())
    starts = [D("2025-01-01") + timedelta(days=k % 1200) for k in range(20_000)]
    first = {start: cal.add_working_days(start, 10) for start in starts[:1200]}
    for start in starts:  # asked again (answered from the per-year caches): the same answers
        assert cal.add_working_days(start, 10) == first[start]
    for start, result in first.items():
        assert result.start == start
        assert cal.is_working_day(result.due)
        assert cal.working_days_between(start, result.due) == 10
        assert result.provisional == (result.due.year >= 2027)
