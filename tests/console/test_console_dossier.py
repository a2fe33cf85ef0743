"""A case's dossier in the console: the printable page and the JSON download verify offline as
``chengxin audit export`` files do; an auditor and the case's own units read it, another unit
gets the case page's 404; text people typed is inert on the page."""

from __future__ import annotations

import json
import re
from pathlib import Path

from support.console import Console

from workflow.audit.offline import verify_export

SCRIPT = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'
_DATA_BLOCK = re.compile(r'<script type="application/json" id="chengxin-dossier">.*?</script>', re.DOTALL)


def test_an_auditor_downloads_a_dossier_that_verifies_offline(console: Console, tmp_path: Path) -> None:
    rid = console.h.recorded()
    assert console.fire("subject", rid, "file_objection", reasons="认定事实有误").status_code == 303
    case_page = console.get("auditor", f"/console/cases/{rid}").text
    assert f"/console/cases/{rid}/dossier" in case_page and f"/console/cases/{rid}/dossier.json" in case_page
    answer = console.get("auditor", f"/console/cases/{rid}/dossier.json")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == f'attachment; filename="dossier-{rid}.json"'
    document = json.loads(answer.text)
    assert document["record"]["id"] == rid
    assert [row["event"] for row in document["history"]][-1] == "file_objection"
    saved = tmp_path / "dossier.json"
    saved.write_text(answer.text, encoding="utf-8")
    report = verify_export(saved)
    assert report.problems == [] and report.digest == document["digest"]


def test_the_printable_dossier_page_verifies_offline_and_runs_no_script(
    console: Console, tmp_path: Path
) -> None:
    rid = console.h.recorded()
    answer = console.get("subject", f"/console/cases/{rid}/dossier")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert "审计卷宗" in answer.text and rid in answer.text
    assert "script-src 'none'" in answer.headers["content-security-policy"]
    saved = tmp_path / "dossier.html"
    saved.write_text(answer.text, encoding="utf-8")
    assert verify_export(saved).problems == []


def test_another_units_dossier_answers_404_like_a_missing_case(console: Console) -> None:
    rid = console.h.recorded()
    for person in ("other_subject", "other_recorder", "district_verifier"):
        for tail in ("dossier", "dossier.json"):
            hidden = console.get(person, f"/console/cases/{rid}/{tail}")
            missing = console.get(person, f"/console/cases/SX20260101-NOSUCH/{tail}")
            assert hidden.status_code == missing.status_code == 404, (person, tail)
            assert rid not in hidden.text
    assert console.get("reviewer", f"/console/cases/{rid}/dossier").status_code == 200


def test_script_in_facts_and_comments_is_inert_on_the_dossier_page(console: Console) -> None:
    h = console.h
    rid = h.recorded(facts=f"拖欠工程款{SCRIPT}", subject_name=f"某委{SCRIPT}")
    h.fire(rid, "file_objection", h.subject, comment=SCRIPT, reasons=SCRIPT, filed_by=SCRIPT)
    text = console.get("auditor", f"/console/cases/{rid}/dossier").text
    visible, blocks = _DATA_BLOCK.sub("", text), _DATA_BLOCK.findall(text)
    assert len(blocks) == 1 and "</script><img" not in blocks[0]  # the data cannot close its block
    assert "<script>document" not in visible and "<img src=x" not in visible
    assert "&lt;script&gt;document.title=" in visible  # shown as text, not dropped
