"""The operator's commands: units, the outbox, tick with mail, the calendar, serve — on both backends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import CHENGXIN, RECORDER, VERIFIER, Cli, one_line_error, recorded, submit
from support.smtp import SmtpServer

START = "2026-05-11T09:00"


@pytest.fixture
def drill(database_url: str, tmp_path: Path) -> Cli:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url, "CHENGXIN_MAIL_DIR": str(tmp_path / "mail")})
    cli("init", "--simulated-clock", "--start", START).ok()
    return cli


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    smtp = SmtpServer()
    smtp.start()
    yield smtp
    smtp.stop()


def test_units_are_imported_from_csv_listed_and_given_addresses(drill: Cli, tmp_path: Path) -> None:
    csv = tmp_path / "units.csv"
    csv.write_text(
        "code,name,superior,emails,contact\n"
        "hexi-zjw,河西区住房和建设委员会,hexi-gov,bgs@zjw.example.gov.cn;zhang@zjw.example.gov.cn,张三\n"
        "hexi-gov,河西区人民政府,,duban@hexi.example.gov.cn,\n",
        encoding="utf-8",
    )
    assert "2" in drill("unit", "import", str(csv)).ok().stdout
    units = {u["code"]: u for u in drill("unit", "list", "--json").ok().json()["units"]}
    assert units["hexi-zjw"]["emails"] == ["bgs@zjw.example.gov.cn", "zhang@zjw.example.gov.cn"]
    assert units["hexi-zjw"]["superior"] == "hexi-gov"
    drill("unit", "set-email", "hexi-gov", "office@hexi.example.gov.cn").ok()
    assert {u["code"]: u for u in drill("unit", "list", "--json").ok().json()["units"]}["hexi-gov"][
        "emails"
    ] == ["office@hexi.example.gov.cn"]
    one_line_error(drill("unit", "set-email", "nobody", "a@b.cn"), "nobody")
    one_line_error(
        drill("unit", "add", "x", "--name", "某单位", "--email", "not-an-address"), "not-an-address"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("unit,title\nx,y\n", encoding="utf-8")
    one_line_error(drill("unit", "import", str(bad)), "code")


def test_tick_sends_the_queued_mail_into_the_mail_folder_without_a_server(drill: Cli, tmp_path: Path) -> None:
    drill(
        "unit", "add", "hexi-zjw", "--name", "河西区住房和建设委员会", "--email", "bgs@zjw.example.gov.cn"
    ).ok()
    record_id = recorded(drill)
    ticked = drill("tick").ok()
    assert "mail sent 3" in ticked.stdout
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 3
    rows = drill("outbox", "list", "--record", record_id, "--json").ok().json()
    assert {r["status"] for r in rows} == {"sent"}
    shown = drill("outbox", "show", str(rows[0]["id"])).ok()
    assert "主题 Subject" in shown.stdout


def test_outbox_show_masks_a_typed_id_number_and_names_a_mail_it_cannot_build_in_one_line(drill: Cli) -> None:
    number = "11010519491231002X"
    rows = {}
    for facts in (f"经办人身份证号{number}。", f"经办人<b>{number[:6]}</b>{number[6:]}"):
        record_id = submit(drill, facts=facts)
        drill("record", "fire", record_id, "accept", *VERIFIER).ok()
        drill("record", "fire", record_id, "confirm", *VERIFIER, "-m", "核查属实").ok()
        listed = drill("outbox", "list", "--record", record_id, "--json").ok().json()
        rows[facts] = next(r["id"] for r in listed if r["template"] == "record_notice")
    typed, split = rows.values()
    shown = drill("outbox", "show", str(typed)).ok()
    assert "经办人身份证号110105********002X。" in shown.stdout and number not in shown.stdout
    line = one_line_error(drill("outbox", "show", str(split)), "110105********002X")
    assert number not in line


def test_dead_mail_is_listed_and_retried_after_the_address_is_fixed(
    database_url: str, server: SmtpServer
) -> None:
    env = {"CHENGXIN_DATABASE_URL": database_url, **server.env()}
    cli = Cli(env)
    cli("init", "--simulated-clock", "--start", START).ok()
    cli(
        "unit", "add", "hexi-zjw", "--name", "河西区住房和建设委员会", "--email", "refuse@zjw.example.gov.cn"
    ).ok()
    recorded(cli)
    sent = cli("outbox", "send")
    assert sent.code == 1
    dead = cli("outbox", "list", "--status", "dead", "--json").ok().json()
    assert len(dead) == 3 and "550" in dead[0]["last_error"]
    cli("unit", "set-email", "hexi-zjw", "bgs@zjw.example.gov.cn").ok()
    assert "3" in cli("outbox", "retry").ok().stdout
    assert "sent 3" in cli("outbox", "send").ok().stdout
    assert len(server.handler.received) == 3
    one_line_error(cli("outbox", "list", "--status", "lost"), "lost", "queued")


def test_tick_now_expires_deadlines_and_calendar_show_lists_the_holidays(drill: Cli) -> None:
    record_id = recorded(drill)
    drill("tick", "--now", "2026-06-02T10:00").ok()
    listed = drill("record", "list", "--overdue", "--json").ok().json()["records"]
    assert [r["id"] for r in listed] == [record_id]
    shown = drill("calendar", "show", "2026", "--json").ok().json()
    days = {d["date"]: d["working"] for d in shown["days"]}
    assert days["2026-10-01"] is False and days["2026-10-10"] is True  # National Day; a make-up Saturday
    assert shown["source"] == "chinesecalendar"


def test_calendar_load_recomputes_provisional_deadlines(database_url: str, tmp_path: Path) -> None:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    cli("init", "--simulated-clock", "--start", "2026-12-28T09:00").ok()
    record_id = recorded(cli)
    table = tmp_path / "2027.yaml"
    table.write_text(
        "year: 2027\nprovisional: false\nsource: 国务院办公厅通知（测试）\n"
        "holidays:\n  - {name: 元旦, from: 2027-01-01, to: 2027-01-04}\n",
        encoding="utf-8",
    )
    loaded = cli("calendar", "load", str(table)).ok()
    assert record_id in loaded.stdout and "written_explanation" in loaded.stdout
    history = cli("record", "history", record_id, "--json").ok().json()
    assert history[-1]["event"] == "@deadline_recomputed"
    bad = tmp_path / "bad.yaml"
    bad.write_text("year: 2027\nholidays: nope\n", encoding="utf-8")
    one_line_error(cli("calendar", "load", str(bad)), "bad.yaml")


@pytest.mark.slow
def test_serve_runs_the_scheduler_until_it_is_stopped(database_url: str, tmp_path: Path) -> None:
    """A drill database: serve follows the clock that 'clock advance' moves, and fires what fell due."""
    env = {"CHENGXIN_DATABASE_URL": database_url, "CHENGXIN_MAIL_DIR": str(tmp_path / "mail")}
    cli = Cli(env)
    cli("init", "--simulated-clock", "--start", START).ok()
    for code in ("hexi-zjw", "hexi-gov", "court-3"):  # mail goes only to units the directory knows
        cli("unit", "add", code, "--name", code, "--email", f"office@{code}.example.gov.cn").ok()
    record_id = recorded(cli)
    cli("clock", "advance", "--to", "2026-06-02T10:00").ok()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CHENGXIN_")}
    full_env |= {**env, "CHENGXIN_LOG_LEVEL": "INFO"}
    log = tmp_path / "serve.log"
    with (
        log.open("w") as sink,
        subprocess.Popen(
            [str(CHENGXIN), "serve", "--sweep-seconds", "1"],
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
            text=True,
        ) as proc,
    ):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            events = [e["event"] for e in cli("record", "history", record_id, "--json").ok().json()]
            if "explanation_overdue" in events:
                break
            time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()  # never leave a hung service behind the test run
            raise
    err = log.read_text()
    assert "explanation_overdue" in events
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert any(
        json.loads(line).get("event") == "serving" for line in err.splitlines() if line.startswith("{")
    )
    assert list((tmp_path / "mail").glob("*.eml"))


def test_serve_refuses_a_database_that_is_not_initialised(tmp_path: Path) -> None:
    cli = Cli({"CHENGXIN_DATABASE_URL": f"sqlite:///{tmp_path}/none.db"})
    one_line_error(cli.shell("serve"), "chengxin init")


def test_the_recorder_credentials_are_not_enough_to_tick_a_real_database(database_url: str) -> None:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    cli("init").ok()
    one_line_error(cli("tick", "--now", "2030-01-01"), "simulated")
    assert RECORDER  # the shared actor options stay importable for other test modules
