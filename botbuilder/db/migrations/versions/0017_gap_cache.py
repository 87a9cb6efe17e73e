"""Cached gap groups and names between looks at the inbox (issue 12).

Reserved placeholder: a no-op until its work fills it in.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
