"""``chengxin user``: local accounts of the web console — create, list, disable, reset-password.

The CLI is the operator's tool: whoever runs it with the database's credentials may create an
account for any person, roles and unit. Passwords are asked for without echo (twice) and stored
only as argon2 hashes.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from workflow.cli.common import DbOption, JsonOption, opened, out, user_errors
from workflow.cli.output import add_row, new_table, print_json, time_text
from workflow.engine.accounts import PEOPLE_ROLES

user_app = typer.Typer(
    help="控制台用户 web console accounts (create, list, disable, reset-password)", no_args_is_help=True
)

Password = Annotated[
    str,
    typer.Option(
        "--password",
        prompt="密码 password",
        hide_input=True,
        confirmation_prompt="再次输入密码 repeat the password",
        help="密码，至少10个字符；省略时提示输入 (at least 10 characters; asked for when omitted)",
    ),
]


@user_app.command("create")
def user_create(
    name: Annotated[str, typer.Argument(help="登录名 the sign-in name")],
    person: Annotated[str, typer.Option("--person", help="本人 the person the account acts as")],
    role: Annotated[
        list[str], typer.Option("--role", help=f"角色，可重复 role (repeatable): {', '.join(PEOPLE_ROLES)}")
    ],
    unit: Annotated[str, typer.Option("--unit", help="单位代码 the unit the account acts for")],
    password: Password,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """创建控制台用户 (create a console account)."""
    with user_errors(), opened(db, None) as engine:
        info = engine.accounts.create(name=name, password=password, person=person, roles=role, unit=unit)
        if as_json:
            print_json(dataclasses.asdict(info))
            return
        typer.echo(
            f"已创建用户 user created: {info.name} ({info.person}, {', '.join(info.roles)}, {info.unit})"
        )


@user_app.command("list")
def user_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """列出控制台用户（不含密码） (list console accounts, never their passwords)."""
    with user_errors(), opened(db, None) as engine:
        users = engine.accounts.list()
        if as_json:
            print_json([dataclasses.asdict(u) for u in users])
            return
        table = new_table("登录名 name", "本人 person", "角色 roles", "单位 unit", "状态 status")
        for u in users:
            status = "停用 disabled" if u.disabled_at else "启用 active"
            if u.locked_until and not u.disabled_at:
                status += f"，锁定至 locked until {time_text(u.locked_until)}"
            add_row(table, u.name, u.person, ", ".join(u.roles), u.unit, status)
        out.print(table)


@user_app.command("disable")
def user_disable(name: str, db: DbOption = None) -> None:
    """停用用户，其会话立即结束 (disable an account; its sessions end at once)."""
    with user_errors(), opened(db, None) as engine:
        info = engine.accounts.disable(name)
        typer.echo(f"已停用 disabled {info.name} ({info.person}, {info.unit})")


@user_app.command("reset-password")
def user_reset_password(name: str, password: Password, db: DbOption = None) -> None:
    """重设密码，解除锁定并结束其会话 (set a new password, lift a lock-out, end its sessions)."""
    with user_errors(), opened(db, None) as engine:
        info = engine.accounts.reset_password(name, password)
        typer.echo(f"已重设密码 password reset for {info.name}")
