"""``chengxin token``: a token is shown once at creation, listed without its secret, refused by
the API once revoked; bad input is one line with its exit code."""

from __future__ import annotations

import pytest
from support.cli import Cli, one_line_error

from workflow import Engine, Unauthenticated
from workflow.engine.tokens import TokenInfo


def test_create_shows_the_token_once_and_list_never_shows_it(database_url: str) -> None:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    cli("init").ok()
    made = cli(
        "token", "create", "--person", "li.lei", "--role", "recorder", "--unit", "court-3", "--days", "7"
    ).ok()
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("cx_")
    assert "只显示这一次" in made.stderr
    listed = cli("token", "list", "--json").json()
    assert [(t["person"], t["role"], t["unit"], t["status"]) for t in listed] == [
        ("li.lei", "recorder", "court-3", "active")
    ]
    assert secret.split("_", 2)[2] not in cli("token", "list").ok().stdout + str(listed)
    with Engine.open(database_url) as engine:
        assert isinstance(engine.tokens.authenticate(secret), TokenInfo)


def test_a_revoked_token_is_refused(database_url: str) -> None:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    cli("init").ok()
    made = cli("token", "create", "--person", "a", "--role", "auditor", "--unit", "city", "--json").json()
    cli("token", "revoke", made["id"]).ok()
    assert cli("token", "list", "--json").json()[0]["status"] == "revoked"
    with Engine.open(database_url) as engine, pytest.raises(Unauthenticated, match="吊销") as refused:
        engine.tokens.authenticate(made["token"])
    assert made["token"].split("_", 2)[2] not in str(refused.value)
    one_line_error(cli("token", "revoke", made["id"]), made["id"], "revoked already")
    assert cli("token", "revoke", made["id"]).code == 3


def test_an_unknown_role_is_one_line_with_the_roles_there_are(tmp_path: object) -> None:
    cli = Cli({"CHENGXIN_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    cli("init").ok()
    refused = cli("token", "create", "--person", "x", "--role", "boss", "--unit", "city")
    one_line_error(refused, "boss", "service")
    assert refused.code == 7
    assert cli("token", "list", "--json").json() == []
