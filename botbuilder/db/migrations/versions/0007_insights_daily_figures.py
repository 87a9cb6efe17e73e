"""Daily figures kept by insights, so counts survive the purge of transcripts (issue 12);
indexes on the times the figures count by, so a month of 100,000 conversations is
grouped without reading every row.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Measured on 100,000 generated conversations (benchmarks/insights.py): the figures'
# scans read these indexes alone ("covering"), never the wide message rows.
_TIME_INDEXES = {
    "ix_conversations_created_at": ("conversations", ["created_at", "language", "id"]),
    "ix_conversations_id_language": ("conversations", ["id", "language"]),
    "ix_messages_role_created_at": (
        "messages",
        ["role", "created_at", "conversation_id", "decision", "intent"],
    ),
    "ix_messages_conversation_role": ("messages", ["conversation_id", "role", "created_at"]),
    "ix_handoffs_created_at": ("handoffs", ["created_at"]),
    "ix_feedback_created_at": ("feedback", ["created_at"]),
}


def upgrade() -> None:
    op.create_table(
        "insights_daily",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("metric", sa.String(32), nullable=False),
        sa.Column("key", sa.String(100), nullable=False, server_default=""),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("durations", sa.JSON, nullable=True),
        sa.UniqueConstraint("day", "language", "metric", "key", name="uq_insights_daily_row"),
    )
    op.create_table(
        "insights_sealed_days",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
    )
    for name, (table, columns) in _TIME_INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _columns) in _TIME_INDEXES.items():
        op.drop_index(name, table)
    op.drop_table("insights_sealed_days")
    op.drop_table("insights_daily")
