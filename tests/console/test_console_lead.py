"""The lead department's pages: the work ledger's progress by lead department and the
supervision and ranking reports with their server-drawn charts — for the credit office and
auditors only, with bad choices answered beside the field and people's text inert."""

from __future__ import annotations

import datetime as dt
import re

from support.console import Console
from support.harness import ORGANISATION, SH

from workflow import Actor
from workflow.runtime.ledgers import import_ledger, ledger_status

SCRIPT = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'
TIANJIN = [
    {"code": "tj-gov", "name": "天津市人民政府", "jurisdiction": "tianjin", "level": "city"},
    {"code": "tj-evil", "name": f"某局{SCRIPT}", "jurisdiction": "tianjin", "level": "department"},
    {"code": "tj-czj", "name": "市财政局", "jurisdiction": "tianjin", "level": "department"},
]


def _tianjin_records(console: Console) -> None:
    """Two Tianjin records: one unit explains on time, the other never does (overdue)."""
    h = console.h
    h.engine.units.save(TIANJIN)
    ids = {}
    for unit in ("tj-evil", "tj-czj"):
        rid = h.engine.register(
            "tianjin", {**ORGANISATION, "responsible_unit": unit}, actor=h.recorder, submit=True
        ).id
        h.fire(rid, "accept", h.verifier)
        h.fire(rid, "confirm", h.verifier, comment="核查属实")
        ids[unit] = rid
    h.later(days=2)
    h.fire(
        ids["tj-czj"],
        "submit_explanation",
        Actor(id="staff", role="subject", unit="tj-czj"),
        explanation="已说明",
    )
    h.at(dt.datetime(2026, 5, 27, 10, 0, tzinfo=SH))  # the explanations were due on 25 May
    while h.engine.sweep().fired:
        pass
    h.at(dt.datetime(2026, 7, 3, 10, 0, tzinfo=SH))


def test_the_supervision_report_shows_its_table_and_charts_with_unit_names_escaped(console: Console) -> None:
    _tianjin_records(console)
    answer = console.get(
        "verifier", "/console/reports", kind="supervision", jurisdiction="tianjin", period="2026H1"
    )
    assert answer.status_code == 200
    text = answer.text
    assert "天津" in text and "2026" in text and "<svg" in text
    assert "各单位逾期未办结的失信记录" in text  # the overdue chart of workflow.reports
    assert "市财政局" in text
    assert "<script>document" not in text and "<img src=x" not in text
    assert "某局&lt;script&gt;" in text  # the unit's name shown as text
    table = re.search(r"<table class=\"work\">.*?</table>", text, re.DOTALL)
    assert table is not None and "某局&lt;script&gt;" in table.group(0)  # a row per unit
    assert "script-src 'none'" in answer.headers["content-security-policy"]


def test_the_ranking_of_a_jurisdiction_without_data_says_so(console: Console) -> None:
    answer = console.get(
        "auditor", "/console/reports", kind="ranking", jurisdiction="guangyuan", period="2026Q2"
    )
    assert answer.status_code == 200
    assert "无数据 (no data for this period)" in answer.text


def test_a_bad_period_or_jurisdiction_is_answered_beside_the_field_and_kept(console: Console) -> None:
    bad_period = console.get(
        "verifier", "/console/reports", kind="supervision", jurisdiction="tianjin", period="2026Q9"
    )
    assert bad_period.status_code == 422
    assert 'id="r-period-error"' in bad_period.text and 'value="2026Q9"' in bad_period.text
    bad_place = console.get(
        "verifier", "/console/reports", kind="supervision", jurisdiction=SCRIPT, period="2026"
    )
    assert bad_place.status_code == 422 and 'id="r-jurisdiction-error"' in bad_place.text
    assert "<script>document" not in bad_place.text
    missing = console.get("verifier", "/console/reports", kind="ranking", jurisdiction="tianjin", period="")
    assert missing.status_code == 422 and "必填 (required)" in missing.text


def test_the_ledger_progress_counts_tasks_per_lead_department(console: Console) -> None:
    h = console.h
    result = import_ledger(h.engine, "tianjin")
    assert len(result.created) == 26
    _tasks, expected = ledger_status(h.engine, jurisdiction="tianjin")
    answer = console.get("verifier", "/console/dashboard/ledger", jurisdiction="tianjin")
    assert answer.status_code == 200
    text = answer.text
    assert "任务 26 项 tasks" in text
    for count in expected:
        row = re.search(
            rf"<td>{re.escape(count.name)} <small>\({re.escape(count.department)}\)</small></td><td>(\d+)</td>",
            text,
        )
        assert row is not None and int(row.group(1)) == count.tasks, count.department
    assert "<svg" in text
    assert console.get("verifier", "/console/dashboard/ledger").status_code == 200  # all jurisdictions
    bad = console.get("verifier", "/console/dashboard/ledger", jurisdiction=SCRIPT)
    assert bad.status_code == 422 and "<script>document" not in bad.text and "&lt;script&gt;" in bad.text
    dashboard = console.get("verifier", "/console/dashboard").text
    assert "/console/dashboard/ledger" in dashboard and "/console/reports?kind=ranking" in dashboard


def test_only_the_credit_office_and_auditors_open_the_lead_pages(console: Console) -> None:
    for person in ("subject", "recorder", "reviewer", "superior"):
        assert console.get(person, "/console/dashboard/ledger").status_code == 403, person
        assert console.get(person, "/console/reports", kind="supervision").status_code == 403, person
    for person in ("verifier", "auditor"):
        assert console.get(person, "/console/dashboard/ledger").status_code == 200, person
        assert console.get(person, "/console/reports").status_code == 200, person
