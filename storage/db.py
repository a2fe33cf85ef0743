"""Database connections: URL handling, SQLite durability settings, and Alembic migrations.

SQLite runs in WAL mode with ``synchronous=FULL`` so a committed transition survives a power
cut; write transactions take the write lock up front (``BEGIN IMMEDIATE``) so two writers
queue instead of failing half-way. PostgreSQL uses psycopg 3. Nothing here knows the engine.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError

from storage.errors import DatabaseUnavailable, InvalidDatabaseUrl
from storage.revision import MIGRATIONS, head_revision

if TYPE_CHECKING:  # Alembic loads only to migrate: opening a database reads its version by hand
    from alembic.config import Config

DEFAULT_URL = "sqlite:///chengxin.db"
ENV_URL = "CHENGXIN_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def resolve_url(url: str | None) -> str:
    """The database URL to use: the given one, else a local SQLite file (the engine passes the
    ``CHENGXIN_DATABASE_URL`` of its settings).

    ``postgresql://`` URLs are pointed at the psycopg 3 driver.
    """
    chosen = url or DEFAULT_URL
    if chosen.startswith("postgresql://") or chosen.startswith("postgres://"):
        chosen = "postgresql+psycopg://" + chosen.split("://", 1)[1]
    return chosen


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return sa.make_url(url).render_as_string(hide_password=True)


def _sqlite_settings(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would defer BEGIN; we issue BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA wal_autocheckpoint=10000")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def create_engine(url: str | None = None, *, create: bool = True, **options: Any) -> Engine:
    """An SQLAlchemy engine for ``url`` with chengxin's settings applied.

    SQLite creates a database file when it first connects to a path where there is none; only
    ``create`` (``chengxin init``) lets it, so a mistyped path is named, not made.

    Raises:
        DatabaseUnavailable: the SQLite file's folder does not exist, or without ``create`` the
            file itself.
    """
    resolved = resolve_url(url)
    try:
        parsed = sa.make_url(resolved)
    except ArgumentError as exc:
        raise InvalidDatabaseUrl(re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", resolved), "not a URL") from exc
    if parsed.get_backend_name() not in {"sqlite", "postgresql"} or parsed.get_driver_name() not in {
        "pysqlite",
        "psycopg",
    }:
        raise InvalidDatabaseUrl(redact(resolved), f"unsupported database {parsed.drivername!r}")
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        on_disk = database and database != ":memory:" and not parsed.query.get("uri")
        if on_disk and not Path(database).resolve().parent.is_dir():
            raise DatabaseUnavailable(redact(resolved), f"folder {Path(database).parent} does not exist")
        if on_disk and not create and not Path(database).exists():
            raise DatabaseUnavailable(
                redact(resolved),
                f"数据库文件 {database} 不存在 (the database file does not exist); "
                "'chengxin init' creates it",
            )
        engine = sa.create_engine(resolved, **options)
        _sqlite_settings(engine)
        return engine
    # psycopg parses json columns with the standard library's decoder unless told otherwise;
    # orjson reads what the engine wrote (canonical JSON) several times faster.
    options.setdefault("json_deserializer", orjson.loads)
    if "pool_pre_ping" in options:
        return sa.create_engine(resolved, **options)
    engine = sa.create_engine(resolved, **options)
    _ping_when_idle(engine)
    return engine


IDLE_PING_S = 1.0  # a pooled connection unused longer than this is pinged before it is handed out


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled PostgreSQL connection before handing it out only when it sat idle in the
    pool (``pool_pre_ping`` pings at every checkout: a round trip per command). A connection
    the server dropped while idle — a restart, an idle timeout — is replaced, as with
    ``pool_pre_ping``; one in steady use is not pinged between commands."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["chengxin_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("chengxin_idle_since")
        if since is None or time.monotonic() - since <= IDLE_PING_S:
            return  # just connected, or back in the pool a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(str(exc)) from exc
        if not alive:  # pragma: no cover - do_ping raises rather than answering False
            raise DisconnectionError("ping failed")


def _alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    """The schema revision of the database, or None for an empty database.

    Raises:
        DatabaseUnavailable: the database cannot be reached.
    """
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            found = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
            return str(found[0]) if len(found) == 1 else None
    except OperationalError as exc:
        raise DatabaseUnavailable(redact(str(engine.url)), str(exc.orig).splitlines()[0]) from exc


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Create or upgrade the schema to the newest revision; returns (before, after).

    Raises:
        DatabaseUnavailable: the database cannot be reached.
    """
    from alembic import command

    before = current_revision(engine)
    command.upgrade(_alembic_config(engine), "head")
    return before, head_revision()
