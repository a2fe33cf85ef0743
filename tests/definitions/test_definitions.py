"""The bundled definitions and the definition loader.

Every bundled file loads on its own, is well formed (every state reachable, every non-final
main state able to finish, every rule citing its legal basis) and names only catalogued
notices. Each seed jurisdiction runs through the engine on SQLite and PostgreSQL up to its
distinctive rule. Bad files are reported as ``file:line: message`` with the line of the
offending text; ``extends`` merges as documented; the registry picks the version in force on
the finding date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from apscheduler.triggers.cron import CronTrigger
from support.harness import ORGANISATION, SH, Harness

from definitions.loader import BUNDLED_DIR, DefinitionError, LoadedDefinition, load_bundled, load_paths
from definitions.model import Definition
from notifications.catalog import NOTICES
from workflow.engine.registry import Registry
from workflow.engine.views import RecordView
from workflow.errors import DefinitionNotFound, PayloadInvalid

FILES = sorted(p for p in BUNDLED_DIR.rglob("*.y*ml") if p.suffix in {".yaml", ".yml"})


def _rel(path: Path) -> str:
    """A bundled file as ``jurisdiction/name.yaml``."""
    return path.relative_to(BUNDLED_DIR).as_posix()


JURISDICTIONS = ("tianjin", "guangyuan", "tongxin", "taian")


@pytest.fixture(scope="module")
def bundled_base() -> list[LoadedDefinition]:
    return load_bundled()


@pytest.fixture(scope="module")
def bundled(bundled_base: list[LoadedDefinition]) -> dict[str, Definition]:
    """The bundled definitions by file name."""
    return {_rel(Path(item.definition.source)): item.definition for item in bundled_base}


def _edges(definition: Definition, track: str) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for event in definition.events.values():
        for transition in event.transitions:
            if transition.track == track:
                for source in transition.sources:
                    edges.setdefault(source, set()).add(transition.dest)
    return edges


def _reachable(start: str, edges: Mapping[str, set[str]]) -> set[str]:
    seen, queue = {start}, deque([start])
    while queue:
        for target in edges.get(queue.popleft(), ()):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


# ------------------------------------------------------------------ every bundled file


def test_the_four_seed_jurisdictions_are_bundled_and_extend_national(bundled: dict[str, Definition]) -> None:
    assert {path.parent.name for path in FILES} >= {"national", *JURISDICTIONS}
    for name in JURISDICTIONS:
        text = (BUNDLED_DIR / name / "record.yaml").read_text(encoding="utf-8")
        assert re.search(r"^extends: national@1$", text, re.MULTILINE), name
        definition = bundled[f"{name}/record.yaml"]
        assert (definition.name, definition.version) == (name, 1)
        assert definition.legal_basis != bundled["national/record.yaml"].legal_basis


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_bundled_file_loads_and_validates_on_its_own(
    path: Path, bundled_base: list[LoadedDefinition]
) -> None:
    loaded = load_paths([path], base=bundled_base)
    assert [item.definition.source for item in loaded] == [str(path)]


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_every_state_of_every_track_is_reachable(path: Path, bundled: dict[str, Definition]) -> None:
    definition = bundled[_rel(path)]
    main_states = _reachable(definition.main.initial, _edges(definition, definition.main_track))
    for name, track in definition.tracks.items():
        reached = _reachable(track.initial, _edges(definition, name))
        assert set(track.states) - reached == set(), f"track {name}"
        if name != definition.main_track:
            assert set(track.active_while[definition.main_track]) & main_states, (
                f"track {name} never becomes active"
            )


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_the_main_track_can_finish_from_every_non_final_state(
    path: Path, bundled: dict[str, Definition]
) -> None:
    definition = bundled[_rel(path)]
    edges = _edges(definition, definition.main_track)
    states = definition.main.states
    stuck = [
        state
        for state, spec in states.items()
        if not spec.final and not any(states[s].final for s in _reachable(state, edges))
    ]
    assert stuck == []


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_every_rule_cites_its_legal_basis(path: Path, bundled: dict[str, Definition]) -> None:
    definition = bundled[_rel(path)]
    missing = [f"events.{name}" for name, event in definition.events.items() if not event.legal_basis.strip()]
    missing += [f"deadlines.{name}" for name, d in definition.deadlines.items() if not d.legal_basis.strip()]
    missing += [
        f"ladders.{name}" for name, ladder in definition.ladders.items() if not ladder.legal_basis.strip()
    ]
    missing += [f"schedules.{name}" for name, s in definition.schedules.items() if not s.legal_basis.strip()]
    assert missing == []


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_every_notice_names_a_catalogued_template(path: Path, bundled: dict[str, Definition]) -> None:
    definition = bundled[_rel(path)]
    notices = [(f"events.{name}", n) for name, event in definition.events.items() for n in event.notices]
    for name, deadline in definition.deadlines.items():
        notices += [
            (f"deadlines.{name}", n) for n in (*deadline.on_start_notices, *deadline.on_expiry_notices)
        ]
    for name, ladder in definition.ladders.items():
        notices += [(f"ladders.{name}", n) for rung in ladder.rungs for n in rung.notices]
    assert [(where, n.template) for where, n in notices if n.template not in NOTICES] == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("tianjin", {"half_yearly_supervision": [6, 12], "year_end_assessment": [12]}),
        ("guangyuan", {"quarterly_monitoring": [1, 4, 7, 10]}),
        ("tongxin", {"annual_inspection": [12]}),
        ("taian", {}),
    ],
)
def test_supervision_rounds_follow_the_rhythm_of_the_seed(
    name: str, expected: dict[str, list[int]], bundled: dict[str, Definition]
) -> None:
    """Tianjin every half year and at year end, Guangyuan every quarter, Tongxin every year."""
    schedules = bundled[f"{name}/record.yaml"].schedules
    assert set(schedules) == set(expected)
    for key, months in expected.items():
        trigger = CronTrigger(timezone=SH, **dict(schedules[key].cron))
        fired: list[dt.datetime] = []
        now = dt.datetime(2027, 1, 1, tzinfo=SH)
        while (nxt := trigger.get_next_fire_time(None, now)) and nxt.year == 2027:
            fired.append(nxt)
            now = nxt + dt.timedelta(seconds=1)
        assert [when.month for when in fired] == months, key
        assert schedules[key].units == "all"
        assert schedules[key].answer_within.working_days > 0


# ------------------------------------------------------------ jurisdictions on the engine


class Local(Harness):
    """The national harness, registering under a jurisdiction's definition."""

    def __init__(self, base: Harness, definition: str) -> None:
        super().__init__(base.engine, base.clock)
        self.definition = definition

    def draft(self, **overrides: Any) -> RecordView:
        fields = {k: v for k, v in {**ORGANISATION, **overrides}.items() if v is not None}
        return self.engine.register(self.definition, fields, actor=self.recorder)


@pytest.fixture
def local(database_url: str) -> Iterator[Callable[[str], Local]]:
    opened: list[Local] = []

    def open_for(definition: str) -> Local:
        harness = Local(Harness.create(database_url), definition)
        opened.append(harness)
        return harness

    yield open_for
    for harness in opened:
        harness.engine.close()


def _outbox(h: Local, record_id: str) -> list[dict[str, Any]]:
    return h.engine.outbox.list(record_id=record_id)


def _sent(h: Local, record_id: str) -> set[tuple[str, str]]:
    return {(row.template, row.recipient_unit) for row in _outbox(h, record_id)}


@pytest.mark.parametrize(
    ("name", "cites"),
    [("tianjin", "津政发〔2017〕29号"), ("guangyuan", "广元市"), ("tongxin", "同心县"), ("taian", "泰安市")],
)
def test_a_record_is_made_under_the_jurisdictions_definition_and_cites_its_own_text(
    name: str, cites: str, local: Callable[[str], Local]
) -> None:
    h = local(name)
    rid = h.recorded()
    view = h.engine.get(rid)
    newest = {"taian": 3}.get(name, 2)  # taian@3 adds the supervision schedules to taian@2
    assert (view.definition, view.state) == (f"{name}@{newest}", "recorded")  # the newest version
    assert h.events(rid) == ["register", "submit", "accept", "confirm"]
    explanation = h.deadline(rid, "written_explanation")
    assert explanation.status == "active"
    assert cites in explanation.legal_basis
    notice = next(row for row in _outbox(h, rid) if row.template == "record_notice")
    assert cites in notice.context["vars"]["legal_basis"]


def test_tianjin_records_sanction_measures_and_mitigates_only_for_a_named_self_correction(
    local: Callable[[str], Local],
) -> None:
    h = local("tianjin")
    rid = h.recorded()
    h.fire(
        rid,
        "apply_sanctions",
        h.verifier,
        comment="依规惩戒",
        measures=["honour_ban", "予以公开通报批评"],
        decided_on="2026-05-11",
    )
    assert h.engine.history(rid)[-1].payload["measures"] == ["honour_ban", "public_criticism"]
    assert h.tracks(rid)["sanctions"] == "in_force"
    with pytest.raises(PayloadInvalid, match="conduct"):
        h.fire(rid, "mitigate_sanctions", h.verifier, comment="已主动支付", evidence=["付款凭证"])
    with pytest.raises(PayloadInvalid, match="conduct"):
        h.fire(
            rid,
            "mitigate_sanctions",
            h.verifier,
            comment="已主动支付",
            evidence=["付款凭证"],
            conduct=["认错"],
        )
    h.fire(
        rid,
        "mitigate_sanctions",
        h.verifier,
        comment="判决后主动支付全部工程款及利息",
        evidence=["（2026）津0103民初1234号:执行结案通知书"],
        conduct=["recovered_loss", "消除不良影响"],
    )
    assert h.tracks(rid)["sanctions"] == "mitigated"
    entry = h.engine.history(rid)[-1]
    assert (entry.event, entry.payload["conduct"]) == (
        "mitigate_sanctions",
        ["recovered_loss", "removed_harm"],
    )
    h.fire(rid, "apply_sanctions", h.verifier, comment="追究主要负责人责任", measures=["accountability"])
    assert h.tracks(rid)["sanctions"] == "mitigated"


def test_guangyuan_revoking_wrongful_sanctions_opens_reputation_restoration(
    local: Callable[[str], Local],
) -> None:
    h = local("guangyuan")
    rid = h.recorded(domain="wage_arrears")
    h.fire(rid, "publish", h.verifier)
    h.fire(rid, "apply_sanctions", h.verifier, comment="列入黑名单", measures=["tendering_blacklist"])
    h.fire(rid, "file_objection", h.subject, reasons="原判决已被再审撤销")
    view = h.fire(rid, "revoke", h.reviewer, comment="再审撤销原判，惩戒有误", sanctions_wrong=True)
    assert view.state == "revoked"
    assert h.tracks(rid) == {
        "main": "revoked",
        "publication": "withdrawing",
        "sanctions": "lifted",
        "restoration": "pending",
    }
    restoration = h.deadline(rid, "restoration")
    assert restoration.status == "active"
    assert "广元市" in restoration.legal_basis
    assert {("revocation", "hexi-zjw"), ("revocation", "hexi-gov")} <= _sent(h, rid)
    h.fire(
        rid,
        "complete_restoration",
        h.verifier,
        comment="已公开澄清",
        measures="在信用中国（四川广元）网发布撤销公告",
    )
    assert h.tracks(rid)["restoration"] == "completed"
    assert h.deadline(rid, "restoration").status == "met"
    assert {("reputation_restoration", "hexi-zjw"), ("reputation_restoration", "hexi-gov")} <= _sent(h, rid)
    h.fire(rid, "confirm_withdrawal", h.verifier)
    assert h.fire(rid, "close_revoked", h.verifier, comment="办结").state == "archived"


def test_guangyuan_revoking_without_wrongful_sanctions_needs_no_restoration(
    local: Callable[[str], Local],
) -> None:
    h = local("guangyuan")
    rid = h.recorded()
    h.fire(rid, "file_objection", h.subject, reasons="事实有误")
    h.fire(rid, "revoke", h.reviewer, comment="事实有误，予以撤销")
    assert h.tracks(rid)["restoration"] == "not_required"
    assert not any(template == "reputation_restoration" for template, _unit in _sent(h, rid))


def test_tongxin_exempts_a_fault_tolerance_case_with_its_own_reason_codes(
    local: Callable[[str], Local],
) -> None:
    h = local("tongxin")
    rid = h.submitted(domain="environment")
    h.fire(rid, "accept", h.verifier)
    criteria: dict[str, Any] = {
        "no_ban_broken": True,
        "no_private_gain": True,
        "no_intent": True,
        "remediated": True,
        "evidence": ["县政府试点批复"],
    }
    with pytest.raises(PayloadInvalid, match="reason_code"):
        h.fire(rid, "exempt", h.verifier, comment="试点失误", reason_code="policy_boundary", **criteria)
    view = h.fire(
        rid,
        "exempt",
        h.verifier,
        comment="环境治理试点中的失误",
        reason_code="先行先试、探索试验中出现的失误偏差",
        **criteria,
    )
    assert view.state == "exempted"
    assert h.engine.history(rid)[-1].payload["reason_code"] == "trial"
    assert not any(d.status == "active" for d in view.deadlines)
    assert _outbox(h, rid) == []  # not recorded: no record notice goes out


def test_tongxin_a_broken_performance_commitment_must_name_the_commitment(
    local: Callable[[str], Local],
) -> None:
    h = local("tongxin")
    with pytest.raises(PayloadInvalid, match="commitment_item"):
        h.draft(source_type="broken_commitment")
    view = h.draft(
        source_type="broken_commitment", commitment_item="行政审批5个工作日办结", domain="township"
    )
    assert view.data["commitment_item"] == "行政审批5个工作日办结"


def test_taian_tells_the_superior_unit_and_sends_the_repair_notice_with_the_record_notice(
    local: Callable[[str], Local],
) -> None:
    h = local("taian")
    with pytest.raises(PayloadInvalid, match="superior_unit"):
        h.draft(superior_unit=None)
    rid = h.recorded()
    assert _sent(h, rid) == {
        ("record_notice", "hexi-zjw"),
        ("repair_notice", "hexi-zjw"),
        ("explanation_request", "hexi-zjw"),
        ("superior_notice", "hexi-gov"),
    }
    rows = {row.template: row for row in _outbox(h, rid)}
    assert rows["superior_notice"].cause.split("/")[1] == rows["record_notice"].cause.split("/")[1]
    assert rows["repair_notice"].context["vars"]["repair"]["means"] == [
        "作出信用承诺",
        "完成失信整改",
        "通过信用核查",
        "接受专题培训",
        "提交信用报告",
        "参加公益慈善活动",
    ]
    # Confirmed Monday 2026-05-11 10:00: 7 working days are 12–15, 18–20 May.
    decision = h.deadline(rid, "publication_decision")
    assert decision.due_at.astimezone(SH) == dt.datetime(2026, 5, 20, 17, 0, tzinfo=SH)
    assert "7个工作日" in decision.legal_basis


# ----------------------------------------------------------------------- loader errors

HEAD = """\
extends: national@1
name: broken
version: 1
title: 测试定义
jurisdiction: 测试
legal_basis: 测试依据
"""
LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<message>.+)$")


def _problems(paths: list[Path], base: list[LoadedDefinition]) -> list[tuple[str, int, str]]:
    with pytest.raises(DefinitionError) as caught:
        load_paths(paths, base=base)
    located = []
    for problem in caught.value.problems:
        match = LOCATED.match(problem)
        assert match, f"not file:line: message — {problem}"
        located.append((Path(match["file"]).name, int(match["line"]), match["message"]))
    return located


BAD_FILES = {
    "unknown key": (
        HEAD + "events:\n  submit:\n    lable: 提交\n",  # line 9
        9,
        "events.submit.lable: Extra inputs are not permitted",
    ),
    "transition to an unknown state": (
        HEAD
        + "events:\n"
        + "  park:\n"
        + "    label: 搁置\n"
        + "    roles: [recorder]\n"
        + "    transitions: [{from: draft, to: nowhere}]\n"  # line 11
        + "    legal_basis: 测试\n",
        11,
        "unknown state 'nowhere' of track 'main'",
    ),
    "unreachable state": (
        HEAD
        + "tracks:\n"
        + "  main:\n"
        + "    states:\n"
        + "      limbo: {label: 悬置}\n"  # line 10
        + "events:\n"
        + "  leave_limbo:\n"
        + "    label: 离开\n"
        + "    roles: [verifier]\n"
        + "    transitions: [{from: limbo, to: discarded}]\n"
        + "    legal_basis: 测试\n",
        10,
        "unreachable states in track 'main': limbo",
    ),
    "non-final state that cannot finish": (
        HEAD
        + "tracks:\n"
        + "  main:\n"
        + "    states:\n"
        + "      parked: {label: 搁置}\n"  # line 10
        + "events:\n"
        + "  park:\n"
        + "    label: 搁置\n"
        + "    roles: [recorder]\n"
        + "    transitions: [{from: draft, to: parked}]\n"
        + "    legal_basis: 测试\n",
        10,
        "states that cannot reach a final state: parked",
    ),
    "two creating events": (
        HEAD
        + "events:\n"
        + "  import_record:\n"  # line 8
        + "    label: 导入\n"
        + "    roles: [recorder]\n"
        + "    creates: true\n"
        + "    legal_basis: 测试\n",
        8,
        "exactly one event must have 'creates: true' (it makes the record in the initial state); found 2",
    ),
    "unknown role": (
        HEAD + "events:\n  submit:\n    roles: [recorder, clerk]\n",  # line 9
        9,
        "unknown role 'clerk'",
    ),
    "expiry event the system may not fire": (
        HEAD + "deadlines:\n  verification:\n    on_expiry: {event: reject}\n",  # line 9
        9,
        "event 'reject' fires at expiry, so a system role (system) must be allowed to fire it",
    ),
    "deadline with an unknown ladder": (
        HEAD + "deadlines:\n  verification:\n    ladder: nosuch\n",  # line 9
        9,
        "unknown ladder 'nosuch'",
    ),
    "extends an unknown definition": (
        "name: orphan\nversion: 1\nextends: nowhere@1\ntitle: 孤儿\n",  # line 3
        3,
        "extends 'nowhere@1', which is not a known definition",
    ),
    "duplicate key": (
        HEAD + "events:\n  submit:\n    label: 提交\n    label: 再次提交\n",  # line 10
        10,
        "duplicate key 'label'",
    ),
    "YAML syntax error": (
        HEAD + "events:\n  submit: {label: 提交\n  confirm:\n    label: 确认\n",  # line 9
        9,
        "YAML syntax: ",  # the parser's own words follow (libyaml and the pure-Python parser differ)
    ),
}


@pytest.mark.parametrize(("text", "line", "message"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_file_is_reported_at_the_line_of_the_problem(
    text: str, line: int, message: str, tmp_path: Path, bundled_base: list[LoadedDefinition]
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    problems = _problems([path], bundled_base)
    assert len(problems) == 1, problems
    assert problems[0][:2] == ("broken.yaml", line)
    assert message in problems[0][2]


def test_every_problem_of_a_file_is_reported_at_once(
    tmp_path: Path, bundled_base: list[LoadedDefinition]
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        HEAD + "events:\n  submit:\n    roles: [clerk]\ndeadlines:\n  verification:\n    ladder: nosuch\n",
        encoding="utf-8",
    )
    problems = _problems([path], bundled_base)
    assert [(line, message.split(";")[0]) for _file, line, message in problems] == [
        (9, "unknown role 'clerk'"),
        (12, "unknown ladder 'nosuch'"),
    ]


def _cycle(tmp_path: Path) -> list[Path]:
    alpha = tmp_path / "alpha.yaml"
    beta = tmp_path / "beta.yaml"
    alpha.write_text("name: alpha\nversion: 1\nextends: beta@1\ntitle: 甲\n", encoding="utf-8")
    beta.write_text("name: beta\nversion: 1\nextends: alpha@1\ntitle: 乙\n", encoding="utf-8")
    return [alpha, beta]


def test_an_extends_cycle_is_reported_at_the_extends_line_of_each_file(
    tmp_path: Path, bundled_base: list[LoadedDefinition]
) -> None:
    problems = _problems(_cycle(tmp_path), bundled_base)
    cycles = sorted((file, line) for file, line, message in problems if "'extends' makes a cycle" in message)
    assert cycles == [("alpha.yaml", 3), ("beta.yaml", 3)]


def test_an_extends_cycle_is_not_also_reported_as_an_unknown_definition(
    tmp_path: Path, bundled_base: list[LoadedDefinition]
) -> None:
    problems = _problems(_cycle(tmp_path), bundled_base)
    assert [message for _file, _line, message in problems if "not a known definition" in message] == []


# ----------------------------------------------------------------------- extends semantics


def _load_child(tmp_path: Path, body: str, base: list[LoadedDefinition]) -> Definition:
    path = tmp_path / "child.yaml"
    path.write_text(HEAD.replace("name: broken", "name: child") + body, encoding="utf-8")
    (loaded,) = load_paths([path], base=base)
    return loaded.definition


def test_a_child_overriding_one_deadline_period_keeps_everything_else(
    tmp_path: Path, bundled: dict[str, Definition], bundled_base: list[LoadedDefinition]
) -> None:
    national = bundled["national/record.yaml"]
    child = _load_child(
        tmp_path, "deadlines:\n  written_explanation:\n    period: {working_days: 15}\n", bundled_base
    )
    changed = child.deadlines["written_explanation"]
    assert changed.period.working_days == 15
    parent = national.deadlines["written_explanation"]
    assert dataclasses.replace(changed, period=parent.period) == parent
    assert {k: v for k, v in child.deadlines.items() if k != "written_explanation"} == {
        k: v for k, v in national.deadlines.items() if k != "written_explanation"
    }
    assert child.events == national.events


def test_an_inherited_period_is_replaced_whole_so_its_unit_can_change(
    tmp_path: Path, bundled_base: list[LoadedDefinition]
) -> None:
    """A period is one value: ``{days: 20}`` replaces ``{working_days: 10}`` instead of merging with it."""
    child = _load_child(
        tmp_path, "deadlines:\n  written_explanation:\n    period: {days: 20}\n", bundled_base
    )
    period = child.deadlines["written_explanation"].period
    assert (period.days, period.working_days) == (20, 0)


def test_null_removes_an_inherited_key_and_leaves_the_parent_alone(
    tmp_path: Path, bundled: dict[str, Definition], bundled_base: list[LoadedDefinition]
) -> None:
    child = _load_child(
        tmp_path,
        "tracks:\n  main:\n    states:\n      discarded: null\n"
        "events:\n  discard: null\n"
        "deadlines:\n  verification: null\n",
        bundled_base,
    )
    assert "discarded" not in child.main.states
    assert "discard" not in child.events
    assert "verification" not in child.deadlines
    national = bundled["national/record.yaml"]
    assert "discarded" in national.main.states
    assert "discard" in national.events
    assert "verification" in national.deadlines


def test_a_child_keeps_the_order_of_its_parents_enum_values(
    tmp_path: Path, bundled: dict[str, Definition], bundled_base: list[LoadedDefinition]
) -> None:
    child = _load_child(tmp_path, "", bundled_base)
    national = bundled["national/record.yaml"]
    assert (
        child.enums["severity"].codes()
        == national.enums["severity"].codes()
        == ("minor", "general", "serious")
    )


def test_a_child_has_its_own_name_version_and_effective_date(
    tmp_path: Path, bundled_base: list[LoadedDefinition]
) -> None:
    parent = tmp_path / "parent.yaml"
    parent.write_text(
        HEAD.replace("name: broken", "name: parent").replace("version: 1", "version: 2")
        + "effective_from: 2026-04-01\n",
        encoding="utf-8",
    )
    child = tmp_path / "child.yaml"
    child.write_text("extends: parent@2\nname: child\nversion: 7\n", encoding="utf-8")
    loaded = {item.definition.name: item.definition for item in load_paths([tmp_path], base=bundled_base)}
    assert (loaded["child"].name, loaded["child"].version, loaded["child"].key) == ("child", 7, "child@7")
    assert loaded["child"].effective_from is None
    assert loaded["parent"].effective_from == dt.date(2026, 4, 1)
    assert loaded["child"].title == loaded["parent"].title == "测试定义"


# ------------------------------------------------------------------------ version choice


def _pilot(tmp_path: Path, version: int, effective_from: str | None) -> None:
    text = HEAD.replace("name: broken", "name: pilot").replace("version: 1", f"version: {version}")
    if effective_from is not None:
        text += f"effective_from: {effective_from}\n"
    (tmp_path / f"pilot_v{version}.yaml").write_text(text, encoding="utf-8")


def _registry(tmp_path: Path, base: list[LoadedDefinition]) -> Registry:
    loaded = load_paths([tmp_path], base=base)
    return Registry(loaded={(item.definition.name, item.definition.version): item for item in loaded})


def test_the_registry_picks_the_version_in_force_on_the_finding_date(
    tmp_path: Path, bundled_base: list[LoadedDefinition]
) -> None:
    _pilot(tmp_path, 1, None)
    _pilot(tmp_path, 2, "2026-04-01")
    registry = _registry(tmp_path, bundled_base)
    assert registry.select("pilot", dt.date(2026, 3, 31)).version == 1
    assert registry.select("pilot", dt.date(2026, 4, 1)).version == 2
    assert registry.select("pilot", dt.date(2027, 1, 1)).version == 2
    assert registry.select("pilot").version == 2


def test_a_finding_before_every_version_is_in_force_has_no_definition(
    tmp_path: Path, bundled_base: list[LoadedDefinition]
) -> None:
    _pilot(tmp_path, 2, "2026-04-01")
    registry = _registry(tmp_path, bundled_base)
    with pytest.raises(DefinitionNotFound, match="pilot"):
        registry.select("pilot", dt.date(2026, 3, 31))
    assert registry.select("pilot", dt.date(2026, 4, 1)).version == 2
