"""Notification preferences of parents, in-app notifications and the mail queue (R-COM-2).

Revision ID: s0014
Revises: s0013
Create Date: 2026-11-23
"""

from collections.abc import Sequence

revision: str = "s0014"
down_revision: str | Sequence[str] | None = "s0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # the tables are added with their models


def downgrade() -> None:
    raise NotImplementedError("school migrations are forward-only; restore from backup to go back")
