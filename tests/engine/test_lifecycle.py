"""The national definition walked through every path, on SQLite and PostgreSQL.

Return and resubmit, rejection, exemption under the fault-tolerance criteria, the four-eyes
rule and errors that name the state, the role and the field; publication, explanation,
rectification, expiry and archive; overdue explanations; objections maintained, extended,
corrected and revoked; credit repair and its minimum publication periods; only the responsible
unit answers; civil-servant records kept unpublished, their ID number out of history and found
by a credit check; mitigation with its reasons. The engine's reads are in ``test_reads.py``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from support.harness import SH, Harness

from workflow.errors import (
    CommentRequired,
    DeadlineExtensionRefused,
    GuardRefused,
    PayloadInvalid,
    PermissionDenied,
    RecordNotFound,
    TransitionNotAllowed,
    UnknownEvent,
)
from workflow.testing import ORGANISATION, PERSON, PERSON_ID


def test_return_for_supplementation_then_resubmit_reaches_recorded(h: Harness) -> None:
    rid = h.submitted()
    h.fire(rid, "accept", h.verifier)
    view = h.fire(rid, "return", h.verifier, comment="缺少判决书扫描件")
    assert view.state == "draft"
    h.fire(rid, "edit", h.recorder, documents=["（2026）津0103民初1234号:民事判决书"])
    h.fire(rid, "submit", h.recorder)
    h.fire(rid, "accept", h.verifier)
    view = h.fire(rid, "confirm", h.verifier, comment="补正后核查属实")
    assert view.state == "recorded"
    assert view.data["documents"] == [{"name": "民事判决书", "number": "（2026）津0103民初1234号"}]
    assert h.events(rid) == ["register", "submit", "accept", "return", "edit", "submit", "accept", "confirm"]


def test_reject_is_final_and_needs_reasons(h: Harness) -> None:
    rid = h.submitted()
    h.fire(rid, "accept", h.verifier)
    with pytest.raises(CommentRequired):
        h.fire(rid, "reject", h.verifier)
    view = h.fire(rid, "reject", h.verifier, comment="不属于政务失信情形")
    assert view.state == "rejected"
    with pytest.raises(TransitionNotAllowed, match="rejected"):
        h.fire(rid, "confirm", h.verifier, comment="x")


def test_exemption_requires_every_fault_tolerance_criterion(h: Harness) -> None:
    """容错纠错 is Tongxin's rule (national@2 no longer carries it): run on tongxin."""
    rid = h.engine.register("tongxin", dict(ORGANISATION), actor=h.recorder).id
    h.fire(rid, "submit", h.recorder)
    h.fire(rid, "accept", h.verifier)
    criteria = {
        "reason_code": "reform",
        "no_ban_broken": True,
        "no_private_gain": True,
        "no_intent": True,
    }
    with pytest.raises(PayloadInvalid, match="remediated"):
        h.fire(rid, "exempt", h.verifier, comment="改革试点失误", evidence=["试点方案"], **criteria)
    with pytest.raises(GuardRefused, match="已及时纠错"):
        h.fire(
            rid,
            "exempt",
            h.verifier,
            comment="改革试点失误",
            evidence=["试点方案"],
            remediated=False,
            **criteria,
        )
    view = h.fire(
        rid, "exempt", h.verifier, comment="改革试点失误", evidence=["试点方案"], remediated="是", **criteria
    )
    assert view.state == "exempted"
    assert not any(d.status == "active" for d in view.deadlines)


def test_four_eyes_the_submitter_cannot_verify(h: Harness) -> None:
    rid = h.submitted()
    same_person = h.recorder.__class__(id=h.recorder.id, role="verifier", unit="credit-office")
    with pytest.raises(GuardRefused, match="四眼原则"):
        h.fire(rid, "accept", same_person)


def test_errors_name_the_state_the_role_and_the_field(h: Harness) -> None:
    rid = h.submitted()
    with pytest.raises(TransitionNotAllowed) as not_allowed:
        h.fire(rid, "confirm", h.verifier, comment="x")
    assert "submitted" in str(not_allowed.value)
    assert "accept" in not_allowed.value.allowed
    with pytest.raises(PermissionDenied, match="recorder"):
        h.fire(rid, "accept", h.recorder)
    with pytest.raises(RecordNotFound):
        h.fire("SX20260101-NOPE00", "accept", h.verifier)
    with pytest.raises(UnknownEvent):
        h.fire(rid, "approve", h.verifier)
    with pytest.raises(PayloadInvalid, match="subject_code"):
        h.draft(subject_code="91110000600037341X")
    with pytest.raises(PayloadInvalid, match="severity"):
        h.draft(severity="very bad")
    with pytest.raises(PayloadInvalid, match="subject_id_number"):
        h.draft(subject_kind="civil_servant", subject_code=None)
    with pytest.raises(PermissionDenied, match="system"):
        h.fire(rid, "accept", h.verifier.__class__(id="x", role="system", unit="x"))


def test_happy_path_publication_explanation_rectification_expiry_and_archive(h: Harness) -> None:
    rid = h.recorded()
    h.fire(rid, "publish", h.verifier)
    h.later(days=3)
    h.fire(rid, "submit_explanation", h.subject, explanation="因资金调度不及时，未按判决支付工程款。")
    assert h.tracks(rid)["rectification"] == "rectifying"
    rectification = h.deadline(rid, "rectification")
    # 30 calendar days from 2026-05-14 end on 2026-06-13, a Saturday: moved to Monday 06-15.
    assert rectification.due_at.astimezone(SH) == dt.datetime(2026, 6, 15, 17, 0, tzinfo=SH)
    h.later(days=10)
    h.fire(rid, "submit_rectification_report", h.subject, report="已全额支付工程款及利息。")
    h.fire(rid, "accept_rectification", h.verifier, comment="整改到位")
    assert h.tracks(rid)["rectification"] == "accepted"
    assert h.deadline(rid, "rectification").status == "met"
    # 一般 under the 2026 regime: at most 1 year of publication from 认定之日 2026-05-08.
    h.at(dt.datetime(2027, 5, 10, 17, 1, tzinfo=SH))
    result = h.engine.sweep()
    assert result.errors == []
    assert h.tracks(rid)["publication"] == "expired"
    assert h.deadline(rid, "publication_period").status == "expired"
    # Kept 5 years from the end of the conduct (here the finding date), then archived.
    h.at(dt.datetime(2031, 5, 9, 9, 0, tzinfo=SH))
    h.engine.sweep()
    view = h.engine.get(rid)
    assert view.state == "archived"
    assert view.tracks and {t.track for t in view.tracks} == {"main"}
    assert h.events(rid)[-2:] == ["expire_publication", "archive"]
    assert not h.engine.query(state="recorded")


def test_overdue_written_explanation_marks_the_record_and_is_met_late(h: Harness) -> None:
    rid = h.recorded()
    h.fire(rid, "publish", h.verifier)
    due = h.deadline(rid, "written_explanation").due_at
    assert due.astimezone(SH) == dt.datetime(2026, 5, 25, 17, 0, tzinfo=SH)
    h.at(due - dt.timedelta(minutes=1))
    h.engine.sweep()  # only the reminder of the due day goes out
    assert h.events(rid)[-1] == "@reminder"
    assert not h.engine.get(rid).overdue
    h.at(due + dt.timedelta(minutes=1))
    assert h.engine.sweep().fired >= 1
    view = h.engine.get(rid)
    assert view.overdue
    assert h.tracks(rid)["rectification"] == "explanation_overdue"
    assert [v.id for v in h.engine.query(overdue=True)] == [rid]
    assert h.deadline(rid, "written_explanation").status == "expired"
    assert h.events(rid).count("explanation_overdue") == 1
    h.engine.sweep()
    assert h.events(rid).count("explanation_overdue") == 1  # an expired deadline expires once
    h.fire(rid, "submit_explanation", h.subject, explanation="逾期说明")
    assert h.deadline(rid, "written_explanation").status == "met_late"
    assert not h.engine.get(rid).overdue


def test_objection_maintained_removes_the_mark_and_resumes_the_paused_clock(h: Harness) -> None:
    rid = h.recorded()  # 2026-05-11 10:00, explanation due 2026-05-25 (10 working days)
    h.at(dt.datetime(2026, 5, 13, 10, 0, tzinfo=SH))  # Wednesday: 8 working days left (14…25)
    view = h.fire(rid, "file_objection", h.subject, reasons="判决已撤销")
    assert view.marks == ["异议处理中"]
    paused = h.deadline(rid, "written_explanation")
    assert paused.status == "paused"
    assert paused.remaining == 8
    h.at(dt.datetime(2026, 5, 18, 10, 0, tzinfo=SH))  # Monday
    view = h.fire(rid, "maintain", h.reviewer, comment="异议不成立")
    assert view.marks == []
    resumed = h.deadline(rid, "written_explanation")
    assert resumed.status == "active"
    # 8 working days from 2026-05-18 (not counted): 19,20,21,22,25,26,27,28.
    assert resumed.due_at.astimezone(SH) == dt.datetime(2026, 5, 28, 17, 0, tzinfo=SH)
    assert h.deadline(rid, "objection_decision").status == "met"


def test_objection_decision_extends_to_twenty_working_days_at_most(h: Harness) -> None:
    rid = h.recorded()
    h.fire(rid, "file_objection", h.third_party, reasons="事实有误", filed_by="某公司")
    first_due = h.deadline(rid, "objection_decision").due_at
    view = h.fire(
        rid, "extend_objection", h.reviewer, comment="需调取卷宗", working_days=10, approved_by="分管领导"
    )
    extended = [d for d in view.deadlines if d.name == "objection_decision"][-1]
    assert extended.extended == 10
    assert extended.due_at > first_due
    with pytest.raises(DeadlineExtensionRefused, match="20"):
        h.fire(rid, "extend_objection", h.reviewer, comment="再延", working_days=6, approved_by="分管领导")
    h.fire(rid, "extend_objection", h.reviewer, comment="再延", working_days=5, approved_by="分管领导")
    assert h.deadline(rid, "objection_decision").extended == 15


def test_objection_corrected_amends_facts_and_keeps_the_old_ones_in_history(h: Harness) -> None:
    rid = h.recorded()
    h.fire(rid, "publish", h.verifier)
    before = h.deadline(rid, "publication_period").due_at
    h.fire(rid, "file_objection", h.subject, reasons="认定之日有误")
    with pytest.raises(GuardRefused, match="没有任何内容发生变化"):
        h.fire(rid, "correct", h.reviewer, comment="更正", facts="拖欠工程款，拒不履行生效判决。")
    view = h.fire(
        rid,
        "correct",
        h.reviewer,
        comment="认定之日应为判决生效日",
        finding_date="2026-04-20",
        facts="更正后的事实",
    )
    assert view.data["facts"] == "更正后的事实"
    assert view.marks == []
    last = h.engine.history(rid)[-1]
    assert ["facts", "拖欠工程款，拒不履行生效判决。", "更正后的事实"] in last.effects["data"]
    recomputed = h.deadline(rid, "publication_period").due_at
    assert recomputed < before  # the publication period now runs from 2026-04-20


def test_objection_revoked_withdraws_publication_lifts_sanctions_and_restores_reputation(h: Harness) -> None:
    rid = h.recorded()
    h.fire(rid, "publish", h.verifier)
    h.fire(rid, "file_objection", h.subject, reasons="判决已被再审撤销")
    view = h.fire(rid, "revoke", h.reviewer, comment="再审撤销原判决", sanctions_wrong=True)
    assert view.state == "revoked"
    tracks = h.tracks(rid)
    assert tracks["publication"] == "withdrawing"
    assert tracks["sanctions"] == "lifted"
    assert tracks["restoration"] == "pending"
    assert "objection" not in tracks and "rectification" not in tracks
    assert h.deadline(rid, "written_explanation").status == "cancelled"
    withdrawal = h.deadline(rid, "publication_withdrawal")
    assert withdrawal.due_at.astimezone(SH).date() == dt.date(2026, 5, 14)
    with pytest.raises(GuardRefused, match="撤下公示和恢复信誉办结后方可归档"):
        h.fire(rid, "close_revoked", h.verifier, comment="办结")
    h.fire(rid, "confirm_withdrawal", h.verifier)
    h.fire(rid, "complete_restoration", h.verifier, comment="已发函说明", measures="在信用网站刊登更正说明")
    view = h.fire(rid, "close_revoked", h.verifier, comment="办结")
    assert view.state == "archived"
    mails = {m.template for m in h.engine.outbox.list(record_id=rid, limit=100)}
    assert {"revocation", "reputation_restoration", "objection_decided"} <= mails


def test_revocation_without_wrong_sanctions_needs_no_restoration(h: Harness) -> None:
    rid = h.recorded()
    h.fire(rid, "file_objection", h.subject, reasons="理由")
    h.fire(rid, "revoke", h.reviewer, comment="撤销")
    tracks = h.tracks(rid)
    assert tracks["restoration"] == "not_required"
    assert tracks["publication"] == "not_published"
    assert h.fire(rid, "close_revoked", h.verifier, comment="办结").state == "archived"


def _rectified(h: Harness) -> str:
    rid = h.recorded()
    h.fire(rid, "publish", h.verifier)
    h.fire(rid, "submit_explanation", h.subject, explanation="说明")
    h.fire(rid, "submit_rectification_report", h.subject, report="已整改")
    h.fire(rid, "accept_rectification", h.verifier, comment="验收合格")
    return rid


def test_repair_is_refused_before_the_minimum_publication_period_and_granted_after(h: Harness) -> None:
    rid = _rectified(h)
    apply = {"means": "作出信用承诺,完成失信整改", "commitment": ["信用承诺书"]}
    # 一般: at least 3 months from 认定之日 2026-05-08, i.e. through 2026-08-08.
    h.at(dt.datetime(2026, 8, 8, 12, 0, tzinfo=SH))
    with pytest.raises(GuardRefused, match="2026-08-08"):
        h.fire(rid, "apply_repair", h.subject, **apply)
    h.at(dt.datetime(2026, 8, 10, 9, 0, tzinfo=SH))
    view = h.fire(rid, "apply_repair", h.subject, **apply)
    assert h.tracks(rid)["repair"] == "under_review"
    assert view.data == h.engine.get(rid).data
    wrong_unit = h.verifier.__class__(id="x.y", role="reviewer", unit="credit-office")
    with pytest.raises(GuardRefused, match="谁认定、谁修复"):
        h.fire(rid, "grant_repair", wrong_unit, comment="准予")
    view = h.fire(rid, "grant_repair", h.reviewer, comment="承诺并整改到位，准予修复")
    assert view.state == "repaired"
    tracks = h.tracks(rid)
    assert tracks["publication"] == "withdrawing"
    assert tracks["sanctions"] == "lifted"
    assert not view.active


def test_repair_refused_can_be_applied_for_again(h: Harness) -> None:
    rid = _rectified(h)
    h.at(dt.datetime(2026, 9, 1, 9, 0, tzinfo=SH))
    h.fire(rid, "apply_repair", h.subject, means=["commitment"], commitment=["信用承诺书"])
    h.fire(rid, "refuse_repair", h.reviewer, comment="材料不全")
    assert h.tracks(rid)["repair"] == "none"
    h.fire(rid, "apply_repair", h.subject, means=["commitment", "rectification"], commitment=["信用承诺书"])
    assert h.tracks(rid)["repair"] == "under_review"


def test_repair_needs_accepted_rectification(h: Harness) -> None:
    rid = h.recorded()
    h.at(dt.datetime(2026, 9, 1, 9, 0, tzinfo=SH))
    with pytest.raises(GuardRefused, match="整改经验收后方可申请信用修复"):
        h.fire(rid, "apply_repair", h.subject, means=["commitment"], commitment=["信用承诺书"])


def test_serious_records_found_before_april_2026_keep_the_old_minimum(h: Harness) -> None:
    """527号 had six months for 严重 findings; from 2026-04-01 it is one year."""
    old = _rectified_with(h, finding_date="2026-03-20", severity="serious")
    new = _rectified_with(h, finding_date="2026-04-02", severity="serious")
    h.at(dt.datetime(2026, 9, 21, 9, 0, tzinfo=SH))
    h.fire(old, "apply_repair", h.subject, means=["commitment"], commitment=["承诺书"])
    with pytest.raises(GuardRefused, match="2027-04-02"):
        h.fire(new, "apply_repair", h.subject, means=["commitment"], commitment=["承诺书"])


def _rectified_with(h: Harness, **fields: str) -> str:
    rid = h.recorded(**fields)
    h.fire(rid, "submit_explanation", h.subject, explanation="说明")
    h.fire(rid, "submit_rectification_report", h.subject, report="已整改")
    h.fire(rid, "accept_rectification", h.verifier, comment="验收合格")
    return rid


def test_only_the_responsible_unit_answers_for_its_record(h: Harness) -> None:
    rid = h.recorded()
    other = h.subject.__class__(id="x", role="subject", unit="other-unit")
    with pytest.raises(GuardRefused, match="书面说明须由责任单位提交"):
        h.fire(rid, "submit_explanation", other, explanation="x")


def test_civil_servant_records_are_not_published_and_keep_the_id_number_out_of_history(h: Harness) -> None:
    rid = h.recorded(**PERSON)
    view = h.engine.get(rid)
    assert view.data["subject_id_number"] == "110105********002X"
    assert PERSON_ID not in str(h.engine.history(rid))
    with pytest.raises(GuardRefused, match="自然人"):
        h.fire(rid, "publish", h.verifier)
    h.fire(rid, "share_internally", h.verifier, comment="公务员记录仅内部共享")
    found = h.engine.credit_check(requester="hr-appraisal", purpose="年度考核", id_number=PERSON_ID.lower())
    assert [v.id for v in found] == [rid]
    assert h.engine.store.records.personal(rid) == {"subject_id_number": PERSON_ID}
    h.fire(rid, "file_objection", h.subject, reasons="x")
    h.fire(rid, "revoke", h.reviewer, comment="撤销")
    h.fire(rid, "close_revoked", h.verifier, comment="办结")
    assert h.engine.store.records.personal(rid) == {}
    assert h.engine.credit_check(requester="hr", purpose="考核", id_number=PERSON_ID) == []


def test_mitigation_is_a_decision_with_reasons_in_history(h: Harness) -> None:
    rid = h.recorded()
    with pytest.raises(PayloadInvalid, match="evidence"):
        h.fire(rid, "mitigate_sanctions", h.verifier, comment="主动挽回损失")
    h.fire(rid, "mitigate_sanctions", h.verifier, comment="主动挽回损失", evidence=["还款凭证"])
    assert h.tracks(rid)["sanctions"] == "mitigated"
    last = h.engine.history(rid)[-1]
    assert last.comment == "主动挽回损失" and last.role == "verifier"
