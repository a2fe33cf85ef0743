"""``chengxin webhook``: the services told of transitions over HTTP (add, list, remove)."""

from __future__ import annotations

from typing import Annotated

import typer

from workflow.cli.common import DbOption, JsonOption, opened, out, user_errors
from workflow.cli.output import add_row, new_table, print_json

webhook_app = typer.Typer(help="Webhook 订阅 webhook subscriptions", no_args_is_help=True)


@webhook_app.command("add")
def webhook_add(
    name: Annotated[str, typer.Argument(help="订阅名称 a name for the subscriber")],
    url: Annotated[str, typer.Argument(help="接收地址 the URL deliveries are POSTed to")],
    events: Annotated[
        list[str],
        typer.Option(
            "--event",
            "-e",
            help="事件类型，可重复 event type, repeatable: '*', 'publish', 'record.publish', 'record.*'",
        ),
    ],
    secret: Annotated[
        str | None,
        typer.Option(
            "--secret",
            envvar="CHENGXIN_WEBHOOK_SECRET",
            help="签名密钥（省略则生成并只显示一次） signing secret; generated and shown once if omitted",
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """添加订阅 (subscribe a URL to event types; deliveries are signed with the secret)."""
    with user_errors(), opened(db, None) as engine:
        row = engine.webhooks.add(name, url, events, secret=secret)
        if as_json:
            shown = {"id": row.id, "name": row.name, "url": row.url, "events": list(row.events)}
            print_json(shown | ({"secret": row.secret} if secret is None else {}))
            return
        typer.echo(
            f"已添加订阅 subscription added: #{row.id} {row.name} → {row.url} ({', '.join(row.events)})"
        )
        if secret is None:
            typer.echo(f"签名密钥 signing secret (只显示这一次 shown only this once): {row.secret}")


@webhook_app.command("list")
def webhook_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """列出订阅 (list subscriptions; secrets are never shown)."""
    with user_errors(), opened(db, None) as engine:
        rows = engine.webhooks.list()
        if as_json:
            print_json(
                [
                    {
                        "id": r.id,
                        "name": r.name,
                        "url": r.url,
                        "events": list(r.events),
                        "created_at": r.created_at,
                    }
                    for r in rows
                ]
            )
            return
        if not rows:
            typer.echo("没有订阅 no webhook subscriptions")
            return
        table = new_table("#", "名称 name", "地址 URL", "事件 events")
        for r in rows:
            add_row(table, r.id, r.name, r.url, ", ".join(r.events))
        out.print(table)


@webhook_app.command("remove")
def webhook_remove(
    subscription: Annotated[str, typer.Argument(help="订阅名称或编号 name or number")],
    db: DbOption = None,
) -> None:
    """删除订阅 (remove a subscription; its undelivered deliveries are dead-lettered)."""
    with user_errors(), opened(db, None) as engine:
        row = engine.webhooks.remove(subscription)
        typer.echo(f"已删除订阅 subscription removed: #{row.id} {row.name}")
