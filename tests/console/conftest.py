"""``console``: the web console over a fresh database of each backend (``support.console``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.console import Console


@pytest.fixture
def console(database_url: str) -> Iterator[Console]:
    made = Console.create(database_url)
    try:
        yield made
    finally:
        made.close()
