"""The two reads a caseworker runs most, on the SQLite driver alone: a case (``record show``) and
a page of every case (``record list`` without filters), opened as ``Engine.open`` opens a database
but without importing SQLAlchemy or the engine's command machinery.

``opened`` yields a ``Reading`` when the database is a SQLite file and no history key is
configured (a key may have to be marked in the database on opening, a write), else None: the
caller then opens the ``Engine``, which serves every other case the same way it always has. The
checks are the engine's own — the schema revision, the clock mode, every stored definition
against its SHA-256 and its file — and so are the errors (``WorkflowError``s, translated by
``workflow.engine.wrapping``). The views are built by the same functions (``record_view``,
``search.listed``), so what is shown cannot drift from what the engine shows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from storage.lite import DEFAULT_URL, SORTS, LiteReader, sqlite_path
from workflow import settings
from workflow.engine import inputs, opening
from workflow.engine.clock import Clock
from workflow.engine.registry import Registry
from workflow.engine.search import CasePage, listed, page_arguments
from workflow.engine.views import RecordView, record_view
from workflow.engine.wrapping import UNDERNEATH, public, translate
from workflow.errors import RecordNotFound


class Reading:
    """An opened database, for reads only (see ``opened``)."""

    def __init__(self, reader: LiteReader, registry: Registry, clock: Clock) -> None:
        self._reader = reader
        self.registry = registry
        self.clock = clock

    @public
    def get(self, record_id: str) -> RecordView:
        """The case with all its deadlines (``Engine.get``).

        Raises:
            RecordNotFound: no such case.
            ArgumentInvalid: ``record_id`` is not an id's text.
        """
        record_id = inputs.record_id(record_id)
        loaded = self._reader.load(record_id)
        if loaded is None:
            raise RecordNotFound(record_id)
        record = loaded.record
        definition = self.registry.get(record.definition_name, record.definition_version)
        return record_view(definition, record, loaded.deadlines)

    @staticmethod
    def pages(sort: str) -> bool:
        """Whether ``page`` serves this order (every order but ``due``)."""
        return sort in SORTS

    @public
    def page(self, *, sort: str = "created", limit: int = 100, offset: int = 0) -> CasePage:
        """One page of every case, with the total (``Engine.search.page`` without filters).

        Raises:
            ArgumentInvalid: an unknown sort, a size or start out of range.
        """
        sort, limit, offset = page_arguments(sort, limit, offset)
        rows = self._reader.query(sort=sort, limit=limit, offset=offset)
        total = self._reader.count()
        due = self._reader.next_due([r.id for r in rows])
        return CasePage(
            items=listed(rows, due, self.registry, self.clock.now()), total=total, offset=offset, limit=limit
        )


@contextmanager
def opened(url: str | None, definitions: Sequence[Path] = ()) -> Iterator[Reading | None]:
    """The database at ``url`` (else the configured one) opened for reading on the driver alone,
    in one read transaction, or None when it needs the ``Engine`` (see the module's text).

    Raises:
        SchemaOutdated: run ``chengxin init``.
        ClockError: the database was never initialised.
        DefinitionInvalid: a definition file is invalid.
        StoredDefinitionAltered, DefinitionChanged: a stored definition does not hold.
        DatabaseUnavailable, DatabaseBusy: the database cannot be read.
        ArgumentInvalid: an argument of the wrong type.
    """
    url = inputs.url(url) or settings.load().database_url
    extra = [Path(p) for p in inputs.paths("definitions", definitions)]
    path = sqlite_path(url)
    if path is None or settings.load().path("history_key_file") is not None:
        yield None
        return
    try:
        with LiteReader.open(path, url or DEFAULT_URL) as reader:
            meta = reader.meta()
            clock = opening.clock_for(meta, None)
            registry = opening.registry_from(extra, reader.definitions(), reader.holiday_tables(), meta)
            registry.check()
            yield Reading(reader, registry, clock)
    except UNDERNEATH as exc:
        raise translate(exc) from exc
