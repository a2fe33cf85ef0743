"""``chengxin report`` and ``chengxin unit`` with jurisdictions: the terminal table, the CSV (with
a BOM) and the HTML page written side by side; reported figures going in; bad input refused in
one line naming what is allowed (never a traceback, never exit 70)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import Cli, one_line_error


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    runner = Cli(
        {"CHENGXIN_DATABASE_URL": f"sqlite:///{tmp_path / 'report.db'}", "CHENGXIN_ACTOR": "court.clerk"}
    )
    runner("init", "--simulated-clock", "--start", "2026-03-02").ok()
    units = tmp_path / "units.csv"
    units.write_text(
        "code,name,superior,emails,contact,jurisdiction,level\n"
        "tx-gov,同心县人民政府,,gov@tx.example.gov.cn,,tongxin,district\n"
        "tx-zjj,同心县住建局,,zjj@tx.example.gov.cn,,tongxin,department\n"
        "tx-hbj,同心县环保局,,hbj@tx.example.gov.cn,,tongxin,department\n",
        encoding="utf-8-sig",
    )
    runner("unit", "import", str(units)).ok()
    return runner


def test_unit_list_shows_the_jurisdiction_and_level(cli: Cli) -> None:
    listed = cli("unit", "list", "--jurisdiction", "tongxin", "--json").json()["units"]
    assert {(u["code"], u["jurisdiction"], u["level"]) for u in listed} == {
        ("tx-gov", "tongxin", "district"),
        ("tx-zjj", "tongxin", "department"),
        ("tx-hbj", "tongxin", "department"),
    }
    table = cli("unit", "list").ok().stdout
    assert "tongxin" in table and "department" in table


def test_an_assessment_is_printed_and_written_as_csv_and_html(cli: Cli, tmp_path: Path) -> None:
    figures = tmp_path / "court.csv"
    figures.write_text(
        "jurisdiction,period,unit,measure,value,source\n"
        "tongxin,2026,tx-zjj,lawsuits,4,县人民法院\n"
        "tongxin,2026,tx-zjj,lost_lawsuits,1,县人民法院\n",
        encoding="utf-8",
    )
    assert "已导入 imported 2" in cli("report", "input", "import", str(figures)).ok().stdout
    cli(
        "report", "input", "add", "-j", "tongxin", "-p", "2026", "--unit", "tx-hbj",
        "--measure", "unperformed_judgments", "--value", "2", "--source", "县人民法院",
    ).ok()  # fmt: skip
    out = tmp_path / "out"
    shown = cli("report", "assessment", "-j", "tongxin", "-p", "2026", "--out", str(out)).ok().stdout
    assert "诚信政府建设" in shown and "25.0%" in shown and "县社会信用体系建设领导小组办公室" in shown
    csv_bytes = (out / "report-assessment-tongxin-2026.csv").read_bytes()
    assert csv_bytes.startswith(b"\xef\xbb\xbf") and "同心县住建局" in csv_bytes.decode("utf-8-sig")
    page = (out / "report-assessment-tongxin-2026.html").read_text(encoding="utf-8")
    assert "<svg" in page and "同心县环保局" in page
    rows = cli("report", "ranking", "-j", "tongxin", "-p", "2026", "--out", str(out), "--json").json()["rows"]
    ranked = [(r["单位代码 code"], r["名次 rank"]) for r in rows if r["名次 rank"]]
    # tx-zjj: 100 - 20 × 1/4 = 95; tx-hbj: 100 - 10 × 2 = 80
    assert ranked == [("tx-zjj", "1"), ("tx-hbj", "2")]


def test_a_period_with_nothing_in_it_says_so(cli: Cli, tmp_path: Path) -> None:
    shown = cli("report", "supervision", "-j", "tongxin", "-p", "2025", "--out", str(tmp_path)).ok().stdout
    assert "无数据 (no data for this period)" in shown


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("report", "assessment", "-j", "tongxin", "-p", "2026Q3"), ("2026Q3", "allowed: 2026")),
        (("report", "ranking", "-j", "guangyuan", "-p", "2026H2"), ("2026Q1",)),
        (("report", "supervision", "-j", "beijing", "-p", "2026"), ("beijing", "tianjin, guangyuan, tongxin, taian")),
        (("report", "ranking", "-j", "tongxin", "-p", "twenty"), ("twenty",)),
        (("unit", "add", "x-1", "--name", "某单位", "--jurisdiction", "mars"), ("mars", "tianjin")),
        (("unit", "add", "x-1", "--name", "某单位", "--level", "province"), ("province", "city, district")),
        (
            ("report", "input", "add", "-j", "tongxin", "-p", "2026", "--unit", "tx-zjj", "--measure", "wins",
             "--value", "1", "--source", "法院"),
            ("wins", "lost_lawsuits"),
        ),
        (
            ("report", "input", "add", "-j", "tongxin", "-p", "2026", "--unit", "tx-zjj", "--measure", "lawsuits",
             "--value", "-3", "--source", "法院"),
            ("-3",),
        ),
    ],
)  # fmt: skip
def test_bad_report_input_is_refused_in_one_line(
    cli: Cli, tmp_path: Path, args: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    outcome = cli(
        *args, *(("--out", str(tmp_path)) if args[1] in ("assessment", "ranking", "supervision") else ())
    )
    one_line_error(outcome, *needles)
    assert outcome.code not in (0, 70)
