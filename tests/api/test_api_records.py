"""The HTTP API over cases, through a real ASGI client on SQLite and PostgreSQL: what a caller
sends and what it gets back (status, problem+json body, ETag), never internals."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from support.api import Api
from support.harness import ORGANISATION

PROBLEM = "application/problem+json"


def recorded(api: Api) -> str:
    """A record taken through register → submit → accept → confirm over HTTP."""
    made = api.register()
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    assert api.fire(rid, "submit", "recorder").status_code == 200
    api.h.later(hours=1)
    assert api.fire(rid, "accept", "verifier").status_code == 200
    done = api.fire(rid, "confirm", "verifier", comment="核查属实，予以记录")
    assert done.status_code == 200, done.text
    return str(rid)


def test_a_record_goes_from_registration_to_recorded_over_http(api: Api) -> None:
    made = api.register()
    assert made.status_code == 201
    assert made.headers["ETag"] == '"1"'
    assert made.headers["Location"] == f"/records/{made.json()['id']}"
    rid = recorded(api)
    view = api.get(f"/records/{rid}", "recorder")
    assert view.status_code == 200
    assert view.json()["state"] == "recorded"
    assert view.headers["ETag"] == f'"{view.json()["version"]}"'
    assert {d["name"] for d in view.json()["deadlines"]} >= {"written_explanation"}
    assert [e["event"] for e in api.get(f"/records/{rid}/history", "auditor").json()] == [
        "register",
        "submit",
        "accept",
        "confirm",
    ]


def test_register_and_submit_in_one_request(api: Api) -> None:
    body = {"definition": "national", "fields": ORGANISATION, "submit": True}
    made = api.post("/records", "recorder", body)
    assert made.status_code == 201
    assert made.json()["state"] == "submitted"


def test_fire_with_a_stale_if_match_is_a_409_and_changes_nothing(api: Api) -> None:
    rid = api.register().json()["id"]
    stale = api.post(f"/records/{rid}/events/submit", "recorder", {}, **{"If-Match": '"7"'})
    assert stale.status_code == 409
    assert stale.headers["content-type"] == PROBLEM
    assert stale.json()["status"] == 409
    assert api.get(f"/records/{rid}", "recorder").json()["state"] == "draft"
    fresh = api.post(f"/records/{rid}/events/submit", "recorder", {}, **{"If-Match": '"1"'})
    assert fresh.status_code == 200
    assert fresh.headers["ETag"] == '"2"'


def test_a_malformed_if_match_is_a_422_naming_the_header(api: Api) -> None:
    rid = api.register().json()["id"]
    bad = api.post(f"/records/{rid}/events/submit", "recorder", {}, **{"If-Match": "yesterday"})
    assert bad.status_code == 422
    assert bad.json()["argument"] == "If-Match"


def test_the_same_idempotency_key_twice_applies_once_and_another_body_under_it_is_a_409(api: Api) -> None:
    rid = api.register().json()["id"]
    first = api.post(f"/records/{rid}/events/submit", "recorder", {}, **{"Idempotency-Key": "k-1"})
    again = api.post(f"/records/{rid}/events/submit", "recorder", {}, **{"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["version"] == first.json()["version"] == 2
    other = api.post(
        f"/records/{rid}/events/discard", "recorder", {"comment": "撤回"}, **{"Idempotency-Key": "k-1"}
    )
    assert other.status_code == 409
    assert other.json()["type"].endswith("idempotency-key-reused")


def test_a_payload_outside_the_definitions_enum_is_a_422_naming_the_field(api: Api) -> None:
    bad = api.register(severity="catastrophic")
    assert bad.status_code == 422
    assert bad.headers["content-type"] == PROBLEM
    assert bad.json()["field"] == "severity"
    too_long = api.register(document_number="号" * 101)
    assert too_long.status_code == 422
    assert too_long.json()["field"] == "document_number"
    unknown = api.register(favourite_colour="blue")
    assert unknown.status_code == 422
    assert unknown.json()["field"] == "favourite_colour"


def test_an_event_not_allowed_now_is_a_422_naming_the_allowed_events(api: Api) -> None:
    rid = api.register().json()["id"]
    refused = api.fire(rid, "accept", "verifier")
    assert refused.status_code == 422
    body = refused.json()
    assert body["type"].endswith("transition-not-allowed")
    assert "submit" in body["allowed_events"]


def test_an_unknown_record_is_a_404_problem(api: Api) -> None:
    missing = api.get("/records/SX20260101-AAAAAA", "auditor")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert "SX20260101-AAAAAA" in missing.json()["detail"]


def test_a_body_that_is_not_json_is_a_422_not_a_500(api: Api) -> None:
    answer = api.client.post(
        "/records", headers={**api.auth("recorder"), "Content-Type": "application/json"}, content=b"{nope"
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM


def test_query_filters_sorts_pages_and_counts_the_total(api: Api) -> None:
    ids = []
    for n in range(3):
        ids.append(api.register(subject_name=f"单位{n}").json()["id"])
        api.h.later(minutes=1)
    api.fire(ids[1], "submit", "recorder")
    page = api.get("/records", "auditor", limit=2, offset=0, sort="-created_at").json()
    assert page["total"] == 3
    assert [r["id"] for r in page["items"]] == [ids[2], ids[1]]
    rest = api.get("/records", "auditor", limit=2, offset=2, sort="-created_at").json()
    assert [r["id"] for r in rest["items"]] == [ids[0]]
    drafts = api.get("/records", "auditor", state="draft").json()
    assert drafts["total"] == 2
    bad_sort = api.get("/records", "auditor", sort="password")
    assert bad_sort.status_code == 422


def test_the_state_as_of_a_time_is_rebuilt_from_history(api: Api) -> None:
    rid = api.register().json()["id"]
    before = api.h.clock.now()
    api.h.later(hours=2)
    api.fire(rid, "submit", "recorder")
    then = api.get(f"/records/{rid}/as-of", "recorder", at=before.isoformat()).json()
    assert then["state"] == "draft"
    naive = api.get(f"/records/{rid}/as-of", "recorder", at="2026-05-11T12:00:00")
    assert naive.status_code == 422


def test_events_lists_what_the_caller_may_fire_now(api: Api) -> None:
    rid = recorded(api)
    own = {e["event"]: e for e in api.get(f"/records/{rid}/events", "subject").json()}
    assert own["submit_explanation"]["available"] is True
    foreign = {e["event"]: e for e in api.get(f"/records/{rid}/events", "superior").json()}
    assert all(not e["available"] for e in foreign.values())


def test_deadlines_of_a_case_and_open_deadlines_of_the_callers_cases(api: Api) -> None:
    rid = recorded(api)
    own = api.get(f"/records/{rid}/deadlines", "subject").json()
    assert any(d["name"] == "written_explanation" and d["closed_at"] is None for d in own)
    listed = api.get("/deadlines", "subject").json()
    assert {d["record_id"] for d in listed} == {rid}
    assert api.get("/deadlines", "other_subject").json() == []


def test_definitions_units_and_a_diagram(api: Api) -> None:
    listed = api.get("/definitions", "recorder").json()
    assert any(d["name"] == "national" and d["kind"] == "record" for d in listed)
    one = api.get("/definitions/national", "recorder").json()
    assert "events" in one
    assert api.get("/definitions/nowhere", "recorder").status_code == 404
    units = api.get("/units", "recorder").json()
    assert {u["code"] for u in units} >= {"city", "hexi-zjw"}
    assert api.get("/units/hexi-zjw", "recorder").json()["superior"] == "hexi-gov"
    assert api.get("/units/mars", "recorder").status_code == 404


@pytest.mark.slow
def test_the_diagram_is_svg(api: Api) -> None:
    drawn = api.get("/definitions/national/diagram.svg", "recorder")
    assert drawn.status_code == 200
    assert drawn.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in drawn.content


def test_outbox_status_counts_the_queued_mail(api: Api) -> None:
    recorded(api)
    status = api.get("/outbox", "verifier").json()
    assert sum(status["counts"].values()) == len(api.h.engine.outbox.list(limit=500)) > 0
    assert all("context" not in item for item in status["items"])


def test_health_and_readiness_need_no_token(api: Api) -> None:
    assert api.client.get("/health").json() == {"status": "ok"}
    ready = api.client.get("/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["ready"] is True
    assert body["checks"]["database"]["ok"] is True
    assert set(body["checks"]) == {"database", "scheduler", "calendar"}


def test_openapi_and_docs_are_served_without_a_cdn(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    assert "/records/{record_id}/events/{event}" in document["paths"]
    assert "Payload_national_v1_register" in document["components"]["schemas"]
    page = api.client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    assert "/docs-static/swagger-ui-bundle.js" in page.text
    assert api.client.get("/docs-static/swagger-ui-bundle.js").status_code == 200


def test_no_token_a_bad_token_an_expired_and_a_revoked_token_are_401(api: Api) -> None:
    assert api.client.get("/records").status_code == 401
    bad = api.client.get("/records", headers={"Authorization": "Bearer cx_000000000000_" + "A" * 43})
    assert bad.status_code == 401
    assert bad.headers["WWW-Authenticate"].startswith("Bearer")
    _info, secret = api.h.engine.tokens.create(
        person="x", role="auditor", unit="city", valid_for=dt.timedelta(minutes=5)
    )
    header = {"Authorization": f"Bearer {secret}"}
    assert api.client.get("/records", headers=header).status_code == 200
    api.h.later(minutes=6)
    assert "过期" in api.client.get("/records", headers=header).json()["detail"]
    api.h.engine.tokens.revoke(api.tokens["auditor"].split("_", 2)[1])
    revoked = api.get("/records", "auditor")
    assert revoked.status_code == 401
    assert "吊销" in revoked.json()["detail"]


def test_a_token_never_appears_in_a_log_line_or_an_answer(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    secret = api.tokens["recorder"]
    wrong = secret[:-4] + "AAAA"
    with caplog.at_level(logging.DEBUG):
        api.client.get("/records", headers={"Authorization": f"Bearer {wrong}"})
        api.client.get("/records/SX-nope", headers={"Authorization": f"Bearer {secret}"})
        answer = api.client.get("/records", headers={"Authorization": f"Bearer {wrong}"})
    assert wrong not in answer.text and secret not in answer.text
    text = "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert secret.split("_", 2)[2] not in text
    assert wrong.split("_", 2)[2] not in text


def test_tokens_are_stored_as_sha256_digests_only(api: Api) -> None:
    _info, secret = api.h.engine.tokens.create(
        person="p", role="auditor", unit="city", valid_for=dt.timedelta(days=1)
    )
    rows = api.h.engine.store.tokens.list()
    stored = " ".join(str(r) for r in rows)
    assert secret.split("_", 2)[2] not in stored
    import hashlib

    assert hashlib.sha256(secret.split("_", 2)[2].encode()).hexdigest() in stored


def test_cors_is_off_unless_configured(api: Api) -> None:
    asked = api.client.options(
        "/records", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in asked.headers


def test_state_at_before_the_case_existed_is_a_404(api: Api) -> None:
    rid = api.register().json()["id"]
    earlier = (api.h.clock.now() - dt.timedelta(days=1)).isoformat()
    assert api.get(f"/records/{rid}/as-of", "recorder", at=earlier).status_code == 404


def test_a_registration_replayed_under_its_key_is_the_same_case_and_another_body_is_a_409(api: Api) -> None:
    body = {"definition": "national", "fields": ORGANISATION}
    first = api.post("/records", "recorder", body, **{"Idempotency-Key": "portal-1"})
    again = api.post("/records", "recorder", body, **{"Idempotency-Key": "portal-1"})
    assert first.json()["id"] == again.json()["id"]
    assert api.get("/records", "auditor").json()["total"] == 1
    other = {"definition": "national", "fields": {**ORGANISATION, "facts": "另一件事"}}
    assert api.post("/records", "recorder", other, **{"Idempotency-Key": "portal-1"}).status_code == 409


def test_readiness_fails_when_the_scheduler_of_the_process_stopped(api: Api) -> None:
    from support.api import TestClient

    from workflow.api import create_app

    app = create_app(
        api.h.engine, scheduler=lambda: (False, "调度未运行 (the scheduler is not running)"), cors=()
    )
    with TestClient(app) as client:
        answer = client.get("/ready")
    assert answer.status_code == 503
    assert answer.json()["checks"]["scheduler"]["ok"] is False


def query_log(api: Api) -> list[tuple[str, str, str]]:
    import sqlalchemy as sa

    with api.h.engine.store.engine.connect() as c:
        rows = c.execute(sa.text("select requester, purpose, subject from subject_query_log order by id"))
        return [(r[0], r[1], r[2]) for r in rows]


def test_every_read_of_a_persons_case_is_in_the_query_log_by_masked_id(api: Api) -> None:
    from workflow.testing import PERSON, PERSON_ID

    person = api.register(**PERSON)
    assert person.status_code == 201, person.text
    organisation = api.register()
    pid = person.json()["id"]
    api.get(f"/records/{pid}", "auditor", purpose="年度审计")
    api.get(f"/records/{pid}/history", "recorder")
    api.get(f"/records/{organisation.json()['id']}", "recorder")  # an organisation: not logged
    api.get("/records", "auditor")  # the list holds the person once
    logged = query_log(api)
    assert [(who.split("/")[1], why) for who, why, _ in logged] == [
        ("auditor", "年度审计"),
        ("recorder", "API GET /records/{id}/history"),
        ("auditor", "API GET /records"),
    ]
    assert {subject for _, _, subject in logged} == {"110105********002X"}
    assert all(PERSON_ID not in str(row) for row in logged)


def test_the_same_routes_serve_a_supervision_round(api: Api) -> None:
    """A case of another kind (a supervision round the scheduler opened) is queried, read and
    answered through the routes a dishonesty record uses."""
    from support.harness import SH

    from workflow.runtime.rounds import open_due_rounds

    rid = api.h.engine.register("tianjin", ORGANISATION, actor=api.h.recorder, submit=True).id
    api.h.fire(rid, "accept", api.h.verifier)
    api.h.fire(rid, "confirm", api.h.verifier, comment="属实")
    api.h.at(dt.datetime(2026, 6, 2, 10, 0, tzinfo=SH))
    assert open_due_rounds(api.h.engine).opened
    rounds = api.get("/records", "subject", kind="supervision_round").json()
    assert rounds["total"] == 1
    round_id = rounds["items"][0]["id"]
    assert round_id.startswith("DC")
    answered = api.fire(round_id, "answer", "subject", report="已完成自查整改")
    assert answered.status_code == 200, answered.text
    assert answered.json()["state"] == "answered"
    assert api.fire(round_id, "answer", "other_subject", report="x").status_code == 403


def test_cors_answers_only_the_configured_origins(api: Api) -> None:
    from support.api import TestClient

    from workflow.api import create_app

    app = create_app(api.h.engine, cors=("https://portal.example",))
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "Authorization"}
    with TestClient(app) as client:
        allowed = client.options("/records", headers={"Origin": "https://portal.example", **preflight})
        other = client.options("/records", headers={"Origin": "https://evil.example", **preflight})
    assert allowed.headers["access-control-allow-origin"] == "https://portal.example"
    assert "access-control-allow-origin" not in other.headers
