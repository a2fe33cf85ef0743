"""Shared fixtures: every storage and engine test runs on SQLite and on PostgreSQL.

PostgreSQL is the server at ``CHENGXIN_TEST_PG_URL`` (default 127.0.0.1:5432, user postgres,
database test); each test gets a schema of its own, dropped afterwards. Without a reachable
server the PostgreSQL parameter is skipped with the reason — except under ``CI=true``, where
an unreachable server fails the run. ``h`` is the scenario harness of ``support.harness`` on
such a database, its clock at Monday 2026-05-11 09:00 (Asia/Shanghai).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from functools import cache

import psycopg
import pytest
from support.harness import Harness

PG_URL = os.environ.get("CHENGXIN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
# The parsed-definitions cache of every engine and command the suite opens goes to a folder of
# this run, not the user's ~/.cache (the tests of the cache itself choose their own folders).
os.environ.setdefault("CHENGXIN_CACHE_DIR", tempfile.mkdtemp(prefix="chengxin-cache-"))
BACKENDS = ("sqlite", "postgresql")


@cache
def _pg_problem() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3) as connection:
            connection.execute("select 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {PG_URL} is unreachable: {str(exc).strip().splitlines()[0]}"
    return None


def _require_pg() -> None:
    problem = _pg_problem()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{problem} (CI=true: PostgreSQL tests must run, not skip)")
    pytest.skip(problem)


def pg_schema_url(schema: str) -> str:
    """The test database's URL, with the test's own schema first on the search path.

    ``synchronous_commit=off``: a commit returns before the server's WAL reaches the disk. Only a
    crash of the server itself (which no test causes) could lose such a commit; killed client
    processes, which the tests do kill, lose nothing either way. It takes the suite's fsyncs off
    the critical path.
    """
    base = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}%20-csynchronous_commit%3Doff"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db')}/chengxin.db"
        return
    _require_pg()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_URL, autocommit=True) as connection:
        connection.execute(f'create schema "{schema}"')
    try:
        yield pg_schema_url(schema)
    finally:
        _drop_schema(schema)


def _drop_schema(schema: str) -> None:
    """Drop a test's schema. A failed test's traceback can keep a suspended history stream (an
    open read transaction) alive, whose locks would make the drop wait forever: after a few
    seconds, the sessions holding locks in the schema are ended and the drop is tried again."""
    with psycopg.connect(PG_URL, autocommit=True) as connection:
        connection.execute("set lock_timeout = '5s'")
        try:
            connection.execute(f'drop schema "{schema}" cascade')
        except psycopg.errors.LockNotAvailable:
            connection.execute(
                """select pg_terminate_backend(l.pid) from pg_locks l
                   join pg_class c on c.oid = l.relation join pg_namespace n on n.oid = c.relnamespace
                   where n.nspname = %s and l.pid <> pg_backend_pid()""",
                (schema,),
            )
            connection.execute("set lock_timeout = 0")
            connection.execute(f'drop schema "{schema}" cascade')


@pytest.fixture
def h(database_url: str) -> Iterator[Harness]:
    """A scenario harness on a fresh database of each backend (``support.harness``)."""
    harness = Harness.create(database_url)
    yield harness
    harness.engine.close()
