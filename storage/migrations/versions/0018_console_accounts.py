"""Console accounts and sessions: local users of the web console, their sessions, failed sign-ins

``console_user`` holds one row per local account: its login name, the argon2 hash of its
password, the person, roles (comma-separated) and unit it acts as, when it was created and
disabled, and its failed sign-ins with the lock-out they caused. ``console_session`` holds one
row per signed-in session: the SHA-256 of the cookie's random value (never the value), the user,
the role it acts in, its CSRF token, and when it started, expires and ended. New tables: no
existing row is touched.

Revision ID: 0018
Revises: 0013 (the API tokens; rechained when merging)
Create Date: 2026-12-01 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_user",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("person", sa.String(length=128), nullable=False),
        sa.Column("roles", sa.String(length=255), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_sign_ins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "console_session",
        sa.Column("id_sha256", sa.String(length=64), primary_key=True),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_console_session_user_name", "console_session", ["user_name"])


def downgrade() -> None:
    op.drop_index("ix_console_session_user_name", table_name="console_session")
    op.drop_table("console_session")
    op.drop_table("console_user")
