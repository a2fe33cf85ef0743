"""Whose rule is it: a notice cites the instrument of the definition its record runs on.

``national@2`` cites national instruments only (DOMAIN.md, "Whose rule is it"): every notice a
national record can produce — each event's notices, each deadline's start and expiry notices and
each reminder rung — is rendered here and must name no jurisdiction's instrument. Each
jurisdiction's version 2 names its own, and no other jurisdiction's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from definitions.loader import load_bundled
from definitions.model import Definition, Notice
from notifications import TemplateCatalog
from workflow.core.notices import Cause, build, deadline_context
from workflow.runtime.dispatch import revive
from workflow.testing import ORGANISATION

# What names a seed jurisdiction (or a province whose regulation national@1 cited) in a citation.
MARKERS = {
    "tianjin": ("津政发", "天津"),
    "guangyuan": ("广元", "川府发", "四川"),
    "taian": ("泰安", "鲁信用办", "山东"),
    "tongxin": ("同心", "吴忠", "宁夏"),
    "zhejiang": ("浙江",),
    "shanghai": ("上海",),
}
NOW = dt.datetime(2026, 5, 11, 1, 0, tzinfo=dt.UTC)
DUE = {
    "due_at": "2026-05-25T09:00:00+00:00",
    "provisional": False,
    "basis": {"rule": "10个工作日", "explanation": ["自次日起算"]},
}


@pytest.fixture(scope="module")
def bundled() -> dict[str, Definition]:
    return {item.definition.key: item.definition for item in load_bundled()}


def _sites(definition: Definition) -> Iterator[tuple[str, Notice, str | None, str | None]]:
    """(where, notice, event, rung) for every notice the definition can queue."""
    for event in definition.events.values():
        for notice in event.notices:
            yield f"events.{event.name}", notice, event.name, None
    for deadline in definition.deadlines.values():
        for notice in deadline.on_start_notices:
            yield f"deadlines.{deadline.name}.on_start", notice, None, None
        for notice in deadline.on_expiry_notices:
            yield f"deadlines.{deadline.name}.on_expiry", notice, deadline.on_expiry_event, None
        if deadline.ladder:
            for rung in definition.ladders[deadline.ladder].rungs:
                for notice in rung.notices:
                    yield (
                        f"deadlines.{deadline.name}.{rung.name}",
                        Notice(template=notice.template, to=notice.to, deadline=deadline.name),
                        None,
                        rung.name,
                    )


def _rendered(definition: Definition) -> Iterator[tuple[str, str]]:
    catalog = TemplateCatalog()
    data: dict[str, Any] = {**ORGANISATION, "rectification_days": 30}
    for where, notice, event_name, rung in _sites(definition):
        event = definition.events.get(event_name or "")
        cause = Cause(
            record_id="SX20260511-ABC123",
            data=data,
            main_state="recorded",
            event=event,
            event_name=event_name or "@reminder",
            comment="依法处理",
            payload={"reasons": "事实有误", "measures": "整改措施"},
            data_changes=[("facts", "旧", "新")],
            actor_unit="credit-office",
            occurred_at=NOW,
            by_system=event is None,
        )
        deadline = deadline_context(definition, notice.deadline, DUE) if notice.deadline else None
        template = notice.template
        context = build(
            definition,
            template=template,
            cause=cause,
            recipient="hexi-zjw",
            names={"hexi-zjw": "某区住房和建设委员会", "hexi-gov": "某区人民政府", "court-3": "某区人民法院"},
            deadline=deadline,
            rung=rung,
            change="pause" if template == "deadline_changed" else None,
        )
        mail = catalog.render(template, revive(context))
        yield f"{where} → {template}", f"{mail.subject}\n{mail.text}\n{mail.html}"


def _named(text: str, markers: dict[str, tuple[str, ...]]) -> list[str]:
    return [f"{who}:{marker}" for who, found in markers.items() for marker in found if marker in text]


def test_every_notice_of_a_national_record_names_no_jurisdictions_instrument(
    bundled: dict[str, Definition],
) -> None:
    rendered = list(_rendered(bundled["national@2"]))
    assert len(rendered) >= 20  # every event, deadline and rung notice of the lifecycle
    found = {where: names for where, text in rendered if (names := _named(text, MARKERS))}
    assert found == {}


def test_every_citation_of_national_2_is_national(bundled: dict[str, Definition]) -> None:
    """Not only what a mail shows today: every legal basis in the definition."""
    d = bundled["national@2"]
    texts = [
        d.legal_basis,
        *(e.legal_basis for e in d.events.values()),
        *(g.legal_basis for e in d.events.values() for g in e.guards),
        *(x.legal_basis for x in d.deadlines.values()),
        *(x.legal_basis for x in d.ladders.values()),
        *(x.legal_basis for x in d.enums.values()),
        *(x.legal_basis for x in d.publication_regimes),
        *(x.legal_basis for x in d.sanction_effects.values()),
    ]
    assert [t for t in texts if _named(t, MARKERS)] == []
    assert "exempt" not in d.events  # 容错纠错 is Tongxin's rule


def test_national_1_is_kept_for_the_records_that_run_on_it(bundled: dict[str, Definition]) -> None:
    """A published version never changes: national@1 still cites Tianjin, for its old records."""
    assert "津政发" in bundled["national@1"].events["submit"].legal_basis


@pytest.mark.parametrize(
    ("key", "own"),
    [("tianjin@2", "tianjin"), ("guangyuan@2", "guangyuan"), ("taian@2", "taian"), ("tongxin@2", "tongxin")],
)
def test_a_jurisdictions_notices_cite_its_own_text_and_no_other_jurisdictions(
    bundled: dict[str, Definition], key: str, own: str
) -> None:
    others = {who: markers for who, markers in MARKERS.items() if who != own}
    rendered = list(_rendered(bundled[key]))
    found = {where: names for where, text in rendered if (names := _named(text, others))}
    assert found == {}
    record_notice = next(
        text for where, text in rendered if where.startswith("events.confirm → record_notice")
    )
    assert any(marker in record_notice for marker in MARKERS[own])
