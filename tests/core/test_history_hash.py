"""The canonical form history hashes are taken over stays the standard library's JSON, byte for byte."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.core.history import canonical_bytes

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(st.characters(blacklist_categories=("Cs",)), max_size=8), children, max_size=4
        )
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(JSON)
def test_the_fast_canonical_form_equals_the_standard_librarys(value: Any) -> None:
    expected = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    assert canonical_bytes(value) == expected


def test_chinese_text_and_control_characters_keep_their_canonical_form() -> None:
    value = {"理由": '核查属实\n第二行\t"引号" \\ \u2028 \x01', "a": [1, None, True]}
    assert (
        canonical_bytes(value)
        == json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    )


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    names=st.tuples(TEXT, TEXT, TEXT, TEXT, TEXT),
    key=st.none() | TEXT,
    payload=st.dictionaries(TEXT, JSON, max_size=3),
    effects=st.dictionaries(TEXT, JSON, max_size=3),
)
def test_the_hash_of_a_row_read_as_stored_equals_the_hash_of_the_parsed_row(
    names: tuple[str, str, str, str, str], key: str | None, payload: Any, effects: Any
) -> None:
    """Verify hashes rows without parsing their JSON; any text (quotes, backslashes, control
    characters, Chinese) must give the hash the engine wrote."""
    import datetime as dt

    from storage.values import RawEvent
    from workflow.core.history import event_hash, raw_event_hash

    actor, role, unit, comment, record_id = names
    at = dt.datetime(2026, 5, 11, 1, 0, 0, 120034, tzinfo=dt.UTC)
    changes = [["main", None, "draft"], ["publication", "a\\b", '"引号"']]
    written = event_hash(
        record_id=record_id, seq=3, event="confirm", changes=changes, actor=actor, role=role, unit=unit,
        payload=payload, comment=comment, effects=effects, definition_name="national", definition_version=2,
        occurred_at=at, idempotency_key=key, prev_hash="0" * 64,
    )  # fmt: skip
    row = RawEvent.from_row(
        [record_id, 3, "confirm", canonical_bytes(changes).decode(), actor, role, unit,
         canonical_bytes(payload).decode(), comment, canonical_bytes(effects).decode(), "national", 2,
         at.isoformat(timespec="microseconds"), key, "0" * 64, written]
    )  # fmt: skip
    assert raw_event_hash(row) == written
