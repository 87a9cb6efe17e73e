"""Conversation lifecycle: when a member was last heard from, for abandoned chats (issue 16).

A waiting conversation whose member has not written or looked (the open widget
polls) for `handoff.abandoned_after` minutes leaves the queue; the sweep finds
them by this column in one UPDATE. Existing rows start from `updated_at`.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("last_member_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE conversations SET last_member_at = updated_at")
    op.create_index(
        "ix_conversations_state_last_member_at", "conversations", ["state", "last_member_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_state_last_member_at", table_name="conversations")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("last_member_at")
