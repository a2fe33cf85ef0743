"""What a caseworker finds with ``record list``, ``record stats``, ``unit list`` and ``tasks``:
filters checked against the definitions, substring search, a page with its total and the way to
the next page (table and JSON), due-date filters in working days, sorting, CSV that WPS and Excel
open, counts per unit and state, and what an actor may do now across cases."""

from __future__ import annotations

import csv
import io

import pytest
from support.cli import VERIFIER, Cli, one_line_error, recorded, submit

START = "2026-05-11T09:00"  # a Monday


@pytest.fixture
def drill(database_url: str) -> Cli:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    cli("init", "--simulated-clock", "--start", START).ok()
    return cli


def test_a_mistyped_state_is_refused_with_the_states_there_are(drill: Cli) -> None:
    line = one_line_error(
        drill("record", "list", "--state", "recordd"), "recordd", "recorded", "publication:published"
    )
    assert "allowed" in line
    assert drill("record", "list", "--state", "recordd").code == 7


def test_subject_finds_any_part_of_a_name_or_the_exact_code(drill: Cli) -> None:
    first = submit(drill, subject_name="第12建筑工程公司")
    submit(drill, subject_name="某区住房和建设委员会")
    found = drill("record", "list", "--subject", "第12", "--json").json()
    assert [r["id"] for r in found["records"]] == [first]
    assert found["total"] == 1
    assert drill("record", "list", "--subject", "%", "--json").json()["total"] == 0  # no wildcard


def test_a_page_shows_the_total_and_how_to_get_the_next_one(drill: Cli) -> None:
    for _ in range(3):
        submit(drill)
    ids = [r["id"] for r in drill("record", "list", "--json").json()["records"]]
    shown = drill("record", "list", "--limit", "2").ok().stdout
    assert "共 3 条记录" in shown and "1–2" in shown and "--offset 2" in shown
    page = drill("record", "list", "--limit", "2", "--offset", "2", "--json").json()
    assert (page["total"], page["offset"], page["limit"], page["next_offset"]) == (3, 2, 2, None)
    assert [r["id"] for r in page["records"]] == ids[2:]
    first = drill("record", "list", "--limit", "2", "--json").json()
    assert first["next_offset"] == 2
    assert "--offset" not in drill("record", "list", "--offset", "2").ok().stdout


def test_list_shows_next_due_days_overdue_and_responsible_unit(drill: Cli) -> None:
    record_id = recorded(drill)
    drill("clock", "advance", "--days", "20").ok()
    drill("tick").ok()
    row = drill("record", "list", "--json").json()["records"][0]
    assert row["id"] == record_id
    assert row["responsible_unit"] == "hexi-zjw"
    assert row["next_due"] is not None and row["next_deadline"]
    assert row["days_overdue"] > 0
    shown = drill("record", "list").ok().stdout
    assert "责任单位" in shown and "逾期天数" in shown and "hexi-zjw" in shown


def test_due_within_counts_working_days_and_due_before_takes_a_date(drill: Cli) -> None:
    record_id = submit(drill)  # the verification deadline: 10 working days, due 2026-05-25
    assert drill("record", "list", "--due-within", "5wd", "--json").json()["total"] == 0
    assert [r["id"] for r in drill("record", "list", "--due-within", "10wd", "--json").json()["records"]] == [
        record_id
    ]
    assert drill("record", "list", "--due-before", "2026-05-20", "--json").json()["total"] == 0
    assert drill("record", "list", "--due-before", "2026-06-30", "--json").json()["total"] == 1
    one_line_error(drill("record", "list", "--due-within", "five"), "5wd")
    one_line_error(drill("record", "list", "--due-before", "tomorrow"), "tomorrow")


def test_sort_orders_and_a_bad_sort_is_refused(drill: Cli) -> None:
    ids = [submit(drill) for _ in range(3)]
    oldest_first = [r["id"] for r in drill("record", "list", "--json").json()["records"]]
    assert sorted(oldest_first) == sorted(ids)
    newest_first = [
        r["id"] for r in drill("record", "list", "--sort", "-created", "--json").json()["records"]
    ]
    assert newest_first == oldest_first[::-1]
    assert [r["id"] for r in drill("record", "list", "--sort", "id", "--json").json()["records"]] == sorted(
        ids
    )
    one_line_error(drill("record", "list", "--sort", "colour"), "colour", "created", "due")


def test_csv_opens_in_wps_and_excel(drill: Cli) -> None:
    record_id = submit(drill)
    from typer.testing import CliRunner

    from workflow.cli import app

    result = CliRunner().invoke(app, ["record", "list", "--format", "csv"], env=drill.env)
    assert result.exit_code == 0
    raw = result.stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "编号 id"
    assert rows[1][0] == record_id and "某区住房和建设委员会" in rows[1]
    units = CliRunner().invoke(app, ["unit", "list", "--format", "csv"], env=drill.env)
    assert units.stdout_bytes.startswith(b"\xef\xbb\xbf")
    one_line_error(drill("record", "list", "--format", "xlsx"), "xlsx", "csv")


def test_stats_counts_per_unit_and_state(drill: Cli) -> None:
    submit(drill)
    submit(drill)
    submit(drill, responsible_unit="hexi-jw")
    counts = drill("record", "stats", "--json").json()
    assert counts["total"] == 3
    assert {(c["unit"], c["state"]): c["count"] for c in counts["counts"]} == {
        ("hexi-zjw", "submitted"): 2,
        ("hexi-jw", "submitted"): 1,
    }
    by_state = drill("record", "stats", "--by", "state", "--json").json()["counts"]
    assert by_state == [{"state": "submitted", "count": 3}]
    assert "hexi-jw" in drill("record", "stats").ok().stdout
    one_line_error(drill("record", "stats", "--by", "colour"), "colour", "unit")


def test_unit_list_pages(drill: Cli, tmp_path: object) -> None:
    for n in range(3):
        drill("unit", "add", f"u-{n}", "--name", f"单位{n}", "--email", f"u{n}@example.gov.cn").ok()
    page = drill("unit", "list", "--limit", "2", "--json").json()
    assert (page["total"], len(page["units"]), page["next_offset"]) == (3, 2, 2)
    shown = drill("unit", "list", "--limit", "2").ok().stdout
    assert "共 3 个单位" in shown and "--offset 2" in shown


def test_tasks_lists_what_the_actor_may_do_now_due_soonest_first(drill: Cli) -> None:
    first = submit(drill)
    drill("clock", "advance", "--days", "1").ok()
    second = submit(drill)
    tasks = drill("tasks", *VERIFIER, "--json").json()
    assert [t["id"] for t in tasks] == [first, second]
    assert {e["event"] for e in tasks[0]["events"]} == {"accept"}
    shown = drill("tasks", *VERIFIER).ok().stdout
    assert "受理" in shown and "[verifier@credit-office]" in shown
    subject = ("--actor", "zhao.qiang", "--role", "subject", "--unit", "hexi-zjw")
    assert drill("tasks", *subject, "--json").json() == []


def test_every_list_takes_csv(drill: Cli) -> None:
    from typer.testing import CliRunner

    from workflow.cli import app

    recorded(drill)
    drill("ledger", "import", "tongxin").ok()
    lists = (
        ("definitions", "list"),
        ("outbox", "list"),
        ("record", "stats"),
        ("tasks", *VERIFIER),
        ("ledger", "status"),
    )
    for args in lists:
        result = CliRunner().invoke(app, [*args, "--format", "csv"], env=drill.env)
        assert result.exit_code == 0, (args, result.stderr)
        assert result.stdout_bytes.startswith(b"\xef\xbb\xbf"), args
        rows = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
        assert len(rows) >= 2, args
