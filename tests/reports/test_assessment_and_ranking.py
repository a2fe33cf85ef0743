"""Assessment and ranking (``workflow.reports``) against numbers worked out by hand from a seeded
data set, on SQLite and PostgreSQL.

Tianjin, 2026: four records. hexi-zjw (a department under the Hexi district) has two: one
explained on time and rectified on time, one never explained (overdue). shi-czj (a city
department) explained on time and won its objection (the record was revoked). nankai-gov (a
district) explained on time and lost its objection. The Hexi district's figures include its
department's; the city's include everyone's (逐级归集). The expected values below are computed
from those facts in this file, not read from the engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from support.harness import ORGANISATION, SH, Harness

from workflow import Actor
from workflow.errors import ArgumentInvalid
from workflow.reports import build_report
from workflow.reports.render import to_csv, to_html

UNITS = [
    {"code": "tj-gov", "name": "天津市人民政府", "jurisdiction": "tianjin", "level": "city"},
    {
        "code": "hexi-gov",
        "name": "河西区人民政府",
        "jurisdiction": "tianjin",
        "level": "district",
        "superior": "tj-gov",
    },
    {
        "code": "nankai-gov",
        "name": "南开区人民政府",
        "jurisdiction": "tianjin",
        "level": "district",
        "superior": "tj-gov",
    },
    {
        "code": "hexi-zjw",
        "name": "河西区住房建设委",
        "jurisdiction": "tianjin",
        "level": "department",
        "superior": "hexi-gov",
    },
    {
        "code": "shi-czj",
        "name": "市财政局",
        "jurisdiction": "tianjin",
        "level": "department",
    },  # superior by level: the city
]


def subject(unit: str) -> Actor:
    return Actor(id=f"staff.{unit}", role="subject", unit=unit)


def record(h: Harness, unit: str, rectification_days: int = 365) -> str:
    rid = h.engine.register(
        "tianjin", {**ORGANISATION, "responsible_unit": unit}, actor=h.recorder, submit=True
    ).id
    h.fire(rid, "accept", h.verifier)
    h.fire(rid, "confirm", h.verifier, comment="核查属实", rectification_days=rectification_days)
    return rid


@pytest.fixture
def h(database_url: str) -> Iterator[Harness]:
    harness = Harness.create(database_url)
    harness.engine.units.save(UNITS)
    r1 = record(harness, "hexi-zjw", rectification_days=20)
    record(harness, "hexi-zjw")  # r2: never explained
    r3 = record(harness, "shi-czj")
    r4 = record(harness, "nankai-gov")
    harness.later(days=2)
    for rid, unit in ((r1, "hexi-zjw"), (r3, "shi-czj"), (r4, "nankai-gov")):
        harness.fire(rid, "submit_explanation", subject(unit), explanation="系资金拨付延误所致")
    harness.later(days=5)
    harness.fire(r1, "submit_rectification_report", subject("hexi-zjw"), report="已全部支付")
    harness.fire(r3, "file_objection", subject("shi-czj"), reasons="款项已于认定前结清")
    harness.fire(r4, "file_objection", subject("nankai-gov"), reasons="不属实")
    harness.later(days=1)
    harness.fire(r3, "revoke", harness.reviewer, comment="异议成立，撤销")
    harness.fire(r4, "maintain", harness.reviewer, comment="异议不成立")
    harness.at(dt.datetime(2026, 5, 27, 10, 0, tzinfo=SH))  # the explanations were due on 25 May
    while harness.engine.sweep().fired:
        pass
    harness.at(dt.datetime(2026, 7, 3, 10, 0, tzinfo=SH))
    yield harness
    harness.engine.close()


# What each unit's figures are, from the facts above: (open, overdue, explained on time / due,
# rectified on time / due, objections upheld).
OWN = {
    "hexi-zjw": (2, 1, (1, 2), (1, 1), 0),
    "shi-czj": (0, 0, (1, 1), (0, 0), 1),
    "nankai-gov": (1, 0, (1, 1), (0, 0), 0),
    "hexi-gov": (0, 0, (0, 0), (0, 0), 0),
    "tj-gov": (0, 0, (0, 0), (0, 0), 0),
}
CHILDREN = {"hexi-gov": ["hexi-zjw"], "tj-gov": ["hexi-gov", "hexi-zjw", "shi-czj", "nankai-gov"]}


def expected(code: str) -> dict[str, float | None]:
    rows = [OWN[code], *(OWN[c] for c in CHILDREN.get(code, []))]
    open_, overdue, upheld = (sum(r[i] for r in rows) for i in (0, 1, 4))
    explained = sum(r[2][0] for r in rows), sum(r[2][1] for r in rows)
    rectified = sum(r[3][0] for r in rows), sum(r[3][1] for r in rows)
    rate = lambda pair: None if pair[1] == 0 else pair[0] / pair[1]  # noqa: E731
    values = {
        "open_records": float(open_),
        "overdue_records": float(overdue),
        "explanations_on_time": rate(explained),
        "rectifications_on_time": rate(rectified),
        "objections_upheld": float(upheld),
    }
    e, r = values["explanations_on_time"], values["rectifications_on_time"]
    values["score"] = max(
        0.0,
        100
        - 5 * overdue
        - 2 * upheld
        - 20 * (1 - (1 if e is None else e))
        - 20 * (1 - (1 if r is None else r)),
    )
    return values


def test_the_half_year_supervision_report_counts_each_unit_and_rolls_up_to_the_district_and_city(
    h: Harness,
) -> None:
    report = build_report(h.engine, "supervision", "tianjin", "2026H1")
    assert not report.empty
    rows = {r.code: r for r in report.rows}
    assert set(rows) == set(OWN)
    for code in OWN:
        want = expected(code)
        for name in (
            "open_records",
            "overdue_records",
            "explanations_on_time",
            "rectifications_on_time",
            "objections_upheld",
        ):
            got = rows[code].values[name]
            assert got is None if want[name] is None else got == pytest.approx(want[name]), (
                code,
                name,
                got,
                want[name],
                rows[code].measures,
            )
    assert report.totals["open_records"] == 3 and report.totals["explanations_on_time"] == pytest.approx(0.75)


def test_the_year_end_assessment_scores_and_ranks_districts_and_departments(h: Harness) -> None:
    report = build_report(h.engine, "assessment", "tianjin", "2026")
    assert report.spec.addressed_to == ("市人民政府", "市委组织部")
    rows = {r.code: r for r in report.rows}
    for code in OWN:
        assert rows[code].score == pytest.approx(expected(code)["score"]), code
    assert [(r.code, r.rank) for r in report.rows if r.group == "districts"] == [
        ("nankai-gov", 1),
        ("hexi-gov", 2),
    ]
    assert [(r.code, r.rank) for r in report.rows if r.group == "departments"] == [
        ("shi-czj", 1),
        ("hexi-zjw", 2),
    ]
    assert rows["tj-gov"].rank is None


def test_the_csv_has_a_bom_and_the_page_draws_its_charts_from_the_same_numbers(h: Harness) -> None:
    report = build_report(h.engine, "ranking", "tianjin", "2026")
    data = to_csv(report)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "河西区住房建设委" in text and "50.0%" in text and "85.00" in text
    page = to_html(report)
    assert page.count("<svg") == 4  # two ranking groups, overdue per unit, the trend
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "2. 河西区住房建设委</text>" in page and "85分" in page and "98分" in page  # the ranking bars


def test_a_period_with_no_data_says_so(h: Harness) -> None:
    report = build_report(h.engine, "supervision", "tianjin", "2025H2")
    assert report.empty and "无数据" in report.no_data_message
    assert "无数据" in to_csv(report).decode("utf-8-sig") and "无数据" in to_html(report)


@pytest.mark.parametrize(
    ("kind", "place", "period", "named"),
    [
        ("supervision", "tianjin", "2026Q3", "2026H1, 2026H2"),
        ("assessment", "tianjin", "2026H2", "2026"),
        ("ranking", "guangyuan", "2026", "2026Q1"),
        ("assessment", "beijing", "2026", "tianjin, guangyuan, tongxin, taian"),
        ("ranking", "guangyuan", "26Q3", "2026Q1"),
    ],
)
def test_a_bad_period_or_jurisdiction_names_what_is_allowed(
    h: Harness, kind: str, place: str, period: str, named: str
) -> None:
    with pytest.raises(ArgumentInvalid, match=named):
        build_report(h.engine, kind, place, period)


def test_tongxins_lost_lawsuit_rate_comes_from_the_courts_figures(database_url: str) -> None:
    h = Harness.create(database_url)
    try:
        h.engine.units.save(
            [
                {"code": "tx-gov", "name": "同心县人民政府", "jurisdiction": "tongxin", "level": "district"},
                {"code": "tx-zjj", "name": "同心县住建局", "jurisdiction": "tongxin", "level": "department"},
                {"code": "tx-hbj", "name": "同心县环保局", "jurisdiction": "tongxin", "level": "department"},
            ]
        )
        figures = [
            ("tx-zjj", "lawsuits", 8), ("tx-zjj", "lost_lawsuits", 2), ("tx-zjj", "unperformed_judgments", 1),
            ("tx-hbj", "lawsuits", 5), ("tx-hbj", "lost_lawsuits", 0),
        ]  # fmt: skip
        h.engine.report_inputs.save(
            [
                {
                    "jurisdiction": "tongxin",
                    "period": "2026",
                    "unit": u,
                    "measure": m,
                    "value": v,
                    "source": "县人民法院",
                }
                for u, m, v in figures
            ],
            reported_by="court.clerk",
        )
        report = build_report(h.engine, "assessment", "tongxin", "2026")
        rows = {r.code: r for r in report.rows}
        assert rows["tx-zjj"].values["lost_lawsuit_rate"] == pytest.approx(2 / 8)
        assert rows["tx-hbj"].values["lost_lawsuit_rate"] == 0
        assert rows["tx-zjj"].score == pytest.approx(100 - 20 * 2 / 8 - 10 * 1)
        assert rows["tx-gov"].values["lost_lawsuit_rate"] == pytest.approx(2 / 13)  # its departments' figures
        assert [(r.code, r.rank) for r in report.rows if r.group == "units"] == [("tx-hbj", 1), ("tx-zjj", 2)]
        with pytest.raises(Exception, match="lost_lawsuits"):
            h.engine.report_inputs.save(
                [
                    {
                        "jurisdiction": "tongxin",
                        "period": "2026",
                        "unit": "tx-zjj",
                        "measure": "wins",
                        "value": 1,
                        "source": "法院",
                    }
                ],
                reported_by="court.clerk",
            )
    finally:
        h.engine.close()


def test_guangyuans_quarterly_ranking_ranks_city_departments_and_counties_apart(database_url: str) -> None:
    """苍溪县's department has an overdue record: it counts in the county's figures (逐级归集) and
    is not ranked among the city's departments."""
    h = Harness.create(database_url)
    try:
        h.engine.units.save(
            [
                {"code": "gy-gov", "name": "广元市人民政府", "jurisdiction": "guangyuan", "level": "city"},
                {"code": "cx-gov", "name": "苍溪县人民政府", "jurisdiction": "guangyuan", "level": "district", "superior": "gy-gov"},
                {"code": "lz-gov", "name": "利州区人民政府", "jurisdiction": "guangyuan", "level": "district", "superior": "gy-gov"},
                {"code": "gy-fgw", "name": "市发展改革委", "jurisdiction": "guangyuan", "level": "department", "superior": "gy-gov"},
                {"code": "gy-jtj", "name": "市交通运输局", "jurisdiction": "guangyuan", "level": "department", "superior": "gy-gov"},
                {"code": "cx-zjj", "name": "苍溪县住建局", "jurisdiction": "guangyuan", "level": "department", "superior": "cx-gov"},
            ]
        )  # fmt: skip
        made = {}
        for unit in ("cx-zjj", "gy-fgw"):
            rid = h.engine.register(
                "guangyuan", {**ORGANISATION, "responsible_unit": unit}, actor=h.recorder, submit=True
            ).id
            h.fire(rid, "accept", h.verifier)
            h.fire(rid, "confirm", h.verifier, comment="属实", rectification_days=365)
            made[unit] = rid
        h.later(days=1)
        h.fire(made["gy-fgw"], "submit_explanation", subject("gy-fgw"), explanation="已说明")
        h.at(dt.datetime(2026, 6, 1, 9, 0, tzinfo=SH))
        while h.engine.sweep().fired:
            pass
        report = build_report(h.engine, "ranking", "guangyuan", "2026Q2")
        # worked out by hand: 100 - 5 × overdue - 2 × open - 20 × (1 - explained on time)
        scores = {
            "cx-zjj": 100 - 5 - 2 - 20,
            "cx-gov": 100 - 5 - 2 - 20,
            "lz-gov": 100,
            "gy-fgw": 100 - 2,
            "gy-jtj": 100,
        }
        rows = {r.code: r for r in report.rows}
        for code, score in scores.items():
            assert rows[code].score == pytest.approx(score), code
        assert [(r.code, r.rank) for r in report.rows if r.group == "counties"] == [
            ("lz-gov", 1),
            ("cx-gov", 2),
        ]
        assert [(r.code, r.rank) for r in report.rows if r.group == "departments"] == [
            ("gy-jtj", 1),
            ("gy-fgw", 2),
        ]
        assert rows["cx-zjj"].rank is None and rows["gy-gov"].values["overdue_records"] == 1
        assert "每季度出具全市市级部门和县区政务诚信监测报告" in report.spec.legal_basis
    finally:
        h.engine.close()


def test_the_trend_shows_no_data_for_periods_before_anything_happened(h: Harness) -> None:
    report = build_report(h.engine, "assessment", "tianjin", "2026")
    assert [p.period for p in report.trend] == ["2023", "2024", "2025", "2026"]
    assert [p.average_score for p in report.trend[:3]] == [None, None, None]
    scores = [r.score for r in report.rows if r.score is not None]
    assert report.trend[3].average_score == pytest.approx(round(sum(scores) / len(scores), 2))
