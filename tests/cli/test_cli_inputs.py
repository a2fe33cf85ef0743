"""Input that used to end in "internal error" (exit 70) gets one line naming it (issue 10, item 8).

A byte that is not UTF-8 in ``--set`` or ``-m``, a NUL in a payload file, an actor id or an
idempotency key too long for its column, a YAML value the safe loader cannot build, a year no
calendar has: each is refused in one line naming the input and what is allowed, with the same
exit code on SQLite and PostgreSQL, and nothing is written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import RECORDER, Cli, fields, one_line_error, submit
from support.state import database_state

NOT_UTF8 = "\udcff"  # what Python makes of the byte 0xff in a command-line argument


@pytest.fixture
def cli(database_url: str) -> Cli:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    cli("init", "--simulated-clock", "--start", "2026-05-11T09:00").ok()
    return cli


def test_a_byte_that_is_not_utf8_in_set_or_m_is_one_line_naming_the_field(
    cli: Cli, database_url: str
) -> None:
    """Run as the installed command, so the bytes arrive through the real argv decoding."""
    record_id = submit(cli, "--draft")
    before = database_state(database_url)
    in_set = cli.shell("record", "fire", record_id, "edit", *RECORDER, "--set", f"facts=欠款{NOT_UTF8}")
    assert in_set.code == 7
    one_line_error(in_set, "'facts'", "UTF-8")
    in_m = cli.shell("record", "submit", *RECORDER, *fields(), "-m", f"理由{NOT_UTF8}")
    assert in_m.code == 7
    one_line_error(in_m, "comment", "UTF-8")
    assert database_state(database_url) == before


def test_values_a_column_cannot_hold_are_one_line_on_every_backend(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    """On PostgreSQL these were psycopg errors reported as internal errors."""
    record_id = submit(cli, "--draft")
    before = database_state(database_url)
    nul = tmp_path / "nul.json"
    nul.write_text(json.dumps({"facts": "欠款\u0000"}), encoding="utf-8")
    refusals = {
        "NUL in a payload file": (
            ("record", "fire", record_id, "edit", *RECORDER, "--payload-file", str(nul)),
            ("'facts'", "NUL"),
        ),
        "200-character actor": (
            ("record", "fire", record_id, "submit", "--actor", "a" * 200, "--role", "recorder", "--unit", "court-3"),
            ("actor.id", "at most 128"),
        ),
        "300-character idempotency key": (
            ("record", "fire", record_id, "submit", *RECORDER, "--idempotency-key", "k" * 300),
            ("idempotency_key", "at most 200"),
        ),
        "100-character record id": (("record", "show", "S" * 100), ("record_id", "at most 40")),
        "documents entry with mixed keys": (
            ("record", "fire", record_id, "edit", *RECORDER, "--payload-file", str(_mixed(tmp_path))),
            ("'documents'",),
        ),
    }  # fmt: skip
    for name, (args, needles) in refusals.items():
        outcome = cli(*args)
        assert outcome.code == 7, (name, outcome)
        one_line_error(outcome, *needles)
    assert database_state(database_url) == before


def _mixed(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.yaml"
    path.write_text("documents:\n  - {1: a, x: b}\n", encoding="utf-8")
    return path


def test_a_payload_file_value_the_safe_loader_cannot_build_is_one_line(cli: Cli, tmp_path: Path) -> None:
    bad_date = tmp_path / "date.yaml"
    bad_date.write_text("finding_date: 2026-13-45\n", encoding="utf-8")
    outcome = cli("record", "submit", *RECORDER, "--payload-file", str(bad_date))
    assert outcome.code == 2
    one_line_error(outcome, "--payload-file", "date.yaml", "YYYY-MM-DD", "month must be in 1..12")
    tagged = tmp_path / "tagged.yaml"
    tagged.write_text("facts: !!python/object:os.system x\n", encoding="utf-8")
    one_line_error(cli("record", "submit", *RECORDER, "--payload-file", str(tagged)), "tagged.yaml")


def test_definitions_validate_reports_a_value_the_safe_loader_cannot_build(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "name: broken\nversion: 1\nextends: national@1\ntitle: 坏\njurisdiction: 测试\n"
        "effective_from: 2026-13-45\nlegal_basis: !!python/object:os.system x\n",
        encoding="utf-8",
    )
    outcome = Cli()("definitions", "validate", str(broken))
    assert outcome.code == 2
    *problems, summary = outcome.stderr.strip().splitlines()
    assert [p.split(": ")[0] for p in problems] == [f"{broken}:6", f"{broken}:7"]
    assert "'2026-13-45' cannot be read" in problems[0] and "python/object" in problems[1]
    assert summary == "错误 error: 2 处定义错误 (definition problems)"


def test_calendar_show_of_a_year_no_calendar_has_is_one_line(cli: Cli) -> None:
    for year in ("20271", "0", "-5", "10000"):
        one_line_error(cli("calendar", "show", "--", year), f"年份 {year} 超出范围", "allowed 1–9999")
    shown = cli("calendar", "show", "9999", "--json").json()  # the last year a date can have
    assert shown["year"] == 9999 and all(d["date"].startswith("9999-") for d in shown["days"])


def test_times_beyond_the_calendar_are_one_line(cli: Cli) -> None:
    record_id = submit(cli, "--draft")
    for at in ("9999-12-31", "0001-01-01T01:00"):
        one_line_error(cli("record", "show", record_id, "--at", at), "超出范围")
    one_line_error(cli("clock", "advance", "--days", "99999999"), "--days")


def test_a_mail_number_no_mail_can_have_is_one_line(cli: Cli) -> None:
    """On PostgreSQL a number past the id column's range was an internal error."""
    for args in (("outbox", "show", "99999999999999999999"), ("outbox", "retry", "2147483648")):
        outcome = cli(*args)
        assert outcome.code == 7
        one_line_error(outcome, "allowed 1 to 2147483647")
    one_line_error(cli("outbox", "list", "--record", f"SX{NOT_UTF8}"), "record_id", "UTF-8")
