"""``chengxin calendar``: holiday tables and the working days they make."""

from __future__ import annotations

import datetime as dt
from calendar import monthrange
from pathlib import Path

import typer

from workflow.cli.common import (
    DbOption,
    DefsOption,
    JsonOption,
    fail,
    opened,
    out,
    user_errors,
)
from workflow.cli.output import (
    add_row,
    new_table,
    print_json,
)
from workflow.engine.clock import shanghai

calendar_app = typer.Typer(help="工作日历 working-day calendar and holiday tables", no_args_is_help=True)


@calendar_app.command("load")
def calendar_load(file: Path, db: DbOption = None, definitions: DefsOption = None) -> None:
    """载入一年的放假安排并重算暂定期限 (load a year's holiday table; recompute provisional deadlines)."""
    with user_errors(), opened(db, definitions) as engine:
        table, moved = engine.calendars.load_holiday_table(file)
        kind = "暂定 provisional" if table.provisional else "正式 official"
        typer.echo(f"已载入 loaded {table.year} ({kind}): {table.source}")
        for record_id, name, old, new in moved:
            typer.echo(f"  重算 recomputed {record_id} {name}: {shanghai(old)} → {shanghai(new)}")
        typer.echo(f"{len(moved)} 个期限已重算 deadlines recomputed")


@calendar_app.command("show")
def calendar_show(
    year: int, db: DbOption = None, definitions: DefsOption = None, as_json: JsonOption = False
) -> None:
    """显示某年的休息日与调休上班日 (days off and make-up working days of a year)."""
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        fail(f"年份 {year} 超出范围 (year out of range; allowed {dt.MINYEAR}–{dt.MAXYEAR})", 2)
    with user_errors(), opened(db, definitions) as engine:
        calendar = engine.calendars.working_calendar()
        source = calendar.known_years().get(year, "法定节假日推算 statutory fallback (provisional)")
        length = 366 if monthrange(year, 2)[1] == 29 else 365
        days = [calendar.day(dt.date(year, 1, 1) + dt.timedelta(days=i)) for i in range(length)]
        special = [d for d in days if (not d.working) != (d.date.weekday() >= 5)]
        if as_json:
            print_json(
                {
                    "year": year,
                    "source": source,
                    "days": [
                        {
                            "date": d.date.isoformat(),
                            "working": d.working,
                            "reason": d.reason,
                            "provisional": d.provisional,
                        }
                        for d in special
                    ],
                }
            )
            return
        typer.echo(f"{year}: {source}")
        table = new_table("日期 date", "类型 kind", "原因 reason")
        for d in special:
            add_row(
                table,
                d.date.isoformat(),
                "上班 working" if d.working else "休息 off",
                d.reason + (" (暂定)" if d.provisional else ""),
            )
        out.print(table)
