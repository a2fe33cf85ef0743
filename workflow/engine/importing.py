"""Bulk import: cases from an office's old system brought in with their state, dates and
documents, a batch per transaction.

Each row is checked by the rules a submission is checked by (the definition's fields, its
states, the unit directory) and becomes a case whose first history row is an ``@import`` event
(``workflow.core.importing``) joining the hash chain, with the deadlines its state runs planned
from the imported dates. Rows go to the store in batches (``storage.imports``): one transaction,
one ``executemany`` per table, the source id of every case committed with it, so a second run of
the same file imports what the first did not and nothing twice. A bad row is reported with its
line and reason and nothing of it is written; the good rows around it still import.

A batch is written in a thread of its own while the next one is read and decided; with
``workers`` forked processes decide (and encode) the rows while this one reads and writes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from definitions.model import Definition
from storage.imports import DuplicateSource, EncodedCase, ImportSource
from storage.store import Store
from storage.values import CommandWrite
from workflow.core.decide import decide
from workflow.core.values import IMPORT_EVENT, Actor, Command
from workflow.engine import writeset
from workflow.engine.commands import ID_ALPHABET, Commands
from workflow.engine.directory import SUPERIOR_FIELD, Units, superior_by_level
from workflow.engine.registry import Registry
from workflow.errors import ArgumentInvalid, PermissionDenied, WorkflowError

SOURCE_ID = 200  # record_import.source_id
RESERVED = frozenset({"source_id", "definition", "version", "state", "tracks", "since", "fields"})


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRow:
    """One row of an import file: its line, the SHA-256 of the line, and its values (or why
    the line could not be read)."""

    line: int
    sha256: str
    values: Mapping[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that was not imported, and why (one line, as the CLI prints it)."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"第 {self.line} 行 (line {self.line}): {self.reason}"


@dataclass(slots=True, kw_only=True)
class ImportResult:
    """What an import did: rows read, cases imported, rows skipped because an earlier run
    imported them, bad rows (the first ``KEPT`` of them kept here)."""

    source: str
    dry_run: bool
    read: int = 0
    imported: int = 0
    skipped: int = 0
    bad: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    KEPT = 1000

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "read": self.read,
            "imported": self.imported,
            "skipped": self.skipped,
            "bad": self.bad,
            "problems": [{"line": p.line, "reason": p.reason} for p in self.problems],
        }


def import_id(definition: Definition, source_id: str, day: dt.date) -> str:
    """``SX20240315-I7K3QF2AB``: the definition's prefix, the case's date, ``I`` and eight
    characters of the SHA-256 of the definition name and the source id (the same row gets the
    same id, and an imported case is told from a registered one at a glance)."""
    digest = int.from_bytes(hashlib.sha256(f"{definition.name}\0{source_id}".encode()).digest()[:5])
    code = "".join(ID_ALPHABET[(digest >> shift) & 31] for shift in range(35, -1, -5))
    return f"{definition.id_prefix}{day.strftime('%Y%m%d')}-I{code}"


@dataclass(slots=True, kw_only=True)
class _Batch:
    """One batch on its way: its cases encoded for the driver, their sources and ids, the rows
    skipped and refused."""

    rows: int
    now: dt.datetime
    cases: list[EncodedCase] = field(default_factory=list)
    sources: list[ImportSource] = field(default_factory=list)
    record_ids: list[str] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    imported: int = 0
    skipped: int = 0


_WORKER: Importer | None = None  # the importer a forked worker decides with (``Importer._pool``)


def _in_worker() -> None:
    """A forked worker: it dies with its parent, leaves Ctrl-C to it, and never touches the
    parent's database connections (closing one would end the parent's session)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if _WORKER is not None:
        _WORKER.store.engine.dispose(close=False)


def _forget_worker() -> None:
    global _WORKER  # noqa: PLW0603 - see Importer._pool
    _WORKER = None


def _decide_part(
    part: list[tuple[SourceRow, str]], source: str, actor: Actor, default: str, now: dt.datetime
) -> list[tuple[EncodedCase | CommandWrite | None, str | None]]:
    assert _WORKER is not None, "only in a worker of Importer._pool"
    encode = _WORKER.store.backend == "sqlite"  # PostgreSQL's JSON parameters do not pickle
    return _WORKER._decide_rows(part, source, actor, default, now, encode=encode)


class _Bad(Exception):
    """A row refused before its decision (reported as a ``RowProblem``)."""


class Importer:
    """Imports rows for one engine (``Engine.import_records``)."""

    def __init__(self, store: Store, registry: Registry, commands: Commands, units: Units) -> None:
        self.store = store
        self.registry = registry
        self.commands = commands
        self.units = units
        self._superiors: dict[str, str | None] = {}  # a unit's superior (``Units.superior_of``)
        self._known_units: frozenset[str] | None = None
        self._date_fields: dict[str, str] = {}
        self._chosen: dict[tuple[str, Any], Definition] = {}
        self._workers = 1
        self._registered: set[tuple[str, int]] = set()

    def run(
        self,
        rows: Iterable[SourceRow],
        *,
        source: str,
        actor: Actor,
        definition: str,
        dry_run: bool = False,
        batch: int = 2000,
        on_problem: Callable[[RowProblem], None] | None = None,
        on_progress: Callable[[int], None] | None = None,
        workers: int = 0,
    ) -> ImportResult:
        """Import ``rows`` (see the module's text); ``on_problem`` hears of every bad row as it
        is found, ``on_progress`` of the rows done after each batch; with ``workers`` > 1 that
        many forked processes decide the rows while this one reads and writes.

        Raises:
            ArgumentInvalid: ``batch`` is out of range.
            PermissionDenied: ``actor`` acts in the system role.
            DefinitionNotFound: ``definition`` is unknown.
            WorkflowError: the database failed.
        """
        if not 1 <= batch <= 100_000:
            raise ArgumentInvalid("batch", f"1 … 100000, got {batch}")
        if not 0 <= workers <= 64:
            raise ArgumentInvalid("workers", f"0 … 64, got {workers}")
        self.commands.check_definitions()
        self.commands.refuse_system(actor, IMPORT_EVENT)
        self.registry.select(definition)  # an unknown definition is refused before any row is read
        if self.store.directory.has_units():
            units = self.store.directory.units()
            self._known_units = frozenset(u.code for u in units)
            self._superiors = {u.code: u.superior or superior_by_level(u, units) for u in units}
        result = ImportResult(source=source, dry_run=dry_run)

        def finish(batch: _Batch, written: Future[None] | None) -> None:
            if written is not None:
                written.result()  # what the write raised, raised here
            result.imported += batch.imported
            result.skipped += batch.skipped
            for line, reason in sorted(batch.problems):
                result.bad += 1
                problem = RowProblem(line, reason)
                if len(result.problems) < ImportResult.KEPT:
                    result.problems.append(problem)
                if on_problem is not None:
                    on_problem(problem)
            if on_progress is not None:
                on_progress(batch.rows)

        # One batch is written (in a thread of its own: the database's work and the fsync let go
        # of the GIL) while the next is read and decided.
        pool = self._pool(workers)  # forked before the writer thread starts
        try:
            self._loop(rows, batch, source, actor, definition, dry_run, result, finish, pool)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
                _forget_worker()
        return result

    def _loop(
        self,
        rows: Iterable[SourceRow],
        batch: int,
        source: str,
        actor: Actor,
        definition: str,
        dry_run: bool,
        result: ImportResult,
        finish: Callable[[_Batch, Future[None] | None], None],
        pool: ProcessPoolExecutor | None,
    ) -> None:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chengxin-import") as writer:
            pending: tuple[_Batch, Future[None] | None] | None = None
            for chunk in _chunks(rows, batch):
                result.read += len(chunk)
                prepared = self._prepare(chunk, source, actor, definition, pool)
                if pending is not None:
                    finish(*pending)
                    pending = None
                if dry_run:
                    prepared.imported = len(prepared.cases)  # would be imported
                    pending = (prepared, None)
                else:
                    pending = (prepared, writer.submit(self._commit, prepared) if prepared.cases else None)
            if pending is not None:
                finish(*pending)

    def _pool(self, workers: int) -> ProcessPoolExecutor | None:
        """Processes that decide rows (forked: they share this importer as it is now), or None
        to decide them here. Each dies with this process, so a killed import leaves none behind."""
        global _WORKER  # noqa: PLW0603 - what a forked worker decides with
        if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            return None
        self._workers = workers
        _WORKER = self
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("fork"), initializer=_in_worker
        )
        for started in [pool.submit(os.getpid) for _ in range(workers)]:
            started.result()  # every worker forked now, before any thread of this import runs
        return pool

    # ------------------------------------------------------------------ batches

    def _prepare(
        self,
        chunk: list[SourceRow],
        source: str,
        actor: Actor,
        default: str,
        pool: ProcessPoolExecutor | None,
    ) -> _Batch:
        """Check and decide the rows of one batch (nothing is written here)."""
        prepared = _Batch(rows=len(chunk), now=self.commands.now(None))
        bad = prepared.problems.append
        ids: dict[str, int] = {}  # source id → line, within the batch
        wanted: list[tuple[SourceRow, str]] = []
        for row in chunk:
            if row.error is not None or row.values is None:
                bad((row.line, row.error or "无法读取 (unreadable)"))
                continue
            source_id = row.values.get("source_id")
            if (
                not isinstance(source_id, str | int)
                or isinstance(source_id, bool)
                or not str(source_id).strip()
            ):
                bad((row.line, "缺少 source_id (the old system's id of the record is required)"))
                continue
            text = str(source_id).strip()
            if len(text) > SOURCE_ID:
                bad((row.line, f"source_id 过长 (too long): at most {SOURCE_ID} characters"))
                continue
            if text in ids:
                bad((row.line, f"source_id {text} 与第 {ids[text]} 行重复 (duplicate of line {ids[text]})"))
                continue
            ids[text] = row.line
            wanted.append((row, text))
        known = self.store.imports.known(ids)
        todo = [(row, text) for row, text in wanted if text not in known]
        prepared.skipped += len(wanted) - len(todo)
        if pool is not None and len(todo) > 1:
            size = -(-len(todo) // (2 * self._workers))
            parts = [todo[i : i + size] for i in range(0, len(todo), size)]
            futures = [
                pool.submit(_decide_part, part, source, actor, default, prepared.now) for part in parts
            ]
            decided = [item for future in futures for item in future.result()]
        else:
            decided = self._decide_rows(todo, source, actor, default, prepared.now, encode=True)
        for (row, text), (made, why) in zip(todo, decided, strict=True):
            if made is None:
                bad((row.line, why or ""))
                continue
            src = ImportSource(source_id=text, source=source, line=row.line, row_sha256=row.sha256)
            # a worker on PostgreSQL hands back the write set: its JSON parameters do not pickle
            case = (
                self.store.imports.encode(made, src, prepared.now) if isinstance(made, CommandWrite) else made
            )
            row_values = case["record"][0]
            self._register(row_values["definition_name"], int(row_values["definition_version"]), prepared.now)
            prepared.cases.append(case)
            prepared.sources.append(src)
            prepared.record_ids.append(case["record"][0]["id"])
        return prepared

    def _register(self, name: str, version: int, now: dt.datetime) -> None:
        """Store the definition version a case runs on before the case is written (once each)."""
        if (name, version) not in self._registered:
            self.commands.register_definition(self.registry.get(name, version), now)
            self._registered.add((name, version))

    def _decide_rows(
        self,
        rows: list[tuple[SourceRow, str]],
        source: str,
        actor: Actor,
        default: str,
        now: dt.datetime,
        *,
        encode: bool,
    ) -> list[tuple[EncodedCase | CommandWrite | None, str | None]]:
        """Each row's case encoded for the driver (``encode``; else its write set), or why it is
        refused. No database is used, so a forked worker may run it: the definition a case runs
        on is registered by the caller (``_register``) before its batch is written."""
        decided: list[tuple[EncodedCase | CommandWrite | None, str | None]] = []
        imports = self.store.imports
        for row, text in rows:
            try:
                write = self._write(row, text, source, actor, default, now)
            except (_Bad, WorkflowError) as exc:
                decided.append((None, str(exc)))
                continue
            if not encode:
                decided.append((write, None))
                continue
            src = ImportSource(source_id=text, source=source, line=row.line, row_sha256=row.sha256)
            decided.append((imports.encode(write, src, now), None))
        return decided

    def _commit(self, batch: _Batch) -> None:
        """Write one decided batch in one transaction; when a source id or case id of it exists
        already (another run took it meanwhile, or two ids met), one row at a time, so only the
        rows concerned are left out."""
        imports = self.store.imports
        try:
            imports.write_encoded(batch.cases)
            batch.imported = len(batch.cases)
            return
        except DuplicateSource:
            pass
        for case, src, record_id in zip(batch.cases, batch.sources, batch.record_ids, strict=True):
            try:
                imports.write_encoded([case])
            except DuplicateSource:
                if imports.known([src.source_id]):
                    batch.skipped += 1
                else:
                    batch.problems.append(
                        (src.line, f"记录编号 {record_id} 已存在 (the case id exists already)")
                    )
                continue
            batch.imported += 1

    def _write(
        self, row: SourceRow, source_id: str, source: str, actor: Actor, default: str, now: dt.datetime
    ) -> CommandWrite:
        values = row.values or {}
        unknown = [key for key in values if key not in RESERVED]
        fields = values.get("fields")
        if fields is None:  # a flat row: the other columns are the fields
            fields = {key: value for key, value in values.items() if key not in RESERVED}
        elif unknown:
            raise _Bad(f"未知的列 {unknown[0]!r} (unknown key); a row holds {', '.join(sorted(RESERVED))}")
        if not isinstance(fields, Mapping):
            raise _Bad("fields 应为对象 (fields must be an object)")
        fields = {key: value for key, value in fields.items() if value is not None and value != ""}
        definition = self._definition(values, default, fields)
        role = definition.roles.get(actor.role)
        if role is None or role.system:
            raise PermissionDenied(
                actor.role, IMPORT_EVENT, [r for r, s in definition.roles.items() if not s.system]
            )
        fields = self._with_superior(definition, fields)
        self._check_units(definition, fields)
        tracks = _tracks(definition, values.get("state"), values.get("tracks"))
        since = _since(definition, values.get("since"))
        case_field = definition.index.case_date
        day = writeset.as_date(fields.get(case_field)) if case_field else None
        record_id = import_id(definition, source_id, day or now.date())
        command = Command(
            event=IMPORT_EVENT,
            actor=actor,
            payload={
                "fields": fields,
                "tracks": tracks,
                "since": since,
                "source": {"file": source, "line": row.line, "id": source_id, "sha256": row.sha256},
            },
        )
        calendar = self.registry.calendar(definition)
        decision = decide(definition, calendar, None, command, now, record_id=record_id)
        write = writeset.build(
            definition,
            calendar,
            None,
            [],
            decision,
            command,
            now=now,
            record_id=record_id,
            idempotency_key=None,
            fingerprint=None,
            simulated=self.commands.simulated,
            keyer=self.commands.subject_key,
            seal=self.commands.seal,
        )
        return dataclasses.replace(write, webhook=None)  # an import is no news to subscribers

    def _definition(self, values: Mapping[str, Any], default: str, fields: Mapping[str, Any]) -> Definition:
        name = values.get("definition") or default
        version = values.get("version")
        if not isinstance(name, str):
            raise _Bad("definition 应为文本 (definition must be text)")
        if version not in (None, ""):
            try:
                return self.registry.get(name, int(str(version)))
            except ValueError:
                raise _Bad(f"version 应为整数 (version must be a whole number), got {version!r}") from None
        date_field = self._date_fields.get(name)
        if date_field is None:
            date_field = self._date_fields[name] = self.registry.select(name).index.case_date or ""
        key = (name, fields.get(date_field) if date_field else None)
        chosen = self._chosen.get(key)
        if chosen is None:  # the version in force on the case's date, asked once per name and date
            chosen = self.registry.select(name, writeset.as_date(key[1]))
            if len(self._chosen) < 100_000:
                self._chosen[key] = chosen
        return chosen

    def _with_superior(self, definition: Definition, fields: dict[str, Any]) -> dict[str, Any]:
        """The superior unit filled in as registration fills it in (``Units.with_superior``),
        from the unit directory read once per import."""
        responsible = definition.index.responsible_unit
        if SUPERIOR_FIELD not in definition.fields or fields.get(SUPERIOR_FIELD) or responsible is None:
            return fields
        unit = fields.get(responsible)
        superior = self._superiors.get(unit) if isinstance(unit, str) else None
        return fields if superior is None else {**fields, SUPERIOR_FIELD: superior}

    def _check_units(self, definition: Definition, fields: Mapping[str, Any]) -> None:
        """The unit rules of a submission (``Units.check_recipients``, ``Commands.check_units``)
        against the unit directory read once per import."""
        known = self._known_units
        if known is None:
            return
        names = [n for n, s in definition.fields.items() if s.known_unit]
        if definition.index.responsible_unit:
            names.append(definition.index.responsible_unit)
        for name in names:
            value = fields.get(name)
            if isinstance(value, str) and value.strip() and value.strip() not in known:
                raise _Bad(
                    f"字段 {name!r}: 单位 {value.strip()} 不在单位目录中 (not in the unit directory; "
                    "see 'chengxin unit list', add it with 'chengxin unit add')"
                )


def _chunks(rows: Iterable[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    chunk: list[SourceRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _tracks(definition: Definition, state: Any, tracks: Any) -> dict[str, Any]:
    """The imported states by track: ``state`` is the main state (or every track's, as an
    object); ``tracks`` the parallel tracks' states."""
    found: dict[str, Any] = {}
    if isinstance(state, Mapping):
        found.update(state)
    elif state is not None:
        found[definition.main_track] = state
    if tracks is not None:
        if not isinstance(tracks, Mapping):
            raise _Bad("tracks 应为对象 (tracks must be an object of track: state)")
        found.update(tracks)
    if definition.main_track not in found:
        raise _Bad(
            f"缺少 state (the record's state is required); states: {', '.join(definition.main.states)}"
        )
    return found


def _since(definition: Definition, since: Any) -> dict[str, Any]:
    """The day each track entered its state: one date for the main track, or an object by track."""
    if since is None or since == "":
        return {}
    if isinstance(since, Mapping):  # "" stands for the main track (a CSV's plain ``since`` column)
        return {(definition.main_track if key == "" else key): value for key, value in since.items()}
    return {definition.main_track: since}
