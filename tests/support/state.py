"""What a refused command must leave unchanged, and what accepted ones must leave verifiable.

``database_state`` reads every table's row count and every case's version and head hash, so a
test can assert that a refused command wrote nothing (``assert database_state(url) == before``);
``assert_verifies`` runs the auditor's ``verify`` over every case. Both work on any backend's URL,
for tests of the engine and of the CLI alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from workflow import Engine, audit


@dataclass(frozen=True, slots=True)
class DatabaseState:
    rows: dict[str, int]  # table -> row count
    cases: dict[str, tuple[int, str]]  # case id -> (version, head hash)


def database_state(where: Engine | str) -> DatabaseState:
    """Row counts of every table and (version, head hash) of every case, read in one connection."""
    engine = where.store.engine if isinstance(where, Engine) else sa.create_engine(where)
    try:
        with engine.connect() as connection:
            names = sorted(sa.inspect(connection).get_table_names())
            rows = {
                name: connection.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
                for name in names
            }
            cases = {
                str(row.id): (int(row.version), str(row.head_hash))
                for row in connection.execute(sa.text("select id, version, head_hash from record"))
            }
    finally:
        if not isinstance(where, Engine):
            engine.dispose()
    return DatabaseState(rows=rows, cases=cases)


def assert_verifies(engine: Engine) -> None:
    """Every case's chain, legality and projection hold (``chengxin audit verify`` exits 0)."""
    report = audit.verify(engine.registry, engine.histories(), real_time=not engine.simulated)
    assert report.intact, report.problems
