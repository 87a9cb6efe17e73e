"""Scheduled jobs claimed once across replicas, and e-mailed follow-up replies (issues 12, 16).

`scheduled_runs`: one row per job and period; the unique (job, slot) is the
claim that lets one replica, and only one, run the weekly digest or the daily
purge. `follow_ups` gains the Message-ID of the reply an agent sent from the
console, and when it was sent.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduled_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("job", sa.String(64), nullable=False),
        sa.Column("slot", sa.String(32), nullable=False),
        sa.Column("claimed_by", sa.String(255), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("job", "slot", name="uq_scheduled_runs_job_slot"),
    )
    with op.batch_alter_table("follow_ups") as batch:
        batch.add_column(sa.Column("reply_message_id", sa.String(255), nullable=True))
        batch.add_column(sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("follow_ups") as batch:
        batch.drop_column("replied_at")
        batch.drop_column("reply_message_id")
    op.drop_table("scheduled_runs")
