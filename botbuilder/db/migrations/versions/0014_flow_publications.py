"""Flows shared by replicas through the database (issue 14).

A publication is the whole flows folder (bot.yml and every flow file) as one
replica saved it; the newest one is what every replica serves
(`botbuilder/editing/publishing.py`). `parent_id` is the publication it was
made on top of (0 for the first), unique, so two replicas publishing on the
same one at once cannot both win.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flow_publications",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("parent_id", sa.Integer(), nullable=False, unique=True),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("author", sa.String(255), nullable=True),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("flow_publications")
