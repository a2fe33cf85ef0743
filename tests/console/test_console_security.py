"""The console's security: text people typed is inert on every page, every action is checked on
the server with the API's role × action × ownership matrix (cell by cell, whatever a page
showed), and a case outside the person's units answers 404 — as a missing case does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from support.api import CALLERS
from support.console import Console
from support.harness import ORGANISATION

SCRIPT = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'
PEOPLE = [name for name, (_p, role, _u) in CALLERS.items() if role != "service"]


def test_script_in_facts_comments_and_names_is_inert_on_every_page(console: Console) -> None:
    h = console.h
    rid = h.recorded(facts=f"拖欠工程款{SCRIPT}", subject_name=f"某委{SCRIPT}")
    h.fire(rid, "file_objection", h.subject, comment=SCRIPT, reasons=SCRIPT, filed_by=SCRIPT)
    pages = {
        "subject": ["/console/", f"/console/cases/{rid}"],
        "reviewer": ["/console/", f"/console/cases/{rid}"],
        "verifier": ["/console/dashboard", f"/console/cases/{rid}"],
        "auditor": [
            "/console/audit?verify=1",
            f"/console/audit?record_id={rid}&at=2026-06-01",
            f"/console/cases/{rid}",
        ],
    }
    for person, paths in pages.items():
        for path in paths:
            answer = console.signed_in(person).get(path)
            assert answer.status_code == 200, path
            assert "<script>document" not in answer.text and "<img src=x" not in answer.text, path
            assert "script-src 'none'" in answer.headers["content-security-policy"]
    shown = console.get("subject", f"/console/cases/{rid}").text
    assert "&lt;script&gt;document.title=" in shown  # shown as text, not dropped


def test_a_case_of_another_unit_answers_404_like_a_missing_case(console: Console) -> None:
    rid = console.h.recorded()
    for person in ("other_subject", "other_recorder", "other_reviewer", "district_verifier"):
        hidden = console.get(person, f"/console/cases/{rid}")
        missing = console.get(person, "/console/cases/SX20260101-NOSUCH")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.text == missing.text
        assert console.get(person, f"/console/cases/{rid}/diagram.svg").status_code == 404
        assert console.fire(person, rid, "file_objection", reasons="x").status_code == 404
    assert console.h.tracks(rid)["objection"] == "none"


def _draft(c: Console) -> str:
    return c.h.draft().id


def _submitted(c: Console) -> str:
    return c.h.submitted()


def _recorded(c: Console) -> str:
    return c.h.recorded()


def _objected(c: Console) -> str:
    rid = c.h.recorded()
    c.h.fire(rid, "file_objection", c.h.subject, reasons="认定事实有误")
    return rid


@dataclass(frozen=True)
class Fire:
    setup: Callable[[Console], str]
    event: str
    comment: str = ""
    fields: tuple[tuple[str, Any], ...] = ()

    def __call__(self, c: Console, person: str) -> tuple[int, bool]:
        rid = self.setup(c)
        before = c.h.engine.get(rid).version
        answer = c.fire(person, rid, self.event, self.comment, **dict(self.fields))
        return answer.status_code, c.h.engine.get(rid).version == before + 1


def _read(c: Console, person: str) -> tuple[int, bool]:
    rid = c.h.recorded()
    answer = c.get(person, f"/console/cases/{rid}")
    return answer.status_code, answer.status_code == 200 and rid in answer.text


def _register(c: Console, person: str) -> tuple[int, bool]:
    before = c.h.engine.count()
    data = {"csrf": c.csrf(person), "definition": "national", **ORGANISATION}
    answer = c.signed_in(person).post("/console/new", data=data, follow_redirects=False)
    return answer.status_code, c.h.engine.count() == before + 1


ACTIONS: dict[str, Callable[[Console, str], tuple[int, bool]]] = {
    "read": _read,
    "register": _register,
    "edit": Fire(_draft, "edit", fields=(("facts", "补充后的失信事实"),)),
    "accept": Fire(_submitted, "accept"),
    "submit_explanation": Fire(_recorded, "submit_explanation", fields=(("explanation", "原因说明"),)),
    "file_objection": Fire(_recorded, "file_objection", fields=(("reasons", "认定有误"),)),
    "maintain": Fire(_objected, "maintain", comment="维持原认定"),
}
ALLOWED: dict[str, set[str]] = {
    # the HTTP API's matrix (tests/api/test_api_access.py), restricted to the console's actions
    "recorder": {"read", "register", "edit"},
    "other_recorder": set(),
    "verifier": {"read", "accept"},
    "district_verifier": set(),
    "subject": {"read", "submit_explanation", "file_objection"},
    "other_subject": set(),
    "reviewer": {"read", "maintain"},
    "other_reviewer": set(),
    "superior": {"read"},
    "auditor": {"read"},
}
SEES = {"recorder", "verifier", "subject", "reviewer", "superior", "auditor"}


def test_every_cell_of_the_matrix_holds_for_the_console(console: Console) -> None:
    assert set(ALLOWED) == set(PEOPLE)
    wrong = []
    for person in PEOPLE:
        for action, call in ACTIONS.items():
            status, worked = call(console, person)
            if action in ALLOWED[person]:
                if status not in {200, 303} or not worked:
                    wrong.append(f"{person} {action}: allowed, but {status} (worked={worked})")
                continue
            expected = {403, 422} if person in SEES or action == "register" else {404}
            if status not in expected or worked:
                wrong.append(f"{person} {action}: forbidden, but {status} (changed={worked})")
    assert not wrong, "\n".join(wrong)
