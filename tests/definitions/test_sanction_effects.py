"""``purposes`` and ``sanction_effects`` are checked when a definition is loaded, and the pure
eligibility evaluation applies them (``workflow.core.eligibility``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from definitions.loader import DefinitionError, LoadedDefinition, load_bundled, load_paths
from workflow.core.eligibility import CaseFacts, answer, bars_of

HEAD = """\
extends: national@2
name: child
version: 1
title: 测试定义
jurisdiction: 测试
legal_basis: 测试依据
"""


@pytest.fixture(scope="module")
def base() -> list[LoadedDefinition]:
    return load_bundled()


def _problems(tmp_path: Path, body: str, base: list[LoadedDefinition]) -> list[str]:
    path = tmp_path / "child.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_paths([path], base=base)
    return list(caught.value.problems)


def test_an_effect_naming_an_unknown_purpose_measure_field_or_state_is_refused_with_its_line(
    tmp_path: Path, base: list[LoadedDefinition]
) -> None:
    problems = _problems(
        tmp_path,
        """\
sanction_effects:
  lottery_ban:
    label: 禁止抽奖
    measure: no_lottery
    bars: [lottery]
    record: {colour: [red]}
    while: {main: [flying]}
    period: {months: 6}
    legal_basis: 测试
""",
        base,
    )
    text = "\n".join(problems)
    for needle in (
        "unknown purpose 'lottery'",
        "'no_lottery' is not a value",
        "unknown record field 'colour'",
    ):
        assert needle in text
    assert "unknown state 'flying'" in text and "a period needs an 'anchor'" in text
    assert all(p.startswith(str(tmp_path / "child.yaml") + ":") for p in problems)


def test_a_payload_requires_guard_must_name_a_payload_field_of_its_event(
    tmp_path: Path, base: list[LoadedDefinition]
) -> None:
    problems = _problems(
        tmp_path,
        """\
events:
  apply_sanctions:
    guards:
      - {guard: payload_requires, field: nothing, values: [honour_ban], record: {severity: [huge]}}
""",
        base,
    )
    text = "\n".join(problems)
    assert "'nothing' is not a payload field" in text and "'huge' is not a value of enum 'severity'" in text


def _case(definition_key: str, base: list[LoadedDefinition], **data: object) -> CaseFacts:
    definition = next(i.definition for i in base if i.definition.key == definition_key)
    return CaseFacts(
        record_id="SX1",
        definition=definition,
        tracks={"main": "recorded", "sanctions": "in_force", "objection": "none"},
        data={"finding_date": "2026-05-08", "severity": "general", **data},
    )


def test_a_bar_ends_and_the_latest_of_several_bars_is_the_answer(base: list[LoadedDefinition]) -> None:
    case = _case("national@2", base, sanction_measures=["honour_ban"], disciplinary_sanction="warning")
    on = dt.date(2026, 6, 1)
    (honours, appraisal) = answer({"honours": "荣誉", "annual_appraisal": "优秀"}, bars_of(case, on))
    assert (honours.allowed, honours.until) == (False, dt.date(2027, 5, 8))
    assert (appraisal.allowed, appraisal.until) == (False, dt.date(2026, 12, 31))  # 警告 6 months, that year
    later = dt.date(2027, 1, 5)
    (appraisal_next_year,) = answer({"annual_appraisal": "优秀"}, bars_of(case, later))
    assert appraisal_next_year.allowed  # the warning's six months ran out in November 2026
    assert bars_of(case, later, include_ended=True)


def test_an_open_ended_bar_makes_the_answer_open_ended(base: list[LoadedDefinition]) -> None:
    case = _case("tongxin@2", base, subject_kind="department")
    (bonus,) = answer({"performance_bonus": "加分"}, bars_of(case, dt.date(2026, 6, 1)))
    assert not bonus.allowed and bonus.until == dt.date(2026, 12, 31)
    lifted = CaseFacts(
        record_id=case.record_id,
        definition=case.definition,
        tracks={**case.tracks, "main": "repaired"},
        data=case.data,
    )
    assert answer({"performance_bonus": "加分"}, bars_of(lifted, dt.date(2026, 6, 1)))[0].allowed


# Every sanction that acts, per published version: a rule taken out of the data fails below.
EFFECTS = [
    ("guangyuan@2", "honour_ban"),
    ("guangyuan@2", "disciplinary_impact"),
    ("guangyuan@2", "restricted_commendation"),
    ("guangyuan@2", "funding_restriction"),
    ("guangyuan@2", "tendering_blacklist"),
    ("national@2", "honour_ban"),
    ("national@2", "disciplinary_impact"),
    ("taian@2", "honour_ban"),
    ("taian@2", "disciplinary_impact"),
    ("taian@2", "civil_servant_restriction"),
    ("taian@3", "honour_ban"),  # taian@3 adds the supervision schedule and keeps taian@2's rules
    ("taian@3", "disciplinary_impact"),
    ("taian@3", "civil_servant_restriction"),
    ("tianjin@2", "honour_ban"),
    ("tianjin@2", "disciplinary_impact"),
    ("tianjin@2", "civil_servant_no_excellent"),
    ("tianjin@2", "no_excellent_rating"),
    ("tongxin@2", "honour_ban"),
    ("tongxin@2", "disciplinary_impact"),
    ("tongxin@2", "civil_servant_restriction"),
    ("tongxin@2", "no_bonus_while_recorded"),
]


def test_the_published_versions_carry_exactly_these_effects(base: list[LoadedDefinition]) -> None:
    found = [
        (item.definition.key, name)
        for item in base
        if item.definition.kind == "record"
        for name in item.definition.sanction_effects
    ]
    assert sorted(found) == sorted(EFFECTS)


@pytest.mark.parametrize(("key", "effect"), EFFECTS)
def test_every_effect_of_a_published_version_bars_what_it_says_on_a_record_that_meets_it(
    base: list[LoadedDefinition], key: str, effect: str
) -> None:
    """Each rule is needed: a record meeting exactly its conditions is barred by that rule, so
    taking the rule out of the data fails this test (and the purpose it bars must exist)."""
    definition = next(i.definition for i in base if i.definition.key == key)
    spec = definition.sanction_effects[effect]
    data: dict[str, object] = {"finding_date": "2026-05-08", "severity": "general"}
    data.update({field: values[0] for field, values in spec.record.items()})
    if spec.measure:
        data["sanction_measures"] = [spec.measure]
    tracks = {"main": "recorded", "sanctions": "in_force"}
    tracks.update({track: states[0] for track, states in spec.while_.items()})
    case = CaseFacts(record_id="SX1", definition=definition, tracks=tracks, data=data)
    bars = [bar for bar in bars_of(case, dt.date(2026, 5, 9)) if bar.effect == effect]
    assert {bar.purpose for bar in bars} == set(spec.bars)
    assert all(purpose in definition.purposes for purpose in spec.bars)
    assert spec.legal_basis
