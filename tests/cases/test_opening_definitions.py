"""What an event's ``opens:`` and a date field's ``within:`` may name: the loader refuses what names
nothing in the file, and every bundled opening names a definition, role, fields and events that
exist where the engine will look for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from definitions.loader import DefinitionError, LoadedDefinition, load_bundled, load_paths

COMPLAINT_CHILD = """\
extends: complaint@1
name: child_complaint
version: 1
title: 测试投诉
jurisdiction: 测试
legal_basis: 测试依据
"""


@pytest.fixture(scope="module")
def base() -> list[LoadedDefinition]:
    return load_bundled()


def _problems(tmp_path: Path, text: str, base: list[LoadedDefinition]) -> str:
    path = tmp_path / "child.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_paths([path], base=base)
    return "\n".join(caught.value.problems)


def test_an_opening_that_carries_a_field_the_case_does_not_have_is_refused(
    tmp_path: Path, base: list[LoadedDefinition]
) -> None:
    text = COMPLAINT_CHILD + "events:\n  confirm_breach:\n    opens:\n      fields: {facts: no_such_field}\n"
    assert "'no_such_field' is neither a field of this definition nor a payload field" in _problems(
        tmp_path, text, base
    )


def test_a_link_field_must_be_a_string_field(tmp_path: Path, base: list[LoadedDefinition]) -> None:
    text = COMPLAINT_CHILD + "events:\n  confirm_breach:\n    opens:\n      link_field: received_date\n"
    assert "record field 'received_date' is a date, expected string" in _problems(tmp_path, text, base)


def test_within_must_name_date_fields(tmp_path: Path, base: list[LoadedDefinition]) -> None:
    text = (
        COMPLAINT_CHILD
        + "fields:\n  received_date: {type: date, label: 受理日期, within: [content, nowhere]}\n"
    )
    problems = _problems(tmp_path, text, base)
    assert "record field 'content' is a text, expected date" in problems
    assert "unknown record field 'nowhere'" in problems


def test_every_bundled_opening_names_what_exists(base: list[LoadedDefinition]) -> None:
    by_name = {item.definition.name: item.definition for item in base}
    openings = [
        (definition, event)
        for definition in by_name.values()
        for event in definition.events.values()
        if event.opens is not None
    ]
    assert len(openings) == 10  # a breach of each complaint and each commitment definition
    for definition, event in openings:
        opens = event.opens
        assert opens is not None
        target = by_name[opens.definition]
        assert target.kind == "record", definition.key
        assert opens.role in target.creation_event().roles
        assert set(opens.fields) | set(opens.values) <= set(target.fields), definition.key
        assert all(step in target.events for step in opens.then)
        if definition.jurisdiction != "通用":
            assert target.jurisdiction.endswith(definition.jurisdiction), (definition.key, target.key)
