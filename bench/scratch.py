"""Scratch databases for one benchmark: a SQLite file in a temporary folder, or a PostgreSQL schema.

Each is created empty and removed afterwards, also when the benchmark fails half-way. The
PostgreSQL server is the one the test suite uses (``CHENGXIN_TEST_PG_URL``, by default
``postgresql://postgres@127.0.0.1:5432/test``); a schema of its own keeps a run apart from
everything else in that database.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

PG_URL = os.environ.get(
    "CHENGXIN_BENCH_PG_URL",
    os.environ.get("CHENGXIN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Scratch:
    """Where one benchmark writes: ``url`` for the engine (SQLAlchemy), ``dsn`` for the raw driver."""

    backend: str
    url: str
    dsn: str  # SQLite: the file path; PostgreSQL: a libpq conninfo without the schema
    schema: str | None = None


def pg_problem() -> str | None:
    """Why the PostgreSQL server cannot be used, or None when it answers."""
    import psycopg

    try:
        with psycopg.connect(PG_URL, connect_timeout=3) as connection:
            connection.execute("select 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {PG_URL} is unreachable: {str(exc).strip().splitlines()[0]}"
    return None


def pg_server_version() -> str:
    import psycopg

    with psycopg.connect(PG_URL, connect_timeout=3) as connection:
        row = connection.execute("show server_version").fetchone()
    return str(row[0]) if row else "?"


@contextmanager
def scratch(backend: str, label: str) -> Iterator[Scratch]:
    """An empty database on ``backend`` (``sqlite`` or ``postgresql``), removed on exit."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"chengxin-bench-{label}-") as folder:
            path = Path(folder) / "bench.db"
            yield Scratch(backend=backend, url=f"sqlite:///{path}", dsn=str(path))
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}")
    import psycopg

    schema = f"bench_{label}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as connection:
        connection.execute(f'create schema "{schema}"')
    try:
        base = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1).replace(
            "postgres://", "postgresql+psycopg://", 1
        )
        sep = "&" if "?" in base else "?"
        yield Scratch(
            backend=backend,
            url=f"{base}{sep}options={quote(f'-csearch_path={schema}', safe='')}",
            dsn=PG_URL,
            schema=schema,
        )
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as connection:
            connection.execute(f'drop schema "{schema}" cascade')
