"""The CLI tests run in a clean environment: no ambient ``CHENGXIN_*`` setting, mail in the test's folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No ambient CHENGXIN_* setting leaks in, and no mail leaks out into the checkout's ``mail/``;
    wide tables; structlog restored after in-process runs."""
    for name in list(os.environ):
        if name.startswith("CHENGXIN_") and name not in {"CHENGXIN_TEST_PG_URL", "CHENGXIN_CACHE_DIR"}:
            monkeypatch.delenv(name)
    monkeypatch.setenv("CHENGXIN_MAIL_DIR", str(tmp_path / "mail"))
    monkeypatch.setenv("COLUMNS", "200")
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)
