"""The console's pages for each person: my work (what to do, overdue first), the case page
(labels, masking, deadlines with their reasons, history, diagram), forms generated from the
definition that keep the input and write nothing on error, acknowledgements with the resulting
deadline, the auditor's pages and the dashboard."""

from __future__ import annotations

import hashlib
import re

from support.console import Console

from workflow.testing import PERSON, PERSON_ID


def _row_order(html: str) -> list[str]:
    return re.findall(r'<a href="/console/cases/([A-Z0-9-]+)">', html)


def test_my_work_lists_what_the_person_may_do_now_overdue_first(console: Console) -> None:
    h = console.h
    older = h.recorded()
    h.later(days=20)  # the explanation of the first case is overdue by now
    newer = h.recorded()
    page = console.get("subject", "/console/").text
    assert _row_order(page)[:2] == [older, newer]
    assert "已逾期 overdue" in page and "提交书面说明原因" in page
    assert "为何此日 why this date" in page
    overdue_only = console.get("subject", "/console/", due="overdue").text
    assert older in overdue_only and newer not in overdue_only
    assert "按状态 by state" in page
    assert older not in console.get("other_subject", "/console/").text
    assert older not in console.get("auditor", "/console/").text  # an auditor acts on nothing


def test_my_work_filters_by_kind_and_state(console: Console) -> None:
    rid = console.h.recorded()
    assert rid in console.get("subject", "/console/", kind="record", state="recorded").text
    assert rid not in console.get("subject", "/console/", kind="complaint").text
    nothing = console.get("subject", "/console/", state="nowhere:nothing")
    assert nothing.status_code == 200 and rid not in nothing.text and "无待办" in nothing.text


def test_the_case_page_shows_labels_masked_ids_deadline_reasons_history_and_diagram(console: Console) -> None:
    h = console.h
    rid = h.engine.register(
        "national", {k: v for k, v in PERSON.items() if v is not None}, actor=h.recorder, submit=True
    ).id
    h.fire(rid, "accept", h.verifier)
    h.fire(rid, "confirm", h.verifier, comment="核查属实，予以记录")
    page = console.get("subject", f"/console/cases/{rid}").text
    assert PERSON_ID not in page and "身份证号码" in page
    assert "主体类型" in page and "失信事实" in page
    assert "为何此日 why this date" in page
    assert "确认记录" in page and "核查属实，予以记录" in page and "wang.fang" in page
    assert f"/console/cases/{rid}/diagram.svg" in page
    svg = console.get("subject", f"/console/cases/{rid}/diagram.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    assert 'action="/console/cases/' in page and "书面说明" in page


def test_a_form_with_a_missing_field_keeps_the_input_and_writes_nothing(console: Console) -> None:
    rid = console.h.recorded()
    before = console.h.engine.get(rid).version
    answer = console.fire("subject", rid, "file_objection", reasons="", filed_by="赵强")
    assert answer.status_code == 422
    assert "必填 (required)" in answer.text
    assert 'value="赵强"' in answer.text  # kept
    assert console.h.engine.get(rid).version == before
    wrong_int = console.fire(
        "reviewer", rid, "extend_objection", "延长", working_days="many", approved_by="x"
    )
    assert wrong_int.status_code in {422, 200}
    assert console.h.engine.get(rid).version == before


def test_an_explanation_with_an_upload_records_its_sha256_and_is_acknowledged(console: Console) -> None:
    rid = console.h.recorded()
    content = "整改材料".encode()
    answer = console.fire(
        "subject",
        rid,
        "submit_explanation",
        explanation="已安排付款",
        files={"documents__files": ("说明.pdf", content, "application/pdf")},
    )
    assert answer.status_code == 303
    shown = console.signed_in("subject").get(answer.headers["location"]).text
    assert "已办理：提交书面说明原因" in shown
    docs = console.h.engine.history(rid)[-1].payload["documents"]
    assert docs == [{"name": "说明.pdf", "sha256": hashlib.sha256(content).hexdigest()}]
    assert hashlib.sha256(content).hexdigest() in shown


def test_an_objection_is_acknowledged_with_its_mark_and_the_reviewer_decides(console: Console) -> None:
    rid = console.h.recorded()
    assert console.fire("subject", rid, "file_objection", reasons="认定事实有误").status_code == 303
    page = console.get("subject", f"/console/cases/{rid}").text
    assert "异议处理中" in page
    assert rid in console.get("reviewer", "/console/").text
    assert rid not in console.get("other_reviewer", "/console/").text
    refused = console.fire("reviewer", rid, "maintain", "")
    assert refused.status_code == 422 and "必须填写理由" in refused.text
    assert console.fire("reviewer", rid, "maintain", "异议不成立").status_code == 303
    assert console.h.tracks(rid)["objection"] != "pending"


def test_a_recorder_registers_a_case_from_the_generated_form(console: Console) -> None:
    page = console.get("recorder", "/console/new", definition="national").text
    assert "主体名称" in page and 'abbr class="req"' in page
    client = console.signed_in("recorder")
    data = {
        "csrf": console.csrf("recorder"),
        "definition": "national",
        "submit": "1",
        "subject_kind": "department",
        "subject_name": "某区住房和建设委员会",
        "subject_code": "91110000600037341L",
        "responsible_unit": "hexi-zjw",
        "superior_unit": "hexi-gov",
        "finding_unit": "court-3",
        "source_type": "judgment",
        "document_number": "（2026）津0103民初1234号",
        "finding_date": "2026-05-08",
        "facts": "拖欠工程款。",
        "domain": "procurement",
        "severity": "general",
    }
    bad = client.post("/console/new", data={**data, "finding_date": "not a date"}, follow_redirects=False)
    assert bad.status_code == 422 and 'value="not a date"' in bad.text
    assert console.h.engine.count() == 0
    foreign = client.post("/console/new", data={**data, "finding_unit": "court-1"}, follow_redirects=False)
    assert foreign.status_code == 422 and console.h.engine.count() == 0
    made = client.post("/console/new", data=data, follow_redirects=False)
    assert made.status_code == 303
    (case,) = console.h.engine.query()
    assert case.state == "submitted" and made.headers["location"].startswith(f"/console/cases/{case.id}")


def test_the_auditor_verifies_reads_history_and_state_as_of_a_date(console: Console) -> None:
    rid = console.h.recorded()
    verified = console.get("auditor", "/console/audit", verify="1").text
    assert "完好 intact" in verified and "1 条记录" in verified
    one = console.get("auditor", "/console/audit", verify="1", record_id=rid).text
    assert "完好 intact" in one
    replayed = console.get("auditor", "/console/audit", verify="replay").text
    assert "一致 identical" in replayed and "已重放 replayed 1 条记录" in replayed
    history = console.get("auditor", "/console/audit", record_id=rid, at="2026-05-11").text
    assert "确认记录" in history and "as of 2026-05-11" in history
    assert "YYYY-MM-DD" in console.get("auditor", "/console/audit", record_id=rid, at="soon").text
    assert console.get("subject", "/console/audit").status_code == 403
    page = console.get("auditor", f"/console/cases/{rid}").text
    assert "审计只读" in page and 'action="/console/cases/' not in page


def test_the_dashboard_draws_overdue_by_unit_and_cases_by_state_as_svg(console: Console) -> None:
    console.h.recorded()
    console.h.later(days=20)
    page = console.get("verifier", "/console/dashboard")
    assert page.status_code == 200
    assert (
        page.text.count("<svg") == 4
        and "(national)" in page.text
        and "hexi-zjw" in page.text
        and "已记录" in page.text
    )
    assert "http://" not in page.text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert console.get("subject", "/console/dashboard").status_code == 403
    css = console.client().get("/console/static/console.css")
    assert css.status_code == 200 and "@media" in css.text


def test_reading_a_persons_case_is_in_the_query_log_the_auditor_reads(console: Console) -> None:
    h = console.h
    fields = {k: v for k, v in PERSON.items() if v is not None}
    rid = h.engine.register("national", fields, actor=h.recorder, submit=True).id
    assert console.get("verifier", f"/console/cases/{rid}").status_code == 200
    log = console.get("auditor", "/console/audit/query-log").text
    assert "wang.fang/verifier/credit-office" in log and "控制台查阅" in log
    assert PERSON_ID not in log and PERSON_ID[:6] in log
    only = console.get("auditor", "/console/audit/query-log", requester="nobody/x/y").text
    assert "wang.fang" not in only
    assert console.get("verifier", "/console/audit/query-log").status_code == 403


def test_a_form_sent_from_a_stale_page_is_a_conflict_and_writes_nothing(console: Console) -> None:
    rid = console.h.recorded()
    seen = console.h.engine.get(rid).version
    console.h.fire(rid, "publish", console.h.verifier)  # the case moves on meanwhile
    answer = console.fire("subject", rid, "submit_explanation", explanation="说明", version=str(seen))
    assert answer.status_code == 409
    assert console.h.engine.get(rid).version == seen + 1


def test_every_input_on_every_page_has_a_label(console: Console) -> None:
    rid = console.h.recorded()
    console.h.fire(rid, "file_objection", console.h.subject, reasons="认定有误")
    pages = [
        ("subject", "/console/"),
        ("subject", f"/console/cases/{rid}"),
        ("reviewer", f"/console/cases/{rid}"),
        ("recorder", "/console/new?definition=national"),
        ("auditor", f"/console/audit?record_id={rid}"),
        ("auditor", "/console/audit/query-log"),
    ]
    for person, path in pages:
        html = console.signed_in(person).get(path).text
        labelled = set(re.findall(r'<label for="([^"]+)"', html))
        fields = re.findall(r"<(?:input|select|textarea)\b([^>]*)>", html)
        for attributes in fields:
            if 'type="hidden"' in attributes or 'type="checkbox"' in attributes:
                continue  # checkboxes sit inside their label
            found = re.search(r'id="([^"]+)"', attributes)
            assert found and found.group(1) in labelled, f"{path}: an input without a label: {attributes}"
    signin = console.client().get("/console/sign-in").text
    assert '<label for="name">' in signin and '<label for="password">' in signin


def test_a_history_row_changed_in_the_database_is_caught_on_the_audit_page(console: Console) -> None:
    import sqlalchemy as sa

    from storage.connections import event_t

    rid = console.h.recorded()
    with console.h.engine.store.engine.begin() as connection:
        connection.execute(
            sa.update(event_t).where(event_t.c.record_id == rid, event_t.c.seq == 4).values(comment="改过")
        )
    page = console.get("auditor", "/console/audit", verify="1", record_id=rid).text
    assert "个问题 problems" in page and rid in page and "完好" not in page


def test_verifying_every_case_streams_its_progress_and_result(console: Console) -> None:
    console.h.recorded()
    console.h.recorded()
    with console.signed_in("auditor").stream("GET", "/console/audit/verify-all") as answer:
        assert answer.status_code == 200
        chunks = list(answer.iter_text())
    text = "".join(chunks)
    assert len(chunks) >= 2 and text.index("校验全部") < text.index("已校验 checked 2 条记录")
    assert "完好 intact" in text and text.rstrip().endswith("</html>")
    assert console.get("subject", "/console/audit/verify-all").status_code == 403
