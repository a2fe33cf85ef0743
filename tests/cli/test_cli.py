"""The ``chengxin`` command as its users run it: caseworkers, auditors, drill operators.

Most commands run in-process through ``CliRunner`` (fast, same code path from argument
parsing to output); the tests that pin exit codes, stderr and the installed entry point run
``chengxin`` itself in a subprocess. Everything that touches a database runs on SQLite and
PostgreSQL through the ``database_url`` fixture.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from support.cli import RECORDER, SUBJECT, VERIFIER, Cli, fields, one_line_error, recorded, submit
from support.harness import ORGANISATION

START = "2026-05-11T09:00"  # a Monday: the written explanation is due 2026-05-25 17:00

EXTENSION = """\
name: {name}
version: 1
extends: national@1
title: {title}
jurisdiction: {jurisdiction}
"""
BROKEN_DEFINITION = """\
name: broken
version: 1
tracks:
  main:
    initial: nowhere
    states: {}
"""


@pytest.fixture
def cli(database_url: str) -> Cli:
    return Cli({"CHENGXIN_DATABASE_URL": database_url})


@pytest.fixture
def drill(cli: Cli) -> Cli:
    """A drill database on simulated time starting Monday 2026-05-11 09:00 (Asia/Shanghai)."""
    cli("init", "--simulated-clock", "--start", START).ok()
    return cli


def sql(url: str, statement: str, **params: Any) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(statement), params)
    finally:
        engine.dispose()


def meta_rows(url: str) -> dict[str, str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT key, value FROM chengxin_meta"))
            return {str(row.key): str(row.value) for row in rows}
    finally:
        engine.dispose()


def delete_record(url: str, record_id: str) -> None:
    """Delete every row of one record, children first, as someone with write access to the database could."""
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    try:
        meta.reflect(engine)
        with engine.begin() as connection:
            for table in reversed(meta.sorted_tables):
                condition = _rows_of(table, record_id)
                if condition is not None:
                    connection.execute(table.delete().where(condition))
    finally:
        engine.dispose()


def _rows_of(table: sa.Table, record_id: str) -> sa.ColumnElement[bool] | None:
    if table.name == "record":
        return table.c.id == record_id
    if "record_id" in table.c:
        return table.c.record_id == record_id
    for key in table.foreign_keys:  # e.g. reminders of the record's deadlines
        parent = key.column.table
        if "record_id" in parent.c:
            owned = sa.select(key.column).where(parent.c.record_id == record_id)
            return key.parent.in_(owned)
    return None


# --------------------------------------------------------------------------------- init


def test_init_creates_the_schema_then_says_it_is_up_to_date(database_url: str) -> None:
    shell = Cli()
    first = shell.shell("init", "--db", database_url).ok()
    assert "数据库就绪 database ready" in first.stdout
    assert "真实时间 real time" in first.stdout
    again = shell.shell("init", "--db", database_url).ok()
    assert "已是最新 up to date" in again.stdout


def test_init_with_simulated_clock_makes_a_drill_database_starting_at_start(cli: Cli) -> None:
    created = cli("init", "--simulated-clock", "--start", START).ok()
    assert "模拟时间 simulated" in created.stdout
    shown = cli("clock", "show").ok()
    assert "2026-05-11 09:00" in shown.stdout
    assert "模拟时间 simulated" in shown.stdout
    assert cli("clock", "show", "--json").json() == {"now": "2026-05-11T09:00:00+08:00", "simulated": True}


def test_simulated_clock_on_an_existing_real_time_database_is_refused(cli: Cli) -> None:
    cli("init").ok()
    line = one_line_error(cli.shell("init", "--simulated-clock", "--start", START))
    assert "real time" in line
    assert "真实时间" in cli("clock", "show").ok().stdout


def test_a_refused_simulated_init_writes_nothing(cli: Cli, database_url: str) -> None:
    """Refused on a real-time database, ``init --simulated-clock`` leaves no ``simulated_now``
    (nor anything else) in the database's facts."""
    cli("init").ok()
    before = meta_rows(database_url)
    one_line_error(cli("init", "--simulated-clock", "--start", START), "real time")
    assert meta_rows(database_url) == before
    assert "simulated_now" not in before


@pytest.mark.parametrize(
    "command",
    [("record", "list"), ("record", "show", "SX20260511-AAAAAA"), ("audit", "verify"), ("clock", "show")],
)
def test_a_read_command_on_a_mistyped_sqlite_path_says_the_file_does_not_exist(
    tmp_path: Path, command: Sequence[str]
) -> None:
    mistyped = tmp_path / "chengxn.db"
    line = one_line_error(Cli()(*command, "--db", f"sqlite:///{mistyped}"), str(mistyped), "chengxin init")
    assert "不存在" in line and "does not exist" in line
    assert not mistyped.exists()  # only 'chengxin init' creates a database file
    Cli()("init", "--db", f"sqlite:///{mistyped}").ok()
    assert mistyped.exists()


def test_start_without_simulated_clock_is_refused(cli: Cli) -> None:
    one_line_error(cli("init", "--start", START), "--simulated-clock")


# ------------------------------------------------------------------------ caseworker


def test_caseworker_submits_verifies_and_confirms_a_record(drill: Cli) -> None:
    submitted = drill("record", "submit", *RECORDER, *fields()).ok()
    record_id = submitted.stdout.split()[0]
    assert "已提交 (submitted)" in submitted.stdout

    options = drill("record", "events", record_id, *VERIFIER, "--json").json()
    by_event = {o["event"]: o for o in options}
    assert by_event["accept"]["available"]
    assert not by_event["confirm"]["available"]
    assert by_event["confirm"]["reason"]
    assert "受理核查 (accept)" in drill("record", "events", record_id, *VERIFIER).ok().stdout

    drill("clock", "advance", "--days", "1").ok()
    accepted = drill("record", "fire", record_id, "accept", *VERIFIER).ok()
    assert "核查中 (verifying)" in accepted.stdout
    confirmed = drill("record", "fire", record_id, "confirm", *VERIFIER, "-m", "核查属实，予以记录").ok()
    assert "已记录 (recorded)" in confirmed.stdout
    assert "公示 publication: 待决定公示 (pending_decision)" in confirmed.stdout

    shown = drill("record", "show", record_id).ok().stdout
    assert "已记录 (recorded)" in shown
    assert "书面说明原因期限 (written_explanation)" in shown
    view = drill("record", "show", record_id, "--json").json()
    assert view["state"] == "recorded"
    assert view["data"]["subject_name"] == ORGANISATION["subject_name"]
    assert {t["track"]: t["state"] for t in view["tracks"]}["rectification"] == "explanation_due"

    listed = drill("record", "list", "--state", "recorded").ok().stdout
    assert record_id in listed
    assert "共 1 条记录" in listed
    pending = drill("record", "list", "--state", "publication:pending_decision", "--json").json()
    assert [v["id"] for v in pending["records"]] == [record_id]
    assert drill("record", "list", "--state", "draft", "--json").json()["records"] == []

    history = drill("record", "history", record_id, "--json").json()
    assert [e["event"] for e in history] == ["register", "submit", "accept", "confirm"]
    assert history[-1]["comment"] == "核查属实，予以记录"
    assert (history[-1]["actor"], history[-1]["role"]) == ("wang.fang", "verifier")
    assert "wang.fang [verifier@credit-office]" in drill("record", "history", record_id).ok().stdout

    before = drill("record", "show", record_id, "--at", "2026-05-11", "--json").json()
    assert before["state"] == "submitted"
    after = drill("record", "show", record_id, "--at", "2026-05-12").ok().stdout
    assert "已记录 (recorded)" in after


def test_a_draft_is_registered_without_submitting_and_submitted_later(drill: Cli) -> None:
    draft = drill("record", "submit", *RECORDER, *fields(), "--draft", "--json").json()
    assert (draft["state"], draft["version"]) == ("draft", 1)
    submitted = drill("record", "fire", draft["id"], "submit", *RECORDER, "--json").json()
    assert submitted["state"] == "submitted"


def test_a_refused_submit_leaves_no_draft_behind(drill: Cli) -> None:
    """Registering and submitting are one transaction: a recorder of another unit than the finding
    unit is refused as often as it tries, and no draft piles up."""
    outsider = ("--actor", "li.lei", "--role", "recorder", "--unit", "court-9")
    for _ in range(3):
        one_line_error(drill("record", "submit", *outsider, *fields()), "认定单位")
    assert drill("record", "list", "--json").json()["records"] == []


def test_payload_file_set_and_attach_build_the_fields(drill: Cli, tmp_path: Path) -> None:
    """A JSON or YAML payload file, overridden field by field by --set; a repeated --set is a list."""
    as_json = tmp_path / "record.json"
    as_json.write_text(json.dumps({**ORGANISATION, "facts": "待补充"}, ensure_ascii=False), encoding="utf-8")
    view = drill(
        "record",
        "submit",
        *RECORDER,
        "--payload-file",
        str(as_json),
        "-s",
        "facts=拖欠工程款",
        "--draft",
        "--json",
    ).json()
    assert view["data"]["facts"] == "拖欠工程款"
    as_yaml = tmp_path / "edit.yaml"
    as_yaml.write_text("finding_date: 2026-05-07\nfacts: 拖欠工程款。\n", encoding="utf-8")
    edited = drill(
        "record",
        "fire",
        view["id"],
        "edit",
        *RECORDER,
        "--payload-file",
        str(as_yaml),
        "-s",
        "documents=（2026）津0103民初1234号:民事判决书",
        "-s",
        "documents=（2026）津0103执5号:执行通知书",
        "--json",
    ).json()
    assert edited["data"]["finding_date"] == "2026-05-07"  # a YAML date, read back as ISO text
    assert edited["data"]["facts"] == "拖欠工程款。"
    assert [d["number"] for d in edited["data"]["documents"]] == [
        "（2026）津0103民初1234号",
        "（2026）津0103执5号",
    ]
    scan = tmp_path / "判决书.pdf"
    scan.write_bytes(b"%PDF-1.7 judgment")
    attached = drill(
        "record", "fire", view["id"], "edit", *RECORDER, "--attach", f"documents={scan}", "--json"
    )
    documents = attached.json()["data"]["documents"]
    assert [d["sha256"] for d in documents if d.get("name") == "判决书.pdf"] == [
        hashlib.sha256(b"%PDF-1.7 judgment").hexdigest()
    ]


def test_user_text_is_printed_literally_never_as_markup(drill: Cli) -> None:
    record_id = submit(drill, facts="[bold]拖欠[/bold] 工程款")
    assert "[bold]拖欠[/bold] 工程款" in drill("record", "show", record_id).ok().stdout


def test_record_list_keeps_whole_ids_on_a_narrow_pipe(drill: Cli) -> None:
    record_id = submit(drill)
    narrow = Cli({**drill.env, "COLUMNS": "60"})
    assert record_id in narrow("record", "list").ok().stdout


# --------------------------------------------------------------------------- auditor


def test_audit_verify_passes_on_an_intact_database(cli: Cli) -> None:
    cli("init").ok()
    record_id = recorded(cli)
    intact = cli.shell("audit", "verify").ok()
    assert "完好 intact" in intact.stdout
    report = cli("audit", "verify", "--json").json()
    assert (report["records"], report["events"], report["problems"]) == (1, 4, [])
    replayed = cli("audit", "replay", record_id).ok()
    assert "一致 identical" in replayed.stdout
    assert cli("audit", "replay", "--json").json() == {"records": 1, "problems": []}


def test_audit_verify_names_a_record_whose_history_row_was_altered(cli: Cli, database_url: str) -> None:
    cli("init").ok()
    untouched = recorded(cli)
    record_id = recorded(cli)
    sql(
        database_url,
        "UPDATE record_event SET comment = 'x' WHERE record_id = :id AND event = 'confirm'",
        id=record_id,
    )
    refused = cli.shell("audit", "verify")
    assert refused.code != 0
    assert "Traceback" not in refused.stderr
    assert record_id in refused.stderr
    assert untouched not in refused.stderr
    assert "1 条记录有问题" in refused.stdout
    report = json.loads(cli("audit", "verify", "--json").stdout)
    assert {p["record_id"] for p in report["problems"]} == {record_id}


def test_audit_verify_with_a_checkpoint_names_a_deleted_record_as_missing(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    cli("init").ok()
    kept = recorded(cli)
    gone = recorded(cli)
    checkpoint = tmp_path / "checkpoint.json"
    written = cli("audit", "checkpoint", str(checkpoint)).ok()
    assert "2 条记录 records" in written.stdout
    assert cli("audit", "verify", "--checkpoint", str(checkpoint)).code == 0
    delete_record(database_url, gone)
    refused = cli.shell("audit", "verify", "--checkpoint", str(checkpoint))
    assert refused.code != 0
    assert "Traceback" not in refused.stderr
    named = [line for line in refused.stderr.splitlines() if gone in line]
    assert named
    assert "missing" in named[0]
    assert kept not in refused.stderr
    report = json.loads(cli("audit", "verify", "--checkpoint", str(checkpoint), "--json").stdout)
    assert [(p["record_id"], p["kind"]) for p in report["problems"]] == [(gone, "missing")]


def test_an_altered_checkpoint_file_is_refused_in_one_line(cli: Cli, tmp_path: Path) -> None:
    cli("init").ok()
    recorded(cli)
    checkpoint = tmp_path / "checkpoint.json"
    cli("audit", "checkpoint", str(checkpoint)).ok()
    body = json.loads(checkpoint.read_text(encoding="utf-8"))
    body["heads"][0][2] = "0" * 64
    checkpoint.write_text(json.dumps(body), encoding="utf-8")
    one_line_error(cli("audit", "verify", "--checkpoint", str(checkpoint)), str(checkpoint))
    one_line_error(cli("audit", "verify", "--checkpoint", str(tmp_path / "none.json")))


def test_audit_replay_of_an_unknown_record_is_refused(cli: Cli) -> None:
    cli("init").ok()
    one_line_error(cli("audit", "replay", "SX20990101-NOPE00"), "SX20990101-NOPE00")


# ------------------------------------------------------------------------- drill clock


def test_tick_after_advancing_the_clock_makes_the_explanation_overdue(drill: Cli) -> None:
    record_id = recorded(drill)
    assert "2026-05-11 09:00" in drill("clock", "show").ok().stdout
    assert not drill("record", "show", record_id, "--json").json()["overdue"]
    advanced = drill("clock", "advance", "--days", "20").ok()
    assert "2026-05-31 09:00" in advanced.stdout
    swept = drill.shell("tick").ok()
    assert "到期处理 fired" in swept.stdout
    assert "fired 0" not in swept.stdout
    view = drill("record", "show", record_id, "--json").json()
    assert view["overdue"]
    assert {t["track"]: t["state"] for t in view["tracks"]}["rectification"] == "explanation_overdue"
    assert [v["id"] for v in drill("record", "list", "--overdue", "--json").json()["records"]] == [record_id]
    assert record_id in drill("record", "list", "--overdue").ok().stdout
    assert "fired 0" in drill("tick").ok().stdout  # an expired deadline fires once


def test_simulated_time_never_moves_backwards(drill: Cli) -> None:
    drill("clock", "advance", "--to", "2026-06-01T09:00").ok()
    one_line_error(drill.shell("clock", "advance", "--to", "2026-05-20"), "2026-05-20")
    one_line_error(drill("tick", "--now", "2026-05-20"), "2026-06-01 09:00")
    assert "2026-06-01 09:00" in drill("clock", "show").ok().stdout


def test_a_real_time_database_refuses_every_clock_change(cli: Cli) -> None:
    cli("init").ok()
    one_line_error(cli.shell("clock", "advance", "--days", "1"), "--simulated-clock")
    one_line_error(cli("tick", "--now", "2030-01-01"), "--simulated-clock")
    assert "真实时间 real time" in cli("clock", "show").ok().stdout
    assert "fired 0" in cli("tick").ok().stdout


# ------------------------------------------------------------------------- definitions


@pytest.fixture
def extensions(tmp_path: Path) -> tuple[Path, Path]:
    """Two folders, each with a definition extending national; the second has a space in its path."""
    first, second = tmp_path / "drill_east", tmp_path / "drill west"
    first.mkdir()
    second.mkdir()
    (first / "drill_east.yaml").write_text(
        EXTENSION.format(name="drill_east", title="东区演练", jurisdiction="东区"), encoding="utf-8"
    )
    (second / "drill_west.yaml").write_text(
        EXTENSION.format(name="drill_west", title="西区演练", jurisdiction="西区"), encoding="utf-8"
    )
    return first, second


def test_definitions_list_and_show_the_bundled_national_definition() -> None:
    cli = Cli()
    assert "national" in cli("definitions", "list").ok().stdout
    listed = cli("definitions", "list", "--json").json()
    assert {("national", 1), ("national", 2)} <= {(d["name"], d["version"]) for d in listed}
    shown = cli("definitions", "show", "national").ok().stdout
    assert "确认记录 (confirm)" in shown
    assert "书面说明原因期限 (written_explanation)" in shown
    resolved = cli("definitions", "show", "national", "--json").json()
    assert (resolved["name"], resolved["version"]) == ("national", 2)  # the newest version
    one_line_error(cli("definitions", "show", "nowhere"), "nowhere", "national@1")


def test_definitions_option_repeats_and_the_env_var_joins_paths(extensions: tuple[Path, Path]) -> None:
    first, second = extensions
    bundled = {d["name"] for d in Cli()("definitions", "list", "--json").json()}
    assert not bundled & {"drill_east", "drill_west"}
    repeated = Cli()("definitions", "list", "--definitions", str(first), "--definitions", str(second))
    assert {"drill_east", "drill_west"} <= set(repeated.ok().stdout.split())
    joined = Cli({"CHENGXIN_DEFINITIONS": os.pathsep.join([str(first), str(second)])})
    names = {d["name"] for d in joined("definitions", "list", "--json").json()}
    assert names == bundled | {"drill_east", "drill_west"}
    single = Cli({"CHENGXIN_DEFINITIONS": str(second / "drill_west.yaml")})
    assert {d["name"] for d in single("definitions", "list", "--json").json()} == bundled | {"drill_west"}


def test_a_record_runs_on_a_definition_given_with_definitions(
    cli: Cli, extensions: tuple[Path, Path]
) -> None:
    cli("init").ok()
    with_defs = Cli({**cli.env, "CHENGXIN_DEFINITIONS": str(extensions[0])})
    record_id = submit(with_defs, "--definition", "drill_east")
    assert with_defs("record", "show", record_id, "--json").json()["definition"] == "drill_east@1"
    # The version a record runs on is stored with it: later commands need no --definitions.
    assert cli("record", "show", record_id, "--json").json()["definition"] == "drill_east@1"


def test_definitions_validate_lists_every_problem_and_fails(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN_DEFINITION, encoding="utf-8")
    refused = Cli().shell("definitions", "validate", str(broken))
    assert refused.code == 2
    assert "Traceback" not in refused.stderr
    *problems, summary = refused.stderr.strip().splitlines()
    assert problems
    assert all(line.startswith(f"{broken}:") for line in problems)
    assert summary == f"错误 error: {len(problems)} 处定义错误 (definition problems)"
    refused_as_extra = Cli()("definitions", "list", "--definitions", str(broken))
    assert refused_as_extra.code == 2
    assert refused_as_extra.stderr.strip().splitlines()[-1] == summary


def test_definitions_validate_accepts_a_valid_extension(extensions: tuple[Path, Path]) -> None:
    file = extensions[0] / "drill_east.yaml"
    assert "有效 valid: drill_east@1" in Cli()("definitions", "validate", str(file)).ok().stdout
    one_line_error(Cli()("definitions", "validate", str(file.with_name("none.yaml"))), "none.yaml")


def test_definitions_diagram_as_mermaid_and_as_svg_file(tmp_path: Path) -> None:
    cli = Cli()
    mermaid = cli("definitions", "diagram", "national", "--format", "mermaid").ok().stdout
    assert "stateDiagram" in mermaid
    assert "recorded" in mermaid
    svg = tmp_path / "national.svg"
    written = cli("definitions", "diagram", "national", "--format", "svg", "-o", str(svg)).ok()
    assert str(svg) in written.stdout
    assert svg.read_bytes().lstrip().startswith((b"<?xml", b"<svg"))
    one_line_error(cli("definitions", "diagram", "national", "--format", "png"), "png")


def test_record_diagram_marks_the_records_current_states(drill: Cli, tmp_path: Path) -> None:
    record_id = recorded(drill)
    svg = tmp_path / "record.svg"
    drill("record", "diagram", record_id, "-o", str(svg)).ok()
    marked = [
        group.findtext("{http://www.w3.org/2000/svg}title")
        for group in ET.fromstring(svg.read_bytes()).iter("{http://www.w3.org/2000/svg}g")
        if group.get("class") == "node" and any(e.get("fill") == "darksalmon" for e in group)
    ]
    assert "main/recorded" in marked and "parallel/publication/pending_decision" in marked
    mermaid = drill("record", "diagram", record_id, "--format", "mermaid").ok().stdout
    assert "class main/recorded s_active" in mermaid
    one_line_error(drill("record", "diagram", "SX20990101-NOSUCH"), "SX20990101-NOSUCH")


# ---------------------------------------------------------------------- errors: records


REFUSED_ON_A_RECORDED_RECORD: dict[str, tuple[Sequence[str], Sequence[str]]] = {
    # case: (arguments after 'chengxin' with {id} for the record, words the one line must contain)
    "event_not_allowed_names_state_and_allowed": (
        ("record", "fire", "{id}", "accept", *VERIFIER),
        ("recorded", "'accept'", "allowed", "publish", "share_internally"),
    ),
    "wrong_role": (("record", "fire", "{id}", "publish", *RECORDER), ("'recorder'", "verifier")),
    "missing_required_payload_field": (
        ("record", "fire", "{id}", "submit_explanation", *SUBJECT),
        ("'explanation'", "required"),
    ),
    "comment_required_for_a_decision": (
        ("record", "fire", "{id}", "share_internally", *VERIFIER),
        ("share_internally", "comment"),
    ),
    "unknown_event": (("record", "fire", "{id}", "approve", *VERIFIER), ("'approve'",)),
    "at_before_the_record_existed": (("record", "show", "{id}", "--at", "2026-05-10"), ("尚未登记",)),
}


@pytest.mark.parametrize("case", list(REFUSED_ON_A_RECORDED_RECORD))
def test_a_refused_command_is_one_line_on_stderr_and_changes_nothing(drill: Cli, case: str) -> None:
    record_id = recorded(drill)
    args, needles = REFUSED_ON_A_RECORDED_RECORD[case]
    one_line_error(drill(*(a.replace("{id}", record_id) for a in args)), *needles)
    assert drill("record", "show", record_id, "--json").json()["version"] == 4


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        pytest.param(
            ("record", "show", "SX20990101-NOPE00"), ("SX20990101-NOPE00", "不存在"), id="unknown_record"
        ),
        pytest.param(
            ("record", "fire", "SX20990101-NOPE00", "submit_explanation", *SUBJECT, "--set", "explanation"),
            ("--set", "field=value"),
            id="bad_set_syntax",
        ),
        pytest.param(
            ("record", "show", "SX20990101-NOPE00", "--at", "2026-13-45"), ("2026-13-45",), id="bad_date"
        ),
        pytest.param(
            ("record", "history", "SX20990101-NOPE00"), ("SX20990101-NOPE00",), id="unknown_history"
        ),
    ],
)
def test_a_bad_argument_is_one_line_on_stderr(cli: Cli, args: Sequence[str], needles: Sequence[str]) -> None:
    cli("init").ok()
    one_line_error(cli(*args), *needles)


def test_errors_from_the_installed_command_are_one_line_with_their_exit_code(drill: Cli) -> None:
    record_id = recorded(drill)
    not_allowed = drill.shell("record", "fire", record_id, "accept", *VERIFIER)
    one_line_error(not_allowed, "recorded", "publish")
    assert not_allowed.code == 4
    missing_field = drill.shell("record", "fire", record_id, "submit_explanation", *SUBJECT)
    one_line_error(missing_field, "'explanation'")
    assert missing_field.code == 7


def test_a_transition_is_logged_as_one_json_line_when_stderr_is_not_a_terminal(drill: Cli) -> None:
    record_id = recorded(drill)
    fired = drill.shell("record", "fire", record_id, "publish", *VERIFIER).ok()
    lines = [json.loads(line) for line in fired.stderr.splitlines() if line.startswith("{")]
    transitions = [line for line in lines if line["event"] == "transition"]
    assert len(transitions) == 1, fired.stderr
    logged = transitions[0]
    assert logged["record_id"] == record_id
    assert (logged["trigger"], logged["actor"], logged["role"]) == ("publish", "wang.fang", "verifier")
    assert (logged["from_state"], logged["to_state"]) == ("recorded", "recorded")
    assert logged["changes"] == ["publication:pending_decision->published"]
    assert logged["level"] == "info"
    assert logged["timestamp"].endswith("Z")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        pytest.param("explanation: [unclosed\n", "JSON/YAML", id="not_yaml"),
        pytest.param("- a list\n", "field: value", id="not_a_mapping"),
        pytest.param(None, "cannot read", id="missing_file"),
    ],
)
def test_a_bad_payload_file_is_one_line_naming_it(tmp_path: Path, content: str | None, needle: str) -> None:
    file = tmp_path / "payload.yaml"
    if content is not None:
        file.write_text(content, encoding="utf-8")
    # The payload is read before the database is opened: no database is needed to refuse it.
    outcome = Cli()(
        "record", "fire", "SX20260511-AAAAAA", "submit_explanation", *SUBJECT, "--payload-file", str(file)
    )
    assert outcome.code == 2
    one_line_error(outcome, str(file), needle)


# ---------------------------------------------------------------------- errors: database


def test_an_unreachable_postgresql_server_is_one_line() -> None:
    outcome = Cli().shell("record", "list", "--db", "postgresql://postgres@127.0.0.1:1/chengxin")
    one_line_error(outcome, "数据库不可用", "127.0.0.1")


def test_a_sqlite_file_in_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/missing/chengxin.db"
    one_line_error(Cli().shell("init", "--db", url), "missing")
    one_line_error(Cli()("record", "list", "--db", url), "missing")


def test_a_database_without_schema_tells_to_run_init(cli: Cli) -> None:
    one_line_error(cli.shell("record", "list"), "chengxin init")
    # In a subprocess: Store.open leaks its pool when it refuses an old schema (reported to storage).
    one_line_error(cli.shell("audit", "verify"), "chengxin init")


@pytest.mark.parametrize("url", ["not a url", "mysql://chengxin@127.0.0.1/chengxin"])
def test_a_malformed_or_unsupported_database_url_is_one_line(url: str) -> None:
    one_line_error(Cli().shell("record", "list", "--db", url), "URL", "sqlite:///", "postgresql://")


def test_an_internal_error_is_one_line_and_the_traceback_only_with_verbose() -> None:
    crash = (
        "import sys, workflow.engine.facade as e\n"
        "def boom(*a, **k): raise RuntimeError('boom\\nsecond line')\n"
        "e.Engine.open = boom\n"
        "from workflow.cli import main\n"
        "sys.argv = ['chengxin', *sys.argv[1:]]\n"
        "main()\n"
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHENGXIN_")}
        return subprocess.run(
            [sys.executable, "-c", crash, *args], env=env, capture_output=True, text=True, check=False
        )

    quiet = run("record", "list")
    assert quiet.returncode == 70
    assert "Traceback" not in quiet.stderr
    assert quiet.stderr.strip().splitlines() == [
        "内部错误 internal error: RuntimeError: boom second line (这是程序缺陷 a bug; "
        "run again with -v for the traceback)"
    ]
    assert "Traceback" in run("-v", "record", "list").stderr
