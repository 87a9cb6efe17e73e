"""Changes to accounts kept for History (issue 16).

Reserved placeholder: a no-op until its work fills it in.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
