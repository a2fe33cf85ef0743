"""A pooled PostgreSQL connection is pinged only after sitting idle (not at every command), and
one the server dropped meanwhile is replaced instead of failing the next command."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from storage import db
from storage.store import Store


@pytest.fixture
def pg_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite has no server connection to lose")
    return database_url


def _init(url: str) -> Store:
    from workflow import Engine

    Engine.init(url)[0].close()
    return Store.open(url)


def test_a_connection_dropped_while_idle_is_replaced(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _init(pg_url)
    try:
        with store.db.pooled() as raw:
            pid = raw.driver_connection.info.backend_pid
        with psycopg.connect(
            pg_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
        ) as other:
            other.execute("select pg_terminate_backend(%s)", (pid,))
        monkeypatch.setattr(db, "IDLE_PING_S", -1.0)  # as if it had sat idle long enough
        assert store.meta()  # a fresh connection, not an error
        with store.db.pooled() as raw:
            assert raw.driver_connection.info.backend_pid != pid
    finally:
        store.close()


def test_a_connection_in_steady_use_is_not_pinged(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _init(pg_url)
    pings: list[object] = []
    real = store.engine.dialect.do_ping

    def counted(connection: Any) -> bool:
        pings.append(connection)
        return bool(real(connection))

    monkeypatch.setattr(store.engine.dialect, "do_ping", counted)
    try:
        for _ in range(5):
            assert store.meta()
        assert pings == []
        monkeypatch.setattr(db, "IDLE_PING_S", -1.0)
        assert store.meta()
        assert len(pings) == 1
    finally:
        store.close()
