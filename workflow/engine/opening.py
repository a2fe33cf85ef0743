"""Opening a database: its schema, its clock mode for life, the definitions it knows, and the
key that seals its history rows.

A database is created either on real time or on simulated time (``chengxin init
--simulated-clock``) and keeps that mode for life: a real-time database refuses any simulated
clock, so no one can backdate an event in it; a drill database takes simulated time only. The
first process that writes with a history key marks the database as sealed by it
(``workflow.engine.keys``); from then on a process without that key refuses to write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from definitions.holidays import parse_holiday_table
from storage.values import StoredDefinition, StoredHolidayTable
from workflow.engine import keys
from workflow.engine.clock import Clock, ManualClock, SystemClock, parse_when
from workflow.engine.registry import Registry
from workflow.errors import ClockError, HistoryKeyError

if TYPE_CHECKING:  # a read on the driver alone (workflow.engine.reading) opens no Store
    from storage.store import Store
    from workflow.engine.writeset import Sealer

REAL_TIME_ONLY = (
    "该数据库使用真实时间，拒绝模拟时钟 (this database runs on real time; simulated time is refused "
    "so that no event can be backdated)"
)


def initialise(
    url: str | None, simulated_start: dt.datetime | None
) -> tuple[Store, dict[str, str], str | None, str]:
    """Create or upgrade the schema; a new database gets its clock mode here, for life.

    Returns the store, the database's facts, and the schema revisions before and after.

    Raises:
        ClockError: the database exists with real time and a simulated start was given.
        DatabaseUnavailable: the database cannot be reached.
    """
    from storage import db as storage_db
    from storage.store import Store

    store = Store(storage_db.create_engine(url))

    def real_time_stays(present: Mapping[str, str]) -> None:
        if simulated_start is not None and present.get("clock_mode", "simulated") != "simulated":
            raise ClockError(
                "该数据库使用真实时间，不能改为模拟时间 (this database runs on real time and can never use a "
                "simulated clock; create a separate drill database with 'chengxin init --simulated-clock')"
            )

    try:
        if storage_db.current_revision(store.engine) is not None:
            real_time_stays(store.meta())  # refused before the schema is touched
        before, after = storage_db.upgrade(store.engine)
        wanted = {
            "clock_mode": "simulated" if simulated_start else "real",
            "pepper": secrets.token_hex(32),
            "created_schema": after,
        }
        if simulated_start is not None:
            wanted["simulated_now"] = simulated_start.astimezone(dt.UTC).isoformat()
        meta = store.set_meta_if_absent(wanted, check=real_time_stays)
        return store, meta, before, after
    except BaseException:
        store.close()
        raise


def clock_for(meta: Mapping[str, str], clock: Clock | None) -> Clock:
    """The clock a database runs on: the one given if its mode fits, else its own.

    Raises:
        ClockError: not initialised, or the clock's mode is not the database's.
    """
    if "clock_mode" not in meta:
        raise ClockError("数据库尚未初始化 (database not initialised): run 'chengxin init'")
    simulated = meta["clock_mode"] == "simulated"
    if clock is None:
        clock = ManualClock(parse_when(meta["simulated_now"])) if simulated else SystemClock()
    if clock.simulated and not simulated:
        raise ClockError(REAL_TIME_ONLY)
    if simulated and not clock.simulated:
        raise ClockError(
            "该数据库为演练库，只能使用模拟时钟 (this drill database runs on simulated time only)"
        )
    return clock


def registry_for(
    store: Store, definitions: Sequence[Path], meta: Mapping[str, str] | None = None
) -> Registry:
    """The bundled definitions, those under ``definitions``, the versions stored with cases, and
    the holiday tables loaded into the database.

    With the database's ``meta``, the bundled definitions come through the cache, its HMAC keyed
    by the database's pepper (a secret of the database, never written elsewhere).

    Raises:
        DefinitionError: a definition file is invalid.
        HolidayTableError: a stored holiday table no longer parses.
    """
    return registry_from(definitions, store.directory.definitions(), store.directory.holiday_tables(), meta)


def registry_from(
    definitions: Sequence[Path],
    stored: Iterable[StoredDefinition],
    tables: Iterable[StoredHolidayTable],
    meta: Mapping[str, str] | None = None,
) -> Registry:
    """``registry_for`` on the stored definitions and holiday tables already read.

    Raises:
        DefinitionError: a definition file is invalid.
        HolidayTableError: a stored holiday table no longer parses.
    """
    pepper = (meta or {}).get("pepper")
    secret = (
        hmac.new(bytes.fromhex(pepper), b"definitions-cache", hashlib.sha256).digest() if pepper else None
    )
    registry = Registry.load(definitions, cache_secret=secret)
    registry.merge_stored(stored)
    registry.add_tables(
        parse_holiday_table(table.body, f"database:holiday_table:{table.year}") for table in tables
    )
    return registry


def sealer_for(
    store: Store, meta: Mapping[str, str], key: keys.HistoryKey | None, clock: Clock, *, audit: bool
) -> Sealer | None:
    """What seals the history rows this engine writes, marking the database when a key is first
    used on it. An engine opened for audit gets a sealer that refuses (it writes nothing).

    Raises:
        HistoryKeyError: ``key`` is not the key the database's rows are sealed with, or the
            database's mark of it was altered.
    """
    if audit:
        return keys.refuse_audit
    stored = meta.get(keys.MARK)
    if key is None:
        return keys.refuse_unkeyed if stored else None
    if stored is None:
        stored = store.set_meta_if_absent({keys.MARK: key.mark(clock.now())})[keys.MARK]
    mark = keys.KeyMark.parse(stored)
    if mark is None or mark.key_id != key.id:
        raise HistoryKeyError(
            f"历史密钥 {key.source} 不是该数据库使用的密钥 (this is not the key the database's history rows are "
            f"sealed with: key {key.id}, the database's rows are sealed with "
            f"{mark.key_id if mark else 'an unreadable mark'})"
        )
    if not mark.sealed_by(key):
        raise HistoryKeyError(
            "数据库中的密钥标记被改动 (the database's mark of its history key was altered; run "
            "'chengxin audit verify --key-file …')"
        )
    return key.seal
