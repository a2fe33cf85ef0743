"""Holiday table files (``definitions.holidays``): a table loads from its YAML file, and a bad one
is refused with a one-line error naming the file and the line — bad YAML; unknown, missing or
duplicate keys; impossible, quoted or misplaced dates (outside the year, off twice, both off and
a make-up day, a make-up day on a weekday or twice, a range ending before it starts); a file named
after another year or one that cannot be read. Tables built in code are checked the same way.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from support.holiday_tables import TABLE_2028

from definitions.holidays import HolidayTable, HolidayTableError, load_holiday_table, parse_holiday_table

D = date.fromisoformat


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "year: 2028\n  provisional: false\n",
            "bad.yaml:2: bad YAML: mapping values are not allowed here",
            id="yaml-indentation",
        ),
        pytest.param(
            "year: 2028\nholidays: [\n",
            "bad.yaml:3: bad YAML: expected the node content, but found '<stream end>'",
            id="yaml-unclosed-list",
        ),
        pytest.param(
            TABLE_2028 + "colour: red\n",
            "bad.yaml:9: colour: Extra inputs are not permitted",
            id="unknown-key",
        ),
        pytest.param(
            TABLE_2028.replace("    to: 2028-01-30", "    to: 2029-01-02"),
            "bad.yaml:7: holidays[0].to: 2029-01-02 is outside the table's year 2028",
            id="date-outside-the-year",
        ),
        pytest.param(
            TABLE_2028.replace("[2028-02-05]", "[2028-01-29]"),
            "bad.yaml:8: holidays[0].makeup_workdays[0]: 2028-01-29 is both a day off (春节)"
            " and a make-up working day",
            id="both-off-and-make-up",
        ),
        pytest.param(
            TABLE_2028.replace("[2028-02-05]", "[2028-02-07]"),
            "bad.yaml:8: holidays[0].makeup_workdays[0]: 2028-02-07 is a Monday, a working day anyway;"
            " make-up working days are Saturdays or Sundays",
            id="make-up-day-on-a-weekday",
        ),
        pytest.param(
            TABLE_2028.replace("[2028-02-05]", "[2028-02-05, 2029-01-06]"),
            "bad.yaml:8: holidays[0].makeup_workdays[1]: 2029-01-06 is outside the table's year 2028",
            id="make-up-day-outside-the-year",
        ),
        pytest.param(
            TABLE_2028.replace("[2028-02-05]", "[2028-02-05, 2028-02-05]"),
            "bad.yaml:8: holidays[0].makeup_workdays[1]: 2028-02-05 is listed twice as a make-up working day",
            id="make-up-day-twice",
        ),
        pytest.param(
            TABLE_2028.replace("    to: 2028-01-30", "    to: 2028-01-20"),
            "bad.yaml:7: holidays[0].to: 2028-01-20 is before from: 2028-01-22",
            id="to-before-from",
        ),
        pytest.param(
            TABLE_2028 + "  - name: 元宵\n    from: 2028-01-30\n",
            "bad.yaml:10: holidays[1].from: 2028-01-30 is already a day off for 春节 (holidays[0])",
            id="day-off-twice",
        ),
        pytest.param(
            TABLE_2028.replace("    to: 2028-01-30", "    to: 2028-02-30"),
            "bad.yaml:7: bad YAML value: day is out of range for month",
            id="impossible-date",
        ),
        pytest.param(
            TABLE_2028.replace("    from: 2028-01-22", '    from: "2028-01-22"'),
            "bad.yaml:6: holidays[0].from: Input should be a valid date",
            id="quoted-date",
        ),
        pytest.param(
            TABLE_2028.replace("source: 国务院办公厅关于2028年部分节假日安排的通知（test data）\n", ""),
            "bad.yaml:1: source: Field required",
            id="missing-field",
        ),
        pytest.param(
            TABLE_2028.replace("provisional: false", "year: 2029"),
            "bad.yaml:2: duplicate key 'year'",
            id="duplicate-key",
        ),
        pytest.param(
            "- 2028\n",
            "bad.yaml:1: a holiday table must be a YAML mapping with year, provisional, …",
            id="list",
        ),
        pytest.param(
            "", "bad.yaml:1: a holiday table must be a YAML mapping with year, provisional, …", id="empty"
        ),
    ],
)
def test_bad_holiday_tables_give_one_line_errors_with_file_and_line(text: str, message: str) -> None:
    with pytest.raises(HolidayTableError) as caught:
        parse_holiday_table(text, "bad.yaml")
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_table_file_named_after_another_year_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "2029.yaml"
    path.write_text(TABLE_2028, encoding="utf-8")
    with pytest.raises(HolidayTableError) as caught:
        load_holiday_table(path)
    assert str(caught.value) == f"{path}:1: the file is named 2029.yaml but says year: 2028"


def test_table_file_loads_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "2028.yaml"
    path.write_text(TABLE_2028, encoding="utf-8")
    table = load_holiday_table(path)
    assert (table.year, table.provisional, len(table.days_off), dict(table.makeup_workdays)) == (
        2028,
        False,
        9,
        {D("2028-02-05"): "春节"},
    )


def test_missing_table_file_is_a_holiday_table_error(tmp_path: Path) -> None:
    with pytest.raises(HolidayTableError, match=r"2028\.yaml: cannot read the file"):
        load_holiday_table(tmp_path / "2028.yaml")


def test_holiday_table_built_in_code_is_checked() -> None:
    with pytest.raises(HolidayTableError, match="2027-01-01 is outside the table's year"):
        HolidayTable(
            year=2028, provisional=False, source="x", days_off={D("2027-01-01"): "元旦"}, makeup_workdays={}
        )
    with pytest.raises(HolidayTableError, match="2028-02-05 is both a day off and a make-up working day"):
        HolidayTable(
            year=2028,
            provisional=False,
            source="x",
            days_off={D("2028-02-05"): "春节"},
            makeup_workdays={D("2028-02-05"): "春节"},
        )
