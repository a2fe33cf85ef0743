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


def test_every_example_is_covered_here() -> None:
    assert sorted(p.stem for p in EXAMPLES.glob("*.py")) == ["credit_check", "http_api", "objection"]


def test_credit_check_finds_the_active_record(database_url: str) -> None:
    found = _load("credit_check").main(database_url)
    assert len(found) == 1


def test_objection_example_ends_with_an_intact_history(database_url: str) -> None:
    assert _load("objection").main(database_url) is True


def test_http_api_example_takes_a_record_to_verifying_over_http(database_url: str) -> None:
    assert _load("http_api").main(database_url) == "verifying"


@pytest.mark.parametrize("name", ["credit_check", "http_api", "objection"])
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
