"""Webhook deliveries as an outbox claimed once across replicas (issue 14): the body while
pending, when the next attempt is due, and the claim (token and lease) of the worker that
holds the delivery. Deliveries left pending by the in-memory retries of older versions
cannot be sent (their body was never stored), so they are marked failed.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("body", sa.Text, nullable=True))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claim_token", sa.String(32), nullable=True))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.execute(
        "UPDATE webhook_deliveries SET status = 'failed', "
        "last_error = 'not delivered before an upgrade (retries were kept in memory then)' "
        "WHERE status = 'pending'"
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_due", "webhook_deliveries")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("claimed_until")
        batch.drop_column("claim_token")
        batch.drop_column("next_attempt_at")
        batch.drop_column("body")
