"""The credit check over HTTP: an organisation by code in the URL, a person by ID number only in a
body, a batch of up to 1,000; the service role may call it and nothing else; every check is in
the query log before the answer leaves."""

from __future__ import annotations

import threading
import time
from typing import Any

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


# ------------------------------------------------------------------ group commit of the query log


def _gated(api: Api, *, expect: int, fail_batch: int | None = None) -> list[list[str]]:
    """Hold the first query-log commit until ``expect`` more checks queue behind it (so the next
    commit holds all of them); fail batch ``fail_batch`` as a lost database would. Returns the
    reasons of each committed batch."""
    from storage.errors import DatabaseUnavailable

    commits = api.h.engine.store.directory.query_log_commits
    real = commits._write
    batches: list[list[str]] = []

    def write(rows: list[dict[str, Any]]) -> None:
        call = len(batches)
        batches.append([])
        if call == 0:
            deadline = time.monotonic() + 20
            while len(commits._queue) < expect and time.monotonic() < deadline:
                time.sleep(0.002)
        if call == fail_batch:
            raise DatabaseUnavailable("sqlite:///gone.db", "disk I/O error")
        real(rows)
        batches[call] = [r["reason"] for r in rows]

    commits._write = write  # type: ignore[method-assign]
    return batches


def _reasons(api: Api) -> set[str]:
    with api.h.engine.store.db.reading() as c:
        return set(c.execute(sa.text("SELECT reason FROM subject_query_log")).scalars())


def _eight_checks(api: Api) -> list[tuple[int, str, bool]]:
    """Eight concurrent checks; each: (status, reason, its log row committed when it answered)."""
    out: list[tuple[int, str, bool]] = [(0, "", False)] * 8

    def check(n: int) -> None:
        reason = f"并发核查 {n}"
        got = api.get(f"/subjects/{CODE}/status", "service", purpose="honours", reason=reason)
        out[n] = (got.status_code, reason, reason in _reasons(api))

    threads = [threading.Thread(target=check, args=(n,)) for n in range(8)]
    threads[0].start()
    time.sleep(0.05)
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return out


def test_concurrent_checks_share_a_query_log_commit_and_none_is_lost(api: Api) -> None:
    _sanctioned(api)
    batches = _gated(api, expect=7)
    answered = _eight_checks(api)
    assert [(status, logged) for status, _reason, logged in answered] == [(200, True)] * 8
    assert _reasons(api) == {reason for _s, reason, _l in answered}
    assert sorted(len(b) for b in batches) == [1, 7]  # 8 rows in 2 commits


def test_a_failed_query_log_commit_fails_every_check_it_held_with_503(api: Api) -> None:
    _sanctioned(api)
    _gated(api, expect=7, fail_batch=1)
    answered = _eight_checks(api)
    statuses = sorted(status for status, _r, _l in answered)
    assert statuses == [200] + [503] * 7
    # only the answered check is in the log; no 200 went out without its row
    assert _reasons(api) == {reason for status, reason, _l in answered if status == 200}
    assert all(logged for status, _r, logged in answered if status == 200)


# ------------------------------------------------ the GET route's plain-input path (_CheckRoute)

QUERIES: list[str] = [
    "",
    "purpose=honours",
    "purpose=honours&purpose=funding&reason=%E5%B9%B4%E5%BA%A6%E8%80%83%E6%A0%B8",
    "as_of=2027-05-09&purpose=honours",
    "as_of=2027-05-08",
    "purpose=lottery",  # unknown purpose: the engine's 422, on either path
    "purpose=",  # empty item
    "purpose=" + "x" * 65,
    "&".join(["purpose=honours"] * 17),  # more than 16
    "as_of=2027-02-30",
    "as_of=20270509",
    "as_of=2027-05-09T00:00:00",
    "as_of=2027-05-09&as_of=2027-05-10",
    "reason=",
    "reason=" + "r" * 201,
    "reason=a&reason=b",
    "unknown=1&purpose=honours",
]
PATHS = [f"/subjects/{CODE}/status", f"/subjects/{OTHER_CODE}/status", "/subjects/not-a-code/status"]


def test_the_plain_input_path_answers_exactly_as_fastapi_validation_does(api: Api, monkeypatch: Any) -> None:
    """Every query answered through ``_plain_query`` and through FastAPI's handler alone (the
    fast path switched off) gets the same status, media type and body; plain input does take
    the fast path, anything else falls back; no token is a 401 before any validation."""
    from workflow.api import credit

    _sanctioned(api)
    headers = api.auth("service")
    taken: list[bool] = []
    real = credit._plain_query

    def spy(request: Any) -> Any:
        found = real(request)
        taken.append(found is not None)
        return found

    def answers(fast: bool) -> list[tuple[int, str, Any]]:
        monkeypatch.setattr(credit, "_plain_query", spy if fast else lambda _request: None)
        out = []
        for path in PATHS:
            for query in QUERIES:
                got = api.client.get(f"{path}?{query}", headers=headers)
                body = got.json()
                if isinstance(body, dict):
                    body.pop("instance", None)
                out.append((got.status_code, got.headers["content-type"], body))
        return out

    fast, slow = answers(True), answers(False)
    assert fast == slow
    assert [status for status, _t, _b in fast].count(200) >= 2 * 4  # the plain ones answered
    assert {status for status, _t, _b in fast} >= {200, 422}
    assert taken.count(True) >= 2 * 6 and taken.count(False) >= 2 * 9  # both paths were used
    no_token = api.client.get(f"/subjects/{CODE}/status?as_of=nonsense")
    assert (no_token.status_code, no_token.headers["content-type"]) == (401, "application/problem+json")
