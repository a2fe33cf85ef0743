"""``chengxin token``: API tokens for the HTTP API — create (the secret shown once), list, revoke.

The CLI is the operator's tool: whoever runs it with the database's credentials may issue a
token for any person, role and unit. Tokens only bind callers of the HTTP API.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated

import typer

from workflow.cli.common import DbOption, JsonOption, opened, out, user_errors
from workflow.cli.output import add_row, new_table, print_json, time_text
from workflow.engine.tokens import ROLES

token_app = typer.Typer(help="HTTP 接口令牌 API tokens (create, list, revoke)", no_args_is_help=True)


@token_app.command("create")
def token_create(
    person: Annotated[str, typer.Option("--person", help="持有人 the person the token acts as")],
    role: Annotated[str, typer.Option("--role", help=f"角色 role: {', '.join(ROLES)}")],
    unit: Annotated[str, typer.Option("--unit", help="单位代码 the unit the token acts for")],
    days: Annotated[int, typer.Option("--days", min=1, max=1096, help="有效天数 days until it expires")] = 90,
    label: Annotated[str, typer.Option("--label", help="用途说明 what it is for")] = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """创建令牌；令牌只显示这一次 (create a token; it is shown this once only)."""
    with user_errors(), opened(db, None) as engine:
        info, secret = engine.tokens.create(
            person=person, role=role, unit=unit, valid_for=dt.timedelta(days=days), label=label
        )
        if as_json:
            print_json({**dataclasses.asdict(info), "token": secret})
            return
        typer.echo(
            f"已创建令牌 token created: {info.id} ({info.person}, {info.role}, {info.unit}), "
            f"有效至 expires {time_text(info.expires_at)}"
        )
        typer.echo("令牌只显示这一次，请妥善保存 (shown this once only; store it safely):", err=True)
        typer.echo(secret)


@token_app.command("list")
def token_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """列出令牌（不含密钥） (list tokens, never their secrets)."""
    with user_errors(), opened(db, None) as engine:
        tokens = engine.tokens.list()
        now = engine.clock.now()
        if as_json:
            print_json([{**dataclasses.asdict(t), "status": t.status(now)} for t in tokens])
            return
        table = new_table(
            "编号 id",
            "持有人 person",
            "角色 role",
            "单位 unit",
            "状态 status",
            "有效至 expires",
            "说明 label",
        )
        for t in tokens:
            add_row(table, t.id, t.person, t.role, t.unit, t.status(now), time_text(t.expires_at), t.label)
        out.print(table)


@token_app.command("revoke")
def token_revoke(token_id: str, db: DbOption = None) -> None:
    """吊销令牌，立即生效 (revoke a token, at once)."""
    with user_errors(), opened(db, None) as engine:
        info = engine.tokens.revoke(token_id)
        typer.echo(f"已吊销 revoked {info.id} ({info.person}, {info.role}, {info.unit})")
