"""The public API under random arguments (hypothesis, a bounded budget), on SQLite and PostgreSQL.

Whatever a caller passes — wrong types, text a database cannot hold, numbers past 64 bits, huge
or odd payloads — each call ends in success or a ``WorkflowError`` (never another exception), a
refused call leaves every table and every case's version and head hash as they were, and after
any sequence of accepted commands ``audit.verify`` finds every case intact (issue 10). Arguments
are mostly valid, so that calls get past the argument checks to the case's own rules; the
``event`` calls say, under ``--hypothesis-show-statistics``, what was explored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st
from support.fuzz import EVENTS, FUZZ, edits, junk, maybe, mostly, odd_text, payload
from support.harness import Harness
from support.state import assert_verifies, database_state

from workflow import Actor, WorkflowError
from workflow.testing import ORGANISATION, RECORDER, REVIEWER, SUBJECT, VERIFIER

actors = mostly(
    st.one_of(
        st.sampled_from([RECORDER, VERIFIER, SUBJECT, REVIEWER]),
        st.builds(
            Actor,
            id=st.sampled_from(["li.lei", "Li.Lei ", "Ｗａｎｇ.fang", "wang.fang", "chen.jie"]),
            role=st.sampled_from(["recorder", "verifier", " verifier ", "reviewer", "system"]),
            unit=st.sampled_from(["court-3", "credit-office", " court-3", "hexi-zjw"]),
        ),
    ),
    st.one_of(st.builds(Actor, id=maybe(odd_text), role=maybe(odd_text), unit=maybe(odd_text)), junk),
)
keys = mostly(st.one_of(st.none(), st.none(), st.sampled_from(["k1", "k2", "k3"])), maybe(odd_text))
comments = mostly(st.sampled_from(["", "核查属实，予以记录", "退回补正"]), maybe(odd_text))


def _run(h: Harness, call: Callable[[], Any], *, logs: bool = False) -> Any:
    """``call``'s result when it succeeds; when it raises a WorkflowError, None, after checking
    that the database is as it was. Any other exception fails the test."""
    before = database_state(h.engine)
    try:
        result = call()
    except WorkflowError as exc:
        event(f"refused: {type(exc).__name__}")
        assert database_state(h.engine) == before
        return None
    event("accepted")
    if logs:  # a credit check that answered logged who asked, and wrote nothing else
        after = database_state(h.engine)
        assert after.cases == before.cases
        assert {t: n for t, n in after.rows.items() if t != "subject_query_log"} == {
            t: n for t, n in before.rows.items() if t != "subject_query_log"
        }
    return result


# What a caseworker does in each main state, with the person and the comment it takes: each
# example starts from one of these and now and then replaces an argument with something else.
REGISTER = ("register", RECORDER, "")
MOVES: dict[str, tuple[tuple[str, Actor, str], ...]] = {
    "draft": (("edit", RECORDER, ""), ("submit", RECORDER, ""), ("discard", RECORDER, "草稿作废")),
    "submitted": (
        ("accept", VERIFIER, ""),
        ("accept", Actor(id="Li.Lei", role="verifier", unit="credit-office"), ""),  # four-eyes
    ),
    "verifying": (
        ("confirm", VERIFIER, "核查属实，予以记录"),
        ("return", VERIFIER, "退回补正"),
        ("reject", VERIFIER, "不予记录"),
    ),
    "recorded": (("publish", VERIFIER, ""), ("edit", RECORDER, "")),
}


def test_commands_with_random_arguments_succeed_or_refuse_cleanly_and_verify_holds(h: Harness) -> None:
    ids = [h.draft().id, h.submitted(), h.recorded()]

    @FUZZ
    @given(
        pick=st.integers(0, 99),
        edit=mostly(edits, payload),
        plain=mostly(st.just({}), payload),
        record_id=mostly(st.integers(0, 99), maybe(odd_text)),
        event_name=mostly(st.none(), maybe(st.one_of(st.sampled_from(EVENTS), odd_text))),
        actor=mostly(st.none(), actors),
        comment=mostly(st.none(), comments),
        key=keys,
        version=mostly(st.none(), st.one_of(st.integers(-2, 40), junk)),
    )
    def run(
        pick: int,
        edit: Any,
        plain: Any,
        record_id: Any,
        event_name: Any,
        actor: Any,
        comment: Any,
        key: Any,
        version: Any,
    ) -> None:
        if isinstance(record_id, int):  # one of the cases so far, newest first
            record_id = ids[-1 - record_id % len(ids)]
            state = h.engine.get(record_id).state
        else:
            state = ""
        # what to do is drawn whatever the state (hypothesis replays draws, not the database)
        moves = (*MOVES.get(state, ()), REGISTER)
        name, who, why = moves[pick % len(moves)]
        body = edit if name in {"edit", "register"} else plain
        event_name = name if event_name is None else event_name
        actor = who if actor is None else actor
        comment = why if comment is None else comment
        if event_name == "register":  # not submit=True: a refused submit leaving its draft is defect 7
            fields = {**ORGANISATION, **body} if isinstance(body, dict) else body
            view = _run(
                h,
                lambda: h.engine.register(
                    "national", fields, actor=actor, comment=comment, idempotency_key=key, version=version
                ),
            )
            if view is not None and view.id not in ids:
                ids.append(view.id)
            return
        _run(
            h,
            lambda: h.engine.fire(
                record_id,
                event_name,
                actor=actor,
                payload=body,
                comment=comment,
                idempotency_key=key,
                expected_version=version,
            ),
        )

    run()
    assert_verifies(h.engine)


def test_reads_with_random_arguments_answer_or_refuse_and_write_nothing(h: Harness) -> None:
    ids = [h.recorded()]
    record_ids = mostly(st.sampled_from(ids), maybe(odd_text))
    texts = mostly(
        st.one_of(st.none(), st.sampled_from(["recorded", "publication:published", "hexi-zjw"])), odd_text
    )
    numbers = mostly(st.integers(1, 200), st.one_of(st.integers(), junk))

    @FUZZ
    @given(
        which=st.sampled_from(["get", "history", "state_at", "events_for", "query", "credit_check", "units"]),
        record_id=record_ids,
        actor=actors,
        text=texts,
        other=texts,
        number=numbers,
        when=mostly(st.just(h.clock.now()), st.one_of(st.datetimes(), junk)),
        flag=mostly(st.booleans()),
        units=mostly(
            st.lists(
                st.fixed_dictionaries(
                    {"code": st.sampled_from(["court-3", "hexi-zjw"])},
                    optional={"name": odd_text, "emails": junk},
                ),
                max_size=2,
            )
        ),
    )
    def run(
        which: str,
        record_id: Any,
        actor: Any,
        text: Any,
        other: Any,
        number: Any,
        when: Any,
        flag: Any,
        units: Any,
    ) -> None:
        engine = h.engine
        calls: dict[str, Callable[[], Any]] = {
            "get": lambda: engine.get(record_id),
            "history": lambda: engine.history(record_id),
            "state_at": lambda: engine.state_at(record_id, when),
            "events_for": lambda: engine.events_for(record_id, actor),
            "query": lambda: engine.query(state=text, unit=other, overdue=flag, limit=number),
            "credit_check": lambda: engine.credit_check(
                requester=text or "appraisal", purpose=other or "评优", subject_code=record_id
            ),
            "units": lambda: engine.units.save(units),
        }
        _run(h, calls[which], logs=which == "credit_check")

    run()
    assert_verifies(h.engine)
