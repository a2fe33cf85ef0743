"""Sanctions that act: the credit check (信用核查) answers eligibility from the definitions' rules.

Each jurisdiction rule has a test here that fails when the rule is taken out of the data: the
measure (a payload the definition refuses without it), the guard (a record it would let through)
or the effect (a purpose it would answer as allowed). Every check and every archive read leaves a
row in the query log, a person only by masked ID number.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from support.harness import SH, Harness

from workflow import Actor
from workflow.errors import ArgumentInvalid, DeadlineExtensionRefused, GuardRefused, PayloadInvalid
from workflow.testing import ORGANISATION, PERSON, PERSON_ID

SERVICE = Actor(id="hr.appraisal", role="auditor", unit="hr-office")
OTHER_CODE = "91350100M000100Y43"  # a valid code no record is about


def _recorded(h: Harness, definition: str, **overrides: Any) -> str:
    fields = {k: v for k, v in {**ORGANISATION, **overrides}.items() if v is not None}
    rid = h.engine.register(definition, fields, actor=h.recorder).id
    h.fire(rid, "submit", h.recorder)
    h.later(hours=1)
    h.fire(rid, "accept", h.verifier)
    h.fire(rid, "confirm", h.verifier, comment="核查属实，予以记录")
    return rid


def _sanction(h: Harness, rid: str, *measures: str) -> None:
    h.fire(
        rid,
        "apply_sanctions",
        h.verifier,
        comment="实施惩戒",
        measures=list(measures),
        decided_on="2026-05-11",
    )


def _check(h: Harness, subject: str, **kwargs: Any) -> Any:
    return h.engine.subject_status(subject, actor=SERVICE, reason="年度考核前信用核查", **kwargs)


def _log(h: Harness) -> list[dict[str, Any]]:
    with h.engine.store.db.reading() as c:
        rows = c.execute(
            sa.text("SELECT requester, purpose, subject, matches, reason, kind FROM subject_query_log")
        )
        return [dict(r._mapping) for r in rows]


def test_a_new_record_runs_on_the_newest_version(h: Harness) -> None:
    rid = h.recorded()
    assert h.engine.get(rid).definition == "national@2"


def test_a_subject_without_records_is_allowed_every_purpose_and_the_check_is_logged(h: Harness) -> None:
    status = _check(h, OTHER_CODE)
    assert status.active_records == () and status.pending_objections == ()
    assert {a.purpose for a in status.answers} >= {"honours", "annual_appraisal", "funding", "procurement"}
    assert all(a.allowed for a in status.answers)
    assert _log(h) == [
        {
            "requester": "hr.appraisal (auditor, hr-office)",
            "purpose": ",".join(a.purpose for a in status.answers),
            "subject": OTHER_CODE,
            "matches": 0,
            "reason": "年度考核前信用核查",
            "kind": "check",
        }
    ]


def test_an_honour_ban_bars_honours_until_the_maximum_publication_period_ends(h: Harness) -> None:
    rid = h.recorded()  # 一般, found 2026-05-08: the maximum publication period is one year
    assert _check(h, ORGANISATION["subject_code"], purposes=["honours"]).answer("honours").allowed
    _sanction(h, rid, "honour_ban", "public_criticism")
    status = _check(h, ORGANISATION["subject_code"])
    honours = status.answer("honours")
    assert not honours.allowed
    assert honours.until == dt.date(2027, 5, 8)
    assert "国发〔2016〕76号" in honours.bars[0].legal_basis
    assert status.answer("procurement").allowed and status.answer("funding").allowed
    (sanction,) = status.sanctions
    assert [m["code"] for m in sanction["measures"]] == ["honour_ban", "public_criticism"]
    assert sanction["ends"] == "2027-05-08"
    assert [r["record_id"] for r in status.active_records] == [rid]
    assert _check(h, ORGANISATION["subject_code"], as_of="2027-05-09").answer("honours").allowed


def test_a_waived_or_repaired_record_no_longer_bars_honours(h: Harness) -> None:
    rid = h.recorded()
    _sanction(h, rid, "honour_ban")
    h.fire(rid, "waive_sanctions", h.verifier, comment="主动挽回损失", evidence=["还款凭证"])
    assert _check(h, ORGANISATION["subject_code"]).answer("honours").allowed


def test_a_disciplinary_sanction_bars_the_excellent_rating_for_its_impact_period(h: Harness) -> None:
    _recorded(h, "national", **PERSON)  # 记过 found 2026-05-08: twelve months
    answer = _check(h, PERSON_ID, purposes="annual_appraisal").answer("annual_appraisal")
    assert not answer.allowed
    assert answer.until == dt.date(2027, 5, 8)
    assert "公务员处分条例》第七条" in answer.bars[0].legal_basis
    (row,) = _log(h)
    assert row["subject"] == "110105********002X" and PERSON_ID not in str(row)


def test_pending_objections_are_listed(h: Harness) -> None:
    rid = h.recorded()
    h.fire(rid, "file_objection", h.subject, reasons="已履行判决")
    assert _check(h, ORGANISATION["subject_code"]).pending_objections == (rid,)


def test_tianjin_a_civil_servant_with_an_active_record_is_not_rated_excellent_that_year(h: Harness) -> None:
    person = {**PERSON, "disciplinary_sanction": None, "source_type": "accountability"}
    _recorded(h, "tianjin", **person)
    answer = _check(h, PERSON_ID, purposes=["annual_appraisal"]).answer("annual_appraisal")
    assert not answer.allowed and answer.until == dt.date(2026, 12, 31)
    assert "津政发〔2017〕29号 二、（二）4" in answer.bars[0].legal_basis
    # national@2 has no such rule: the same person on a national record may be rated 优秀
    other = {**person, "subject_id_number": "110101199003077571"}
    _recorded(h, "national", **other)
    assert _check(h, "110101199003077571").answer("annual_appraisal").allowed


def test_taian_sanction_measures_restrict_a_civil_servant(h: Harness) -> None:
    person = {**PERSON, "disciplinary_sanction": None, "source_type": "accountability"}
    rid = _recorded(h, "taian", **person)
    _sanction(h, rid, "civil_servant_restriction", "public_criticism")
    status = _check(h, PERSON_ID)
    for purpose in ("honours", "annual_appraisal"):
        answer = status.answer(purpose)
        assert not answer.allowed, purpose
        assert "泰安市加强政务诚信建设实施方案" in answer.bars[0].legal_basis
    with pytest.raises(PayloadInvalid, match="measures"):
        _sanction(h, rid, "restricted_commendation")  # Guangyuan's measure, not Tai'an's


def test_tongxin_sanction_measures_and_the_good_conduct_bonus(h: Harness) -> None:
    rid = _recorded(h, "tongxin")
    before = _check(h, ORGANISATION["subject_code"])
    bonus = before.answer("performance_bonus")
    assert not bonus.allowed and "同心县" in bonus.bars[0].legal_basis and "加分" in bonus.bars[0].legal_basis
    assert _check(h, OTHER_CODE, purposes="performance_bonus").answer("performance_bonus").allowed
    _sanction(h, rid, "honour_ban", "accountability")
    honours = _check(h, ORGANISATION["subject_code"]).answer("honours")
    assert (
        not honours.allowed
        and "同心县政务诚信建设重点任务分工及进度安排表 第5项" in honours.bars[0].legal_basis
    )


def test_guangyuan_funding_penalties_only_for_a_serious_record_about_a_local_government(h: Harness) -> None:
    rid = _recorded(h, "guangyuan")  # 一般, a department
    with pytest.raises(GuardRefused, match="严重失信的地方政府"):
        _sanction(h, rid, "funding_restriction")
    _sanction(h, rid, "tendering_blacklist")
    assert not _check(h, ORGANISATION["subject_code"]).answer("procurement").allowed
    government = {
        **ORGANISATION,
        "subject_kind": "government",
        "subject_name": "某县人民政府",
        "subject_code": "11510800MB12345602",
        "severity": "serious",
    }
    rid = _recorded(h, "guangyuan", **government)
    _sanction(h, rid, "funding_restriction")
    funding = _check(h, government["subject_code"]).answer("funding")
    assert not funding.allowed and funding.until == dt.date(2029, 5, 8)  # 严重: three years at most
    assert "广元市政务诚信建设实施方案》二、（一）1" in funding.bars[0].legal_basis


def test_a_batch_check_answers_each_subject_and_logs_each(h: Harness) -> None:
    rid = h.recorded()
    _sanction(h, rid, "honour_ban")
    statuses = h.engine.subject_statuses(
        [ORGANISATION["subject_code"], OTHER_CODE, PERSON_ID],
        purposes=["honours"],
        actor=SERVICE,
        reason="评优",
    )
    assert [s.answer("honours").allowed for s in statuses] == [False, True, True]
    assert [r["subject"] for r in _log(h)] == [ORGANISATION["subject_code"], OTHER_CODE, "110105********002X"]


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        ({"subjects": ["not-a-code"]}, "subject"),
        ({"subjects": [OTHER_CODE], "purposes": ["lottery"]}, "purposes"),
        ({"subjects": [OTHER_CODE], "as_of": "2026-13-01"}, "as_of"),
        ({"subjects": [OTHER_CODE], "reason": "  "}, "reason"),
        ({"subjects": [OTHER_CODE] * 1001}, "subjects"),
        ({"subjects": []}, "subjects"),
    ],
)
def test_bad_input_is_refused_naming_the_argument_and_nothing_is_logged(
    h: Harness, call: dict[str, Any], argument: str
) -> None:
    kwargs: dict[str, Any] = {"actor": SERVICE, "reason": "核查", **call}
    subjects = kwargs.pop("subjects")
    with pytest.raises(ArgumentInvalid) as caught:
        h.engine.subject_statuses(subjects, **kwargs)
    assert caught.value.argument == argument
    assert _log(h) == []


def test_the_integrity_archive_of_a_civil_servant(h: Harness) -> None:
    rid = _recorded(h, "taian", **PERSON)
    _sanction(h, rid, "civil_servant_restriction")
    archive = h.engine.integrity_archive(PERSON_ID, actor=SERVICE, reason="干部考察")
    shown = archive.as_dict()
    assert PERSON_ID not in str(shown) and archive.person == "110105********002X"
    assert [r["record_id"] for r in archive.records] == [rid]
    assert archive.employers == ("某区住房和建设委员会",)
    (sanction,) = archive.sanctions
    assert [m["code"] for m in sanction["measures"]] == ["civil_servant_restriction"]
    (period,) = archive.impact_periods
    assert (period["sanction_label"], period["since"], period["until"]) == (
        "记过",
        "2026-05-08",
        "2027-05-08",
    )
    assert archive.appraisal["year"] == 2026 and archive.appraisal["allowed"] is False
    assert _log(h)[-1]["kind"] == "archive"
    with pytest.raises(ArgumentInvalid):
        h.engine.integrity_archive(ORGANISATION["subject_code"], actor=SERVICE, reason="x")


def test_a_read_of_a_persons_record_by_a_named_reader_is_logged_masked(h: Harness) -> None:
    rid = _recorded(h, "national", **PERSON)
    h.engine.get(rid)  # the engine's own reads (no reader) are not logged
    assert _log(h) == []
    h.engine.get(rid, reader=SERVICE, reason="核对档案")
    (row,) = _log(h)
    assert (row["kind"], row["subject"], row["reason"]) == ("read", "110105********002X", "核对档案")
    with pytest.raises(ArgumentInvalid, match="reason"):
        h.engine.get(rid, reader=SERVICE)
    organisation = h.recorded()
    h.engine.get(organisation, reader=SERVICE, reason="核对")  # not a person: nothing to log
    assert len(_log(h)) == 1


def test_taian_decides_an_objection_in_three_working_days_seven_at_most(h: Harness) -> None:
    """山东省社会信用条例 arts. 39–40, where national@2 keeps 5 (extendable to 20) as a default."""
    rid = _recorded(h, "taian")
    h.fire(rid, "file_objection", h.third_party, reasons="事实有误", filed_by="某公司")
    due = h.deadline(rid, "objection_decision")
    assert "山东省社会信用条例》第三十九条" in due.legal_basis
    # filed Monday 2026-05-11 (the clock's day): the third working day after is Thursday the 14th
    assert due.due_at.astimezone(SH).date() == dt.date(2026, 5, 14)
    with pytest.raises(DeadlineExtensionRefused, match="7"):
        h.fire(rid, "extend_objection", h.reviewer, comment="需核查", working_days=5, approved_by="主任")
    h.fire(rid, "extend_objection", h.reviewer, comment="需其他单位核查", working_days=4, approved_by="主任")
    national = h.recorded()
    h.fire(national, "file_objection", h.third_party, reasons="事实有误", filed_by="某公司")
    assert h.deadline(national, "objection_decision").due_at.astimezone(SH).date() == dt.date(2026, 5, 18)


def test_taian_does_not_publish_a_natural_persons_record_citing_shandong(h: Harness) -> None:
    rid = _recorded(h, "taian", **PERSON)
    with pytest.raises(GuardRefused, match="自然人") as caught:
        h.fire(rid, "publish", h.verifier)
    assert (
        "山东省社会信用条例》第二十条"
        in h.engine.registry.select("taian").events["publish"].guards[0].legal_basis
    )
    assert caught.value
