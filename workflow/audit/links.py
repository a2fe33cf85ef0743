"""Linked cases under audit: a case that opened another (``opens:``) and the case it opened must
name each other. ``verify`` collects each case's links while it streams the cases and reports a
link whose other side does not return it, when both sides were read in the same run.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet

from storage.values import CaseRows
from workflow.core.fold import Problem
from workflow.core.values import LINKS


def links_of(case: CaseRows) -> set[tuple[str, str]]:
    """(relation, other case) of every link the case's row keeps (checked against its history by
    ``verify_case``)."""
    data = case.record.data if case.record is not None else None
    stored = data.get(LINKS, ()) if isinstance(data, dict) else ()  # a tampered row may hold anything
    found = set()
    for link in stored if isinstance(stored, list) else ():
        if isinstance(link, dict):
            found.add((str(link.get("relation")), str(link.get("case"))))
    return found


def unmatched_links(links: Mapping[str, AbstractSet[tuple[str, str]]]) -> list[Problem]:
    """A case that opened another must be named by it, and the reverse, when both were verified in
    this run (a run over part of the cases cannot see the other side of every link)."""
    back = {"opened": "opened_by", "opened_by": "opened"}
    problems = []
    for case_id, found in links.items():
        for relation, other in sorted(found):
            if other in links and (back.get(relation, ""), case_id) not in links[other]:
                problems.append(
                    Problem(
                        case_id,
                        "illegal",
                        f"link {relation} {other}: the other case does not link back (关联案件不一致)",
                    )
                )
    return problems
