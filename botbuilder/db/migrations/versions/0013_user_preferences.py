"""Per-user language and timezone for the editor and console (issue 16).

Reserved placeholder: a no-op until its work fills it in.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
