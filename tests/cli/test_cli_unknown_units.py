"""A responsible unit the unit directory does not know: refused at submission once the directory
is in use, naming the commands that fix it; with an empty directory accepted, and its mail held
with the reason — never "sent" to a made-up address — until the unit is added and retried."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import Cli, one_line_error, recorded, submit

START = "2026-05-11T09:00"


@pytest.fixture
def drill(database_url: str, tmp_path: Path) -> Cli:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url, "CHENGXIN_MAIL_DIR": str(tmp_path / "mail")})
    cli("init", "--simulated-clock", "--start", START).ok()
    return cli


def test_an_unknown_unit_is_refused_once_the_directory_is_in_use(drill: Cli) -> None:
    drill("unit", "add", "hexi-gov", "--name", "河西区人民政府", "--email", "ban@gov.example.cn").ok()
    outcome = drill(
        "record", "submit", "-d", "national", "--actor", "li.lei", "--role", "recorder", "--unit", "court-3"
    )
    assert outcome.code != 0
    refused = drill(
        "record", "submit", "--actor", "li.lei", "--role", "recorder", "--unit", "court-3", "-d", "national",
        *[a for kv in _fields() for a in ("-s", kv)],
    )  # fmt: skip
    line = one_line_error(refused, "hexi-zjw", "单位目录", "chengxin unit list", "chengxin unit add hexi-zjw")
    assert refused.code == 7 and line
    assert drill("record", "list", "--json").json()["total"] == 0
    drill(
        "unit",
        "add",
        "hexi-zjw",
        "--name",
        "河西区住建委",
        "--email",
        "bgs@zjw.example.gov.cn",
        "--superior",
        "hexi-gov",
    ).ok()
    assert submit(drill)


def test_with_an_empty_directory_the_mail_is_held_not_sent_to_a_made_up_address(
    drill: Cli, tmp_path: Path
) -> None:
    record_id = recorded(drill)
    drill("clock", "advance", "--days", "20").ok()
    ticked = drill("tick").ok()
    assert "held" in ticked.stdout
    assert "不在单位目录中" in ticked.stderr and "chengxin unit add hexi-zjw" in ticked.stderr
    mails = list((tmp_path / "mail").rglob("*.eml")) if (tmp_path / "mail").exists() else []
    assert all("@localhost" not in m.read_text(encoding="utf-8", errors="replace") for m in mails)
    dead = drill("outbox", "list", "--record", record_id, "--json").json()
    assert dead and all(row["status"] != "sent" for row in dead)
    assert any("held" in (row.get("last_error") or "") for row in dead)
    drill("unit", "add", "hexi-zjw", "--name", "河西区住建委", "--email", "bgs@zjw.example.gov.cn").ok()
    drill("unit", "add", "hexi-gov", "--name", "河西区人民政府", "--email", "ban@gov.example.cn").ok()
    drill("unit", "add", "court-3", "--name", "第三中级人民法院", "--email", "court3@example.gov.cn").ok()
    drill("outbox", "retry").ok()
    drill("outbox", "send").ok()
    sent = [
        r for r in drill("outbox", "list", "--record", record_id, "--json").json() if r["status"] == "sent"
    ]
    assert sent


def _fields() -> list[str]:
    from support.harness import ORGANISATION

    return [f"{k}={v}" for k, v in ORGANISATION.items() if v is not None]
