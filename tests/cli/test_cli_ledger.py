"""``chengxin ledger``: importing a seed ledger once, its progress with overdue checks first, and
bad input refused in one line with a non-zero exit (never a traceback, never exit 70)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import Cli, one_line_error


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    runner = Cli({"CHENGXIN_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}"})
    runner("init", "--simulated-clock", "--start", "2018-01-02").ok()
    runner("unit", "add", "shi-gov", "--name", "天津市人民政府", "--email", "gov@tj.example.gov.cn").ok()
    runner(
        "unit",
        "add",
        "shi-zzb",
        "--name",
        "市委组织部",
        "--superior",
        "shi-gov",
        "--email",
        "zzb@tj.example.gov.cn",
    ).ok()
    return runner


def test_import_registers_the_ledger_once_and_says_so_the_second_time(cli: Cli) -> None:
    first = cli("ledger", "import", "tianjin", "--years", "2018-2019").ok()
    assert "已导入 imported 26" in first.stdout
    second = cli("ledger", "import", "tianjin").ok()
    assert "无新任务 nothing new" in second.stdout and "26" in second.stdout
    tasks = cli("ledger", "status", "--json").json()["tasks"]
    assert len(tasks) == 26 and {t["id"][:2] for t in tasks} == {"TZ"}
    one = next(t for t in tasks if t["number"] == 1)
    assert (one["lead"], one["lead_name"], one["group"], one["state"]) == (
        "shi-zzb",
        "市委组织部",
        "监督体系",
        "in_progress",
    )


def test_status_lists_overdue_checks_first_with_a_count_per_department(cli: Cli) -> None:
    cli("ledger", "import", "tianjin").ok()
    cli("tick", "--no-mail").ok()  # January 2018: the 2018年年初考核 of six one-off tasks opens
    cli("clock", "advance", "--days", "40").ok()
    ticked = cli("tick", "--no-mail").ok()
    assert "台账检查 ledger checks opened" in ticked.stdout
    status = cli("ledger", "status", "--json").json()
    flags = [t["overdue"] for t in status["tasks"]]
    assert flags[:6] == [True] * 6 and not any(flags[6:])
    assert sorted(t["number"] for t in status["tasks"] if t["overdue"]) == [15, 16, 18, 19, 21, 23]
    assert all(t["check_label"] == "2018年年初考核" for t in status["tasks"][:6])
    fgw = next(d for d in status["departments"] if d["department"] == "市发展改革委")
    assert (fgw["overdue"], fgw["open_checks"]) == (4, 4)  # tasks 15, 16, 19, 23
    table = cli("ledger", "status", "--department", "市委组织部").ok().stdout
    assert "市委组织部" in table and "共 5 项任务，逾期 0 项" in table
    shown = cli("ledger", "status", "--jurisdiction", "tianjin").ok().stdout
    rows = [line for line in shown.splitlines() if "TZ2018" in line]
    assert len(rows) == 26
    assert all("逾期 overdue" in row for row in rows[:6]) and not any(
        "逾期 overdue" in row for row in rows[6:]
    )


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("ledger", "import", "beijing"), ("没有该地区的工作台账", "beijing", "tianjin")),
        (("ledger", "import", "tianjin", "--years", "2019-2018"), ("年度范围顺序颠倒", "2019-2018")),
        (("ledger", "import", "tianjin", "--years", "next year"), ("YYYY-YYYY",)),
        (("ledger", "status", "--department", "市教委"), ("没有由该部门牵头的台账任务", "市教委")),
        (("ledger", "status", "--jurisdiction", "beijing"), ("没有该地区的工作台账", "beijing")),
    ],
)
def test_bad_ledger_input_is_refused_in_one_line(
    cli: Cli, args: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    cli("ledger", "import", "tianjin").ok()
    outcome = cli(*args)
    one_line_error(outcome, *needles)
    assert outcome.code not in (0, 70)
