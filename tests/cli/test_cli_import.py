"""``chengxin record import`` as a credit office runs it on its first day, on SQLite and PostgreSQL:
JSON Lines and CSV, each bad row one line on stderr with its line number, the good rows imported,
a non-zero exit when any row was bad, a JSON summary, a dry run, and a second run that imports
only the rest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.cli import VERIFIER, Cli, one_line_error
from support.harness import ORGANISATION

START = "2026-05-11T09:00"


@pytest.fixture
def cli(database_url: str) -> Cli:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    cli("init", "--simulated-clock", "--start", START).ok()
    return cli


def row(source_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "state": "recorded",
        "tracks": {"publication": "published"},
        "since": "2026-04-20",
        "fields": {**ORGANISATION, "finding_date": "2026-04-15"},
        **overrides,
    }


def jsonl(path: Path, *rows: dict[str, Any] | str) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows),
        encoding="utf-8",
    )
    return path


def test_good_rows_import_and_each_bad_row_is_one_line_with_its_number(cli: Cli, tmp_path: Path) -> None:
    file = jsonl(
        tmp_path / "old.jsonl",
        row("OLD-1"),
        row("OLD-2", state="recordd"),
        "{not json",
        row("OLD-4"),
    )
    outcome = cli("record", "import", str(file), *VERIFIER)
    assert outcome.code == 7
    assert "Traceback" not in outcome.stderr
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 2, outcome.stderr
    assert lines[0].startswith("错误 error: 第 2 行 (line 2): ") and "recordd" in lines[0]
    assert "allowed: draft" in lines[0]
    assert lines[1].startswith("错误 error: 第 3 行 (line 3): ") and "JSON" in lines[1]
    assert "已导入 imported 2" in outcome.stdout
    listed = cli("record", "list", "--json").json()
    assert listed["total"] == 2
    assert {r["state"] for r in listed["records"]} == {"recorded"}


def test_a_second_run_skips_what_is_in_and_json_prints_a_summary(cli: Cli, tmp_path: Path) -> None:
    first = jsonl(tmp_path / "part.jsonl", row("OLD-1"))
    cli("record", "import", str(first), *VERIFIER).ok()
    whole = jsonl(tmp_path / "whole.jsonl", row("OLD-1"), row("OLD-2"), row("OLD-3"))
    summary = cli("record", "import", str(whole), *VERIFIER, "--json").json()
    assert (summary["read"], summary["imported"], summary["skipped"], summary["bad"]) == (3, 2, 1, 0)
    assert cli("record", "list", "--json").json()["total"] == 3
    cli("audit", "verify").ok()
    cli("audit", "replay").ok()


def test_csv_rows_carry_their_tracks_and_dates(cli: Cli, tmp_path: Path) -> None:
    header = ["source_id", "state", "since", "state.rectification", "since.rectification", *ORGANISATION]
    values = ["OLD-9", "recorded", "2026-04-20", "rectifying", "2026-04-27", *ORGANISATION.values()]
    values[header.index("finding_date")] = "2026-04-15"
    file = tmp_path / "old.csv"
    file.write_text(",".join(header) + "\n" + ",".join(values) + "\n", encoding="utf-8-sig")
    cli("record", "import", str(file), *VERIFIER).ok()
    [listed] = cli("record", "list", "--json").json()["records"]
    shown = cli("record", "show", listed["id"], "--json").json()
    tracks = {t["track"]: t["state"] for t in shown["tracks"]}
    assert tracks["rectification"] == "rectifying"
    due = {d["name"]: d["due_at"] for d in shown["deadlines"]}
    assert due["rectification"].startswith("2026-05-27")  # 30 days from 2026-04-27


def test_a_dry_run_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    file = jsonl(tmp_path / "old.jsonl", row("OLD-1"), row("OLD-2"))
    summary = cli("record", "import", str(file), *VERIFIER, "--dry-run", "--json").json()
    assert (summary["imported"], summary["dry_run"]) == (2, True)
    assert cli("record", "list", "--json").json()["total"] == 0


def test_a_file_of_unknown_format_is_one_line(cli: Cli, tmp_path: Path) -> None:
    file = tmp_path / "old.xlsx"
    file.write_text("x", encoding="utf-8")
    one_line_error(cli("record", "import", str(file), *VERIFIER), "--format", "jsonl")
    one_line_error(cli("record", "import", str(tmp_path / "missing.jsonl"), *VERIFIER), "missing.jsonl")
