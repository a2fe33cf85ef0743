"""The Core tables the store runs on (``storage.coretables``) and the SQLModel tables Alembic and
the migration tests use (``storage.tables``) describe the same schema: the same tables, columns,
types, nullability, keys, client and server defaults, constraints and indexes, compiled for
SQLite and for PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from storage import coretables
from storage.tables import TABLES

DIALECTS: dict[str, sa.Dialect] = {
    "sqlite": sqlite.dialect(),
    "postgresql": postgresql.dialect(),  # type: ignore[no-untyped-call]
}


def _ddl(metadata: sa.MetaData, dialect: sa.Dialect) -> dict[str, list[str]]:
    found = {}
    for name, table in metadata.tables.items():
        statements = [str(CreateTable(table).compile(dialect=dialect)).strip()]
        statements += sorted(
            str(CreateIndex(index).compile(dialect=dialect)).strip() for index in table.indexes
        )
        found[name] = statements
    return found


def _type(kind: Any) -> tuple[str, Any]:
    """A column type by name and length; SQLModel's ``AutoString`` is a plain ``String`` on both
    backends (it differs only on MySQL)."""
    name = type(kind).__name__
    return ("String" if name == "AutoString" else name, getattr(kind, "length", None))


def _columns(metadata: sa.MetaData) -> dict[str, list[tuple[Any, ...]]]:
    def default(column: sa.Column[Any]) -> Any:
        return None if column.default is None else getattr(column.default, "arg", column.default)

    return {
        name: [
            (
                c.name,
                c.nullable,
                c.primary_key,
                c.autoincrement,
                default(c),
                None if c.server_default is None else str(getattr(c.server_default, "arg", "")),
                sorted(fk.target_fullname for fk in c.foreign_keys),
                _type(c.type),
            )
            for c in table.columns
        ]
        for name, table in metadata.tables.items()
    }


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_both_describe_the_same_ddl(dialect: str) -> None:
    ours, theirs = _ddl(coretables.metadata, DIALECTS[dialect]), _ddl(TABLES, DIALECTS[dialect])
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        assert ours[name] == theirs[name], name


def test_both_have_the_same_columns_defaults_and_keys() -> None:
    ours, theirs = _columns(coretables.metadata), _columns(TABLES)
    assert ours == theirs
    for name, table in TABLES.tables.items():
        assert dict(coretables.metadata.tables[name].dialect_kwargs) == dict(table.dialect_kwargs), name


def test_the_store_does_not_import_the_orm_tables() -> None:
    """Opening a store and reading builds no SQLModel class (a fresh interpreter)."""
    import subprocess
    import sys

    code = (
        "import sys, storage.store, storage.connections, storage.fastpath, storage.history; "
        "bad = [m for m in ('sqlmodel', 'storage.tables', 'sqlalchemy.orm', 'alembic') if m in sys.modules]; "
        "print(bad)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
