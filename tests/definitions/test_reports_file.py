"""``definitions/reports.yaml`` and ``definitions/jurisdictions.yaml``: the bundled files load, every
indicator and report cites its basis, and a formula is arithmetic only — anything else is refused
when the file is read, naming what is wrong."""

from __future__ import annotations

import pytest

from definitions.jurisdictions import load_jurisdictions
from definitions.reports import REPORT_KINDS, ReportsError, load_reports, parse_formula, parse_reports


def test_the_bundled_reports_cover_every_jurisdiction_and_cite_their_basis() -> None:
    reports = load_reports()
    assert set(reports.reports) == set(load_jurisdictions().by_key)
    for place, kinds in reports.reports.items():
        assert set(kinds) <= set(REPORT_KINDS), place
        for spec in kinds.values():
            assert spec.legal_basis and spec.addressed_to and spec.indicators
    assert all(i.legal_basis for i in reports.indicators.values())
    assert reports.reports["tianjin"]["assessment"].addressed_to == ("市人民政府", "市委组织部")
    assert {g.name for g in reports.reports["guangyuan"]["ranking"].rank_groups} == {
        "departments",
        "counties",
    }
    assert set(reports.inputs_of("tongxin")) == {"lawsuits", "lost_lawsuits", "unperformed_judgments"}


@pytest.mark.parametrize(
    ("formula", "values", "expected"),
    [
        ("a / b", {"a": 1.0, "b": 4.0}, 0.25),
        ("a / b", {"a": 1.0, "b": 0.0}, None),
        ("nz(a / b, 1)", {"a": 1.0, "b": 0.0}, 1.0),
        ("max(0, 100 - 30 * a)", {"a": 4.0}, 0.0),
        ("-a + 2 * (b - 1)", {"a": 1.0, "b": 3.0}, 3.0),
        ("missing + 1", {}, 1.0),
    ],
)
def test_a_formula_computes_and_a_division_by_zero_has_no_value(
    formula: str, values: dict[str, float], expected: float | None
) -> None:
    assert parse_formula(formula)(values) == expected


@pytest.mark.parametrize(
    ("formula", "needle"),
    [
        ("__import__('os').system('true')", "only nz(), min() and max()"),
        ("a.real", "Attribute"),
        ("a ** 2", "Pow"),
        ("'text'", "only numbers"),
        ("a if b else c", "IfExp"),
        ("nz(a)", "nz() takes 2"),
        ("a +", "formula"),
    ],
)
def test_a_formula_that_is_not_arithmetic_is_refused(formula: str, needle: str) -> None:
    with pytest.raises(ReportsError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        parse_formula(formula)


BASE = """
indicators:
  open_records: {label: 有效, label_en: open, formula: open_record, format: count, better: lower, legal_basis: 依据}
reports:
  tianjin:
    assessment:
      title: 考核
      periods: [year]
      addressed_to: [市人民政府]
      legal_basis: 依据
      indicators: [open_records]
"""


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (("formula: open_record", "formula: opened + 1"), "opened is not a measure"),
        (("indicators: [open_records]", "indicators: [open_records, nothing]"), "unknown indicators nothing"),
        (
            (
                "      indicators: [open_records]",
                "      indicators: [open_records]\n      score: 100 - overdue",
            ),
            "overdue",
        ),
        (("periods: [year]", "periods: [week]"), "periods"),
        (
            (
                "      indicators: [open_records]",
                "      indicators: [open_records]\n      roll_up: [province]",
            ),
            "level",
        ),
    ],
)
def test_a_reports_file_with_a_mistake_is_refused_naming_it(change: tuple[str, str], needle: str) -> None:
    parse_reports(BASE, frozenset(load_jurisdictions().levels))
    with pytest.raises(ReportsError, match=needle):
        parse_reports(BASE.replace(*change), frozenset(load_jurisdictions().levels))
