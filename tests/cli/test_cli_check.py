"""``chengxin check`` and ``chengxin archive``: an operator's credit check and integrity archive.

Both answer from the same engine methods as the HTTP API will, write the query log, and refuse
bad input with one line naming it.
"""

from __future__ import annotations

import json

import pytest
from support.cli import VERIFIER, Cli, fields, one_line_error, recorded

from workflow.testing import ORGANISATION, PERSON, PERSON_ID

OPERATOR = ("--actor", "ops.liu", "--role", "auditor", "--unit", "credit-office")
CODE = ORGANISATION["subject_code"]


@pytest.fixture
def cli(database_url: str) -> Cli:
    runner = Cli({"CHENGXIN_DATABASE_URL": database_url})
    runner("init", "--simulated-clock", "--start", "2026-05-11T09:00").ok()
    return runner


def test_check_answers_barred_until_the_bar_ends_with_its_legal_basis(cli: Cli) -> None:
    record_id = recorded(cli)
    cli(
        "record",
        "fire",
        record_id,
        "apply_sanctions",
        *VERIFIER,
        "-m",
        "依规惩戒",
        "--set",
        "measures=honour_ban",
    ).ok()
    shown = cli("check", CODE, "--purpose", "honours", "--reason", "评选先进集体", *OPERATOR).ok().stdout
    assert "限制至 barred until 2027-05-08" in shown and "国发〔2016〕76号" in shown
    answer = cli(
        "check", CODE, "-p", "honours", "-p", "procurement", "-r", "评优", *OPERATOR, "--json"
    ).json()
    purposes = {p["purpose"]: p for p in answer[0]["purposes"]}
    assert purposes["honours"]["barred_until"] == "2027-05-08" and not purposes["honours"]["allowed"]
    assert purposes["procurement"]["allowed"]
    later = cli("check", CODE, "--as-of", "2027-05-09", "-r", "评优", *OPERATOR, "--json").json()
    assert all(p["allowed"] for p in later[0]["purposes"] if p["purpose"] == "honours")


def test_check_reads_id_numbers_from_stdin_and_masks_them(cli: Cli, database_url: str) -> None:
    cli(
        "record", "submit", "--actor", "li.lei", "--role", "recorder", "--unit", "court-3", *fields(**PERSON)
    ).ok()
    from typer.testing import CliRunner

    from workflow.cli import app

    result = CliRunner().invoke(
        app,
        ["check", "-", "-r", "年度考核", *OPERATOR, "--json"],
        input=f"{PERSON_ID}\n{CODE}\n",
        env={"CHENGXIN_DATABASE_URL": database_url},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    assert PERSON_ID not in result.stdout
    assert [s["subject"] for s in json.loads(result.stdout)] == ["110105********002X", CODE]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("check", "12345", "-r", "x"), "subject"),
        (("check", CODE, "-r", "x", "-p", "lottery"), "lottery"),
        (("check", CODE, "-r", "x", "--as-of", "tomorrow"), "as_of"),
        (("check", CODE, "-r", " "), "reason"),
        (("archive", CODE, "-r", "x"), "ID number"),
    ],
)
def test_bad_input_is_one_line(cli: Cli, args: tuple[str, ...], needle: str) -> None:
    one_line_error(cli(*args, *OPERATOR), needle)


def test_archive_shows_the_person_masked_with_the_impact_period(cli: Cli) -> None:
    submitted = cli(
        "record",
        "submit",
        "--actor",
        "li.lei",
        "--role",
        "recorder",
        "--unit",
        "court-3",
        *fields(**PERSON),
        "--json",
    ).json()["id"]
    cli("record", "fire", submitted, "accept", *VERIFIER).ok()
    cli("record", "fire", submitted, "confirm", *VERIFIER, "-m", "核查属实").ok()
    shown = cli("archive", PERSON_ID, "-r", "干部考察", *OPERATOR).ok().stdout
    assert PERSON_ID not in shown and "110105********002X" in shown
    assert "记过 2026-05-08 – 2027-05-08" in shown and "不得评为优秀" in shown
    found = cli("archive", PERSON_ID, "-r", "干部考察", *OPERATOR, "--json").json()
    assert found["person"] == "110105********002X" and len(found["records"]) == 1
