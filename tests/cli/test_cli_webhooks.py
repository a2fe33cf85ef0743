"""``chengxin webhook`` and the outbox commands over webhook deliveries, on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.cli import Cli, one_line_error, recorded
from support.fuzz import FUZZ
from support.receiver import Receiver

from workflow.cli.errors import INTERNAL, USAGE

START = "2026-05-11T09:00"


@pytest.fixture
def drill(database_url: str, tmp_path: Path) -> Cli:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url, "CHENGXIN_MAIL_DIR": str(tmp_path / "mail")})
    cli("init", "--simulated-clock", "--start", START).ok()
    return cli


@pytest.fixture(scope="module")
def fuzz_drill(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """One SQLite drill database for every example (hypothesis runs many per test)."""
    folder = tmp_path_factory.mktemp("fuzz")
    cli = Cli(
        {"CHENGXIN_DATABASE_URL": f"sqlite:///{folder}/x.db", "CHENGXIN_MAIL_DIR": str(folder / "mail")}
    )
    cli("init", "--simulated-clock", "--start", START).ok()
    return cli


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


def test_a_generated_secret_is_shown_once_and_never_listed(drill: Cli, receiver: Receiver) -> None:
    added = drill("webhook", "add", "appraisal", receiver.url, "--event", "record.*").ok().stdout
    secret = added.split("shown only this once): ")[1].strip()
    assert len(secret) >= 32
    listed = drill("webhook", "list").ok().stdout
    assert "appraisal" in listed and secret not in listed
    assert secret not in drill("webhook", "list", "--json").ok().stdout
    assert drill("webhook", "list", "--json").json()[0]["events"] == ["record.*"]


def test_bad_subscriptions_are_refused_in_one_line(drill: Cli, receiver: Receiver) -> None:
    assert one_line_error(drill("webhook", "add", "x", "ftp://example.org/", "-e", "*"), "URL")
    assert drill("webhook", "add", "x", "ftp://example.org/", "-e", "*").code == 7
    one_line_error(drill("webhook", "add", "x", receiver.url, "-e", "Publish!"), "Publish!")
    one_line_error(drill("webhook", "add", "x", receiver.url, "-e", "*", "--secret", "short"), "secret")
    drill("webhook", "add", "x", receiver.url, "-e", "*").ok()
    one_line_error(drill("webhook", "add", "x", receiver.url, "-e", "*"), "x")
    removed = drill("webhook", "remove", "nobody")
    assert removed.code == 3
    one_line_error(removed, "nobody")
    assert "x" in drill("webhook", "remove", "x").ok().stdout
    assert "no webhook subscriptions" in drill("webhook", "list").ok().stdout


def test_the_operator_sees_a_dead_delivery_and_retries_it(drill: Cli, receiver: Receiver) -> None:
    drill.env["CHENGXIN_WEBHOOK_MAX_ATTEMPTS"] = "1"
    drill("webhook", "add", "appraisal", receiver.url, "-e", "*", "--secret", "0123456789abcdef").ok()
    receiver.status = 500
    record_id = recorded(drill)
    sent = drill("outbox", "send")
    assert sent.code == 1 and "webhook: sent 0, failed 0, dead 1" in sent.stdout
    dead = drill("outbox", "list", "--channel", "webhook", "--status", "dead", "--json").json()
    assert len(dead) == 1 and dead[0]["record_id"] == record_id and "HTTP 500" in dead[0]["last_error"]
    assert "webhook" in drill("outbox", "list", "--status", "dead").ok().stdout
    shown = drill("outbox", "show", str(dead[0]["id"])).ok().stdout
    assert dead[0]["message_id"] in shown and record_id in shown
    receiver.status = 204
    assert "1" in drill("outbox", "retry", str(dead[0]["id"])).ok().stdout
    after = drill("outbox", "send").ok().stdout
    assert "webhook: sent 4" in after  # the dead one, then the case's later events in order
    assert [d.headers["chengxin-delivery"].split(".")[1] for d in receiver.received[1:]] == [
        "1",
        "2",
        "3",
        "4",
    ]
    assert drill("outbox", "list", "--channel", "webhook", "--status", "sent", "--json").json()


_text = st.one_of(
    st.text(st.characters(exclude_characters="\x00"), max_size=30),
    st.text(st.characters(exclude_characters="\x00"), max_size=8).map(lambda s: f"{s}\udcff"),
    st.sampled_from(
        ["", " ", "*", "record.*", "http://[::1/", "https://h.example:99999/", "9" * 40, "长" * 300]
    ),
)


@given(
    args=st.one_of(
        st.tuples(_text, _text, _text, _text).map(
            lambda t: ["webhook", "add", t[0], t[1], "-e", t[2], "--secret", t[3]]
        ),
        _text.map(lambda t: ["webhook", "remove", t]),
        _text.map(lambda t: ["outbox", "list", "--channel", t]),
        _text.map(lambda t: ["audit", "verify", "--export", t]),
    )
)
@settings(FUZZ, max_examples=40)
def test_random_webhook_and_export_arguments_never_end_in_an_internal_error(
    fuzz_drill: Cli, args: list[str]
) -> None:
    outcome = fuzz_drill(*args)
    assert outcome.code not in (INTERNAL,)
    if outcome.code not in (0, USAGE):
        one_line_error(outcome)


def test_tick_delivers_the_webhooks_with_the_mail(drill: Cli, receiver: Receiver) -> None:
    drill(
        "webhook", "add", "appraisal", receiver.url, "-e", "record.confirm", "--secret", "0123456789abcdef"
    ).ok()
    record_id = recorded(drill)
    ticked = drill("tick").ok().stdout
    assert "webhook sent 1，failed 0，dead 0" in ticked
    assert [json.loads(d.body)["record_id"] for d in receiver.received] == [record_id]
    assert "webhook sent 0" in drill("tick").ok().stdout
