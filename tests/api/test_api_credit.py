"""The credit check over HTTP: an organisation by code in the URL, a person by ID number only in a
body, a batch of up to 1,000; the service role may call it and nothing else; every check is in
the query log before the answer leaves."""

from __future__ import annotations

import sqlalchemy as sa
from support.api import Api

from workflow.testing import ORGANISATION, PERSON, PERSON_ID

CODE = ORGANISATION["subject_code"]
OTHER_CODE = "91350100M000100Y43"  # a valid code no record is about


def _sanctioned(api: Api) -> str:
    rid = api.h.recorded()  # 一般, found 2026-05-08: the maximum publication period is one year
    api.h.fire(
        rid,
        "apply_sanctions",
        api.h.verifier,
        comment="实施惩戒",
        measures=["honour_ban"],
        decided_on="2026-05-11",
    )
    return rid


def _logged(api: Api) -> list[tuple[str, str, str]]:
    with api.h.engine.store.db.reading() as c:
        rows = c.execute(sa.text("SELECT requester, subject, kind FROM subject_query_log ORDER BY id"))
        return [tuple(r) for r in rows]


def test_an_honour_ban_is_answered_barred_until_its_end_date(api: Api) -> None:
    rid = _sanctioned(api)
    got = api.get(f"/subjects/{CODE}/status", "service", purpose="honours", reason="表彰评选前核查")
    assert got.status_code == 200, got.text
    body = got.json()
    (honours,) = body["purposes"]
    assert (honours["purpose"], honours["allowed"], honours["barred_until"]) == (
        "honours",
        False,
        "2027-05-08",
    )
    assert [r["record_id"] for r in body["active_records"]] == [rid]
    later = api.get(f"/subjects/{CODE}/status", "service", purpose="honours", as_of="2027-05-09").json()
    assert later["purposes"][0]["allowed"] is True
    assert _logged(api) == [("hr-appraisal (service, city)", CODE, "check")] * 2


def test_a_person_is_asked_for_in_the_body_and_logged_masked(api: Api) -> None:
    fields = {k: v for k, v in {**ORGANISATION, **PERSON}.items() if v is not None}
    api.h.engine.register("national", fields, actor=api.h.recorder)
    got = api.post("/subjects/status", "service", {"subject": PERSON_ID, "purposes": ["annual_appraisal"]})
    assert got.status_code == 200, got.text
    assert got.json()["person"] is True
    assert PERSON_ID not in got.text
    ((_who, subject, _kind),) = _logged(api)
    assert PERSON_ID not in subject and "*" in subject


def test_a_batch_answers_every_subject_in_order(api: Api) -> None:
    _sanctioned(api)
    got = api.post(
        "/subjects/status/batch", "service", {"subjects": [CODE, OTHER_CODE], "purposes": ["honours"]}
    )
    assert got.status_code == 200, got.text
    answers = [(s["subject"], s["purposes"][0]["allowed"]) for s in got.json()["subjects"]]
    assert answers == [(CODE, False), (OTHER_CODE, True)]
    too_many = api.post("/subjects/status/batch", "service", {"subjects": [OTHER_CODE] * 1001})
    assert (too_many.status_code, too_many.headers["content-type"]) == (422, "application/problem+json")


def test_only_the_credit_roles_may_check_and_a_bad_input_is_a_problem(api: Api) -> None:
    assert api.get(f"/subjects/{CODE}/status", "recorder").status_code == 403
    assert api.client.get(f"/subjects/{CODE}/status").status_code == 401
    assert api.get(f"/subjects/{CODE}/status", "auditor").status_code == 200
    unknown = api.get(f"/subjects/{CODE}/status", "service", purpose="lottery")
    assert (unknown.status_code, unknown.headers["content-type"]) == (422, "application/problem+json")
    assert "honours" in unknown.json()["detail"]
    assert api.get("/subjects/not-a-code/status", "service").status_code == 422
    assert _logged(api) == [("sun.shen (auditor, city)", CODE, "check")]
