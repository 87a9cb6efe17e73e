"""Session versions (logout ends every copy of a session) and the networks users signed in from.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer, nullable=False, server_default="0")
        )
    op.create_table(
        "login_networks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "address"),
    )
    op.create_index("ix_login_networks_last_login_at", "login_networks", ["last_login_at"])


def downgrade() -> None:
    op.drop_table("login_networks")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
