"""Alembic environment: runs migrations on the engine chengxin hands over (``chengxin init``)."""

from __future__ import annotations

from alembic import context

from storage.tables import TABLES

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    raise RuntimeError(
        "run migrations through 'chengxin init' (storage.db.upgrade), which supplies the engine"
    )

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=TABLES,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
