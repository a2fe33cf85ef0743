"""The console in a real browser: headless chromium from the system's packages, driven by
Playwright, signs in as a recorder, a verifier, the responsible unit, a reviewer and an auditor
and walks one record from registration through explanation, objection, rectification and
repair, checking what each person sees. A screenshot of each main page is saved under the
test's folder (``tmp_path``), at 1366×768 and at a phone's width.

Nothing is downloaded: Playwright is pointed at ``/usr/bin/chromium`` (``.ci/run`` installs it
with apt-get when it is missing); without it the test is skipped with the reason.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.console import PASSWORD, Console
from support.harness import SH
from support.served import served

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",  # under CI a missing browser fails
        reason="no system chromium (apt-get install chromium)",
    ),
]
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


class Person:
    """One person's browser window, signed in."""

    def __init__(self, browser: Any, base: str, name: str, shots: Path, *, width: int = 1366) -> None:
        self.name, self.base, self.shots = name, base, shots
        self.context = browser.new_context(
            viewport={"width": width, "height": 768 if width > 800 else 800}, locale="zh-CN"
        )
        self.page = self.context.new_page()
        self.sign_in()

    def sign_in(self) -> None:
        base, name = self.base, self.name
        self.page.goto(f"{base}/console/")
        assert "/console/sign-in" in self.page.url
        self.page.fill("#name", name)
        self.page.fill("#password", PASSWORD)
        self.page.keyboard.press("Enter")  # keyboard only
        self.page.wait_for_url(f"{base}/console/")

    def shot(self, label: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{label}.png"), full_page=True)

    def open_case(self, rid: str) -> None:
        self.page.goto(f"{self.base}/console/cases/{rid}")

    def act(self, event: str, comment: str = "", *, refused: bool = False, **fields: Any) -> None:
        """Open the form of ``event`` on the case page, fill it and submit it; check that it was
        acknowledged (or, ``refused``, that it was not)."""
        form = f"#action-{event}"
        if not self.page.eval_on_selector(form, "e => e.open"):
            self.page.click(f"{form} summary")
        for name, value in fields.items():
            target = f"#{event}-{name}"
            if isinstance(value, Path):
                self.page.set_input_files(target, str(value))
            elif isinstance(value, list):
                for item in value:
                    self.page.check(f'{form} input[name="{name}"][value="{item}"]')
            elif self.page.eval_on_selector(target, "e => e.tagName") == "SELECT":
                self.page.select_option(target, value)
            else:
                self.page.fill(target, value)
        if comment:
            self.page.fill(f"#{event}-comment", comment)
        self.page.click(f"{form} button[type=submit]")
        self.page.wait_for_load_state()
        acknowledged = self.page.locator("#acknowledged").count() == 1
        assert acknowledged != refused, f"{self.name} {event}: {self.text()[:600]}"

    def text(self) -> str:
        return str(self.page.inner_text("main"))

    def close(self) -> None:
        self.context.close()


def test_a_record_walks_from_registration_to_repair_in_the_browser(
    console: Console, browser: Any, tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    evidence = tmp_path / "整改证明.pdf"
    evidence.write_bytes(b"%PDF-1.4 rectification evidence")
    with served(console.app) as base:
        # the recorder registers and submits a case from the generated form
        recorder = Person(browser, base, "recorder", shots)
        recorder.page.goto(f"{base}/console/new?definition=national")
        page = recorder.page
        for name, value in {
            "subject_name": "某区住房和建设委员会",
            "subject_code": "91110000600037341L",
            "responsible_unit": "hexi-zjw",
            "superior_unit": "hexi-gov",
            "finding_unit": "court-3",
            "document_number": "（2026）津0103民初1234号",
            "finding_date": "2026-05-08",
            "facts": "拖欠工程款，拒不履行生效判决。<script>alert(1)</script>",
        }.items():
            page.fill(f"#new-{name}", value)
        for name, value in {
            "subject_kind": "department",
            "source_type": "judgment",
            "domain": "procurement",
            "severity": "general",
        }.items():
            page.select_option(f"#new-{name}", value)
        recorder.shot("01-recorder-register-form")
        page.click("form.card button[type=submit]")
        page.wait_for_url("**/console/cases/*")
        rid = page.url.split("/cases/")[1].split("?")[0]
        assert "待核查" in recorder.text() or "submitted" in recorder.text()
        recorder.shot("02-recorder-case-submitted")

        # the verifier finds it in "my work", accepts, confirms and publishes it
        verifier = Person(browser, base, "verifier", shots)
        assert rid in verifier.text()
        verifier.shot("03-verifier-my-work")
        verifier.open_case(rid)
        verifier.act("accept")
        verifier.act("confirm", "核查属实，予以记录")
        verifier.act("publish")
        assert "已记录" in verifier.text()

        # the responsible unit sees what it owes, explains with an upload, objects
        subject = Person(browser, base, "subject", shots)
        assert rid in subject.text() and "提交书面说明原因" in subject.text()
        subject.shot("04-subject-my-work")
        subject.open_case(rid)
        assert "alert(1)" in subject.text()  # shown as text
        subject.act("submit_explanation", explanation="已安排资金，近期付款。", documents=evidence)
        assert "已办理：提交书面说明原因" in subject.text()
        assert "SHA-256" in subject.text()
        subject.act(
            "file_objection", refused=True
        )  # nothing filled: refused beside the field, nothing written
        assert "必填 (required)" in subject.text()
        subject.act("file_objection", reasons="判决已部分履行，认定事实有误。")
        assert "异议处理中" in subject.text()
        subject.shot("05-subject-case-objection")

        # the reviewer of the finding unit decides the objection
        reviewer = Person(browser, base, "reviewer", shots)
        assert rid in reviewer.text()
        reviewer.open_case(rid)
        reviewer.act("maintain", "经复核，异议不成立，维持记录。")
        assert "异议处理中" not in reviewer.text()
        reviewer.shot("06-reviewer-decided")

        # rectification, then repair once the minimum publication period has passed
        subject.open_case(rid)
        subject.act("submit_rectification_report", report="工程款已全部支付。", documents=evidence)
        verifier.open_case(rid)
        verifier.act("accept_rectification", "验收合格")
        console.h.at(dt.datetime(2026, 8, 10, 9, 0, tzinfo=SH))
        subject.open_case(rid)
        assert "/console/sign-in" in subject.page.url  # the day's session has ended
        subject.sign_in()
        reviewer.sign_in()
        subject.open_case(rid)
        subject.act("apply_repair", means=["commitment"], commitment=evidence)
        assert "修复申请审核中" in subject.text()
        reviewer.open_case(rid)
        reviewer.act("grant_repair", "承诺并整改到位，准予修复")
        assert "已修复" in reviewer.text()

        # the auditor reads the whole story and verifies it; a narrow screen works too
        auditor = Person(browser, base, "auditor", shots)
        auditor.page.goto(f"{base}/console/audit?verify=1")
        assert "完好 intact" in auditor.text()
        auditor.page.goto(f"{base}/console/audit?record_id={rid}&at=2026-06-01")
        assert "准予修复" in auditor.text() and "异议不成立" in auditor.text()
        auditor.shot("07-auditor-history")
        auditor.open_case(rid)
        assert "审计只读" in auditor.text()
        auditor.page.goto(f"{base}/console/dashboard")
        auditor.shot("08-auditor-dashboard")
        # the dossier from the case page's link; the lead department's ledger and report pages
        auditor.open_case(rid)
        auditor.page.click("text=卷宗（可打印） printable dossier")
        printable = auditor.page.inner_text("body")  # the dossier is a page of its own, without <main>
        assert "审计卷宗" in printable and rid in printable
        auditor.shot("10-auditor-dossier")
        auditor.page.goto(f"{base}/console/dashboard")
        auditor.page.click("text=台账进度（按部门） ledger progress by department")
        assert "按牵头部门 by lead department" in auditor.text()
        auditor.shot("11-auditor-ledger-progress")
        auditor.page.goto(f"{base}/console/reports")
        auditor.page.select_option("#r-jurisdiction", "tianjin")
        auditor.page.fill("#r-period", "2026H1")
        auditor.page.click("text=生成 show")
        assert "2026" in auditor.text() and "报送 to" in auditor.text()
        auditor.shot("12-auditor-supervision-report")
        phone = Person(browser, base, "subject", shots, width=390)
        phone.open_case(rid)
        assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
        phone.shot("09-subject-case-narrow")
        for person in (recorder, verifier, subject, reviewer, auditor, phone):
            person.close()
    assert len(list(shots.glob("*.png"))) == 12
    assert console.h.engine.get(rid).state == "repaired"
