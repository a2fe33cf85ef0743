"""``api``: the HTTP API over a fresh database of each backend (``support.api``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.api import Api


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    made = Api.create(database_url)
    try:
        yield made
    finally:
        made.client.close()
        made.h.engine.close()
