"""What callers hand the public API is checked before anything is hashed or written (issue 10).

A wrong type, a value the database cannot hold, or a value over its limit is refused as a
``WorkflowError`` naming the argument or field (and the limit), the same on SQLite and
PostgreSQL, and leaves every table as it was; actor ids are one person whatever their case and
spacing. Each test walks its cases on one database and checks the database after each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.harness import ORGANISATION, Harness
from support.state import assert_verifies, database_state

from workflow import Actor, ArgumentInvalid, GuardRefused, PayloadInvalid, WorkflowError
from workflow.engine.inputs import actor_id

Call = Callable[[Harness, str], Any]


def _refused(h: Harness, rid: str, call: Call, kind: type[WorkflowError], *needles: str) -> str:
    """``call`` raises ``kind`` naming every needle, and leaves every table and case as it was."""
    before = database_state(h.engine)
    with pytest.raises(kind) as caught:
        call(h, rid)
    message = str(caught.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message
    assert database_state(h.engine) == before
    return message


WRONG_TYPES: dict[str, tuple[Call, str]] = {
    "idempotency key 9595": (
        lambda h, rid: h.engine.register("national", ORGANISATION, actor=h.recorder, idempotency_key=9595),
        "idempotency_key",
    ),
    "comment 5": (lambda h, rid: h.engine.fire(rid, "submit", actor=h.recorder, comment=5), "comment"),
    "comment True": (lambda h, rid: h.engine.fire(rid, "submit", actor=h.recorder, comment=True), "comment"),
    "comment {}": (lambda h, rid: h.engine.fire(rid, "submit", actor=h.recorder, comment={}), "comment"),
    "comment []": (lambda h, rid: h.engine.fire(rid, "submit", actor=h.recorder, comment=["x"]), "comment"),
    "comment set": (lambda h, rid: h.engine.fire(rid, "submit", actor=h.recorder, comment={"x"}), "comment"),
    "comment bytes": (lambda h, rid: h.engine.fire(rid, "submit", actor=h.recorder, comment=b"x"), "comment"),
    "actor as text": (lambda h, rid: h.engine.fire(rid, "submit", actor="li.lei"), "actor"),
    "actor id as int": (
        lambda h, rid: h.engine.fire(rid, "submit", actor=Actor(id=7, role="recorder", unit="court-3")),
        "actor.id",
    ),
    "payload as list": (
        lambda h, rid: h.engine.fire(rid, "submit", actor=h.recorder, payload=[1]),
        "payload",
    ),
    "payload key mixing int and text": (
        lambda h, rid: h.engine.fire(
            rid, "submit", actor=h.recorder, payload={1: "a", "b": "c"}, idempotency_key="k-mixed"
        ),
        "payload",
    ),
    "payload key above 2**63": (
        lambda h, rid: h.engine.fire(rid, "submit", actor=h.recorder, payload={2**64: "a"}),
        "payload",
    ),
    "fields as text": (lambda h, rid: h.engine.register("national", "facts", actor=h.recorder), "fields"),
    "version as text": (
        lambda h, rid: h.engine.register("national", ORGANISATION, actor=h.recorder, version="1"),
        "version",
    ),
    "expected version as float": (
        lambda h, rid: h.engine.fire(rid, "submit", actor=h.recorder, expected_version=1.0),
        "expected_version",
    ),
    "submit as 1": (
        lambda h, rid: h.engine.register("national", ORGANISATION, actor=h.recorder, submit=1),
        "submit",
    ),
    "record id as int": (lambda h, rid: h.engine.get(5), "record_id"),
    "query limit as text": (lambda h, rid: h.engine.query(limit="10"), "limit"),
    "state_at a naive time": (
        lambda h, rid: h.engine.state_at(rid, dt.datetime(2026, 5, 12)),  # noqa: DTZ001 - the point of the case
        "when",
    ),
    "credit check requester as int": (
        lambda h, rid: h.engine.credit_check(requester=1, purpose="评优", subject_code="91110000600037341L"),
        "requester",
    ),
    "units as one text": (lambda h, rid: h.engine.units.save("court-3"), "units"),
    "events_for without an Actor": (lambda h, rid: h.engine.events_for(rid, ("li.lei",)), "actor"),
}


def test_an_argument_of_the_wrong_type_is_refused_by_name_before_anything_is_written(h: Harness) -> None:
    """Defect 1: ``idempotency_key=9595``, ``comment=5`` … were accepted and hashed as Python values
    while the columns stored text, so verify reported the case tampered forever."""
    rid = h.draft().id
    for name, (call, argument) in WRONG_TYPES.items():
        try:
            _refused(h, rid, call, ArgumentInvalid, f"参数 {argument} ")
        except BaseException as exc:
            raise AssertionError(f"case {name!r}: {exc!r}") from exc
    assert_verifies(h.engine)


def test_text_and_numbers_the_database_cannot_hold_are_refused_by_name_on_every_backend(h: Harness) -> None:
    """Defect 8: on PostgreSQL a NUL byte, a 200-character actor id, a 300-character key and
    ``get("SX\\x00")`` were internal errors, and everywhere a non-UTF-8 byte, mixed or huge keys
    and a list, set or bytes comment; each is now a ``WorkflowError`` naming the input."""
    rid = h.draft().id
    long_actor = Actor(id="a" * 200, role="verifier", unit="credit-office")
    cases: list[tuple[Call, type[WorkflowError], str]] = [
        (lambda h, rid: h.engine.fire(rid, "edit", actor=h.recorder, payload={"facts": "a\x00b"}), PayloadInvalid, "facts"),
        (lambda h, rid: h.engine.register("national", {**ORGANISATION, "facts": "a\x00"}, actor=h.recorder), PayloadInvalid, "facts"),
        (lambda h, rid: h.engine.fire(rid, "accept", actor=long_actor), ArgumentInvalid, "actor.id"),
        (lambda h, rid: h.engine.fire(rid, "submit", actor=h.recorder, idempotency_key="k" * 300), ArgumentInvalid, "idempotency_key"),
        (lambda h, rid: h.engine.get("SX\x00"), ArgumentInvalid, "record_id"),
        (lambda h, rid: h.engine.history("SX\x00"), ArgumentInvalid, "record_id"),
        (lambda h, rid: h.engine.query(unit="court\x00"), ArgumentInvalid, "unit"),
        (lambda h, rid: h.engine.credit_check(requester="x", purpose="y", subject_code="\x00"), ArgumentInvalid, "subject_code"),
        (lambda h, rid: h.engine.fire(rid, "edit", actor=h.recorder, payload={"facts": "a\udcff"}), PayloadInvalid, "facts"),
        (lambda h, rid: h.engine.fire(rid, "submit", actor=h.recorder, comment="理由\udcff"), ArgumentInvalid, "comment"),
        (lambda h, rid: h.engine.fire(rid, "submit", actor=Actor(id="li.lei\udcff", role="recorder", unit="court-3")), ArgumentInvalid, "actor.id"),
        (lambda h, rid: h.engine.fire(rid, "edit", actor=h.recorder, payload={"documents": [{1: "a", "x": "b"}]}), PayloadInvalid, "documents"),
        (lambda h, rid: h.engine.fire(rid, "edit", actor=h.recorder, payload={"documents": [{"name": 2**64}]}), PayloadInvalid, "documents"),
        (lambda h, rid: h.engine.fire(rid, "edit", actor=h.recorder, payload={"rectification_days": 2**63}), PayloadInvalid, "rectification_days"),
        (lambda h, rid: h.engine.fire(rid, "submit", actor=h.recorder, comment=["a"]), ArgumentInvalid, "comment"),
        (lambda h, rid: h.engine.fire(rid, "submit", actor=h.recorder, comment={"a"}), ArgumentInvalid, "comment"),
        (lambda h, rid: h.engine.fire(rid, "submit", actor=h.recorder, comment=b"a"), ArgumentInvalid, "comment"),
        (lambda h, rid: h.engine.fire(rid, "edit", actor=h.recorder, payload={"facts": {"a"}}), PayloadInvalid, "facts"),
        (lambda h, rid: h.engine.units.save([{"code": "court-3", "name": "法院\x00"}]), ArgumentInvalid, "units[0].name"),
        (lambda h, rid: h.engine.units.save([{"code": "court-3", "superior": "x" * 100}]), PayloadInvalid, "superior"),
    ]  # fmt: skip
    for call, kind, needle in cases:
        _refused(h, rid, call, kind, needle)
    h.fire(rid, "submit", h.recorder)  # and the case still moves on
    assert_verifies(h.engine)


def test_a_payload_over_its_limits_is_refused_naming_the_field_and_the_limit(h: Harness) -> None:
    """Defect 9: a 10 MB value inside a documents entry, fifteen 120 KB documents, and every other
    text, list and payload over the definition's limits (the defaults of ``limits:``) were stored
    in the append-only history for good."""
    rid = h.draft().id
    big = "文" * 120_000
    name_201 = "某" * 201
    cases: list[tuple[Call, type[WorkflowError], tuple[str, ...]]] = [
        (lambda h, rid: h.engine.fire(rid, "edit", actor=h.recorder, payload={"documents": [{"name": "x" * 10_000_000}]}), PayloadInvalid, ("documents",)),
        (lambda h, rid: h.engine.fire(rid, "edit", actor=h.recorder, payload={"documents": [big] * 15}), PayloadInvalid, ("documents",)),
        (lambda h, rid: h.engine.fire(rid, "edit", actor=h.recorder, payload={"documents": [{"name": "x" * 1001}]}), PayloadInvalid, ("documents", "1000")),
        (lambda h, rid: h.engine.fire(rid, "edit", actor=h.recorder, payload={"documents": [f"文书{i}" for i in range(51)]}), PayloadInvalid, ("documents", "at most 50 entries")),
        (lambda h, rid: h.engine.fire(rid, "edit", actor=h.recorder, payload={"subject_name": name_201}), PayloadInvalid, ("subject_name", "at most 200 characters")),
        (lambda h, rid: h.engine.register("national", {**ORGANISATION, "facts": "事" * 20_001}, actor=h.recorder), PayloadInvalid, ("facts", "at most 20000 characters")),
        (lambda h, rid: h.engine.fire(rid, "submit", actor=h.recorder, comment="理" * 20_001), ArgumentInvalid, ("comment", "at most 20000 characters")),
        (lambda h, rid: h.engine.fire(rid, "edit", actor=h.recorder, payload={"documents": [{"number": "号" * 1000, "name": "名" * 1000, "url": "u" * 1000} for _ in range(50)]}), PayloadInvalid, ("262144",)),
    ]  # fmt: skip
    for call, kind, needles in cases:
        _refused(h, rid, call, kind, *needles)
    within = {"documents": [{"number": "（2026）津0103民初1234号", "name": "判决书" * 300}] * 50}
    h.fire(rid, "edit", h.recorder, **within)  # at the limits is fine
    assert_verifies(h.engine)


def test_four_eyes_sees_one_person_whatever_the_case_and_spacing_of_the_actor_id(h: Harness) -> None:
    """Defect 10: ``Li.Lei`` could accept what ``li.lei`` submitted."""
    rid = h.submitted()  # by li.lei of court-3
    for alias in ("Li.Lei", " li.lei ", "LI.LEI", "Ｌｉ．Ｌｅｉ"):
        same_person = Actor(id=alias, role="verifier", unit=" credit-office ")
        _refused(
            h,
            rid,
            lambda h, rid, a=same_person: h.engine.fire(rid, "accept", actor=a),
            GuardRefused,
            "li.lei",
        )
    h.fire(rid, "accept", Actor(id="Wang.Fang ", role=" verifier", unit="credit-office "))
    entry = h.engine.history(rid)[-1]
    assert (entry.actor, entry.role, entry.unit) == ("wang.fang", "verifier", "credit-office")
    assert_verifies(h.engine)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=40))
def test_an_actor_id_is_folded_once_and_folding_it_again_changes_nothing(raw: str) -> None:
    once = actor_id(raw)
    assert actor_id(once) == once
    assert once == once.strip()
