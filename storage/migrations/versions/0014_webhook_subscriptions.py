"""webhook subscriptions, and webhook deliveries in the outbox

Services that embed chengxin subscribe to transitions over HTTP. A subscription (URL, event
types, signing secret) lives in ``webhook_subscription``; each committed transition of a
matching event type queues one delivery per subscription in the outbox, in the same transaction,
so webhooks share the mail's claim, lease, retry, dead-letter and ``chengxin outbox`` machinery.

- ``outbox.channel`` (``mail`` | ``webhook``) says what delivers a row; existing rows are mail
  (server default), none is rewritten beyond that default.
- A later delivery of a case waits for the earlier ones to the same subscription (they arrive
  in order); the outbox's unique key, which begins with the record id, finds those.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("channel", sa.String(length=16), nullable=False, server_default="mail"))
    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sqlite_autoincrement=True,  # an id is never reused: a retried delivery cannot reach another subscriber
    )


def downgrade() -> None:
    op.drop_table("webhook_subscription")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("channel")
