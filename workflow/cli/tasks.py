"""``chengxin tasks``: what an actor may do now, across every open case, due soonest first."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from workflow.cli.common import (
    ActorOption,
    DbOption,
    DefsOption,
    FormatOption,
    JsonOption,
    RoleOption,
    UnitOption,
    actor_of,
    opened,
    out,
    output_format,
    user_errors,
)
from workflow.cli.output import add_row, new_table, print_json, time_text, write_csv


def tasks(
    *,
    actor: ActorOption,
    role: RoleOption,
    unit: UnitOption,
    mine: Annotated[
        bool,
        typer.Option(
            "--mine/--all-units",
            help="仅本单位为责任或认定单位的案件 only cases of my unit, or every unit's (default)",
        ),
    ] = False,
    definition: Annotated[str | None, typer.Option("--definition", "-d", help="流程定义 definition")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="最多条数 at most this many")] = 50,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
    fmt: FormatOption = None,
) -> None:
    """我现在可以办理的事项，按到期先后 (what I may do now across cases, due soonest first)."""
    chosen = output_format(fmt, as_json)
    with user_errors():
        who = actor_of(actor, role, unit)
        with opened(db, definitions) as engine:
            found = engine.search.tasks(
                who, limit=limit, unit=who.unit if mine else None, definition=definition
            )
    if chosen == "json":
        print_json([t.to_json() for t in found])
        return
    headers = ["到期 due", "逾期天数 days overdue", "编号 id", "主体 subject", "状态 state", "可办理 may do"]
    rows = [
        [
            f"{time_text(t.case.next_due)} {t.case.next_deadline}" if t.case.next_due else "—",
            t.case.days_overdue or "",
            t.case.view.id,
            t.case.view.data.get("subject_name", ""),
            f"{t.case.view.state_label} ({t.case.view.state})",
            "、".join(f"{e.label} ({e.event})" for e in t.events),
        ]
        for t in found
    ]
    if chosen == "csv":
        write_csv(headers, rows)
        return
    table = new_table(*headers)
    for row in rows:
        add_row(table, *row)
    out.print(table)
    out.print(Text(f"共 {len(found)} 项待办 ({len(found)} tasks for {who.id} [{who.role}@{who.unit}])"))
