"""Webhook deliveries as an outbox claimed once across replicas (issue 14).

Reserved placeholder: a no-op until its work fills it in.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
