"""The ``chengxin`` command: its top-level options, ``init`` and ``demo``, and the command groups."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer

from workflow import Engine
from workflow.cli import (
    audit,
    calendar,
    clock,
    definitions,
    ledger,
    logs,
    outbox,
    record,
    service,
    token,
    unit,
    user,
)
from workflow.cli.common import (
    DbOption,
    out,
    run_guarded,
    settings,
    user_errors,
)
from workflow.engine.clock import SHANGHAI, parse_when
from workflow.errors import ClockError

app = typer.Typer(
    name="chengxin",
    help="诚信 chengxin — 政务失信记录全生命周期引擎 (workflow engine for government dishonesty records).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(definitions.definitions_app, name="definitions")
app.add_typer(record.record_app, name="record")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(clock.clock_app, name="clock")
app.add_typer(calendar.calendar_app, name="calendar")
app.add_typer(outbox.outbox_app, name="outbox")
app.add_typer(unit.unit_app, name="unit")
app.add_typer(ledger.ledger_app, name="ledger")
app.add_typer(token.token_app, name="token")
app.add_typer(user.user_app, name="user")
app.command()(service.tick)
app.command()(service.serve)


# --------------------------------------------------------------------------------- init


@app.callback()
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="记录每次状态变化 log every transition")
    ] = False,
) -> None:
    settings.verbose = verbose
    logs.configure(verbose=verbose)


@app.command()
def init(
    db: DbOption = None,
    simulated_clock: Annotated[
        bool,
        typer.Option(
            "--simulated-clock", help="创建演练库：使用模拟时钟 (drill database on simulated time, for life)"
        ),
    ] = False,
    start: Annotated[
        str | None, typer.Option("--start", help="模拟时钟起点 start of simulated time, e.g. 2026-05-11")
    ] = None,
) -> None:
    """创建或升级数据库结构 (create or upgrade the schema)."""
    with user_errors():
        begin = None
        if simulated_clock:
            begin = parse_when(start) if start else dt.datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI)
        elif start:
            raise ClockError("--start 只能与 --simulated-clock 一起使用 (only with --simulated-clock)")
        engine, before, after = Engine.init(db, simulated_start=begin)
        try:
            mode = "模拟时间 simulated" if engine.simulated else "真实时间 real time"
            change = (
                f"{before or '空 empty'} → {after}" if before != after else f"已是最新 up to date ({after})"
            )
            typer.echo(f"数据库就绪 database ready: 结构 schema {change}; 时钟 clock: {mode}")
        finally:
            engine.close()


@app.command()
def demo(
    db: Annotated[Path, typer.Option("--db", help="演练库文件 the demo's SQLite file")] = Path(
        "chengxin-demo.db"
    ),
    out_dir: Annotated[Path, typer.Option("--out", help="邮件输出目录 where mails are written")] = Path(
        "demo-output"
    ),
) -> None:
    """演示：在模拟时钟上走完几条记录的生命周期 (demo: records through their lifecycle, simulated clock)."""
    from workflow.cli.demo import run_demo

    def run() -> None:
        run_demo(db, out_dir, out)

    run_guarded(run)


def main() -> None:
    """Entry point of the ``chengxin`` command."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("已中断 interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug, not a user error: one line for people, the traceback with -v
        if settings.verbose:
            from workflow.log import get_logger

            get_logger("chengxin.cli").exception("internal error")
        detail = " ".join(str(exc).split())
        typer.echo(
            f"内部错误 internal error: {type(exc).__name__}: {detail} (这是程序缺陷 a bug; "
            "run again with -v for the traceback)",
            err=True,
        )
        sys.exit(70)


if __name__ == "__main__":
    main()
