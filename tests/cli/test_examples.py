"""Every example in examples/ runs, on both backends, and does what its docstring says."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


JURISDICTIONS = ["guangyuan", "taian", "tianjin", "tongxin"]


def test_every_example_is_covered_here() -> None:
    """Modules whose name starts with an underscore are shared helpers, not examples."""
    examples = sorted(p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_"))
    assert examples == sorted(["credit_check", "http_api", "objection", *JURISDICTIONS])


def test_credit_check_finds_the_active_record(database_url: str) -> None:
    found = _load("credit_check").main(database_url)
    assert len(found) == 1


def test_objection_example_ends_with_an_intact_history(database_url: str) -> None:
    assert _load("objection").main(database_url) is True


def _timeline(name: str, database_url: str, tmp_path: Path) -> str:
    lines = _load(name).main(tmp_path, url=database_url)
    text = "\n".join(lines)
    assert lines[-1].endswith("审计 audit: 历史完好 every history intact"), text
    return text


def test_tianjin_example_plays_the_procurement_breach_through_the_national_day_holiday(
    database_url: str, tmp_path: Path
) -> None:
    text = _timeline("tianjin", database_url, tmp_path)
    assert (
        "书面说明原因期限 due 2026-10-15 17:00" in text
        and "国庆节" in text
        and "计入调休上班日 2026-10-10" in text
    )
    assert "2026-10-15（周四）17:01  国庆假期后书面说明逾期 explanation overdue" in text
    assert "邮件 mail → 某区人民政府：【逾期情况通报】某区住房和建设委员会：书面说明原因期限已逾期" in text
    assert "整改已验收" in text and "异议处理：维持 objection maintained" in text
    assert "2026-12-30（周三）10:00  认定法院准予修复 repaired" in text and "已修复" in text
    assert "2026-07-01（周三）09:00  年中检查报送期限已过" in text and "报送逾期" in text
    assert "检查考核：已评定" in text
    assert "属实已整改" in text and "守诺践诺" in text


def test_guangyuan_example_revokes_a_wrong_record_and_restores_the_reputation(
    database_url: str, tmp_path: Path
) -> None:
    text = _timeline("guangyuan", database_url, tmp_path)
    assert "实施惩戒：公开通报批评、取消荣誉评选资格" in text
    assert (
        "认定单位撤销记录，惩戒错误 revoked" in text and "恢复信誉、消除不良影响 reputation restored" in text
    )
    assert "【恢复信誉通知】" in text and "已归档" in text
    assert "经核查不属实，已答复" in text and "守诺践诺" in text


def test_tongxin_example_exempts_a_reform_error_and_records_a_broken_commitment(
    database_url: str, tmp_path: Path
) -> None:
    text = _timeline("tongxin", database_url, tmp_path)
    assert "容错纠错，免予记录 exempted" in text and "容错免予记录" in text
    assert (
        "2026-06-30（周二）17:01  承诺到期未践诺 overdue" in text
        and "【逾期情况通报】同心县生态环境局" in text
    )
    assert "认定未践诺并记入政务失信记录 broken" in text and "同一事务中生成失信记录" in text
    assert "另一审核人确认记录 confirmed (four eyes)" in text and "属实已整改" in text


def test_taian_example_turns_a_refused_hotline_complaint_into_a_record(
    database_url: str, tmp_path: Path
) -> None:
    text = _timeline("taian", database_url, tmp_path)
    assert "12345热线受理投诉" in text and "被投诉单位拒不整改 refused" in text
    assert "同一事务中生成泰安失信记录" in text and "认定失信并记录" in text
    assert "邮件 mail → 泰安市某区人民政府：【失信记录情况通报】" in text  # Tai'an: the superior unit is told
    assert "【信用修复告知书】" in text and "投诉人信息未出现在任何邮件中" in text
    assert "评定：按承诺履行" in text and "确认守诺践诺 kept" in text


def test_http_api_example_takes_a_record_to_verifying_over_http(database_url: str) -> None:
    assert _load("http_api").main(database_url) == "verifying"


@pytest.mark.parametrize("name", ["credit_check", "http_api", "objection", *JURISDICTIONS])
def test_examples_run_as_scripts(name: str) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
