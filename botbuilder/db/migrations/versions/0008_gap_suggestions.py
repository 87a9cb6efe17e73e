"""The gap finder's suggestions and their states (issue 12).

One row per member question in the gap inbox (`botbuilder.insights.inbox_store`).
It carries the question's `conversation_id`, so privacy deletion and the
retention purge remove it with the member's conversation.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gap_questions",
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True),
        sa.Column(
            "conversation_id", sa.String(36), sa.ForeignKey("conversations.id"), nullable=False
        ),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("rejected_intent", sa.String(100), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("group_id", sa.String(32), nullable=True),
        sa.Column("typicality", sa.Float, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=True),
        sa.Column("vector_model", sa.String(255), nullable=True),
        sa.Column("decided_by", sa.String(255), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_gap_questions_conversation_id", "gap_questions", ["conversation_id"])
    op.create_index("ix_gap_questions_state", "gap_questions", ["state"])
    op.create_index("ix_gap_questions_group_id", "gap_questions", ["group_id"])
    op.create_index("ix_gap_questions_asked_at", "gap_questions", ["asked_at"])


def downgrade() -> None:
    op.drop_table("gap_questions")
