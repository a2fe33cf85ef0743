"""The ``chengxin`` command: its top-level options, ``init`` and ``demo``, and the command groups.

Each group is registered by name with ``register`` (``workflow.cli.lazy``): its module is imported
only when the group runs, so ``chengxin --help`` never loads the engine. Add a group the same way:
one ``register`` line with its module's Typer app and its one-line help.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer

from workflow.cli.common import (
    DbOption,
    out,
    run_guarded,
    settings,
    user_errors,
)
from workflow.cli.lazy import LazyGroup, register

app = typer.Typer(
    name="chengxin",
    cls=LazyGroup,
    help="诚信 chengxin — 政务失信记录全生命周期引擎 (workflow engine for government dishonesty records).",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
register("definitions", "workflow.cli.definitions:definitions_app", "流程定义 workflow definitions")
register(
    "record", "workflow.cli.record:record_app", "失信记录 records: submit, fire events, show, list, history"
)
register("audit", "workflow.cli.audit:audit_app", "审计 audit: verify hash chains, replay, checkpoints")
register("clock", "workflow.cli.clock:clock_app", "演练库的模拟时钟 simulated clock of a drill database")
register("calendar", "workflow.cli.calendar:calendar_app", "工作日历 working-day calendar and holiday tables")
register("outbox", "workflow.cli.outbox:outbox_app", "发件箱 the outbox: mail and webhook deliveries")
register(
    "config", "workflow.cli.config:config_app", "配置 settings: CHENGXIN_* from the environment and .env"
)
register("unit", "workflow.cli.unit:unit_app", "单位目录 units and their mail addresses")
register("ledger", "workflow.cli.ledger:ledger_app", "工作台账 work ledgers: tasks, checks and progress")
register(
    "check",
    "workflow.cli.check:check",
    "信用核查：主体能否评优、评先、获得资金、参与采购 (credit check: may a subject be honoured, rated 优秀, funded, contracted)",
)
register(
    "archive",
    "workflow.cli.check:archive",
    "公务员诚信档案：记录、惩戒、处分影响期、承诺、年度考核 (a civil servant's integrity archive)",
)
register(
    "report", "workflow.cli.report:report_app", "考核评价与排名 supervision reports, assessments and rankings"
)
register("token", "workflow.cli.token:token_app", "HTTP 接口令牌 API tokens (create, list, revoke)")
register(
    "user",
    "workflow.cli.user:user_app",
    "控制台用户 web console accounts (create, list, disable, reset-password)",
)
register("webhook", "workflow.cli.webhook:webhook_app", "Webhook 订阅 webhook subscriptions")
register(
    "tasks",
    "workflow.cli.tasks:tasks",
    "我现在可以办理的事项，按到期先后 (what I may do now across cases, due soonest first)",
)
register(
    "tick",
    "workflow.cli.service:tick",
    "执行一次巡检：开启到期督查、处理到期期限和提醒、发送邮件 (one pass: rounds, deadlines, reminders, mail)",
)
register(
    "serve",
    "workflow.cli.service:serve",
    "运行引擎服务：调度（期限、提醒、督查、邮件、检查点）和 HTTP 接口 (run the scheduler and, with --port, the HTTP API)",
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # ~20 ms: only for --version

    try:
        return version("chengxin")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout that was never installed
        return "unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"chengxin {_version()}")
        raise typer.Exit()


# --------------------------------------------------------------------------------- init


@app.callback()
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="记录每次状态变化 log every transition")
    ] = False,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="显示版本 show the version and exit"
        ),
    ] = False,
) -> None:
    """诚信 chengxin — 政务失信记录全生命周期引擎 (workflow engine for government dishonesty records)."""
    from workflow.cli import logs

    if Path(".env").is_file():  # every option that reads a CHENGXIN_* variable sees .env's too
        from workflow.settings import export_env_file

        export_env_file()
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
    from workflow import Engine
    from workflow.engine.clock import SHANGHAI, parse_when
    from workflow.errors import ClockError

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
        app(prog_name="chengxin")
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
