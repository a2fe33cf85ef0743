"""``chengxin clock``: the simulated clock of a drill database."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from workflow.cli.common import (
    DbOption,
    JsonOption,
    fail,
    opened,
    user_errors,
)
from workflow.cli.output import (
    print_json,
)
from workflow.engine.clock import SHANGHAI, parse_when, shanghai

MAX_DAYS = 100 * 366  # a drill moves months, not millennia (and a date ends in 9999)

clock_app = typer.Typer(help="演练库的模拟时钟 simulated clock of a drill database", no_args_is_help=True)


@clock_app.command("show")
def clock_show(db: DbOption = None, as_json: JsonOption = False) -> None:
    """显示当前时间 (show the database's clock)."""
    with user_errors(), opened(db, None) as engine:
        now = engine.clock.now()
        if as_json:
            print_json({"now": now.astimezone(SHANGHAI).isoformat(), "simulated": engine.simulated})
            return
        mode = "模拟时间 simulated" if engine.simulated else "真实时间 real time"
        typer.echo(f"当前时间 now: {shanghai(now)} (Asia/Shanghai), {mode}")


@clock_app.command("advance")
def clock_advance(
    days: Annotated[int, typer.Option(min=0, help="天数 days")] = 0,
    hours: Annotated[int, typer.Option(min=0, help="小时数 hours")] = 0,
    to: Annotated[str | None, typer.Option("--to", help="前进到 move to, e.g. 2026-09-01T09:00")] = None,
    db: DbOption = None,
) -> None:
    """推进演练库的模拟时间 (move a drill database's simulated time forward)."""
    if days > MAX_DAYS or hours > MAX_DAYS * 24:
        fail(f"--days/--hours 过大 (too far: at most {MAX_DAYS} days or {MAX_DAYS * 24} hours at once)", 2)
    with user_errors(), opened(db, None) as engine:
        try:
            target = parse_when(to) if to else engine.clock.now() + dt.timedelta(days=days, hours=hours)
        except OverflowError:
            fail("--days/--hours 超出日历范围 (the simulated clock would pass 9999-12-31)", 2)
        now = engine.advance_clock(target)
        typer.echo(f"模拟时间 simulated now: {shanghai(now)} (Asia/Shanghai)")
