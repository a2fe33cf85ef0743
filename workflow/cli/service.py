"""``chengxin tick`` and ``chengxin serve``: the deadline sweep, supervision rounds and mail, once or for as long as it runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from workflow.cli.common import (
    DbOption,
    DefsOption,
    opened,
    user_errors,
)
from workflow.engine.clock import parse_when, shanghai


def tick(
    now: Annotated[
        str | None, typer.Option("--now", help="仅演练库：先把模拟时间推进到此 (drill databases only)")
    ] = None,
    mail: Annotated[
        bool, typer.Option("--mail/--no-mail", help="同时发送待发邮件 also send queued mail")
    ] = True,
    db: DbOption = None,
    definitions: DefsOption = None,
) -> None:
    """执行一次巡检：开启到期督查、处理到期期限和提醒、发送邮件 (one pass: rounds, deadlines, reminders, mail)."""
    from workflow.runtime.dispatch import Dispatcher, MailSettings
    from workflow.runtime.service import run_once
    from workflow.runtime.webhooks import WebhookDispatcher, WebhookSettings

    with user_errors(), opened(db, definitions) as engine:
        if now is not None:
            engine.advance_clock(parse_when(now))
        dispatcher = Dispatcher(engine, MailSettings.from_env()) if mail else None
        hooks = WebhookDispatcher(engine, WebhookSettings.from_env()) if mail else None
        result = run_once(engine, dispatcher, webhooks=hooks)
        sent = result.get("mail", {})
        posted = result.get("webhooks", {})
        typer.echo(
            f"{shanghai(engine.clock.now())} (Asia/Shanghai): 督查 rounds opened {result['rounds_opened']}，"
            f"台账检查 ledger checks opened {result['checks_opened']}，"
            f"到期处理 fired {result['fired']}，跳过 skipped {result['skipped']}，"
            f"邮件 mail sent {sent.get('sent', 0)}，failed {sent.get('failed', 0)}，dead {sent.get('dead', 0)}，"
            f"暂不发送 held {sent.get('held', 0)}，"
            f"webhook sent {posted.get('sent', 0)}，failed {posted.get('failed', 0)}，dead {posted.get('dead', 0)}，"
            f"错误 errors {len(result['errors'])}"
        )
        for note in result.get("notes", []):
            typer.echo(f"注意 note: {note}", err=True)
        for error in result["errors"]:
            typer.echo(f"错误 error: {error}", err=True)
        if result["errors"]:
            raise typer.Exit(1)


def serve(
    sweep_seconds: Annotated[float, typer.Option(min=1, help="巡检间隔秒数 seconds between sweeps")] = 30.0,
    rounds_seconds: Annotated[
        float, typer.Option(min=10, help="督查排期检查间隔 seconds between schedule checks")
    ] = 300.0,
    mail: Annotated[bool, typer.Option("--mail/--no-mail", help="发送邮件 send queued mail")] = True,
    checkpoint_dir: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint-dir",
            envvar="CHENGXIN_CHECKPOINT_DIR",
            help="定时写入检查点的目录（须已存在） write a checkpoint into this existing folder on a schedule",
        ),
    ] = None,
    checkpoint_minutes: Annotated[
        float, typer.Option(min=1, help="检查点间隔分钟 minutes between checkpoints")
    ] = 60.0,
    checkpoint_keep: Annotated[
        int,
        typer.Option(
            min=1,
            help="保留最新检查点数（另保留近90天每天一份） newest checkpoints kept (and one a day for 90 days)",
        ),
    ] = 48,
    db: DbOption = None,
    definitions: DefsOption = None,
) -> None:
    """运行引擎服务：定时巡检期限、提醒、督查、邮件和检查点 (run the scheduler until stopped)."""
    from workflow import audit
    from workflow.runtime.dispatch import Dispatcher, MailSettings
    from workflow.runtime.service import serve as run_service
    from workflow.runtime.webhooks import WebhookDispatcher, WebhookSettings

    with user_errors(), opened(db, definitions) as engine:
        settings_ = MailSettings.from_env()
        dispatcher = Dispatcher(engine, settings_) if mail else None
        hooks = WebhookDispatcher(engine, WebhookSettings.from_env()) if mail else None
        take: Callable[[], Any] | None = None
        if checkpoint_dir is not None:
            folder = checkpoint_dir
            audit.checkpoints(folder)  # the folder must exist: say so now, not in the log an hour later

            def take() -> Any:
                return audit.take_checkpoint(engine, folder, keep=checkpoint_keep)

        described = (
            f", 检查点 checkpoints every {checkpoint_minutes:g} min into {checkpoint_dir}" if take else ""
        )
        typer.echo(
            f"chengxin serve: 巡检 sweep every {sweep_seconds:g}s, 督查 rounds every {rounds_seconds:g}s, "
            f"{settings_.describe() if mail else '不发送邮件 mail off'}{described}; Ctrl-C 停止 to stop",
            err=True,
        )
        run_service(
            engine,
            dispatcher,
            sweep_seconds=sweep_seconds,
            rounds_seconds=rounds_seconds,
            checkpoint=take,
            checkpoint_seconds=checkpoint_minutes * 60,
            webhooks=hooks,
        )
