"""``chengxin outbox``: queued, sent, failed and dead mail."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from workflow.cli.common import (
    DbOption,
    FormatOption,
    JsonOption,
    fail,
    opened,
    out,
    output_format,
    user_errors,
)
from workflow.cli.output import (
    add_row,
    new_table,
    print_json,
    write_csv,
)

outbox_app = typer.Typer(help="发件箱 the outbox: mail and webhook deliveries", no_args_is_help=True)


@outbox_app.command("list")
def outbox_list(
    status: Annotated[str | None, typer.Option(help="queued | sending | sent | failed | dead")] = None,
    record: Annotated[str | None, typer.Option("--record", help="记录编号 record id")] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="mail | webhook")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    db: DbOption = None,
    as_json: JsonOption = False,
    fmt: FormatOption = None,
) -> None:
    """列出邮件和 webhook 投递 (list queued, sent, failed and dead mails and webhook deliveries)."""
    from workflow.engine.outbox import STATUSES

    if status is not None and status not in STATUSES:
        fail(f"--status {status!r} 无效 (invalid); allowed: {', '.join(STATUSES)}", 2)
    with user_errors(), opened(db, None) as engine:
        rows = engine.outbox.list(record_id=record, status=status, channel=channel, limit=limit)
        chosen = output_format(fmt, as_json)
        if chosen == "csv":
            write_csv(
                [
                    "#",
                    "status",
                    "channel",
                    "template",
                    "recipient_unit",
                    "record_id",
                    "attempts",
                    "last_error",
                ],
                [
                    [
                        r.id,
                        r.status,
                        r.channel,
                        r.template,
                        r.recipient_unit,
                        r.record_id or "",
                        r.attempts,
                        r.last_error or "",
                    ]
                    for r in rows
                ],
            )
            return
        if chosen == "json":
            print_json([{k: v for k, v in dataclasses.asdict(row).items() if k != "context"} for row in rows])
            return
        table = new_table(
            "#",
            "渠道 channel",
            "状态 status",
            "模板/事件 template/event",
            "收件 to",
            "记录 record",
            "尝试 tries",
            "错误 error",
        )
        for row in rows:
            add_row(
                table,
                row.id,
                row.channel,
                row.status,
                row.template,
                f"webhook #{row.recipient_unit}" if row.channel == "webhook" else row.recipient_unit,
                row.record_id or "",
                row.attempts,
                row.last_error or "",
            )
        out.print(table)
        counts = engine.outbox.counts()
        typer.echo(
            "  ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "发件箱为空 the outbox is empty"
        )


@outbox_app.command("show")
def outbox_show(outbox_id: int, db: DbOption = None, as_json: JsonOption = False) -> None:
    """显示一封邮件的内容与状态 (one mail: status, error and the rendered text)."""
    from notifications import NotificationError, TemplateCatalog
    from workflow.runtime.dispatch import revive, stored_context

    with user_errors(), opened(db, None) as engine:
        row = engine.outbox.get(outbox_id)
        if row is None:
            fail(f"邮件 {outbox_id} 不存在 (no such mail)", 3)
        if as_json:
            print_json(dataclasses.asdict(row))
            return
        if row.channel == "webhook":
            from workflow.runtime.webhooks import body_bytes

            typer.echo(
                f"#{row.id} webhook {row.status} → #{row.recipient_unit} (tries {row.attempts}) "
                f"Chengxin-Delivery: {row.message_id} {row.last_error or ''}"
            )
            typer.echo(body_bytes(row).decode())
            return
        typer.echo(
            f"#{row.id} {row.status} → {row.recipient_unit} (tries {row.attempts}) {row.last_error or ''}"
        )
        try:
            rendered = TemplateCatalog().render(row.template, revive(stored_context(row)["vars"]))
        except NotificationError as exc:
            fail(f"无法生成邮件 (cannot build the mail): {exc}")
        typer.echo(f"主题 Subject: {rendered.subject}\n")
        typer.echo(rendered.text)


@outbox_app.command("retry")
def outbox_retry(
    ids: Annotated[
        list[int] | None, typer.Argument(help="邮件编号；省略则全部死信 (all dead mails when omitted)")
    ] = None,
    db: DbOption = None,
) -> None:
    """重新发送失败或死信邮件和 webhook (put failed or dead mails and webhook deliveries back in the queue)."""
    with user_errors(), opened(db, None) as engine:
        count = engine.outbox.retry(ids or [])
        typer.echo(f"{count} 条已重新排队 queued again (mail and webhooks)")


@outbox_app.command("send")
def outbox_send(db: DbOption = None) -> None:
    """立即发送到期的邮件和 webhook (send the mail and webhook deliveries due now)."""
    from workflow.runtime.dispatch import Dispatcher, MailSettings
    from workflow.runtime.webhooks import WebhookDispatcher, WebhookSettings

    with user_errors(), opened(db, None) as engine:
        settings_ = MailSettings.from_env()
        hooks = WebhookDispatcher(engine, WebhookSettings.from_env())
        result = Dispatcher(engine, settings_).run()
        lost = f", 已由其他进程发送 taken over by another dispatcher {result.lost}" if result.lost else ""
        held = f", 暂不发送 held {result.held}" if result.held else ""
        typer.echo(
            f"{settings_.describe()}: sent {result.sent}, failed {result.failed}, dead {result.dead}{held}{lost}"
        )
        posted = hooks.run()
        typer.echo(f"webhook: sent {posted.sent}, failed {posted.failed}, dead {posted.dead}")
        for note in result.notes:
            typer.echo(f"注意 note: {note}", err=True)
        for error in [*result.errors, *posted.errors]:
            typer.echo(f"错误 error: {error}", err=True)
        if result.dead or posted.dead:
            raise typer.Exit(1)
