"""The role × action × ownership matrix of the HTTP API, cell by cell: every forbidden cell is
refused with 403 (and changes nothing), every allowed cell works.

"Own" cases are in the caller's part of the unit tree (``support.api``): the sample record is
about hexi-zjw and was found by court-3. Foreign callers sit elsewhere in the tree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from support.api import CALLERS, Api
from support.harness import ORGANISATION

Setup = Callable[[Api], str]


def draft(api: Api) -> str:
    return api.h.draft().id


def submitted(api: Api) -> str:
    return api.h.submitted()


def recorded(api: Api) -> str:
    return api.h.recorded()


def objected(api: Api) -> str:
    rid = api.h.recorded()
    api.h.fire(rid, "file_objection", api.h.subject, reasons="认定事实有误")
    return rid


@dataclass(frozen=True)
class Fire:
    """An event on a fresh case made by ``setup``; allowed means it fires (version + 1)."""

    setup: Setup
    event: str
    comment: str = ""
    payload: tuple[tuple[str, Any], ...] = ()

    def __call__(self, api: Api, caller: str) -> tuple[int, bool]:
        rid = self.setup(api)
        before = api.h.engine.get(rid).version
        answer = api.fire(rid, self.event, caller, self.comment, **dict(self.payload))
        after = api.h.engine.get(rid).version
        return answer.status_code, after == before + 1


EDIT = Fire(draft, "edit", payload=(("facts", "补充后的失信事实"),))
ACCEPT = Fire(submitted, "accept")
EXPLAIN = Fire(recorded, "submit_explanation", payload=(("explanation", "原因说明"),))
OBJECT = Fire(recorded, "file_objection", payload=(("reasons", "认定有误"),))
MAINTAIN = Fire(objected, "maintain", comment="维持原认定")


def read(api: Api, caller: str) -> tuple[int, bool]:
    rid = recorded(api)
    answer = api.get(f"/records/{rid}", caller)
    return answer.status_code, answer.status_code == 200 and answer.json()["id"] == rid


def history(api: Api, caller: str) -> tuple[int, bool]:
    rid = recorded(api)
    answer = api.get(f"/records/{rid}/history", caller)
    return answer.status_code, answer.status_code == 200 and len(answer.json()) == 4


def dossier(api: Api, caller: str) -> tuple[int, bool]:
    rid = recorded(api)
    answer = api.get(f"/records/{rid}/dossier", caller)
    return answer.status_code, answer.status_code == 200 and answer.json()["record"]["id"] == rid


def listing(api: Api, caller: str) -> tuple[int, bool]:
    recorded(api)
    answer = api.get("/records", caller)
    return answer.status_code, answer.status_code == 200 and answer.json()["total"] >= 1


def register(api: Api, caller: str) -> tuple[int, bool]:
    before = api.h.engine.count()
    answer = api.post("/records", caller, {"definition": "national", "fields": ORGANISATION})
    return answer.status_code, api.h.engine.count() == before + 1


def route(path: str) -> Callable[[Api, str], tuple[int, bool]]:
    def call(api: Api, caller: str) -> tuple[int, bool]:
        answer = api.get(path, caller)
        return answer.status_code, answer.status_code == 200

    call.__name__ = path
    return call


ACTIONS: dict[str, Callable[[Api, str], tuple[int, bool]]] = {
    "read": read,
    "history": history,
    "dossier": dossier,
    "list": listing,
    "register": register,
    "edit": EDIT,
    "accept": ACCEPT,
    "submit_explanation": EXPLAIN,
    "file_objection": OBJECT,
    "maintain": MAINTAIN,
    "outbox": route("/outbox"),
    "definitions": route("/definitions"),
    "units": route("/units"),
    "me": route("/me"),
}

ALLOWED: dict[str, set[str]] = {
    # what each caller may do on the sample case (hexi-zjw, found by court-3); all else is 403
    "recorder": {"read", "history", "dossier", "list", "register", "edit", "definitions", "units", "me"},
    "other_recorder": {"list", "definitions", "units", "me"},
    "verifier": {"read", "history", "dossier", "list", "accept", "outbox", "definitions", "units", "me"},
    "district_verifier": {"list", "outbox", "definitions", "units", "me"},
    "subject": {
        "read",
        "history",
        "dossier",
        "list",
        "submit_explanation",
        "file_objection",
        "definitions",
        "units",
        "me",
    },
    "other_subject": {"list", "definitions", "units", "me"},
    "reviewer": {"read", "history", "dossier", "list", "maintain", "definitions", "units", "me"},
    "other_reviewer": {"list", "definitions", "units", "me"},
    "superior": {"read", "history", "dossier", "list", "definitions", "units", "me"},
    "auditor": {"read", "history", "dossier", "list", "outbox", "definitions", "units", "me"},
    "service": {"me"},
}
# a foreign caller's list answers 200 but without the sample case
EMPTY_LIST = {"other_recorder", "district_verifier", "other_subject", "other_reviewer"}


def test_the_matrix_names_every_caller_and_action() -> None:
    assert set(ALLOWED) == set(CALLERS)
    assert all(cell <= set(ACTIONS) for cell in ALLOWED.values())


def test_every_cell_of_the_role_action_ownership_matrix(api: Api) -> None:
    wrong = []
    for caller in CALLERS:
        for action, call in ACTIONS.items():
            status, worked = call(api, caller)
            if action == "list" and caller in EMPTY_LIST:
                visible = api.get("/records", caller).json()
                if status != 200 or visible["total"] != 0:
                    wrong.append(f"{caller} {action}: {status}, saw {visible.get('total')} cases")
                continue
            if action in ALLOWED[caller]:
                if status not in {200, 201} or not worked:
                    wrong.append(f"{caller} {action}: allowed, but {status} (worked={worked})")
            elif status != 403 or (worked and action not in {"list"}):
                wrong.append(f"{caller} {action}: forbidden, but {status} (changed={worked})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("caller", sorted(set(CALLERS) - {"service"}))
def test_a_callers_list_holds_only_cases_in_its_units(api: Api, caller: str) -> None:
    hexi = api.h.recorded()
    nankai = api.h.recorded(responsible_unit="nankai-zjw", superior_unit="nankai-gov")  # court-3 found it too
    seen = {r["id"] for r in api.get("/records", caller, limit=100).json()["items"]}
    expected = {
        "recorder": {hexi, nankai},
        "other_recorder": set(),
        "verifier": {hexi, nankai},
        "district_verifier": {nankai},
        "subject": {hexi},
        "other_subject": {nankai},
        "reviewer": {hexi, nankai},
        "other_reviewer": set(),
        "superior": {hexi},
        "auditor": {hexi, nankai},
    }[caller]
    assert seen == expected


def test_a_recorder_cannot_register_a_case_another_unit_found(api: Api) -> None:
    answer = api.register("recorder", finding_unit="court-1")
    assert answer.status_code == 403
    assert "court-1" in answer.json()["detail"]


def test_a_district_verifier_sees_only_mail_to_its_units(api: Api) -> None:
    api.h.recorded()
    city = {m["recipient_unit"] for m in api.get("/outbox", "verifier").json()["items"]}
    district = api.get("/outbox", "district_verifier").json()["items"]
    assert "hexi-zjw" in city
    assert district == []


def test_a_new_route_group_is_one_dependency_and_the_service_role_opens_only_credit(api: Api) -> None:
    """How the credit-check routes join: a router behind ``requires("credit:read")``."""
    from fastapi import APIRouter

    from workflow.api.access import requires

    credit = APIRouter(dependencies=[requires("credit:read")])

    @credit.get("/subjects/{code}/probe")
    def probe(code: str) -> dict[str, str]:
        return {"code": code}

    api.app.include_router(credit)
    opened = {caller for caller in CALLERS if api.get("/subjects/X/probe", caller).status_code == 200}
    assert opened == {"service", "verifier", "district_verifier", "auditor"}
    assert api.get("/records", "service").status_code == 403
    assert api.client.get("/subjects/X/probe").status_code == 401


def test_an_unknown_route_and_a_wrong_method_are_problems_too(api: Api) -> None:
    missing = api.get("/nowhere", "auditor")
    assert (missing.status_code, missing.headers["content-type"]) == (404, "application/problem+json")
    wrong = api.client.delete("/records", headers=api.auth("auditor"))
    assert (wrong.status_code, wrong.headers["content-type"]) == (405, "application/problem+json")
