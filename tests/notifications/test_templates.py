"""The notice templates: every notice renders against its golden files, and rendering fails loudly.

Set ``CHENGXIN_UPDATE_GOLDEN=1`` to rewrite ``tests/golden/notifications/`` from the current templates,
then read the diff before committing it.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from stdnum.cn import ric
from support import notification_samples as samples

from notifications import (
    NOTICES,
    ConfigurationError,
    PrivacyViolation,
    RenderedMail,
    TemplateCatalog,
    TemplateNotFound,
    TemplateRenderError,
    check_context,
    cn_date,
    cn_datetime,
    find_id_numbers,
    mask_id_number,
    mask_id_numbers,
)

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "notifications"
UPDATE_GOLDEN = os.environ.get("CHENGXIN_UPDATE_GOLDEN") == "1"

ID_NUMBER = "11010519491231002X"  # a made-up number that passes every check of stdnum.cn.ric
# A foundation's credit code (5 民政, 3 基金会) whose digits also pass every ID number check.
CREDIT_CODE_LIKE_ID = "530102199003070593"


@pytest.fixture(scope="module")
def catalog() -> TemplateCatalog:
    return TemplateCatalog()


def _parts(mail: RenderedMail) -> dict[str, str]:
    return {"subject": mail.subject + "\n", "txt": mail.text, "html": mail.html}


def test_the_ids_used_here_pass_the_checks_they_stand_for() -> None:
    assert ric.is_valid(ID_NUMBER)
    assert ric.is_valid(CREDIT_CODE_LIKE_ID)


def test_every_notice_of_the_contract_has_templates_and_a_sample(catalog: TemplateCatalog) -> None:
    assert set(catalog.names()) == set(NOTICES)
    assert set(samples.names()) == set(NOTICES)
    assert all(catalog.has(name) for name in NOTICES)
    assert not catalog.has("_layout")


@pytest.mark.parametrize("name", sorted(NOTICES))
def test_notice_renders_as_its_golden_files(catalog: TemplateCatalog, name: str) -> None:
    mail = catalog.render(name, samples.sample(name))
    for suffix, rendered in _parts(mail).items():
        golden = GOLDEN / f"{name}.{suffix}"
        if UPDATE_GOLDEN:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(rendered, encoding="utf-8", newline="")
            continue
        assert golden.exists(), f"{golden} is missing; run with CHENGXIN_UPDATE_GOLDEN=1 to create it"
        assert rendered == golden.read_text(encoding="utf-8"), f"{golden.name} differs from the golden file"


@pytest.mark.parametrize("name", sorted(NOTICES))
def test_every_notice_cites_its_legal_basis_and_has_a_one_line_subject(
    catalog: TemplateCatalog, name: str
) -> None:
    context = samples.sample(name)
    mail = catalog.render(name, context)
    assert context["legal_basis"] in mail.text
    assert context["legal_basis"] in mail.html
    assert "\n" not in mail.subject
    assert mail.subject.startswith("【")


@pytest.mark.parametrize("name", sorted(name for name, spec in NOTICES.items() if spec.carries_deadline))
def test_every_deadline_notice_shows_due_time_explanation_and_its_basis(
    catalog: TemplateCatalog, name: str
) -> None:
    context = samples.sample(name)
    deadline = context["deadline"]
    mail = catalog.render(name, context)
    for body in (mail.text, mail.html):
        assert cn_datetime(deadline["due_at"]) in body
        assert deadline["rule"] in body
        assert deadline["legal_basis"] in body
        for line in deadline["explanation"]:
            assert line in body
        assert ("(暂定 provisional)" in body) is deadline["provisional"]


def test_a_provisional_deadline_is_marked_in_text_and_html(catalog: TemplateCatalog) -> None:
    context = samples.sample("explanation_request")
    context["deadline"]["provisional"] = True
    mail = catalog.render("explanation_request", context)
    assert "2026年10月15日（星期四）17:00前 (暂定 provisional)" in mail.text
    assert "(暂定 provisional)" in mail.html


def test_the_contract_lists_deadline_notices_and_required_keys() -> None:
    assert NOTICES["record_notice"].carries_deadline
    assert not NOTICES["repair_notice"].carries_deadline
    assert "record" not in NOTICES["supervision_round_opened"].required_keys
    assert {"recipient", "definition", "legal_basis", "record", "deadline", "subordinate"} == (
        NOTICES["escalation"].required_keys
    )


@pytest.mark.parametrize(
    ("kind", "subject_start", "sentence"),
    [
        ("before", "【期限提醒】书面说明原因还有5个工作日到期", "距到期还有"),
        ("due", "【今日到期】书面说明原因", "于今日到期"),
        ("overdue", "【已逾期】书面说明原因", "贵单位尚未办结"),
    ],
    ids=["before", "due", "overdue"],
)
def test_one_reminder_template_serves_every_rung(
    catalog: TemplateCatalog, kind: str, subject_start: str, sentence: str
) -> None:
    context = samples.sample("reminder")
    context["rung"] = {"kind": kind, "label": "提醒", **({"working_days": 5} if kind == "before" else {})}
    mail = catalog.render("reminder", context)
    assert mail.subject.startswith(subject_start)
    assert sentence in mail.text
    assert sentence in mail.html


@pytest.mark.parametrize(("name", "context"), samples.variants(), ids=lambda value: str(value)[:40])
def test_every_branch_of_the_templates_renders(
    catalog: TemplateCatalog, name: str, context: dict[str, Any]
) -> None:
    mail = catalog.render(name, context)
    assert context["legal_basis"] in mail.text


@pytest.mark.parametrize(
    ("outcome", "sentence"),
    [("maintained", "维持原记录"), ("corrected", "予以更正"), ("revoked", "撤销该失信记录")],
)
def test_objection_decision_says_what_follows_from_the_outcome(
    catalog: TemplateCatalog, outcome: str, sentence: str
) -> None:
    context = samples.sample("objection_decided")
    context["objection"]["outcome"] = outcome
    assert sentence in catalog.render("objection_decided", context).text


def test_a_missing_nested_value_is_named_before_any_template_runs(catalog: TemplateCatalog) -> None:
    context = samples.sample("record_notice")
    del context["deadline"]["due_at"]
    with pytest.raises(TemplateRenderError) as caught:
        catalog.render("record_notice", context)
    assert caught.value.template == "record_notice"
    assert caught.value.variable == "deadline.due_at"
    assert "deadline.due_at" in str(caught.value)


def test_a_missing_section_is_named(catalog: TemplateCatalog) -> None:
    context = samples.sample("escalation")
    del context["subordinate"]
    with pytest.raises(TemplateRenderError, match="subordinate") as caught:
        catalog.render("escalation", context)
    assert caught.value.variable == "subordinate"


def test_a_naive_due_time_is_refused(catalog: TemplateCatalog) -> None:
    context = samples.sample("record_notice")
    context["deadline"]["due_at"] = datetime(2026, 12, 3, 17, 0)  # noqa: DTZ001 - the mistake under test
    with pytest.raises(TemplateRenderError) as caught:
        catalog.render("record_notice", context)
    assert caught.value.variable == "deadline.due_at"


def test_a_wrongly_typed_list_item_is_named_with_its_index() -> None:
    context = samples.sample("correction")
    context["correction"]["changes"][1]["new"] = 3
    with pytest.raises(TemplateRenderError) as caught:
        check_context("correction", context)
    assert caught.value.variable == "correction.changes[1].new"


def test_a_template_using_a_missing_variable_names_the_file_the_line_and_the_variable(tmp_path: Path) -> None:
    (tmp_path / "record_notice.txt.j2").write_text("{{ recipient.name }}\n{{ record.case_officer }}\n")
    with pytest.raises(TemplateRenderError) as caught:
        TemplateCatalog(override_dirs=[tmp_path]).render("record_notice", samples.sample("record_notice"))
    error = caught.value
    assert (error.template, error.variable, error.line) == ("record_notice.txt.j2", "case_officer", 2)
    assert "record_notice.txt.j2, line 2" in str(error)


def test_a_missing_variable_in_a_shared_part_names_the_part(tmp_path: Path) -> None:
    (tmp_path / "_footer.txt.j2").write_text("{{ definition.telephone }}\n")
    with pytest.raises(TemplateRenderError) as caught:
        TemplateCatalog(override_dirs=[tmp_path]).render("repair_notice", samples.sample("repair_notice"))
    assert caught.value.template == "repair_notice.txt.j2 (in _footer.txt.j2)"
    assert caught.value.variable == "telephone"


def test_a_syntax_error_in_an_override_is_a_render_error(tmp_path: Path) -> None:
    (tmp_path / "overdue.html.j2").write_text("{% if %}\n")
    with pytest.raises(TemplateRenderError) as caught:
        TemplateCatalog(override_dirs=[tmp_path]).render("overdue", samples.sample("overdue"))
    assert caught.value.template == "overdue.html.j2"
    assert caught.value.line == 1


def test_override_templates_run_in_a_sandbox(tmp_path: Path) -> None:
    (tmp_path / "overdue.subject.j2").write_text("{{ record.id.__class__.__mro__ }}\n")
    with pytest.raises(TemplateRenderError):
        TemplateCatalog(override_dirs=[tmp_path]).render("overdue", samples.sample("overdue"))


def test_an_override_dir_replaces_only_the_files_it_has(catalog: TemplateCatalog, tmp_path: Path) -> None:
    (tmp_path / "record_notice.subject.j2").write_text("{{ definition.jurisdiction }}告知：{{ record.id }}\n")
    context = samples.sample("record_notice")
    overridden = TemplateCatalog(override_dirs=[tmp_path]).render("record_notice", context)
    default = catalog.render("record_notice", context)
    assert overridden.subject == "天津市告知：CX-2026-000128"
    assert (overridden.text, overridden.html) == (default.text, default.html)


def test_the_first_override_dir_wins_and_shared_parts_can_be_overridden(tmp_path: Path) -> None:
    first, second = tmp_path / "city", tmp_path / "province"
    first.mkdir()
    second.mkdir()
    (first / "_footer.txt.j2").write_text("市级页脚\n")
    (second / "_footer.txt.j2").write_text("省级页脚\n")
    mail = TemplateCatalog(override_dirs=[first, second]).render("overdue", samples.sample("overdue"))
    assert mail.text.endswith("市级页脚\n")


def test_a_missing_override_dir_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="override_dirs"):
        TemplateCatalog(override_dirs=[tmp_path / "absent"])


def test_an_unknown_or_incomplete_notice_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "ledger_check.subject.j2").write_text("台账检查\n")
    catalog = TemplateCatalog(override_dirs=[tmp_path])
    assert not catalog.has("ledger_check")
    with pytest.raises(TemplateNotFound) as caught:
        catalog.render("ledger_check", {})
    assert caught.value.missing == ("ledger_check.txt.j2", "ledger_check.html.j2")
    with pytest.raises(TemplateNotFound):
        catalog.render("no_such_notice", {})


def test_a_jurisdiction_can_add_a_notice_of_its_own(tmp_path: Path) -> None:
    for part, text in (
        ("subject", "台账检查：{{ task }}"),
        ("txt", "请报送{{ task }}进展。\n"),
        ("html", "<p>{{ task }}</p>\n"),
    ):
        (tmp_path / f"ledger_check.{part}.j2").write_text(text)
    catalog = TemplateCatalog(override_dirs=[tmp_path])
    mail = catalog.render("ledger_check", {"task": "A&B"})
    assert "ledger_check" in catalog.names()
    assert (mail.subject, mail.text, mail.html) == ("台账检查：A&B", "请报送A&B进展。\n", "<p>A&amp;B</p>\n")


def test_html_is_autoescaped_and_text_is_not(catalog: TemplateCatalog) -> None:
    context = samples.sample("record_notice")
    context["record"]["facts"] = '未按<合同>约定付款 & "延期"'
    mail = catalog.render("record_notice", context)
    assert '未按<合同>约定付款 & "延期"' in mail.text
    assert "未按&lt;合同&gt;约定付款 &amp; &#34;延期&#34;" in mail.html
    assert "<合同>" not in mail.html


def test_a_dataclass_context_renders_like_a_dict(catalog: TemplateCatalog) -> None:
    @dataclasses.dataclass(frozen=True)
    class Repair:
        earliest_date: date
        means: tuple[str, ...]
        decided_by: str

    context = samples.sample("repair_notice")
    as_dict = catalog.render("repair_notice", context)
    context["repair"] = Repair(**context["repair"] | {"means": tuple(context["repair"]["means"])})
    assert catalog.render("repair_notice", context) == as_dict


def test_an_event_given_as_none_is_left_out(catalog: TemplateCatalog) -> None:
    context = samples.sample("overdue")
    assert "event" not in context
    assert catalog.render("overdue", context | {"event": None}) == catalog.render("overdue", context)


def test_an_id_number_in_the_context_stops_rendering(catalog: TemplateCatalog) -> None:
    context = samples.sample("record_notice")
    context["record"]["facts"] += f"经办人身份证号{ID_NUMBER}。"
    with pytest.raises(PrivacyViolation) as caught:
        catalog.render("record_notice", context)
    assert caught.value.part == "text"
    assert caught.value.masked == ("110105********002X",)
    assert ID_NUMBER not in str(caught.value)


def test_an_id_number_in_the_subject_is_caught(tmp_path: Path) -> None:
    (tmp_path / "overdue.subject.j2").write_text("逾期 {{ record.responsible_unit_name }}\n")
    context = samples.sample("overdue")
    context["record"]["responsible_unit_name"] = ID_NUMBER.lower()
    with pytest.raises(PrivacyViolation) as caught:
        TemplateCatalog(override_dirs=[tmp_path]).render("overdue", context)
    assert caught.value.part == "subject"


@pytest.mark.parametrize(
    "disguised",
    [
        "110105 19491231 002X",
        "110105-19491231-002x",
        "１１０１０５１９４９１２３１００２Ｘ",
        "<b>110105</b>19491231002X",
        "&#49;1010519491231002X",
    ],
    ids=["spaces", "hyphens", "full-width", "split-by-markup", "entity"],
)
def test_disguised_id_numbers_are_found(disguised: str) -> None:
    assert find_id_numbers(f"联系人{disguised}。") == [ID_NUMBER]


@pytest.mark.parametrize(
    "typed",
    [
        "11010519491231002X",
        "11010519491231002x",
        "110105 19491231 002X",
        "110105-19491231-002X",
        "１１０１０５１９４９１２３１００２Ｘ",
    ],
    ids=["plain", "lower-case", "spaces", "hyphens", "full-width"],
)
def test_an_id_number_typed_into_free_text_is_masked(typed: str) -> None:
    masked = mask_id_numbers(f"经办人身份证号{typed}，电话022-12345678。")
    assert masked == "经办人身份证号110105********002X，电话022-12345678。"
    assert find_id_numbers(masked) == []


def test_masking_leaves_what_is_no_id_number_and_what_it_cannot_see() -> None:
    wrong_check_digit = ID_NUMBER[:-1] + "1"
    left = f"{wrong_check_digit} 1{ID_NUMBER} 津0101民初1234号 {CREDIT_CODE_LIKE_ID}"
    assert mask_id_numbers(left, allow={CREDIT_CODE_LIKE_ID}) == left
    split = f"<b>{ID_NUMBER[:6]}</b>{ID_NUMBER[6:]}"  # not typed by accident: refused, not masked
    assert mask_id_numbers(split) == split and find_id_numbers(split) == [ID_NUMBER]


def test_numbers_that_are_not_id_numbers_pass() -> None:
    wrong_check_digit = ID_NUMBER[:-1] + "1"
    assert find_id_numbers(f"{wrong_check_digit} 1{ID_NUMBER} 津0101民初1234号 110105********002X") == []


def test_a_declared_credit_code_that_looks_like_an_id_number_is_allowed(catalog: TemplateCatalog) -> None:
    context = samples.sample("superior_notice")
    context["recipient"]["code"] = CREDIT_CODE_LIKE_ID
    mail = catalog.render("superior_notice", context)
    assert find_id_numbers(mail.text) == []
    context["recipient"]["code"] = None
    context["record"]["facts"] += CREDIT_CODE_LIKE_ID
    with pytest.raises(PrivacyViolation):
        catalog.render("superior_notice", context)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (ID_NUMBER, "110105********002X"),
        (" 11010519491231002x ", "110105********002X"),
        ("1234567890", "**********"),
    ],
)
def test_mask_id_number_keeps_the_first_six_and_last_four(value: str, masked: str) -> None:
    assert mask_id_number(value) == masked


def test_dates_are_written_in_chinese_in_shanghai_time() -> None:
    assert cn_datetime(datetime(2026, 12, 3, 9, 0, tzinfo=UTC)) == "2026年12月3日（星期四）17:00"
    assert cn_datetime(datetime(2026, 12, 2, 16, 30, tzinfo=UTC)) == "2026年12月3日（星期四）00:30"
    assert cn_datetime(datetime(2026, 12, 3, 17, 0, tzinfo=timezone(timedelta(hours=8)))) == (
        "2026年12月3日（星期四）17:00"
    )
    assert cn_date(date(2026, 12, 3)) == "2026年12月3日（星期四）"
    assert cn_date(datetime(2026, 12, 2, 16, 30, tzinfo=UTC)) == "2026年12月3日（星期四）"


def test_dates_in_a_rendered_notice_come_from_utc_in_shanghai_time(catalog: TemplateCatalog) -> None:
    context = samples.sample("record_notice")
    context["deadline"]["due_at"] = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert "请贵单位于2026年12月3日（星期四）17:00前" in catalog.render("record_notice", context).text


def test_naive_datetimes_are_refused_by_the_filters() -> None:
    with pytest.raises(ValueError, match="naive"):
        cn_datetime(datetime(2026, 12, 3, 17, 0))  # noqa: DTZ001 - the mistake under test
    with pytest.raises(TypeError):
        cn_datetime(date(2026, 12, 3))  # type: ignore[arg-type]
