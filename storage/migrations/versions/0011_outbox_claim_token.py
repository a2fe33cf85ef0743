"""outbox claim token: a mail is marked only by the dispatcher whose claim it is under

A dispatcher claims a batch of mail for a lease (``claimed_at``); a batch that took longer than
the lease was claimed again by a second dispatcher and both sent it, each marking the rows by
id. ``outbox.claim_token`` holds the claim a mail is under: each claim writes a token of its
own, a mail is marked (and its lease renewed) only under the token that claimed it, and a
dispatcher whose claim was taken over learns it and stops. Rows are not rewritten: a mail left
``sending`` by a dispatcher of the previous release has no token and is claimed again when its
lease has run out, as before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("claim_token", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("claim_token")
