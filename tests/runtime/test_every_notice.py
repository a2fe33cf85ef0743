"""Every notice every bundled definition can send renders, through that definition's own
templates where it has them, for every kind of case (record, supervision round, ledger task):
a one-line Chinese subject, and nothing addressed to a made-up ``@localhost`` or a unit code shown as a credit code."""

from __future__ import annotations

import pytest
from support import notification_samples as samples

from definitions.loader import load_bundled
from definitions.model import Definition
from notifications import TemplateCatalog

BUNDLED = [loaded.definition for loaded in load_bundled()]


def notices_of(definition: Definition) -> set[str]:
    """The template of every notice the definition may queue: on events, deadlines and ladders."""
    found = {n.template for e in definition.events.values() for n in e.notices}
    for deadline in definition.deadlines.values():
        found |= {n.template for n in (*deadline.on_expiry_notices, *deadline.on_start_notices)}
    for ladder in definition.ladders.values():
        found |= {n.template for rung in ladder.rungs for n in rung.notices}
    return found


CASES = [(d, name) for d in BUNDLED for name in sorted(notices_of(d))]


def test_every_kind_of_case_sends_notices() -> None:
    kinds = {d.kind for d, _name in CASES}
    assert {"record", "ledger_task", "supervision_round"} <= kinds


@pytest.mark.parametrize(("definition", "name"), CASES, ids=[f"{d.key}-{n}" for d, n in CASES])
def test_every_notice_of_every_bundled_definition_renders(definition: Definition, name: str) -> None:
    overrides = [definition.templates_path] if definition.templates_path is not None else []
    mail = TemplateCatalog(overrides).render(name, samples.sample(name))
    assert "\n" not in mail.subject.strip() and mail.subject.strip()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in mail.subject)
    for body in (mail.text, mail.html):
        assert "@localhost" not in body
        assert "统一社会信用代码：hexi" not in body
