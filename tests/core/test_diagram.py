"""A definition's state diagram is for caseworkers: drawn from every bundled definition, the SVG
(parsed) has one box per state labelled in Chinese with its code, parallel tracks as regions,
each transition naming its event and roles, deadlines on the states that start them, a title with
name, version and legal basis, and a case's current states highlighted; the Mermaid text agrees."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from functools import cache

import pytest

from definitions.model import Definition
from workflow.core.diagram import diagram
from workflow.engine.registry import Registry

SVG = "{http://www.w3.org/2000/svg}"


@cache
def _registry() -> Registry:
    return Registry.load()


def _definitions() -> list[str]:
    return sorted({d.key for d in _registry().all()})


def _definition(key: str) -> Definition:
    name, _, version = key.partition("@")
    return _registry().get(name, int(version))


def _nodes(svg: bytes) -> dict[str, tuple[list[str], list[str]]]:
    """Graphviz node id (its <title>) → (its text lines, its fill colours)."""
    found = {}
    for group in ET.fromstring(svg).iter(f"{SVG}g"):
        if group.get("class") == "node":
            title = group.findtext(f"{SVG}title") or ""
            texts = [t.text or "" for t in group.findall(f"{SVG}text")]
            fills = [e.get("fill") or "" for e in group if e.get("fill")]
            found[title] = (texts, fills)
    return found


@pytest.mark.parametrize("key", _definitions())
def test_every_state_is_one_box_with_its_chinese_label_and_code(key: str) -> None:
    definition = _definition(key)
    nodes = _nodes(bytes(diagram(definition, "svg")))
    for track_name, track in definition.tracks.items():
        for state, spec in track.states.items():
            found = [n for n in nodes if n.endswith(f"/{track_name}/{state}") or n == f"{track_name}/{state}"]
            assert len(found) == 1, (track_name, state, found)
            texts, _fills = nodes[found[0]]
            assert texts[0].startswith(spec.label) and texts[1] == state
    drawn_states = [n for n, (texts, _fills) in nodes.items() if texts]  # not the regions' start dots
    assert len(drawn_states) == sum(len(t.states) for t in definition.tracks.values())  # no false nesting


def test_transitions_name_their_event_and_roles_and_states_their_deadlines() -> None:
    definition = _definition("national@1")
    svg = bytes(diagram(definition, "svg"))
    text = " ".join(t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text"))
    assert "核查属实予以记录" not in text  # comments are not drawn
    confirm = definition.events["confirm"]
    assert f"{confirm.label} confirm" in text
    assert definition.roles["verifier"].label in text
    submitted = _nodes(svg)["main/submitted"][0]
    assert any(
        line.startswith("⏱ ") and definition.deadlines["verification"].label in line for line in submitted
    )
    assert "national@1" in text and definition.legal_basis in text and definition.title in text


def test_a_cases_current_states_are_highlighted() -> None:
    definition = _definition("national@1")
    current = {"main": "recorded", "publication": "not_published", "rectification": "explanation_due"}
    nodes = _nodes(bytes(diagram(definition, "svg", current=current)))
    highlighted = {name for name, (_texts, fills) in nodes.items() if "darksalmon" in fills}
    assert highlighted == {
        "main/recorded",
        "parallel/publication/not_published",
        "parallel/rectification/explanation_due",
    }
    mermaid = str(diagram(definition, "mermaid", current=current))
    assert "class main/recorded s_active" in mermaid


@pytest.mark.parametrize("key", _definitions())
def test_the_mermaid_text_has_each_state_once_with_its_label_and_the_title(key: str) -> None:
    definition = _definition(key)
    mermaid = str(diagram(definition, "mermaid"))
    assert mermaid.startswith(f"---\n{definition.title}（{definition.key}）<br/>依据：")
    declared = Counter(re.findall(r'^\s*state "[^"]*" as (\S+)$', mermaid, re.MULTILINE))
    for track_name, track in definition.tracks.items():
        for state, spec in track.states.items():
            path = (
                f"{track_name}/{state}"
                if track_name == definition.main_track
                else f"parallel/{track_name}/{state}"
            )
            assert declared[path] == 1, path
            assert f'state "{spec.label}' in mermaid
