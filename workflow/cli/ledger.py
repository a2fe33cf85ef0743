"""``chengxin ledger``: register a seed ledger's tasks, and show their progress."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from workflow.cli.common import (
    DbOption,
    DefsOption,
    FormatOption,
    JsonOption,
    opened,
    out,
    output_format,
    user_errors,
)
from workflow.cli.output import add_row, new_table, print_json, write_csv
from workflow.cli.progress import progress_of

ledger_app = typer.Typer(help="工作台账 work ledgers: tasks, checks and progress", no_args_is_help=True)


@ledger_app.command("import")
def ledger_import(
    jurisdiction: Annotated[str, typer.Argument(help="地区 tianjin | guangyuan | tongxin")],
    years: Annotated[
        str | None,
        typer.Option("--years", help="检查年度范围 the years checks are planned for, e.g. 2018-2019"),
    ] = None,
    db: DbOption = None,
    definitions: DefsOption = None,
) -> None:
    """从原文导入工作台账，每项任务登记一次 (register each task of a seed ledger, once)."""
    from workflow.runtime.ledgers import import_ledger, parse_years

    with user_errors():
        span = parse_years(years) if years is not None else None
        with opened(db, definitions) as engine, progress_of("导入台账 importing ledger tasks") as advance:
            result = import_ledger(engine, jurisdiction.strip(), span, progress=advance)
    total = len(result.created) + len(result.existing)
    if result.created:
        typer.echo(
            f"已导入 imported {len(result.created)} 项台账任务 ledger tasks of {result.jurisdiction} "
            f"({result.definition})；此前已导入 already there {len(result.existing)}"
        )
    else:
        typer.echo(
            f"无新任务 nothing new: {result.jurisdiction} 的 {total} 项台账任务均已导入 "
            f"(all {total} tasks were imported before)"
        )


@ledger_app.command("status")
def ledger_status(
    jurisdiction: Annotated[
        str | None, typer.Option("--jurisdiction", help="地区 tianjin | guangyuan | tongxin")
    ] = None,
    department: Annotated[
        str | None, typer.Option("--department", help="牵头部门（代码或名称）lead department, code or name")
    ] = None,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
    fmt: FormatOption = None,
) -> None:
    """台账进度：逐项任务与各部门汇总，逾期在前 (progress per task and per department, overdue first)."""
    from workflow.runtime.ledgers import ledger_status as status

    with user_errors(), opened(db, definitions) as engine:
        tasks, departments = status(engine, jurisdiction=jurisdiction, department=department)
    chosen = output_format(fmt, as_json)
    if chosen == "csv":  # the tasks, one row each (the per-department counts are their sums)
        fields = list(dataclasses.asdict(tasks[0])) if tasks else ["id"]
        write_csv(fields, [list(dataclasses.asdict(t).values()) for t in tasks])
        return
    if chosen == "json":
        print_json(
            {
                "tasks": [dataclasses.asdict(t) for t in tasks],
                "departments": [dataclasses.asdict(d) for d in departments],
            }
        )
        return
    table = new_table(
        "编号 id",
        "台账 ledger",
        "序号 no.",
        "类别 group",
        "牵头 lead",
        "状态 state",
        "本次检查 check",
        "截止 due",
        "逾期 overdue",
        "最近评定 last rating",
        key_width=max((len(t.id) for t in tasks), default=0),
    )
    for t in tasks:
        check = f"{t.check_label}（{t.check_state_label}）" if t.check_label else t.check_state_label
        add_row(
            table,
            t.id,
            t.jurisdiction,
            t.number,
            t.group,
            t.lead_name,
            t.state_label,
            check,
            t.check_due,
            "逾期 overdue" if t.overdue else "",
            t.last_rating_label,
        )
    out.print(table)
    summary = new_table(
        "部门 department",
        "任务 tasks",
        "待报送 open checks",
        "逾期 overdue",
        "待评定 to rate",
        "已结束 finished",
    )
    for d in departments:
        add_row(summary, d.name, d.tasks, d.open_checks, d.overdue, d.awaiting_rating, d.finished)
    out.print(summary)
    overdue = sum(t.overdue for t in tasks)
    out.print(f"共 {len(tasks)} 项任务，逾期 {overdue} 项 ({len(tasks)} tasks, {overdue} overdue)")
