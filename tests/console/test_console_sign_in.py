"""Signing in to the console: the session cookie's flags, CSRF on every form, sign-out ends the
session on the server, lock-out after repeated failures, and no open redirect after sign-in."""

from __future__ import annotations

from support.console import PASSWORD, Console

from workflow.engine.accounts import MAX_FAILURES


def test_a_page_without_a_session_sends_to_the_sign_in_form(console: Console) -> None:
    answer = console.client().get("/console/", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/sign-in?next=")


def test_the_session_cookie_is_httponly_secure_and_samesite_strict(console: Console) -> None:
    answer = console.client().post(
        "/console/sign-in", data={"name": "recorder", "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie
    assert PASSWORD not in answer.headers["set-cookie"]


def test_a_wrong_password_is_refused_without_saying_whether_the_name_exists(console: Console) -> None:
    client = console.client()
    wrong = client.post("/console/sign-in", data={"name": "recorder", "password": "nope nope nope"})
    unknown = client.post("/console/sign-in", data={"name": "ghost", "password": "nope nope nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.text and "用户名或密码错误" in unknown.text
    assert 'value="recorder"' in wrong.text  # the name typed is kept
    assert "set-cookie" not in wrong.headers


def test_repeated_failures_lock_the_account(console: Console) -> None:
    client = console.client()
    for _ in range(MAX_FAILURES):
        client.post("/console/sign-in", data={"name": "verifier", "password": "wrong password"})
    locked = client.post("/console/sign-in", data={"name": "verifier", "password": PASSWORD})
    assert locked.status_code == 401 and "锁定" in locked.text


def test_a_form_without_the_session_csrf_token_is_refused_and_changes_nothing(console: Console) -> None:
    rid = console.h.recorded()
    before = console.h.engine.get(rid).version
    client = console.signed_in("subject")
    for token in ("", "forged"):
        answer = client.post(
            f"/console/cases/{rid}/events/submit_explanation",
            data={"csrf": token, "explanation": "说明"},
            follow_redirects=False,
        )
        assert answer.status_code == 403 and "未做任何更改" in answer.text
    assert console.h.engine.get(rid).version == before
    assert client.post("/console/sign-out", data={"csrf": "forged"}).status_code == 403


def test_sign_out_ends_the_session_on_the_server(console: Console) -> None:
    client = console.signed_in("auditor")
    stolen = dict(client.cookies)
    client.post("/console/sign-out", data={"csrf": console.csrf("auditor")}, follow_redirects=False)
    replay = console.client()
    replay.cookies.update(stolen)
    assert replay.get("/console/", follow_redirects=False).status_code == 303


def test_sign_in_returns_only_to_a_console_page(console: Console) -> None:
    for target, expected in (
        ("/console/audit", "/console/audit"),
        ("https://evil.example/", "/console/"),
        ("//evil.example/console/", "/console/"),
    ):
        answer = console.client().post(
            "/console/sign-in",
            data={"name": "auditor", "password": PASSWORD, "next": target},
            follow_redirects=False,
        )
        assert answer.headers["location"] == expected


def test_a_person_with_two_roles_switches_between_them(console: Console) -> None:
    console.h.engine.accounts.create(
        name="both", password=PASSWORD, person="li.lei", roles=["recorder", "reviewer"], unit="court-3"
    )
    client = console.signed_in("both")
    assert "记录产生部门 recorder" in client.get("/console/").text
    csrf = console.csrf("both")
    client.post("/console/role", data={"csrf": csrf, "role": "reviewer"}, follow_redirects=False)
    assert 'value="reviewer" selected' in client.get("/console/").text
    client.post("/console/role", data={"csrf": csrf, "role": "auditor"}, follow_redirects=False)  # not held
    assert 'value="reviewer" selected' in client.get("/console/").text
