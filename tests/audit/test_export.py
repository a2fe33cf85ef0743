"""Audit exports: a case's dossier (JSON and printable HTML) and every history as JSON Lines with
a manifest, exported on SQLite and PostgreSQL and verified offline, in a process without the
database and without its settings; tampering in the export or in the database is caught."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.harness import Harness

from storage.connections import event_t
from workflow.audit import export as exporting
from workflow.audit.dossier import GENESIS, digest_of, facts_versions, rehash
from workflow.audit.offline import verify_export
from workflow.runtime.dispatch import Dispatcher, MailSettings

ROOT = Path(__file__).resolve().parents[2]
MAIN = "import sys; from workflow.cli import main; sys.argv[0] = 'chengxin'; main()"
JUDGMENT = {"number": "（2026）津0103民初1234号", "name": "民事判决书.pdf", "sha256": "ab" * 32}


def a_full_case(h: Harness, mail: Path) -> str:
    """A case with an edited draft (two versions of its facts), a document, mail sent and deadlines."""
    h.engine.units.save(
        [
            {"code": "hexi-zjw", "name": "河西区住房和建设委员会", "emails": "bgs@zjw.example.gov.cn"},
            {"code": "court-3", "name": "第三中级人民法院", "emails": "xinyong@court.example.gov.cn"},
        ]
    )
    record_id = h.draft(documents=[JUDGMENT]).id
    h.fire(record_id, "edit", h.recorder, severity="serious", facts="拖欠工程款，经催告仍拒不履行。")
    h.fire(record_id, "submit", h.recorder)
    h.later(hours=1)
    h.fire(record_id, "accept", h.verifier)
    h.fire(record_id, "confirm", h.verifier, comment="核查属实，予以记录")
    sender = {"CHENGXIN_MAIL_FROM": "xyb@xinyong.example.gov.cn"}
    Dispatcher(h.engine, MailSettings.from_env(sender, folder=mail)).run()
    return record_id


def offline(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``chengxin audit verify`` in a process of its own with no database settings at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHENGXIN_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    return subprocess.run(
        [sys.executable, "-c", MAIN, "audit", "verify", *map(str, args)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def drop_database(h: Harness, url: str) -> None:
    h.engine.close()
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink()


def test_a_dossier_holds_the_whole_case_and_verifies_on_a_machine_without_the_database(
    h: Harness, database_url: str, tmp_path: Path
) -> None:
    record_id = a_full_case(h, tmp_path / "mail")
    document = exporting.dossier(h.engine, record_id, mail_domain="xinyong.example.gov.cn")
    history = h.engine.stored_history(record_id)
    assert [row["hash"] for row in document["history"]] == [e.hash for e in history]
    assert document["head"] == {"seq": history[-1].seq, "hash": history[-1].hash}
    assert [v["data"]["severity"] for v in document["facts"]] == ["general", "serious"]
    assert document["documents"][0]["sha256"] == JUDGMENT["sha256"]
    assert document["documents"][0]["seq"] == 1
    assert document["definitions"] == {"national@2": h.engine.registry.get("national", 2).sha256}
    sent = [m for m in document["mails"] if m["status"] == "sent"]
    assert sent and all(m["message_id"].endswith("@xinyong.example.gov.cn>") for m in sent)
    mail_ids = {
        line.split(":", 1)[1].strip()
        for file in (tmp_path / "mail").rglob("*.eml")
        for line in file.read_text(encoding="utf-8").splitlines()
        if line.lower().startswith("message-id:")
    }
    assert {m["message_id"] for m in sent} <= mail_ids
    deadlines = {d["name"]: d for d in document["deadlines"]}
    assert deadlines and all(d["explanation"] for d in deadlines.values())
    file = tmp_path / "dossier.json"
    exporting.write_dossier(document, file, fmt="json")
    drop_database(h, database_url)
    checked = offline("--export", file, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "完好 intact" in checked.stdout and document["digest"] in checked.stdout
    assert "no history key in use" in checked.stdout  # says what offline checking cannot show


def test_a_tampered_history_row_in_a_dossier_is_caught(h: Harness, tmp_path: Path) -> None:
    record_id = a_full_case(h, tmp_path / "mail")
    document = exporting.dossier(h.engine, record_id, mail_domain="localhost")
    document["history"][3]["comment"] = "核查不实"
    file = tmp_path / "dossier.json"
    file.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    checked = offline("--export", file, cwd=tmp_path)
    assert checked.returncode == 1
    assert f"{record_id}: seq 4" in checked.stderr and "does not match its hash" in checked.stderr


def test_edits_beside_the_history_break_the_dossier_digest(h: Harness, tmp_path: Path) -> None:
    record_id = a_full_case(h, tmp_path / "mail")
    document = exporting.dossier(h.engine, record_id, mail_domain="localhost")
    document["mails"][0]["message_id"] = "<forged@example.org>"
    report = verify_export(_written(tmp_path, document))
    assert any("digest" in p for p in report.problems)
    forged = exporting.dossier(h.engine, record_id, mail_domain="localhost")
    forged["facts"][0]["data"]["severity"] = "minor"
    forged["digest"] = digest_of(forged)  # a forger who recomputes the digest still differs from the history
    assert any("facts" in p for p in verify_export(_written(tmp_path, forged)).problems)


def _written(folder: Path, document: dict[str, object]) -> Path:
    file = folder / "edited.json"
    file.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return file


def test_a_row_tampered_in_the_database_after_an_export_is_caught_on_re_export(
    h: Harness, tmp_path: Path
) -> None:
    record_id = a_full_case(h, tmp_path / "mail")
    first = tmp_path / "before.json"
    exporting.write_dossier(exporting.dossier(h.engine, record_id, mail_domain="x"), first, fmt="json")
    with h.engine.store.db.writing() as c:
        c.execute(
            sa.update(event_t)
            .where(event_t.c.record_id == record_id, event_t.c.seq == 4)
            .values(comment="核查不实，不予记录")
        )
    again = tmp_path / "after.json"
    exporting.write_dossier(exporting.dossier(h.engine, record_id, mail_domain="x"), again, fmt="json")
    assert verify_export(first).problems == []
    problems = verify_export(again).problems
    assert problems == [
        f"{record_id}: seq 4: 哈希不符，内容被改动 (the row's content does not match its hash)"
    ]


def test_a_rewrite_with_every_hash_recomputed_shows_only_against_an_earlier_export(
    h: Harness, tmp_path: Path
) -> None:
    record_id = a_full_case(h, tmp_path / "mail")
    earlier = tmp_path / "earlier.json"
    document = exporting.dossier(h.engine, record_id, mail_domain="x")
    exporting.write_dossier(document, earlier, fmt="json")
    rows = document["history"]
    rows[3]["comment"] = "核查不实"
    prev = GENESIS
    for row in rows:
        row["prev_hash"] = prev
        row["hash"] = prev = rehash(row)
    document["head"]["hash"] = rows[-1]["hash"]
    document["facts"] = facts_versions(rows)
    document["digest"] = digest_of(document)
    rewritten = _written(tmp_path, document)
    assert verify_export(rewritten).problems == []
    against = verify_export(rewritten, earlier=earlier)
    assert against.problems and "earlier export" in against.problems[0]


def test_the_printable_page_is_chinese_first_and_verifies_as_the_dossier_does(
    h: Harness, tmp_path: Path
) -> None:
    record_id = a_full_case(h, tmp_path / "mail")
    document = exporting.dossier(h.engine, record_id, mail_domain="xinyong.example.gov.cn")
    page = tmp_path / "dossier.html"
    exporting.write_dossier(document, page, fmt="html")
    text = page.read_text(encoding="utf-8")
    for heading in (
        "审计卷宗",
        "事实及其各版本",
        "历史（含哈希）",
        "期限及其说明",
        "已发邮件",
        "引用文书及其哈希",
    ):
        assert heading in text
    assert document["head"]["hash"] in text and JUDGMENT["sha256"] in text
    assert document["mails"][0]["message_id"].replace("<", "&lt;").replace(">", "&gt;") in text
    assert verify_export(page).problems == []
    page.write_text(text.replace("核查属实，予以记录", "核查不实，不予记录", 1), encoding="utf-8")
    assert any("visible text" in p for p in verify_export(page).problems)


def test_every_history_exports_as_json_lines_with_a_manifest_that_verifies_offline(
    h: Harness, database_url: str, tmp_path: Path
) -> None:
    cases = [h.recorded(), h.submitted(), h.recorded()]
    folder = tmp_path / "export"
    done = exporting.export_all(h.engine, folder)
    assert done.records == 3
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    heads = {c["record_id"]: (c["seq"], c["head"]) for c in manifest["chains"]}
    for record_id in cases:
        last = h.engine.stored_history(record_id)[-1]
        assert heads[record_id] == (last.seq, last.hash)
    lines = (folder / "histories.jsonl").read_bytes()
    assert manifest["files"]["histories.jsonl"]["sha256"] == hashlib.sha256(lines).hexdigest()
    assert manifest["digest"] == digest_of(manifest) == done.digest
    with pytest.raises(Exception, match="holds an export already"):
        exporting.export_all(h.engine, folder)
    drop_database(h, database_url)
    checked = offline("--export", folder, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert f"{done.records} 条记录 records" in checked.stdout


def test_a_tampered_line_a_missing_line_or_an_edited_manifest_is_caught(h: Harness, tmp_path: Path) -> None:
    h.recorded(), h.recorded()
    folder = tmp_path / "export"
    exporting.export_all(h.engine, folder)
    histories = folder / "histories.jsonl"
    original = histories.read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    row = json.loads(lines[2])
    row["actor"] = "someone.else"
    histories.write_text(
        "".join([*lines[:2], json.dumps(row, ensure_ascii=False) + "\n", *lines[3:]]), encoding="utf-8"
    )
    problems = verify_export(folder).problems
    assert any(p.startswith(f"{row['record_id']}: seq 3") for p in problems)
    assert any("SHA-256" in p for p in problems)
    histories.write_text("".join(lines[:-1]), encoding="utf-8")  # the last row of the last case is gone
    assert any("head" in p for p in verify_export(folder).problems)
    histories.write_text(original, encoding="utf-8")
    assert verify_export(folder).problems == []
    manifest = folder / "manifest.json"
    edited = json.loads(manifest.read_text(encoding="utf-8"))
    edited["chains"] = edited["chains"][1:]
    manifest.write_text(json.dumps(edited), encoding="utf-8")
    assert any("manifest digest" in p for p in verify_export(folder).problems)


def test_a_later_bulk_export_holds_the_earlier_heads_and_shows_a_row_altered_since(
    h: Harness, tmp_path: Path
) -> None:
    first, second = h.recorded(), h.recorded()
    exporting.export_all(h.engine, tmp_path / "november")
    h.later(days=1)
    h.fire(first, "publish", h.verifier, comment="公示")  # the chain grows: the earlier head is still in it
    exporting.export_all(h.engine, tmp_path / "december")
    assert verify_export(tmp_path / "december", earlier=tmp_path / "november").problems == []
    with h.engine.store.db.writing() as c:
        c.execute(
            sa.update(event_t)
            .where(event_t.c.record_id == second, event_t.c.seq == 2)
            .values(actor="someone.else")
        )
    exporting.export_all(h.engine, tmp_path / "january")
    problems = verify_export(tmp_path / "january", earlier=tmp_path / "november").problems
    assert f"{second}: seq 2: 哈希不符，内容被改动 (the row's content does not match its hash)" in problems
