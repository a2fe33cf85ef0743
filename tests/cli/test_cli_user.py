"""``chengxin user`` and the accounts behind it: passwords stored as argon2 hashes only, sign-in
opens a session, five failures lock the account, disabling or resetting ends sessions; bad input
is one line with its exit code."""

from __future__ import annotations

import pytest
from support.cli import Cli, one_line_error

from workflow import Engine, Unauthenticated
from workflow.engine.accounts import MAX_FAILURES

PASSWORD = "correct horse battery"


def _create(cli: Cli, name: str = "li", *roles: str) -> None:
    args = [a for r in (roles or ("recorder",)) for a in ("--role", r)]
    cli("user", "create", name, "--person", "li.lei", *args, "--unit", "court-3", "--password", PASSWORD).ok()


def test_create_keeps_only_an_argon2_hash_and_sign_in_opens_a_session(database_url: str) -> None:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    cli("init").ok()
    _create(cli, "li", "recorder", "reviewer")
    listed = cli("user", "list", "--json").json()
    assert [(u["name"], u["person"], u["roles"], u["unit"]) for u in listed] == [
        ("li", "li.lei", ["recorder", "reviewer"], "court-3")
    ]
    assert PASSWORD not in cli("user", "list").ok().stdout
    with Engine.open(database_url) as engine:
        stored = engine.store.accounts.user("li")
        assert stored is not None and stored.password_hash.startswith("$argon2id$")
        session, cookie = engine.accounts.sign_in("li", PASSWORD)
        assert session.role == "recorder" and len(session.csrf) >= 32
        assert engine.accounts.session(cookie).user.person == "li.lei"
        assert engine.store.accounts.session(session.key) is not None
        assert cookie not in repr(engine.store.accounts.session(session.key))
        engine.accounts.sign_out(session)
        with pytest.raises(Unauthenticated, match="重新登录"):
            engine.accounts.session(cookie)


def test_repeated_failures_lock_the_account_even_for_the_right_password(database_url: str) -> None:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    cli("init").ok()
    _create(cli)
    with Engine.open(database_url) as engine:
        for _ in range(MAX_FAILURES):
            with pytest.raises(Unauthenticated, match="用户名或密码错误"):
                engine.accounts.sign_in("li", "wrong password!")
        with pytest.raises(Unauthenticated, match="锁定"):
            engine.accounts.sign_in("li", PASSWORD)
        with pytest.raises(Unauthenticated, match="用户名或密码错误"):  # an unknown name says the same
            engine.accounts.sign_in("nobody", PASSWORD)
    assert "锁定" in cli("user", "list").ok().stdout
    cli("user", "reset-password", "li", "--password", PASSWORD + "2").ok()
    with Engine.open(database_url) as engine:
        assert engine.accounts.sign_in("li", PASSWORD + "2")[0].user.name == "li"


def test_disable_ends_open_sessions_and_refuses_sign_in(database_url: str) -> None:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    cli("init").ok()
    _create(cli)
    with Engine.open(database_url) as engine:
        _session, cookie = engine.accounts.sign_in("li", PASSWORD)
    cli("user", "disable", "li").ok()
    with Engine.open(database_url) as engine:
        with pytest.raises(Unauthenticated, match=r"重新登录|停用"):
            engine.accounts.session(cookie)
        with pytest.raises(Unauthenticated, match="停用"):
            engine.accounts.sign_in("li", PASSWORD)


def test_bad_input_is_one_line_with_its_exit_code(database_url: str) -> None:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    cli("init").ok()
    _create(cli)
    dup = cli(
        "user", "create", "li", "--person", "x", "--role", "recorder", "--unit", "u", "--password", PASSWORD
    )
    one_line_error(dup, "li", "已存在")
    assert dup.code == 8
    short = cli(
        "user", "create", "m", "--person", "x", "--role", "recorder", "--unit", "u", "--password", "short"
    )
    one_line_error(short, "password", "10")
    role = cli(
        "user", "create", "m", "--person", "x", "--role", "service", "--unit", "u", "--password", PASSWORD
    )
    one_line_error(role, "roles", "service")
    missing = cli("user", "disable", "ghost")
    one_line_error(missing, "ghost")
    assert missing.code == 3
