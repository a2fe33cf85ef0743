"""The definitions an engine knows, the version each record runs on, and their calendars.

Definitions come from the bundled folder, from folders the operator adds, and from the
database: the resolved text of every version a record has used is stored with the records,
so a record keeps its version even after its file is changed or gone. Each stored text is
checked against its SHA-256 and against the file of the same version when there is one; a
mismatch (``DefinitionMismatch``) is something the engine refuses to run with, and the auditor
reports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from definitions.cache import load_bundled_cached, load_bundled_tables_cached
from definitions.holidays import HolidayTable, bundled_tables
from definitions.loaded import DefinitionError, LoadedDefinition, bundled_files, resolved_sha256
from definitions.model import Definition
from notifications.names import notice_names
from storage.values import StoredDefinition
from workflow import settings
from workflow.core.calendar import WorkingCalendar
from workflow.errors import DefinitionChanged, DefinitionNotFound, StoredDefinitionAltered, WorkflowError


def template_exists(name: str, folder: Path | None) -> bool:
    """Whether the notification catalogue (with a definition's override folder) has a template
    (read from the folders: loading a definition does not load the template engine)."""
    return name in _names(folder)


@cache
def _names(folder: Path | None) -> tuple[str, ...]:
    return notice_names([folder] if folder is not None else [])


_BUNDLED: dict[tuple[object, ...], list[LoadedDefinition]] = {}
OFF = ("off", "none", "0", "false", "no")


def cache_folder() -> Path | None:
    """Where the checked bundled definitions are cached: ``CHENGXIN_CACHE_DIR``, else the user's
    cache folder; None when the setting says ``off``."""
    chosen = (settings.load().cache_dir or "").strip()
    if chosen.lower() in OFF:
        return None
    if chosen:
        return Path(chosen)
    import platformdirs

    return Path(platformdirs.user_cache_dir("chengxin", appauthor=False))


def bundled(folder: Path | None = None, secret: bytes | None = None) -> list[LoadedDefinition]:
    """The bundled definitions, through the cache in ``folder`` keyed by ``secret`` (either None:
    parsed from the files), kept for the process for as long as the files stay unchanged."""
    if folder is None or secret is None:
        from definitions.loader import load_bundled  # YAML and the schema: not for a cached read

        return load_bundled(template_exists)
    # not keyed by the secret: definitions read from a valid cache or the files serve any database
    stamp = (
        str(folder),
        *((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in bundled_files()),
    )
    if stamp not in _BUNDLED:
        _BUNDLED[stamp] = load_bundled_cached(folder, secret, template_exists, salt="\n".join(_names(None)))
    return list(_BUNDLED[stamp])


@dataclass(frozen=True, slots=True, kw_only=True)
class DefinitionMismatch:
    """A stored definition version that does not hold what it should.

    ``altered``: its text no longer matches its SHA-256, or cannot be read (edited in the
    database). ``changed``: the file of the same version differs from the stored text (the file
    was edited, or the stored text was rewritten together with its SHA-256).
    """

    key: str  # name@version
    kind: str  # altered | changed
    detail: str
    source: str = ""  # the file, for ``changed``

    def error(self) -> WorkflowError:
        if self.kind == "changed":
            return DefinitionChanged(self.key, self.source)
        return StoredDefinitionAltered(self.key, self.detail)


@dataclass(slots=True)
class Registry:
    loaded: dict[tuple[str, int], LoadedDefinition]
    mismatches: list[DefinitionMismatch] = field(default_factory=list)
    tables: list[HolidayTable] = field(default_factory=list)
    _calendars: dict[tuple[str, int], WorkingCalendar] = field(default_factory=dict)
    # the roles some loaded definition reserves for the system, with the definitions they come from
    _system: tuple[tuple[int, ...], frozenset[str]] = ((), frozenset())

    @classmethod
    def load(cls, extra: Sequence[Path] = (), *, cache_secret: bytes | None = None) -> Registry:
        """Bundled definitions plus those under ``extra`` (files or folders).

        With ``cache_secret`` the bundled ones come through the cache (``definitions.cache``,
        in ``CHENGXIN_CACHE_DIR`` or the user's cache folder) whose HMAC it keys.

        Raises:
            DefinitionError: a file is invalid (every problem as ``file:line: message``).
        """
        folder = cache_folder() if cache_secret is not None else None
        base = bundled(folder, cache_secret)
        found = {(d.name, d.version): d for d in base}
        if extra:
            from definitions.loader import load_paths

            for item in load_paths(extra, base=base, templates=template_exists):
                found[(item.definition.name, item.definition.version)] = item
        if folder is not None and cache_secret is not None:
            tables = load_bundled_tables_cached(folder, cache_secret)
        else:
            tables = bundled_tables()
        return cls(loaded=found, tables=tables)

    def merge_stored(self, stored: Iterable[StoredDefinition]) -> None:
        """Take the versions stored with cases, checking each stored text against its SHA-256
        and against the file of its version.

        A file with the same text stays (it knows its template folder); a version whose file is
        gone is rebuilt from the database. Every mismatch is recorded in ``mismatches``: a stored
        text that does not match its SHA-256 or cannot be read (the file, if any, stays), and a
        file that differs from the stored text of its version (the stored text is taken, as the
        records ran on it). The caller decides whether to run (``check``).
        """
        for item in stored:
            key = (item.name, item.version)
            label = f"{item.name}@{item.version}"
            present = self.loaded.get(key)
            if present is not None and present.sha256 == item.sha256 == _digest(item.body):
                continue  # the file holds the stored text: nothing to rebuild
            try:
                from definitions.loader import from_resolved_json

                rebuilt: LoadedDefinition | None = from_resolved_json(item.body, f"database:{label}")
            except DefinitionError as exc:
                rebuilt = None
                self.mismatches.append(
                    DefinitionMismatch(key=label, kind="altered", detail=f"unreadable: {exc.problems[0]}")
                )
            if rebuilt is not None and rebuilt.definition.sha256 != item.sha256:
                self.mismatches.append(
                    DefinitionMismatch(
                        key=label,
                        kind="altered",
                        detail=f"its text hashes to {rebuilt.definition.sha256[:12]}…, its stored SHA-256 "
                        f"is {str(item.sha256)[:12]}…",
                    )
                )
                if present is None:
                    self.loaded[key] = rebuilt  # only an auditor opens such a database: to report it
                continue
            if rebuilt is None or (present is not None and present.sha256 == item.sha256):
                continue
            if present is not None:
                self.mismatches.append(
                    DefinitionMismatch(
                        key=label,
                        kind="changed",
                        detail=f"the file {present.definition.source} differs from the stored text",
                        source=present.definition.source,
                    )
                )
            self.loaded[key] = rebuilt
        self._calendars.clear()

    @property
    def conflicts(self) -> list[tuple[str, str]]:
        """(name@version, file) of every file that differs from the stored text of its version."""
        return [(m.key, m.source) for m in self.mismatches if m.kind == "changed"]

    def check(self) -> None:
        """Refuse to run on a definition that does not hold what was stored.

        Raises:
            StoredDefinitionAltered: a stored text was edited in the database.
            DefinitionChanged: a definition file differs from the stored text of its version.
        """
        if self.mismatches:
            raise self.mismatches[0].error()

    def add_tables(self, tables: Iterable[HolidayTable]) -> None:
        by_year = {t.year: t for t in self.tables}
        by_year.update({t.year: t for t in tables})
        self.tables = [by_year[y] for y in sorted(by_year)]
        self._calendars.clear()

    def keys(self) -> list[str]:
        return [f"{n}@{v}" for n, v in sorted(self.loaded)]

    def all(self) -> list[Definition]:
        return [self.loaded[key].definition for key in sorted(self.loaded)]

    def system_roles(self) -> frozenset[str]:
        """Every role some loaded definition reserves for the system (the sweep's, the scheduler's),
        worked out again only when the loaded definitions change."""
        key = tuple(map(id, self.loaded.values()))
        if key != self._system[0]:
            roles = frozenset(
                name
                for item in self.loaded.values()
                for name, role in item.definition.roles.items()
                if role.system
            )
            self._system = (key, roles)
        return self._system[1]

    def get(self, name: str, version: int) -> Definition:
        found = self.loaded.get((name, version))
        if found is None:
            raise DefinitionNotFound(name, version, self.keys())
        return found.definition

    def resolved(self, name: str, version: int) -> str:
        return self.loaded[(name, version)].resolved

    def of_kind(self, kind: str) -> list[Definition]:
        """The newest version of every definition of ``kind``."""
        newest: dict[str, Definition] = {}
        for (name, _version), item in sorted(self.loaded.items()):
            if item.definition.kind == kind:
                newest[name] = item.definition
        return list(newest.values())

    def select(self, name: str, case_date: dt.date | None = None) -> Definition:
        """The version of ``name`` for a new case: the newest in force on the case's date.

        A version with ``effective_from`` after that date does not apply to it; without a date
        every version is a candidate.

        Raises:
            DefinitionNotFound: no version of ``name`` is in force on that date.
        """
        versions = [d.definition for (n, _v), d in self.loaded.items() if n == name]
        candidates = [
            d
            for d in versions
            if case_date is None or d.effective_from is None or d.effective_from <= case_date
        ]
        if not candidates:
            raise DefinitionNotFound(name, None, self.keys())
        return max(candidates, key=lambda d: d.version)

    def base_calendar(self) -> WorkingCalendar:
        """The working days under the holiday tables alone (no definition's local days off)."""
        return WorkingCalendar(self.tables)

    def calendar(self, definition: Definition) -> WorkingCalendar:
        key = (definition.name, definition.version)
        found = self._calendars.get(key)
        if found is None:
            found = WorkingCalendar(self.tables, local_days_off=definition.local_days_off or None)
            self._calendars[key] = found
        return found


def _digest(body: str) -> str | None:
    """The SHA-256 of a stored definition's text, or None when it is not a JSON object."""
    try:
        return resolved_sha256(body)
    except (TypeError, ValueError):
        return None
