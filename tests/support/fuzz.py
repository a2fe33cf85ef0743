"""Hypothesis strategies for what a hostile or careless caller hands chengxin.

Text with NUL characters, lone surrogates (what a byte that is not UTF-8 becomes in argv), full-
width letters and long runs; numbers past 64 bits; values of every Python type a caller might
pass by mistake; payloads that mix real field names and values of the ``national`` definition
with all of that. The fuzz tests of the engine and of the CLI draw from here; ``FUZZ`` is the
budget they share (60 examples a test: a few seconds per test and backend; the CLI's, slower per
example, runs half as many).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from workflow.testing import ORGANISATION

FUZZ = settings(
    max_examples=60,
    deadline=None,
    # No shrinking: every example runs against a database, so shrinking a failure could take many
    # minutes; the failure is reported as found, with its example and the seed to replay it.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    database=None,  # nothing is written into the checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

FIELDS = (*ORGANISATION, "documents", "employer", "subject_id_number", "rectification_days", "explanation")
EVENTS = ("register", "edit", "submit", "discard", "accept", "return", "reject", "confirm", "publish")

odd_text = st.one_of(
    st.text(max_size=30),
    st.text(max_size=10).map(lambda s: s + "\x00"),
    st.text(max_size=10).map(lambda s: f"{s}\udcff{s}"),
    st.sampled_from(["", " ", "Ｌｉ．Ｌｅｉ", "LI.LEI ", "司法判决", "一般", "2026-13-45", "9" * 40]),
    st.integers(min_value=150, max_value=400).map(lambda n: "长" * n),
)
huge_int = st.one_of(st.integers(), st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**40]))
scalar = st.one_of(
    st.none(),
    st.booleans(),
    huge_int,
    st.floats(),
    odd_text,
    st.binary(max_size=8),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.just(dt.UTC)),
)
junk = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.frozensets(st.integers(), max_size=3),
        st.dictionaries(st.one_of(odd_text, huge_int), inner, max_size=3),
        st.builds(object),
    ),
    max_leaves=8,
)
field_value = st.one_of(st.sampled_from(list(ORGANISATION.values())), junk)
payload = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(FIELDS), odd_text), field_value, max_size=5),
    st.builds(
        lambda extra: {**ORGANISATION, **extra},
        st.dictionaries(st.sampled_from(FIELDS), field_value, max_size=3),
    ),
    st.dictionaries(st.one_of(huge_int, odd_text), field_value, max_size=3),
    junk,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``strategy``, or any junk at all in its place."""
    return st.one_of(strategy, junk)


def mostly(strategy: st.SearchStrategy[Any], bad: st.SearchStrategy[Any] = junk) -> st.SearchStrategy[Any]:
    """``strategy`` nine times in ten, else ``bad``: with one bad argument in a few calls, calls
    get past the argument checks often enough for the case's own rules to be explored too."""
    return st.integers(0, 9).flatmap(lambda n: bad if n == 0 else strategy)


plain_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=40)
edits = st.fixed_dictionaries(
    {},
    optional={
        "facts": st.one_of(plain_text, odd_text),
        "subject_name": st.one_of(plain_text, odd_text),
        "employer": plain_text,
        "document_number": plain_text,
        "severity": st.sampled_from(["general", "serious", "一般", "严重", "minor?"]),
        "finding_date": st.one_of(st.dates(), st.sampled_from(["2026-05-01", "2026-02-30", "1900-01-01"])),
        "documents": st.one_of(
            st.lists(plain_text, min_size=1, max_size=3),
            st.lists(
                st.fixed_dictionaries({"name": plain_text}, optional={"sha256": st.just("ab" * 32)}),
                max_size=3,
            ),
        ),
    },
)
"""Payloads of the ``edit`` event (and of a registration, over ``ORGANISATION``), mostly valid."""
