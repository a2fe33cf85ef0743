"""The work list behind the console's "my work": a role's cases soonest due first, each once,
a page at a time with a cursor, in its units only, with counts per state."""

from __future__ import annotations

import pytest
from support.harness import Harness

# No scope: the whole database, read by walking open deadlines in due order; a unit's scope of
# few cases: read from the cases' side. Both must give the same list.
SCOPES = [pytest.param({}, id="walk"), pytest.param({"units": ["hexi-zjw"]}, id="by-case")]


def _walk(h: Harness, limit: int, **scope: object) -> list[list[str]]:
    waiting = h.engine.worklist.waiting("subject", **scope)  # type: ignore[arg-type,unused-ignore]
    pages, cursor = [], None
    while True:
        page = h.engine.worklist.page(waiting, limit=limit, cursor=cursor)
        pages.append([item.view.id for item in page.items])
        cursor = page.next
        if cursor is None:
            return pages


@pytest.mark.parametrize("scope", SCOPES)
def test_pages_list_each_case_once_soonest_due_first(h: Harness, scope: dict[str, object]) -> None:
    made = []
    for _ in range(5):
        made.append(h.recorded())  # each later than the one before: its deadlines are due later
        h.later(hours=30)
    pages = _walk(h, 2, **scope)
    listed = [rid for page in pages for rid in page]
    assert listed == made  # every case once, in due order, across pages
    assert all(len(page) <= 2 for page in pages)
    dues = [
        item.next_due for item in h.engine.worklist.page(h.engine.worklist.waiting("subject"), limit=10).items
    ]
    assert dues == sorted(dues) and None not in dues


@pytest.mark.parametrize("scope", SCOPES)
def test_a_due_window_keeps_the_cases_due_by_then(h: Harness, scope: dict[str, object]) -> None:
    first = h.recorded()
    h.later(days=60)
    second = h.recorded()
    waiting = h.engine.worklist.waiting("subject", **scope)  # type: ignore[arg-type,unused-ignore]
    due = h.engine.worklist.page(waiting, due_by=h.clock.now(), limit=10)
    assert [i.view.id for i in due.items] == [first]  # the first case's explanation is overdue
    assert due.items[0].next_deadline  # the deadline that is due, by its label
    assert second not in [i.view.id for i in due.items]


def test_another_units_cases_and_other_states_are_left_out_and_counted_by_state(h: Harness) -> None:
    rid = h.recorded()
    mine = h.engine.worklist.waiting("subject", units=["hexi-zjw"])
    theirs = h.engine.worklist.waiting("subject", units=["elsewhere"])
    assert [i.view.id for i in h.engine.worklist.page(mine).items] == [rid]
    assert h.engine.worklist.page(theirs).items == []
    [(label, n)] = h.engine.worklist.counts(mine)
    assert label.endswith("(recorded)") and n == 1
    assert h.engine.worklist.counts(theirs) == []
    only_drafts = h.engine.worklist.waiting("subject", state="draft")
    assert h.engine.worklist.page(only_drafts).items == []
