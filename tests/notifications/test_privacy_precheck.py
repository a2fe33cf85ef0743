"""``may_hold_id_numbers``: the one search that lets a mail context without an ID number skip the
masking walk must never say "none" where ``mask_id_numbers_in`` would mask something."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from notifications.privacy import mask_id_numbers_in, may_hold_id_numbers

NUMBER = "11010519491231002" + ric.calc_check_digit("11010519491231002" + "0")
WIDE = NUMBER.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
WRITTEN = [
    NUMBER,
    NUMBER.lower(),
    WIDE,
    f"{NUMBER[:6]} {NUMBER[6:14]}-{NUMBER[14:]}",
    f"{NUMBER[:6]}\u3000{NUMBER[6:]}",
]


def test_a_number_anywhere_in_the_data_is_seen() -> None:
    for written in WRITTEN:
        for value in (
            written,
            {"a": {"b": [f"说明\n{written}\t"]}},
            ("x", (f'\\{written}"',)),
            {"facts": f"经办人身份证号{written}。", "n": 3, "none": None},
        ):
            assert mask_id_numbers_in(value) != value or isinstance(value, tuple)
            assert may_hold_id_numbers(value), value


def test_no_number_no_walk() -> None:
    context = {"subject_code": "91120101MA05123456", "due": "2026-05-25", "doc": "（2026）津0103民初1234号"}
    assert not may_hold_id_numbers(context)
    assert mask_id_numbers_in(context) == context


texts = st.text(
    alphabet=st.sampled_from(list('0123456789０１２３４５６７８９Xx -\u3000－\n\t"\\a<>')), max_size=40
)
data: Any = st.recursive(
    st.one_of(texts, st.integers(), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=8,
)


@given(data, st.sampled_from(WRITTEN), st.booleans())
def test_whatever_masking_would_change_the_search_sees(value: Any, written: str, add: bool) -> None:
    value = {"v": value, "w": f"前{written}后" if add else "x"}
    if mask_id_numbers_in(value) != value:
        assert may_hold_id_numbers(value)
