"""The canonical form history hashes are taken over stays the standard library's JSON, byte for byte."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.history import canonical_bytes

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
