"""School mail (threads, announcements, attachments, read marks) and surveys (R-COM-1, R-COM-3).

Revision ID: s0012
Revises: s0011
Create Date: 2026-11-23
"""

from collections.abc import Sequence

revision: str = "s0012"
down_revision: str | Sequence[str] | None = "s0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # the tables are added with their models


def downgrade() -> None:
    raise NotImplementedError("school migrations are forward-only; restore from backup to go back")
