"""cases of every kind: the record row says its kind; definitions declare kind, id prefix, main track, index

Every definition used to be taken for a dishonesty record. A definition now declares, as data,
what kind of case it runs (``kind``), the letters its ids start with (``id_prefix``), its main
track (``main_track``) and which of its fields fill the record's indexed columns (``index``).

- ``record.kind`` is added: ``supervision_round`` for the rounds of the ``supervision``
  definition, ``record`` for every other row (before this revision every other definition ran
  dishonesty records). On SQLite the column keeps an empty-text default (dropping a default
  there would rebuild the table).
- ``record.finding_unit`` becomes ``originating_unit`` and ``record.finding_date`` becomes
  ``case_date`` (names for any kind of case; ``ALTER TABLE … RENAME COLUMN``, no row rewritten);
  the unit's index is renamed with it.
- The stored text of each definition version gets the four keys, with the values the bundled
  files now declare for it, and its SHA-256 is taken again over the new text: a definition in
  use is still compared with its file. The history does not hash the definition's text (only
  ``name@version``), so every chain verifies as before, and no record id changes.

A definition of one's own that stands alone (no ``extends``) must declare the same four keys
before the engine loads it: ``chengxin definitions show NAME --json`` prints them from the
database.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 21:30:00
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ROUNDS = "supervision"  # the one definition of supervision rounds before this revision
LEGACY_INDEX = {  # the columns every definition filled before, from these fields when it had them
    "subject_name": "subject_name",
    "subject_code": "subject_code",
    "subject_id_number": "subject_id_number",
    "responsible_unit": "responsible_unit",
    "originating_unit": "finding_unit",
    "case_date": "finding_date",
    "severity": "severity",
}
DECLARED = ("kind", "id_prefix", "main_track", "index")


def _sha256(body: dict[str, Any]) -> str:
    """The definition hash as the loader takes it (canonical JSON: sorted keys, no spaces)."""
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _declared(name: str, body: dict[str, Any]) -> dict[str, Any]:
    fields = body.get("fields") or {}
    return {
        "kind": "supervision_round" if name == ROUNDS else "record",
        "id_prefix": "DC" if name == ROUNDS else "SX",
        "main_track": "main",
        "index": {column: field for column, field in LEGACY_INDEX.items() if field in fields},
    }


def _rewrite_definitions(change: Any) -> None:
    connection = op.get_bind()
    table = sa.table(
        "workflow_definition",
        sa.column("name", sa.String),
        sa.column("version", sa.Integer),
        sa.column("sha256", sa.String),
        sa.column("body", sa.Text),
    )
    rows = connection.execute(sa.select(table.c.name, table.c.version, table.c.body)).all()
    for name, version, text in rows:
        body = change(name, json.loads(text))
        if body is None:
            continue
        connection.execute(
            table.update()
            .where(table.c.name == name, table.c.version == version)
            .values(body=json.dumps(body, ensure_ascii=False, separators=(",", ":")), sha256=_sha256(body))
        )


def upgrade() -> None:
    op.add_column("record", sa.Column("kind", sa.String(32), nullable=False, server_default=""))
    op.execute(
        f"UPDATE record SET kind = CASE WHEN definition_name = '{ROUNDS}' "
        "THEN 'supervision_round' ELSE 'record' END"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("record", "kind", server_default=None)
    op.execute("ALTER TABLE record RENAME COLUMN finding_unit TO originating_unit")
    op.execute("ALTER TABLE record RENAME COLUMN finding_date TO case_date")
    op.drop_index("ix_record_finding_unit", table_name="record")
    op.create_index("ix_record_originating_unit", "record", ["originating_unit"], unique=False)

    def add(name: str, body: dict[str, Any]) -> dict[str, Any] | None:
        if "kind" in body:
            return None
        return {**body, **_declared(name, body)}

    _rewrite_definitions(add)


def downgrade() -> None:
    def remove(_name: str, body: dict[str, Any]) -> dict[str, Any] | None:
        if "kind" not in body:
            return None
        return {key: value for key, value in body.items() if key not in DECLARED}

    _rewrite_definitions(remove)
    op.drop_index("ix_record_originating_unit", table_name="record")
    op.execute("ALTER TABLE record RENAME COLUMN case_date TO finding_date")
    op.execute("ALTER TABLE record RENAME COLUMN originating_unit TO finding_unit")
    op.create_index("ix_record_finding_unit", "record", ["finding_unit"], unique=False)
    op.execute("ALTER TABLE record DROP COLUMN kind")  # SQLite 3.35+: no rebuild of the parent table
