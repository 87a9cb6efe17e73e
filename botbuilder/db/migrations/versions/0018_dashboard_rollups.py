"""Daily figures kept ahead of the purge so a long dashboard period reads few rows (issue 12).

`insights_rollups`: one row per finished day (and basis: the bot's timezone and
office hours) with that day's figures as counted from the stored rows, and the
day's check counts that tell when a later change touched it.
`insights_rollup_marks`: how far the scan for late changes has read.
`ix_conversations_updated_at`: that scan, each look, reads only the
conversations updated since (and the latest update) instead of all of them.
Counts, intent ids, team names, languages and durations only: no member data.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "insights_rollups",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("basis", sa.String(16), primary_key=True),
        sa.Column("rows", sa.JSON, nullable=False),
        sa.Column("checks", sa.JSON, nullable=False),
        sa.Column("rolled_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "insights_rollup_marks",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_conversations_updated_at", "conversations", ["updated_at", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_updated_at", "conversations")
    op.drop_table("insights_rollup_marks")
    op.drop_table("insights_rollups")
