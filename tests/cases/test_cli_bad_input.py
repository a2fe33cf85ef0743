"""Bad complaint and commitment input on the CLI (issue 11, "Bad input"): a missing field, an unknown
department, a date outside the commitment period — each is one line on stderr naming the field,
no traceback, a user's exit code, and nothing is written."""

from __future__ import annotations

import pytest
from stdnum.cn import uscc
from support.cli import Cli, Outcome, one_line_error

from workflow.cli.errors import INTERNAL

CODE = "11640324MB0123456" + uscc.calc_check_digit("11640324MB0123456")
INTAKE = ("--actor", "wang.fang", "--role", "intake", "--unit", "tx-12345")
UNIT = ("--actor", "ma.jun", "--role", "unit", "--unit", "tx-sthj")
COMPLAINT = {
    "channel": "hotline",
    "received_date": "2026-05-11",
    "intake_unit": "tx-12345",
    "competent_department": "tx-sfj",
    "complained_unit": "tx-sthj",
    "subject_kind": "department",
    "subject_name": "同心县生态环境局",
    "subject_code": CODE,
    "domain": "environment",
    "content": "承诺的整治工程未开工。",
}
COMMITMENT = {
    "unit": "tx-sthj",
    "supervising_unit": "tx-sfj",
    "subject_kind": "department",
    "subject_name": "同心县生态环境局",
    "subject_code": CODE,
    "list_title": "2026年度履职承诺清单",
    "category": "performance",
    "domain": "environment",
    "content": "行政许可5个工作日内办结。",
    "period_start": "2026-01-01",
    "period_end": "2026-12-31",
    "due_date": "2026-06-30",
}


@pytest.fixture
def cli(database_url: str) -> Cli:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    cli("init", "--simulated-clock", "--start", "2026-05-11T09:00").ok()
    for code, name in (
        ("tx-12345", "同心县12345热线"),
        ("tx-sfj", "同心县司法局"),
        ("tx-sthj", "同心县生态环境局"),
    ):
        cli("unit", "add", code, "--name", name, "--email", f"{code}@tx.example.gov.cn").ok()
    return cli


def _sets(fields: dict[str, str]) -> list[str]:
    return [arg for key, value in fields.items() for arg in ("--set", f"{key}={value}")]


def _register(cli: Cli, definition: str, actor: tuple[str, ...], fields: dict[str, str]) -> Outcome:
    return cli("record", "submit", "--definition", definition, "--draft", *actor, *_sets(fields))


def test_good_input_registers_both(cli: Cli) -> None:
    _register(cli, "tongxin_complaint", INTAKE, COMPLAINT).ok()
    _register(cli, "tongxin_commitment", UNIT, COMMITMENT).ok()


@pytest.mark.parametrize(
    ("definition", "actor", "fields", "named"),
    [
        ("tongxin_complaint", INTAKE, {**COMPLAINT, "complained_unit": "tx-nowhere"}, "complained_unit"),
        ("tongxin_complaint", INTAKE, {k: v for k, v in COMPLAINT.items() if k != "content"}, "content"),
        ("taian_complaint", INTAKE, {**COMPLAINT, "channel": "carrier_pigeon"}, "channel"),
        ("tongxin_commitment", UNIT, {**COMMITMENT, "due_date": "2027-03-01"}, "due_date"),
        ("tongxin_commitment", UNIT, {**COMMITMENT, "supervising_unit": "tx-nobody"}, "supervising_unit"),
        (
            "tongxin_commitment",
            UNIT,
            {k: v for k, v in COMMITMENT.items() if k != "list_title"},
            "list_title",
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_field(
    cli: Cli, definition: str, actor: tuple[str, ...], fields: dict[str, str], named: str
) -> None:
    outcome = _register(cli, definition, actor, fields)
    one_line_error(outcome, named)
    assert outcome.code != INTERNAL
    assert cli("record", "list", "--json").json()["records"] == []
