"""The directory: units and their addresses, holiday tables, the definition versions cases use,
and the log of who looked up a subject."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from storage.connections import Database, definition_t, holiday_t, query_log_t, report_input_t, unit_t
from storage.groupcommit import GroupCommit, Row
from storage.values import ReportInputRow, StoredDefinition, StoredHolidayTable, UnitRow


def _aware(value: dt.datetime) -> dt.datetime:
    """Aggregates bypass the column type on SQLite and come back naive; they are UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


class Directory:
    """Reference data of one database."""

    def __init__(self, database: Database) -> None:
        self.db = database
        # concurrent query-log writers (credit checks served by several threads) share commits
        self.query_log_commits = GroupCommit(self._write_query_log)

    # --------------------------------------------------------------------- units

    def units(self) -> list[UnitRow]:
        with self.db.reading() as c:
            return [UnitRow(**r._mapping) for r in c.execute(sa.select(unit_t).order_by(unit_t.c.code))]

    def has_units(self) -> bool:
        """Whether the unit directory holds any unit (it is then in use). Asked at every
        registration: one statement on a pooled driver connection, compiled once."""
        fast = self.db.fast
        statement = fast.select("any_unit", lambda: sa.select(unit_t.c.code).limit(1))
        with self.db.pooled() as raw:
            cursor = raw.cursor()
            try:
                cursor.execute(statement.sql, dict(statement.fixed))
                return cursor.fetchone() is not None
            finally:
                cursor.close()

    def unit(self, code: str) -> UnitRow | None:
        with self.db.reading() as c:
            row = c.execute(sa.select(unit_t).where(unit_t.c.code == code)).first()
        return UnitRow(**row._mapping) if row else None

    def units_by_code(self, codes: Iterable[str]) -> dict[str, UnitRow]:
        wanted = list(set(codes))
        if not wanted:
            return {}
        with self.db.reading() as c:
            rows = c.execute(sa.select(unit_t).where(unit_t.c.code.in_(wanted)))
            return {r.code: UnitRow(**r._mapping) for r in rows}

    def save_units(self, units: Sequence[UnitRow], at: dt.datetime) -> int:
        """Insert or replace units in one transaction."""
        with self.db.writing() as c:
            for unit in units:
                c.execute(sa.delete(unit_t).where(unit_t.c.code == unit.code))
                c.execute(
                    sa.insert(unit_t).values(
                        code=unit.code,
                        name=unit.name,
                        superior=unit.superior,
                        emails=list(unit.emails),
                        contact=unit.contact,
                        jurisdiction=unit.jurisdiction,
                        level=unit.level,
                        updated_at=at,
                    )
                )
        return len(units)

    # ------------------------------------------------------------ report inputs

    def save_report_inputs(self, rows: Sequence[ReportInputRow], at: dt.datetime) -> int:
        """Insert or replace reported figures in one transaction."""
        t = report_input_t
        with self.db.writing() as c:
            for row in rows:
                c.execute(
                    sa.delete(t).where(
                        t.c.jurisdiction == row.jurisdiction,
                        t.c.period == row.period,
                        t.c.unit == row.unit,
                        t.c.measure == row.measure,
                    )
                )
                c.execute(
                    sa.insert(t).values(
                        jurisdiction=row.jurisdiction,
                        period=row.period,
                        unit=row.unit,
                        measure=row.measure,
                        value=row.value,
                        source=row.source,
                        reported_by=row.reported_by,
                        reported_at=at,
                    )
                )
        return len(rows)

    def report_inputs(self, jurisdiction: str) -> list[ReportInputRow]:
        """Every figure reported for a jurisdiction, by period, unit and measure."""
        t = report_input_t
        with self.db.reading() as c:
            rows = c.execute(
                sa.select(t)
                .where(t.c.jurisdiction == jurisdiction)
                .order_by(t.c.period, t.c.unit, t.c.measure)
            )
            return [ReportInputRow(**{k: v for k, v in r._mapping.items() if k != "id"}) for r in rows]

    # ------------------------------------------------------------ holiday tables

    def holiday_tables(self) -> list[StoredHolidayTable]:
        """Every year's table loaded into this database, as its YAML text."""
        with self.db.reading() as c:
            rows = c.execute(sa.select(holiday_t).order_by(holiday_t.c.year))
            return [
                StoredHolidayTable(year=r.year, provisional=r.provisional, source=r.source, body=r.body)
                for r in rows
            ]

    def save_holiday_table(self, table: StoredHolidayTable, at: dt.datetime) -> None:
        with self.db.writing() as c:
            c.execute(sa.delete(holiday_t).where(holiday_t.c.year == table.year))
            c.execute(
                sa.insert(holiday_t).values(
                    year=table.year,
                    provisional=table.provisional,
                    source=table.source,
                    body=table.body,
                    loaded_at=at,
                )
            )

    # --------------------------------------------------------------- definitions

    def definitions(self) -> list[StoredDefinition]:
        """Every definition version a case has used, with its resolved text (and nothing else: the
        engine reads these whenever it opens, and the time of registration is no concern of it)."""
        t = definition_t
        with self.db.reading() as c:
            rows = c.execute(
                sa.select(t.c.name, t.c.version, t.c.sha256, t.c.body).order_by(t.c.name, t.c.version)
            )
            return [
                StoredDefinition(name=r.name, version=r.version, sha256=r.sha256, body=r.body) for r in rows
            ]

    def register_definition(self, definition: StoredDefinition, at: dt.datetime) -> str:
        """Store a definition version the first time a case uses it; returns the stored sha256."""
        stored = sa.select(definition_t.c.sha256).where(
            definition_t.c.name == definition.name, definition_t.c.version == definition.version
        )
        try:
            with self.db.writing() as c:
                found = c.execute(stored).scalar()
                if found is not None:
                    return str(found)
                c.execute(
                    sa.insert(definition_t).values(
                        name=definition.name,
                        version=definition.version,
                        sha256=definition.sha256,
                        body=definition.body,
                        registered_at=at,
                    )
                )
                return definition.sha256
        except IntegrityError:
            # the first case of this version in another process stored it between look and insert
            with self.db.reading() as c:
                return str(c.execute(stored).scalar_one())

    def definitions_in_use(self) -> dict[str, tuple[int, dt.datetime]]:
        """Per definition name: the newest version cases use, and when the name was first used."""
        with self.db.reading() as c:
            rows = c.execute(
                sa.select(
                    definition_t.c.name,
                    sa.func.max(definition_t.c.version),
                    sa.func.min(definition_t.c.registered_at),
                ).group_by(definition_t.c.name)
            ).all()
        return {name: (version, _aware(since)) for name, version, since in rows}

    # ----------------------------------------------------------------- query log

    def log_subject_query(
        self,
        *,
        at: dt.datetime,
        requester: str,
        purpose: str,
        subject: str,
        matches: int,
        reason: str | None = None,
        kind: str = "check",
    ) -> None:
        self.log_subject_queries(
            at=at,
            requester=requester,
            purpose=purpose,
            reason=reason,
            kind=kind,
            subjects=[(subject, matches)],
        )

    def log_subject_queries(
        self,
        *,
        at: dt.datetime,
        requester: str,
        purpose: str,
        reason: str | None,
        kind: str,
        subjects: Sequence[tuple[str, int]],
        later: bool = False,
    ) -> Future[None] | None:
        """One row per (subject, matches), committed before the caller sees an answer — in one
        transaction with the rows of concurrent callers (``storage.groupcommit``). ``later``:
        return at once with a future that completes when the rows are committed."""
        if not subjects:
            return None
        rows = [
            {
                "at": at,
                "requester": requester,
                "purpose": purpose,
                "subject": subject,
                "matches": matches,
                "reason": reason,
                "kind": kind,
            }
            for subject, matches in subjects
        ]
        if later:
            return self.query_log_commits.submit_later(rows)
        self.query_log_commits.submit(rows)
        return None

    def _write_query_log(self, rows: list[Row]) -> None:
        """One transaction, on the driver's cursor (``storage.fastpath``): a credit check's
        commit is most of its cost, building the statement should not add to it."""
        fast = self.db.fast
        with self.db.raw_writing() as raw:
            fast.run_many(raw, fast.insert("query_log", list(rows[0])), rows)

    def subject_queries(self, subject: str, *, limit: int = 100) -> list[dict[str, Any]]:
        """Who looked up ``subject`` (a code or a masked ID number), newest first."""
        q = (
            sa.select(query_log_t)
            .where(query_log_t.c.subject == subject)
            .order_by(query_log_t.c.at.desc(), query_log_t.c.id.desc())
            .limit(limit)
        )
        with self.db.reading() as c:
            return [{**row._mapping, "at": _aware(row.at)} for row in c.execute(q)]

    def query_log(self, *, limit: int, requester: str | None = None) -> list[dict[str, object]]:
        """The newest entries of the query log (optionally of one requester), newest first."""
        q = query_log_t.c
        query = sa.select(q.at, q.requester, q.purpose, q.subject, q.matches, q.reason, q.kind).order_by(
            q.at.desc(), q.id.desc()
        )
        if requester:
            query = query.where(q.requester == requester)
        with self.db.reading() as c:
            rows = c.execute(query.limit(limit)).all()
        return [{**row._mapping, "at": _aware(row.at)} for row in rows]
