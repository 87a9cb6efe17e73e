"""Changes to accounts kept for History, and one-time links to choose a password (issue 16).

account_changes names accounts by id only (no foreign key: a row outlives a
removed account, and keeps no address of it); password_links holds the
SHA-256 of each open link and goes with its account.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("via", sa.String(8), nullable=False),
    )
    op.create_index("ix_account_changes_at", "account_changes", ["at"])
    op.create_index("ix_account_changes_user_id", "account_changes", ["user_id"])
    op.create_table(
        "password_links",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("purpose", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_password_links_user_id", "password_links", ["user_id"])
    op.create_index("ix_password_links_expires_at", "password_links", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_password_links_expires_at", "password_links")
    op.drop_index("ix_password_links_user_id", "password_links")
    op.drop_table("password_links")
    op.drop_index("ix_account_changes_user_id", "account_changes")
    op.drop_index("ix_account_changes_at", "account_changes")
    op.drop_table("account_changes")
