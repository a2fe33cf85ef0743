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
    """Row counts of every table and (version, head hash) of every case, read in one query each."""
    engine = (
        where.store.engine if isinstance(where, Engine) else sa.create_engine(where, poolclass=sa.NullPool)
    )
    try:
        with engine.connect() as connection:
            key = str(engine.url)
            if key not in _TABLES:
                _TABLES[key] = tuple(sorted(sa.inspect(connection).get_table_names()))
            counts = sa.union_all(
                *(
                    sa.select(
                        sa.literal(name),
                        sa.select(sa.func.count()).select_from(sa.table(name)).scalar_subquery(),
                    )
                    for name in _TABLES[key]
                )
            )
            rows = {str(name): int(count) for name, count in connection.execute(counts)}
            cases = {
                str(row.id): (int(row.version), str(row.head_hash))
                for row in connection.execute(sa.text("select id, version, head_hash from record"))
            }
    finally:
        if not isinstance(where, Engine):
            engine.dispose()
    return DatabaseState(rows=rows, cases=cases)


_TABLES: dict[str, tuple[str, ...]] = {}  # the tables of a database (its schema does not change in a test)


def assert_verifies(engine: Engine) -> None:
    """Every case's chain, legality and projection hold (``chengxin audit verify`` exits 0)."""
    report = audit.verify(engine.registry, engine.histories(), real_time=not engine.simulated)
    assert report.intact, report.problems
