"""The reads on the SQLite driver alone (``workflow.engine.reading`` over ``storage.lite``): the
same rows, views and pages as the engine's own reads, the same checks on opening, and the column
kinds pinned to the Core tables'."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.harness import Harness

from storage import coretables, db
from storage.fastpath import _kind
from storage.lite import DEADLINE_COLUMNS, KINDS, SORTS, LiteReader, sqlite_path
from storage.store import Store
from storage.values import RECORD_COLUMNS
from workflow import Engine
from workflow.engine import reading
from workflow.errors import (
    ArgumentInvalid,
    ClockError,
    RecordNotFound,
    SchemaOutdated,
    StoredDefinitionAltered,
)


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[tuple[Harness, str, list[str]]]:
    """A SQLite database with three cases in different states, and its URL."""
    url = f"sqlite:///{tmp_path}/lite.db"
    h = Harness.create(url)
    ids = [h.recorded(), h.submitted(subject_name="另一单位", responsible_unit="other"), h.draft().id]
    h.later(days=40)
    yield h, url, ids
    h.engine.close()


def test_column_lists_and_kinds_are_the_core_tables() -> None:
    assert tuple(c.name for c in coretables.record_t.c) == RECORD_COLUMNS
    assert tuple(c.name for c in coretables.deadline_t.c) == DEADLINE_COLUMNS
    for table in (coretables.record_t, coretables.deadline_t, coretables.holiday_t):
        typed = {c.name: _kind(c) for c in table.c if _kind(c) != "plain"}
        assert KINDS[table.name] == typed, table.name
    assert (db.DEFAULT_URL, db.SQLITE_BUSY_TIMEOUT_MS) == ("sqlite:///chengxin.db", 30_000)


def test_lite_rows_are_the_stores_rows(lite: tuple[Harness, str, list[str]]) -> None:
    _h, url, ids = lite
    store = Store.open(url)
    path = sqlite_path(url)
    assert path is not None
    try:
        with LiteReader.open(path, url) as reader:
            assert reader.meta() == store.meta()
            assert reader.definitions() == store.directory.definitions()
            assert reader.holiday_tables() == store.directory.holiday_tables()
            for record_id in [*ids, "SX-NONE"]:
                assert reader.load(record_id) == store.records.load(record_id)
            for sort in SORTS:
                for limit, offset in ((100, 0), (1, 1), (2, 5)):
                    assert reader.query(sort=sort, limit=limit, offset=offset) == store.records.query(
                        sort=sort, limit=limit, offset=offset
                    ), (sort, limit, offset)
            assert reader.count() == store.records.count() == 3
            assert reader.next_due(ids) == store.records.next_due(ids)
            assert reader.next_due([]) == {}
    finally:
        store.close()


def test_views_and_pages_are_the_engines(lite: tuple[Harness, str, list[str]]) -> None:
    _h, url, ids = lite
    with Engine.open(url) as engine, reading.opened(url) as quick:
        assert quick is not None
        for record_id in ids:
            assert quick.get(record_id) == engine.get(record_id)
        for sort in SORTS:
            assert quick.page(sort=sort, limit=2, offset=1) == engine.search.page(
                sort=sort, limit=2, offset=1
            )
        assert quick.page() == engine.search.page()
        assert not reading.Reading.pages("due") and not reading.Reading.pages("-due")
        with pytest.raises(RecordNotFound):
            quick.get("SX20260101-NONE")
        with pytest.raises(ArgumentInvalid):
            quick.page(sort="name")
        with pytest.raises(ArgumentInvalid):
            quick.page(limit=0)


def test_other_databases_and_a_history_key_go_to_the_engine(
    lite: tuple[Harness, str, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _h, url, _ids = lite
    for other in (
        "postgresql://u@localhost/x",
        f"sqlite:///{tmp_path}/missing.db",
        f"{url}?mode=ro",
        "sqlite:///:memory:",
    ):
        with reading.opened(other) as quick:
            assert quick is None, other
    monkeypatch.setenv("CHENGXIN_HISTORY_KEY_FILE", str(tmp_path / "key"))
    with reading.opened(url) as quick:
        assert quick is None


def test_opening_checks_what_the_engine_checks(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/checks.db"
    Path(tmp_path / "checks.db").touch()  # a file without a schema
    with pytest.raises(SchemaOutdated), reading.opened(url):
        pass
    Engine.init(url)[0].close()
    with sqlite3.connect(tmp_path / "checks.db") as c:
        c.execute("DELETE FROM chengxin_meta WHERE key = 'clock_mode'")
    with pytest.raises(ClockError), reading.opened(url):
        pass
    with pytest.raises(ClockError), Engine.open(url):
        pass


def test_an_altered_stored_definition_is_refused(lite: tuple[Harness, str, list[str]]) -> None:
    _h, url, _ids = lite
    path = sqlite_path(url)
    assert path is not None
    with sqlite3.connect(path) as c:
        c.execute("UPDATE workflow_definition SET body = replace(body, '登记', '登 记')")
    with pytest.raises(StoredDefinitionAltered), reading.opened(url):
        pass
    with pytest.raises(StoredDefinitionAltered), Engine.open(url):
        pass
