"""Work ledgers parsed from the source documents (``definitions.ledgers``) match the documents:
26, 15 and 15 tasks numbered 1..N, Tianjin's four groups, departments split into lead and
participating, every schedule phrase of the texts mapped to data, check steps dated; and a text
that does not read as expected (a row dropped, a number changed, the second copy of Tianjin's table
different, a cell blanked or missing, an invented schedule phrase) is refused whole with the line.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from definitions.ledgers import (
    CHECK_POINTS,
    Afterwards,
    CheckKind,
    CheckRule,
    CheckStep,
    Ledger,
    LedgerError,
    ScheduleKind,
    TimeSchedule,
    check_steps,
    load_ledger,
    parse_check_schedule,
    parse_division_table,
    parse_tianjin_ledger,
    parse_time_schedule,
)

D = date.fromisoformat
TIANJIN = "tianjin-ledger-2017.txt"
GUANGYUAN = "guangyuan-plan.txt"
TONGXIN = "tongxin-division-table.txt"


def source_text(name: str) -> str:
    return (resources.files("definitions") / "sources" / name).read_text(encoding="utf-8")


def edit_line(text: str, line: int, new: str | None) -> str:
    """The text with its 1-based ``line`` replaced by ``new`` (or removed when ``new`` is None)."""
    lines = text.split("\n")
    if new is None:
        del lines[line - 1]
    else:
        lines[line - 1] = new
    return "\n".join(lines)


def drop_lines(text: str, first: int, last: int) -> str:
    lines = text.split("\n")
    del lines[first - 1 : last]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def tianjin() -> Ledger:
    return load_ledger("tianjin")


@pytest.fixture(scope="module")
def guangyuan() -> Ledger:
    return load_ledger("guangyuan")


@pytest.fixture(scope="module")
def tongxin() -> Ledger:
    return load_ledger("tongxin")


# --- the documents, as parsed ---------------------------------------------------------------------


def test_each_ledger_has_the_documents_tasks_numbered_in_order(
    tianjin: Ledger, guangyuan: Ledger, tongxin: Ledger
) -> None:
    assert [t.number for t in tianjin.tasks] == list(range(1, 27))
    assert [t.number for t in guangyuan.tasks] == list(range(1, 16))
    assert [t.number for t in tongxin.tasks] == list(range(1, 16))
    assert (tianjin.jurisdiction, guangyuan.jurisdiction, tongxin.jurisdiction) == (
        "tianjin",
        "guangyuan",
        "tongxin",
    )
    assert tianjin.source == "definitions/sources/tianjin-ledger-2017.txt"
    assert tianjin.title == "政务诚信体系建设工作台账"
    assert guangyuan.title == tongxin.title == "重点任务分工及进度安排表"


def test_tianjin_tasks_fall_into_the_four_groups_of_the_ledger(tianjin: Ledger) -> None:
    groups: dict[str, list[int]] = {}
    titles: dict[str, str | None] = {}
    for task in tianjin.tasks:
        assert task.group is not None
        groups.setdefault(task.group, []).append(task.number)
        titles[task.group] = task.group_title
    assert groups == {
        "监督体系": list(range(1, 7)),
        "信用管理": list(range(7, 17)),
        "重点领域": list(range(17, 23)),
        "组织保障": list(range(23, 27)),
    }
    assert titles == {
        "监督体系": "探索构建广泛有效的政务诚信监督体系",
        "信用管理": "建立健全政务信用管理体系",
        "重点领域": "加强重点领域政务诚信建设",
        "组织保障": "组织保障",
    }


def test_division_tables_have_no_groups_and_no_check_schedule(guangyuan: Ledger, tongxin: Ledger) -> None:
    for task in (*guangyuan.tasks, *tongxin.tasks):
        assert (task.group, task.group_title, task.check_schedule) == (None, None, None)
        assert task.participating_departments == ()
        assert check_steps(task, 2018, 2030) == []


def test_tianjin_departments_are_split_into_lead_and_participating(tianjin: Ledger) -> None:
    def roles(number: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        task = tianjin.task(number)
        return task.lead_departments, task.participating_departments

    assert roles(1) == (("市委组织部",), ())
    assert roles(2) == (("市发展改革委", "人民银行天津分行"), ("各区人民政府",))
    assert roles(3) == (("各区人民政府",), ())
    assert roles(4) == (("市发展改革委", "人民银行天津分行"), ())  # 牵头负责
    assert roles(7) == (("市公务员局", "市委组织部"), ())  # 按照职责分工分别负责: all lead
    assert roles(8) == (("市发展改革委", "人民银行天津分行", "有关部门", "各区人民政府"), ())
    assert roles(9)[0] == (
        "市发展改革委",
        "人民银行天津分行",
        "市高法院",
        "市检察院",
        "市监察局",
        "市公务员局",
        "市委组织部",
        "各区人民政府",
    )
    assert roles(12) == (("市发展改革委", "人民银行天津分行"), ("各区人民政府", "各市级部门"))
    assert roles(15) == (("市发展改革委", "人民银行天津分行"), ("市公务员局",))
    assert roles(20) == (("市商务委", "市合作交流办"), ("市财政局", "市投资办", "有关部门", "各区人民政府"))
    assert roles(22) == (("市民政局", "有关部门", "各区人民政府"), ())
    assert roles(26) == (("市发展改革委",), ("市有关部门", "各区人民政府"))
    assert tianjin.task(2).departments_text == "市发展改革委、人民银行天津分行牵头，各区人民政府参加"


def test_division_table_units_are_kept_in_the_order_of_the_text(guangyuan: Ledger, tongxin: Ledger) -> None:
    assert guangyuan.task(1).lead_departments == (
        "市发展改革委",
        "人行广元中心支行",
        "市委组织部",
        "市委督查室",
        "市人力资源社会保障局",
        "其他有关部门",
        "各县区人民政府（含广元经济技术开发区管委会，下同）",
    )
    assert guangyuan.task(9).lead_departments == (
        "市发展改革委",
        "市财政局",
        "市规划建设和住房局",
        "市政务服务中心",
        "市社会信用体系建设联席会议相关成员单位",
        "各县区人民政府",
    )
    assert guangyuan.task(15).lead_departments == ("市发展改革委", "人行广元中心支行", "市委市政府督查室")
    # Tongxin prints 主要举措 before 责任单位: columns are mapped by header, not by position.
    assert tongxin.task(6).lead_departments == (
        "县委组织部",
        "县社会信用体系建设领导小组办公室",
        "人社局",
        "人行同心支行",
    )
    assert tongxin.task(6).measures == ("建立健全政务信用权益保护和信用修复机制。",)
    assert tongxin.task(13).lead_departments == (
        "县社会信用体系建设领导小组办公室",
        "各乡镇（管委会）",
        "吴忠生态环境局同心分局",
    )
    assert tongxin.task(13).measures == (
        "1.建立环境保护和治理任务目标公开承诺制度；",
        "2.建立健全环境保护领域政务信用评价体系。",
    )
    assert guangyuan.task(6).measures == ("建立健全政务信用权益保护和信用修复机制",)
    assert guangyuan.task(1).text.startswith("建立政务诚信监测指标评价体系")
    assert tongxin.task(15).text.startswith("建立政务诚信横向监督机制")


def test_every_time_schedule_phrase_of_the_documents_is_mapped(
    tianjin: Ledger, guangyuan: Ledger, tongxin: Ledger
) -> None:
    def phrases(ledger: Ledger) -> dict[str, TimeSchedule]:
        return {t.time_schedule.text: t.time_schedule for t in ledger.tasks}

    continuous = TimeSchedule(text="持续实施", kind=ScheduleKind.CONTINUOUS)
    assert phrases(tianjin) == {
        "持续实施": continuous,
        "2017年底完成并逐年实施": TimeSchedule(
            text="2017年底完成并逐年实施", kind=ScheduleKind.DUE, due=D("2017-12-31"), then=Afterwards.YEARLY
        ),
        "2017年底前完成": TimeSchedule(text="2017年底前完成", kind=ScheduleKind.DUE, due=D("2017-12-31")),
        "2018年12月底前完成": TimeSchedule(
            text="2018年12月底前完成", kind=ScheduleKind.DUE, due=D("2018-12-31")
        ),
    }
    assert phrases(guangyuan) == {
        "持续实施": continuous,
        "2018年12月底前完成，持续实施": TimeSchedule(
            text="2018年12月底前完成，持续实施",
            kind=ScheduleKind.DUE,
            due=D("2018-12-31"),
            then=Afterwards.CONTINUOUS,
        ),
        "2018年，持续实施": TimeSchedule(
            text="2018年，持续实施", kind=ScheduleKind.DURING, year=2018, then=Afterwards.CONTINUOUS
        ),
    }
    assert phrases(tongxin) == {
        "持续实施": continuous,
        "2020年底前完成，持续实施": TimeSchedule(
            text="2020年底前完成，持续实施",
            kind=ScheduleKind.DUE,
            due=D("2020-12-31"),
            then=Afterwards.CONTINUOUS,
        ),
        "2019年底前完成，持续实施": TimeSchedule(
            text="2019年底前完成，持续实施",
            kind=ScheduleKind.DUE,
            due=D("2019-12-31"),
            then=Afterwards.CONTINUOUS,
        ),
    }
    assert [t.number for t in tianjin.tasks if t.time_schedule.kind is not ScheduleKind.CONTINUOUS] == [
        7, 8, 15, 16, 18, 19, 21, 23,
    ]  # fmt: skip


def test_every_tianjin_check_schedule_phrase_is_mapped(tianjin: Ledger) -> None:
    rules: dict[str, tuple[CheckRule, ...]] = {}
    for task in tianjin.tasks:
        assert task.check_schedule is not None
        rules[task.check_schedule.text] = task.check_schedule.rules
    check, assessment = CheckKind.CHECK, CheckKind.ASSESSMENT
    assert rules == {
        "每年年中检查，年底考核": (
            CheckRule(kind=check, verb="检查", point="年中", year=None),
            CheckRule(kind=assessment, verb="考核", point="年底", year=None),
        ),
        "2018年年初考核": (CheckRule(kind=assessment, verb="考核", point="年初", year=2018),),
        "2018年年初考核；2018年年中考查；2019年年初考核": (
            CheckRule(kind=assessment, verb="考核", point="年初", year=2018),
            CheckRule(kind=check, verb="考查", point="年中", year=2018),
            CheckRule(kind=assessment, verb="考核", point="年初", year=2019),
        ),
    }
    once = [t.number for t in tianjin.tasks if t.check_schedule and t.check_schedule.text == "2018年年初考核"]
    assert once == [15, 16, 18, 19]


def test_check_points_of_the_year_are_end_of_january_june_30_and_december_31() -> None:
    assert dict(CHECK_POINTS) == {"年初": (1, 31), "年中": (6, 30), "年底": (12, 31)}


def test_a_yearly_check_schedule_gives_a_mid_year_check_and_a_year_end_assessment_each_year(
    tianjin: Ledger,
) -> None:
    text = "每年年中检查，年底考核"
    assert check_steps(tianjin.task(1), 2018, 2019) == [
        CheckStep(kind=CheckKind.CHECK, label="2018年年中检查", due=D("2018-06-30"), source_text=text),
        CheckStep(kind=CheckKind.ASSESSMENT, label="2018年年底考核", due=D("2018-12-31"), source_text=text),
        CheckStep(kind=CheckKind.CHECK, label="2019年年中检查", due=D("2019-06-30"), source_text=text),
        CheckStep(kind=CheckKind.ASSESSMENT, label="2019年年底考核", due=D("2019-12-31"), source_text=text),
    ]
    assert len(check_steps(tianjin.task(1), 2018, 2027)) == 20
    assert check_steps(tianjin.task(1), 2019, 2018) == []


def test_dated_check_schedules_give_their_steps_when_they_fall_in_the_range(tianjin: Ledger) -> None:
    text = "2018年年初考核；2018年年中考查；2019年年初考核"
    three = [
        CheckStep(kind=CheckKind.ASSESSMENT, label="2018年年初考核", due=D("2018-01-31"), source_text=text),
        CheckStep(kind=CheckKind.CHECK, label="2018年年中考查", due=D("2018-06-30"), source_text=text),
        CheckStep(kind=CheckKind.ASSESSMENT, label="2019年年初考核", due=D("2019-01-31"), source_text=text),
    ]
    assert check_steps(tianjin.task(21), 2017, 2025) == three
    assert check_steps(tianjin.task(23), 2018, 2019) == three
    assert check_steps(tianjin.task(21), 2019, 2019) == three[2:]
    assert check_steps(tianjin.task(15), 2018, 2018) == [
        CheckStep(
            kind=CheckKind.ASSESSMENT,
            label="2018年年初考核",
            due=D("2018-01-31"),
            source_text="2018年年初考核",
        )
    ]
    assert check_steps(tianjin.task(15), 2019, 2030) == []


def test_the_two_copies_of_tianjins_table_read_as_the_same_tasks() -> None:
    text = source_text(TIANJIN)
    lines = text.split("\n")
    second = next(i for i, line in enumerate(lines) if i > 3 and line.strip() == "政务诚信体系建设工作台账")
    first_copy, second_copy = "\n".join(lines[2:second]), "\n".join(lines[second:])

    def content(ledger: Ledger) -> list[tuple[object, ...]]:
        return [
            (t.number, t.group, t.text, t.lead_departments, t.participating_departments, t.time_schedule,
             t.check_schedule)
            for t in ledger.tasks
        ]  # fmt: skip

    whole = parse_tianjin_ledger(text)
    # The parser wants the table printed twice: print each copy twice and read it alone.
    assert content(parse_tianjin_ledger(first_copy + "\n" + first_copy)) == content(whole)
    assert content(parse_tianjin_ledger(second_copy + "\n" + second_copy)) == content(whole)
    assert (whole.task(1).line, whole.task(15).line, whole.task(26).line) == (12, 110, 193)
    assert whole.task(15).text.startswith(
        "各政务诚信记录产生部门依法向天津市信用信息共享交换系统报送信用记录"
    )


def test_load_ledger_reads_a_given_file(tmp_path: Path) -> None:
    path = tmp_path / "copy.txt"
    path.write_text(source_text(GUANGYUAN), encoding="utf-8")
    ledger = load_ledger("guangyuan", path)
    assert ledger.source == str(path)
    assert len(ledger.tasks) == 15


# --- schedule phrases on their own ----------------------------------------------------------------


@pytest.mark.parametrize(
    "phrase",
    [
        "2018年第三季度完成",
        "尽快完成",
        "2018年13月底前完成",
        "持续实施，持续实施",
        "2018年底前完成，逐季实施",
    ],
)
def test_an_unknown_time_schedule_phrase_is_refused(phrase: str) -> None:
    with pytest.raises(ValueError, match="time schedule"):
        parse_time_schedule(phrase)


@pytest.mark.parametrize("phrase", ["每季度检查", "年中检查，年底考核", "2018年年初评估", ""])
def test_an_unknown_check_schedule_phrase_is_refused(phrase: str) -> None:
    with pytest.raises(ValueError, match="check schedule"):
        parse_check_schedule(phrase)


def test_a_month_end_due_date_is_the_last_day_of_that_month() -> None:
    assert parse_time_schedule("2020年2月底前完成").due == D("2020-02-29")
    assert parse_time_schedule("2019年6月底前完成").due == D("2019-06-30")


# --- bad input: refused whole, with the line ------------------------------------------------------


def tianjin_error(text: str) -> str:
    with pytest.raises(LedgerError) as caught:
        parse_tianjin_ledger(text, source=TIANJIN)
    assert isinstance(caught.value, ValueError)
    return str(caught.value)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(
            lambda t: drop_lines(t, 39, 45),
            f"{TIANJIN}:40: expected task number 5, found 6 (a row missing, out of order or repeated)",
            id="row-5-dropped",
        ),
        pytest.param(
            lambda t: edit_line(t, 33, "\t3"),
            f"{TIANJIN}:33: expected task number 4, found 3 (a row missing, out of order or repeated)",
            id="number-repeated",
        ),
        pytest.param(
            lambda t: edit_line(edit_line(t, 26, "\t4"), 33, "\t3"),
            f"{TIANJIN}:26: expected task number 3, found 4 (a row missing, out of order or repeated)",
            id="numbers-swapped",
        ),
        pytest.param(
            lambda t: drop_lines(drop_lines(t, 387, 393), 192, 197),
            f"{TIANJIN}:186: expected 26 tasks, found 25",
            id="last-row-dropped-in-both-copies",
        ),
        pytest.param(
            lambda t: edit_line(t, 21, "\t"),
            f"{TIANJIN}:21: the 责任部门 cell of task 2 is empty",
            id="cell-blanked",
        ),
        pytest.param(
            lambda t: edit_line(t, 21, None),
            f"{TIANJIN}:19: task 2 has 5 cells, expected 6 (措施任务 | 序号 | 工作任务 | 责任部门 | 时间进度 | 检查考核):"
            " a cell is missing",
            id="cell-missing",
        ),
        pytest.param(
            lambda t: edit_line(t, 216, "\t市发展改革委牵头，各区人民政府参加"),
            f"{TIANJIN}:216: the second copy of the table differs from the first (line 21): the 责任部门 cell"
            " of task 2 reads '市发展改革委牵头，各区人民政府参加', the first copy"
            " '市发展改革委、人民银行天津分行牵头，各区人民政府参加'",
            id="second-copy-disagrees",
        ),
        pytest.param(
            lambda t: drop_lines(t, 387, 393),
            f"{TIANJIN}:381: expected 26 tasks, found 25",
            id="second-copy-short-of-its-last-row",
        ),
        pytest.param(
            lambda t: edit_line(t, 15, "\t2018年第三季度完成"),
            f"{TIANJIN}:15: unknown time schedule phrase '2018年第三季度完成'",
            id="unknown-time-phrase",
        ),
        pytest.param(
            lambda t: edit_line(t, 16, "\t每季度检查"),
            f"{TIANJIN}:16: unknown check schedule phrase '每季度检查' in '每季度检查'",
            id="unknown-check-phrase",
        ),
        pytest.param(
            lambda t: edit_line(t, 21, "\t市发展改革委、人民银行天津分行"),
            f"{TIANJIN}:21: expected departments ending in 牵头, 负责 or 参加, found '市发展改革委、人民银行天津分行'",
            id="departments-without-a-role",
        ),
        pytest.param(
            lambda t: edit_line(t, 53, "\t建立健全政务信用体系"),
            f"{TIANJIN}:53: unknown group header '建立健全政务信用体系'; known:"
            " 探索构建广泛有效的政务诚信监督体系、建立健全政务信用管理体系、加强重点领域政务诚信建设、组织保障",
            id="unknown-group",
        ),
        pytest.param(
            lambda t: edit_line(t, 125, "\t探索构建广泛有效的政务诚信监督体系"),
            f"{TIANJIN}:125: group '探索构建广泛有效的政务诚信监督体系' comes back after '建立健全政务信用管理体系'",
            id="group-comes-back",
        ),
        pytest.param(
            lambda t: edit_line(t, 7, "\t责任人"),
            f"{TIANJIN}:7: expected a column header 责任部门 before the first row",
            id="unknown-column-header",
        ),
        pytest.param(
            lambda t: edit_line(t, 198, "台账"),
            f"{TIANJIN}: expected the table 政务诚信体系建设工作台账 printed twice, found it 1 times",
            id="second-copy-missing",
        ),
    ],
)
def test_a_bad_tianjin_text_is_refused_with_the_line(edit: Callable[[str], str], message: str) -> None:
    assert tianjin_error(edit(source_text(TIANJIN))) == message


@pytest.mark.parametrize(
    ("name", "jurisdiction", "edit", "message"),
    [
        pytest.param(
            GUANGYUAN,
            "guangyuan",
            lambda t: drop_lines(t, 197, 203),
            f"{GUANGYUAN}:192: expected 15 tasks, found 14",
            id="guangyuan-last-row-dropped",
        ),
        pytest.param(
            GUANGYUAN,
            "guangyuan",
            lambda t: edit_line(t, 109, "\t5"),
            f"{GUANGYUAN}:109: expected task number 4, found 5 (a row missing, out of order or repeated)",
            id="guangyuan-number-changed",
        ),
        pytest.param(
            GUANGYUAN,
            "guangyuan",
            lambda t: edit_line(t, 113, None),
            f"{GUANGYUAN}:109: task 4 has 4 cells, expected 5 (序号 | 工作任务 | 责任单位 | 主要举措、成果形式 | 进度时限):"
            " a cell is missing",
            id="guangyuan-cell-missing",
        ),
        pytest.param(
            GUANGYUAN,
            "guangyuan",
            lambda t: edit_line(t, 113, "\t2018年上半年"),
            f"{GUANGYUAN}:113: unknown time schedule phrase '2018年上半年'",
            id="guangyuan-unknown-time-phrase",
        ),
        pytest.param(
            TONGXIN,
            "tongxin",
            lambda t: edit_line(t, 61, "\t"),
            f"{TONGXIN}:61: the 责任单位 cell of task 6 is empty",
            id="tongxin-cell-blanked",
        ),
        pytest.param(
            TONGXIN,
            "tongxin",
            lambda t: drop_lines(t, 58, 63),
            f"{TONGXIN}:58: expected task number 6, found 7 (a row missing, out of order or repeated)",
            id="tongxin-row-dropped",
        ),
    ],
)
def test_a_bad_division_table_is_refused_with_the_line(
    name: str, jurisdiction: str, edit: Callable[[str], str], message: str
) -> None:
    with pytest.raises(LedgerError) as caught:
        parse_division_table(edit(source_text(name)), jurisdiction)
    assert str(caught.value) == message


def test_a_second_copy_short_of_a_row_is_refused_even_without_a_task_count() -> None:
    text = drop_lines(source_text(TIANJIN), 387, 393)
    with pytest.raises(LedgerError) as caught:
        parse_tianjin_ledger(text, source=TIANJIN, expected_tasks=None)
    assert str(caught.value) == f"{TIANJIN}:198: the second copy of the table has 25 tasks, the first 26"


def test_a_bad_file_is_refused_by_load_ledger_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "tianjin.txt"
    path.write_text(edit_line(source_text(TIANJIN), 15, "\t马上"), encoding="utf-8")
    with pytest.raises(LedgerError, match=r"tianjin\.txt:15: unknown time schedule phrase '马上'$"):
        load_ledger("tianjin", path)
    with pytest.raises(LedgerError, match="cannot read the file"):
        load_ledger("tianjin", tmp_path / "missing.txt")
    with pytest.raises(
        LedgerError, match=r"^taian: no ledger for this jurisdiction; known: tianjin, guangyuan, tongxin$"
    ):
        load_ledger("taian")
