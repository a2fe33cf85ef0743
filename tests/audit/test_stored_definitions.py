"""Rules edited in the database are refused and reported (issue 10, defect 3): the engine checks each
stored definition against its SHA-256 and against its file when it opens, refuses to run on a
mismatch, and ``audit verify`` (whose engine opens for audit and only records it) reports it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.cli import Cli, one_line_error
from support.harness import Harness

from definitions.loader import canonical_json
from workflow import Actor, Engine, ManualClock, audit
from workflow.errors import DefinitionChanged, StoredDefinitionAltered

AUDITOR = Actor(id="sun.li", role="auditor", unit="audit-office")
CITY = """\
name: my_city
version: 1
extends: national@1
title: 某市政务失信记录流程
jurisdiction: 某市
legal_basis: 某市政务诚信建设实施方案
"""


def _city(tmp_path: Path) -> Path:
    folder = tmp_path / "city"
    folder.mkdir()
    (folder / "my_city.yaml").write_text(CITY, encoding="utf-8")
    return folder


def _let_the_auditor_explain(h: Harness, name: str, *, rehash: bool) -> None:
    """Edit the stored rules: the auditor may submit the written explanation, no guard asks who."""
    with h.engine.store.engine.begin() as connection:
        body = connection.execute(
            sa.text("select body from workflow_definition where name = :n"), {"n": name}
        ).scalar_one()
        document = json.loads(body)
        event = document["events"]["submit_explanation"]
        event["roles"], event["guards"] = ["auditor"], []
        values = {"n": name, "b": json.dumps(document, ensure_ascii=False)}
        values["s"] = hashlib.sha256(canonical_json(document).encode()).hexdigest()
        column = ", sha256 = :s" if rehash else ""
        connection.execute(
            sa.text(f"update workflow_definition set body = :b{column} where name = :n"), values
        )


def _city_record(h: Harness, url: str, folder: Path) -> str:
    with Engine.open(url, clock=h.clock, definitions=[folder]) as engine:
        fields = dict(h.engine.get(h.recorded()).data)
        view = engine.register("my_city", fields, actor=h.recorder, submit=True)
        h.later(hours=1)
        engine.fire(view.id, "accept", actor=h.verifier)
        engine.fire(view.id, "confirm", actor=h.verifier, comment="核查属实，予以记录")
        return view.id


def test_a_stored_definition_edited_without_its_file_is_refused_not_enforced(
    h: Harness, database_url: str, tmp_path: Path
) -> None:
    """The version's file is not loaded (its folder not passed): the engine used to run on the edited
    text, letting an auditor submit the explanation, and verify said intact."""
    rid = _city_record(h, database_url, _city(tmp_path))
    _let_the_auditor_explain(h, "my_city", rehash=False)
    with pytest.raises(StoredDefinitionAltered, match="my_city@1"):
        Engine.open(database_url, clock=ManualClock(h.clock.now()))
    with Engine.open(database_url, clock=ManualClock(h.clock.now()), audit=True) as auditor:
        report = audit.verify(auditor.registry, auditor.cases(), real_time=False)
        assert [(p.record_id, p.kind) for p in report.problems] == [("definition my_city@1", "definition")]
        assert "SHA-256" in report.problems[0].detail
        with pytest.raises(StoredDefinitionAltered):
            auditor.fire(rid, "submit_explanation", actor=AUDITOR, payload={"explanation": "代为说明"})


def test_a_stored_definition_rewritten_with_its_sha256_is_refused_against_its_file(
    h: Harness, database_url: str, tmp_path: Path
) -> None:
    folder = _city(tmp_path)
    rid = _city_record(h, database_url, folder)
    _let_the_auditor_explain(h, "my_city", rehash=True)
    with pytest.raises(DefinitionChanged, match="my_city@1"):
        Engine.open(database_url, clock=ManualClock(h.clock.now()), definitions=[folder])
    with Engine.open(
        database_url, clock=ManualClock(h.clock.now()), definitions=[folder], audit=True
    ) as auditor:
        report = audit.verify(auditor.registry, auditor.cases(), real_time=False)
    assert [(p.record_id, p.kind) for p in report.problems] == [("definition my_city@1", "definition")]
    assert "differs from the stored text" in report.problems[0].detail
    assert rid


def test_the_bundled_definitions_stored_text_edited_in_the_database_is_refused(
    h: Harness, database_url: str
) -> None:
    rid = h.recorded()
    h.fire(rid, "publish", h.verifier)
    for rehash, refused in ((False, StoredDefinitionAltered), (True, DefinitionChanged)):
        _let_the_auditor_explain(h, "national", rehash=rehash)
        with pytest.raises(refused, match="national@2"):
            Engine.open(database_url, clock=ManualClock(h.clock.now()))
        with Engine.open(database_url, clock=ManualClock(h.clock.now()), audit=True) as auditor:
            report = audit.verify(auditor.registry, auditor.cases(), real_time=False)
        assert [p.record_id for p in report.problems] == ["definition national@2"]


def test_the_command_line_refuses_in_one_line_and_audit_verify_reports_it(
    h: Harness, database_url: str, tmp_path: Path
) -> None:
    rid = _city_record(h, database_url, _city(tmp_path))
    _let_the_auditor_explain(h, "my_city", rehash=False)
    h.engine.close()
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    refused = cli(
        "record", "fire", rid, "submit_explanation", "--actor", "sun.li", "--role", "auditor",
        "--unit", "audit-office", "--set", "explanation=代为说明",
    )  # fmt: skip
    assert refused.code == 2
    one_line_error(refused, "my_city@1", "altered in the database")
    verified = cli("audit", "verify")
    assert verified.code == 1
    assert "TAMPERED definition my_city@1: definition:" in verified.stderr
    assert cli("audit", "replay", rid).code == 0  # the auditor's engine still opens, to replay
