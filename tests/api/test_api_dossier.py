"""An auditor's dossier over HTTP: ``GET /records/{id}/dossier`` is the document ``chengxin audit
export`` writes and verifies offline, in a process without the database; the printable page
carries the same document; whoever may not read the case may not read its dossier."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from support.api import Api

from workflow.audit import export as exporting
from workflow.testing import ORGANISATION, PERSON

ROOT = Path(__file__).resolve().parents[2]
MAIN = "import sys; from workflow.cli import main; sys.argv[0] = 'chengxin'; main()"
JUDGMENT = {"number": "（2026）津0103民初1234号", "name": "民事判决书.pdf", "sha256": "cd" * 32}


def _case(api: Api) -> str:
    record_id = api.h.draft(documents=[JUDGMENT]).id
    api.h.fire(record_id, "edit", api.h.recorder, severity="serious", facts="拖欠工程款，经催告仍拒不履行。")
    api.h.fire(record_id, "submit", api.h.recorder)
    api.h.later(hours=1)
    api.h.fire(record_id, "accept", api.h.verifier)
    api.h.fire(record_id, "confirm", api.h.verifier, comment="核查属实，予以记录")
    return record_id


def _verify_offline(file: Path) -> subprocess.CompletedProcess[str]:
    """``chengxin audit verify --export FILE`` in a process with no database settings at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHENGXIN_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-c", MAIN, "audit", "verify", "--export", str(file)],
        env=env,
        cwd=file.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_auditor_gets_the_cli_export_and_it_verifies_offline(api: Api, tmp_path: Path) -> None:
    record_id = _case(api)
    got = api.get(f"/records/{record_id}/dossier", "auditor", purpose="年度审计")
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("application/json")
    document = got.json()
    exported = exporting.dossier(api.h.engine, record_id, mail_domain="localhost")
    assert document == exported  # the same document `chengxin audit export` writes
    assert document["record"]["id"] == record_id
    assert [v["data"]["severity"] for v in document["facts"]] == ["general", "serious"]
    assert document["documents"][0]["sha256"] == JUDGMENT["sha256"]
    file = tmp_path / "dossier.json"
    file.write_bytes(got.content)
    checked = _verify_offline(file)
    assert checked.returncode == 0, checked.stderr
    assert "完好 intact" in checked.stdout and document["digest"] in checked.stdout

    document["history"][2]["comment"] = "改过的意见"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    caught = _verify_offline(tampered)
    assert caught.returncode == 1 and "does not match its hash" in caught.stderr


def test_the_printable_page_carries_the_same_document_and_verifies(api: Api, tmp_path: Path) -> None:
    record_id = _case(api)
    page = api.get(f"/records/{record_id}/dossier.html", "auditor")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert record_id in page.text and ORGANISATION["subject_name"] in page.text
    digest = api.get(f"/records/{record_id}/dossier", "auditor").json()["digest"]
    assert digest in page.text
    file = tmp_path / "dossier.html"
    file.write_bytes(page.content)
    checked = _verify_offline(file)
    assert checked.returncode == 0, checked.stderr
    assert digest in checked.stdout


def test_only_those_who_may_read_the_case_get_its_dossier(api: Api) -> None:
    record_id = api.h.recorded()
    for caller in ("auditor", "recorder", "verifier", "subject", "reviewer", "superior"):
        for suffix in ("dossier", "dossier.html"):
            got = api.get(f"/records/{record_id}/{suffix}", caller)
            assert got.status_code == 200, (caller, suffix, got.text)
    for caller, status in (("other_recorder", 403), ("other_subject", 403), ("service", 403)):
        for suffix in ("dossier", "dossier.html"):
            got = api.get(f"/records/{record_id}/{suffix}", caller)
            assert got.status_code == status, (caller, suffix, got.text)
            assert got.headers["content-type"] == "application/problem+json"
    anonymous = api.client.get(f"/records/{record_id}/dossier")
    assert anonymous.status_code == 401
    missing = api.get("/records/SX20260101-NOSUCH/dossier.html", "auditor")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_reading_a_persons_dossier_is_in_the_query_log(api: Api) -> None:
    fields = {k: v for k, v in {**ORGANISATION, **PERSON}.items() if v is not None}
    record_id = api.h.engine.register("national", fields, actor=api.h.recorder).id
    got = api.get(f"/records/{record_id}/dossier", "auditor", purpose="年度审计抽查")
    assert got.status_code == 200, got.text
    with api.h.engine.store.db.reading() as c:
        rows = c.execute(sa.text("SELECT requester, purpose, subject FROM subject_query_log")).all()
    assert [(r.requester, r.purpose) for r in rows] == [("sun.shen/auditor/city", "年度审计抽查")]
    assert PERSON["subject_id_number"] not in rows[0].subject
