"""``chengxin`` under random arguments (hypothesis, a bounded budget), on SQLite and PostgreSQL.

Random ``--set`` values (bytes that are not UTF-8 included), options, ids and numbers: no user
input ends in an internal error (exit 70, or an exception escaping the command); a refusal
other than a usage error is one line on stderr; a refused command writes nothing; and after
whatever was accepted, ``audit verify`` exits 0 (issue 10).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.cli import RECORDER, SUBJECT, VERIFIER, Cli, fields, one_line_error, submit
from support.fuzz import EVENTS, FUZZ, mostly
from support.state import database_state

from workflow.cli.errors import INTERNAL, USAGE
from workflow.testing import ORGANISATION

# argv holds no NUL; a byte that is not UTF-8 arrives as a lone surrogate
arg_text = st.one_of(
    st.text(st.characters(exclude_characters="\x00"), max_size=20),
    st.text(st.characters(exclude_characters="\x00"), max_size=8).map(lambda s: f"{s}\udcff"),
    st.sampled_from(
        ["", " ", "-", "--", "Ｌｉ．Ｌｅｉ", "2026-13-45", "9999-12-31", "0001-01-01T01:00", "长" * 300]
    ),
)
number_text = st.one_of(st.integers().map(str), st.sampled_from(["0", "-1", "1e3", "2" * 30, " 5"]), arg_text)
set_value = st.one_of(
    st.builds(
        lambda k, v: f"{k}={v}", st.sampled_from([*ORGANISATION, "documents", "explanation"]), arg_text
    ),
    arg_text,
)
actor_options = st.one_of(
    st.sampled_from([RECORDER, VERIFIER, SUBJECT]),
    st.tuples(arg_text, arg_text, arg_text).map(lambda t: ("--actor", t[0], "--role", t[1], "--unit", t[2])),
)


def _options(draw: st.DrawFn, *choices: tuple[str, st.SearchStrategy[str]]) -> list[str]:
    chosen = draw(st.lists(st.sampled_from(choices), max_size=3))
    return [part for option, values in chosen for part in (option, draw(values))]


def _record_commands(draw: st.DrawFn, record: str) -> list[str]:
    kind = draw(st.sampled_from(["submit", "fire", "show", "list", "history", "events"]))
    sets = [part for value in draw(st.lists(set_value, max_size=3)) for part in ("--set", value)]
    if kind == "submit":
        options = _options(
            draw, ("-m", arg_text), ("--idempotency-key", arg_text), ("--version", number_text)
        )
        actor = draw(mostly(st.just(RECORDER), actor_options))
        return [
            "record",
            "submit",
            *actor,
            *fields(),
            *sets,
            *options,
            *draw(st.sampled_from([["--draft"], []])),
        ]
    if kind == "fire":
        event = draw(mostly(st.sampled_from(EVENTS), arg_text))
        options = _options(
            draw, ("-m", arg_text), ("--idempotency-key", arg_text), ("--expect-version", number_text)
        )
        return ["record", "fire", record, event, *draw(actor_options), *sets, *options]
    if kind == "show":
        return ["record", "show", record, *_options(draw, ("--at", arg_text))]
    if kind == "list":
        filters = (("--state", arg_text), ("--unit", arg_text), ("--subject", arg_text))
        return [
            "record",
            "list",
            *_options(draw, *filters, ("--limit", number_text), ("--offset", number_text)),
        ]
    return ["record", kind, record, *(draw(actor_options) if kind == "events" else ())]


def _other_commands(draw: st.DrawFn) -> list[str]:
    kind = draw(st.sampled_from(["calendar", "clock", "tick", "outbox", "unit", "definitions"]))
    if kind == "calendar":
        return ["calendar", "show", "--", draw(number_text)]
    if kind == "clock":
        options = _options(draw, ("--days", number_text), ("--hours", number_text), ("--to", arg_text))
        return ["clock", "advance", *options]
    if kind == "tick":
        return ["tick", "--no-mail", *_options(draw, ("--now", arg_text))]
    if kind == "outbox":
        which = draw(st.sampled_from(["show", "retry", "list"]))
        if which == "list":
            filters = (("--record", arg_text), ("--status", arg_text), ("--limit", number_text))
            return ["outbox", "list", *_options(draw, *filters)]
        return ["outbox", which, *draw(st.lists(number_text, min_size=which == "show", max_size=2))]
    if kind == "unit":
        code = draw(mostly(st.sampled_from(["court-3", "hexi-zjw"]), arg_text))
        options = _options(draw, ("--email", arg_text), ("--superior", arg_text), ("--contact", arg_text))
        return ["unit", "add", code, "--name", draw(arg_text), *options]
    name = draw(mostly(st.just("national"), arg_text))
    return ["definitions", "show", name, *_options(draw, ("--version", number_text))]


@st.composite
def command_lines(draw: st.DrawFn, record_id: str) -> list[str]:
    """A command line: a record command two times in three (on the case, or on any text), else another."""
    if draw(st.integers(0, 2)):
        return _record_commands(draw, draw(mostly(st.just(record_id), arg_text)))
    return _other_commands(draw)


@pytest.fixture
def cli(database_url: str) -> Cli:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    cli("init", "--simulated-clock", "--start", "2026-05-11T09:00").ok()
    return cli


def test_no_command_line_ends_in_an_internal_error_and_a_refusal_writes_nothing(
    cli: Cli, database_url: str
) -> None:
    record_id = submit(cli)

    @settings(FUZZ, max_examples=30)
    @given(args=command_lines(record_id))
    def run(args: list[str]) -> None:
        before = database_state(database_url)
        outcome = cli(*args)  # an exception escaping the command fails the test here
        assert outcome.code != INTERNAL, (args, outcome.stderr)
        if outcome.code == 0:
            return
        assert database_state(database_url) == before, (args, outcome.stderr)  # refused: nothing written
        if outcome.code != USAGE:  # Click's own usage errors come with their usage lines
            one_line_error(outcome)

    run()
    verified = cli("audit", "verify")
    assert verified.code == 0, verified.stdout + verified.stderr
