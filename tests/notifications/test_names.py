"""The notices that have templates, read from the folders without Jinja2, are exactly those the
template catalogue finds (the engine asks the first when it loads definitions)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from notifications import TemplateCatalog
from notifications.errors import ConfigurationError
from notifications.names import notice_names


def test_the_package_templates_are_listed_alike() -> None:
    assert notice_names() == TemplateCatalog().names()


def test_an_override_folder_is_listed_alike(tmp_path: Path) -> None:
    (tmp_path / "overdue.subject.j2").write_text("x", encoding="utf-8")  # overrides one part only
    for part in ("subject", "txt", "html"):
        (tmp_path / f"own.{part}.j2").write_text("x", encoding="utf-8")
    (tmp_path / "_part.j2").write_text("x", encoding="utf-8")
    assert notice_names([tmp_path]) == TemplateCatalog([tmp_path]).names()
    assert "own" in notice_names([tmp_path]) and "overdue" in notice_names([tmp_path])


def test_a_notice_of_ones_own_needs_all_three_parts(tmp_path: Path) -> None:
    (tmp_path / "own.subject.j2").write_text("x", encoding="utf-8")
    (tmp_path / "own.txt.j2").write_text("x", encoding="utf-8")
    assert "own" not in notice_names([tmp_path])
    (tmp_path / "own.html.j2").write_text("x", encoding="utf-8")
    assert "own" in notice_names([tmp_path]) and "own" in TemplateCatalog([tmp_path]).names()


def test_a_missing_override_folder_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        notice_names([tmp_path / "missing"])


def test_listing_loads_no_template_engine() -> None:
    import subprocess

    script = "import sys\nfrom notifications.names import notice_names\nnotice_names()\nprint('jinja2' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"
