"""Webhook deliveries name the team, never the webhook URL (a secret); an index for
the per-conversation and per-team counts that bound notifications.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("url")
    op.create_index(
        "ix_webhook_deliveries_team_created_at", "webhook_deliveries", ["team", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_team_created_at", "webhook_deliveries")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("url", sa.String(2000), nullable=False, server_default=""))
