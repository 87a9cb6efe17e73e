"""Daily figures kept ahead of the purge so a long dashboard period reads few rows (issue 12).

Reserved placeholder: a no-op until its work fills it in.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
