"""Parent access applications, consents to personal-data processing and erasure, support and password-recovery requests (R-DRY-4, R-SEC-5, R-COM-4).

Revision ID: s0013
Revises: s0012
Create Date: 2026-11-23
"""

from collections.abc import Sequence

revision: str = "s0013"
down_revision: str | Sequence[str] | None = "s0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # the tables are added with their models


def downgrade() -> None:
    raise NotImplementedError("school migrations are forward-only; restore from backup to go back")
