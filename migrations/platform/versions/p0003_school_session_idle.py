"""A school's own idle timeout for sessions (R-SEC-4); null means the deployment's default.

Revision ID: p0003
Revises: p0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "p0003"
down_revision: str | Sequence[str] | None = "p0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("school", sa.Column("session_idle_minutes", sa.SmallInteger(), nullable=True), schema="platform")


def downgrade() -> None:
    raise NotImplementedError("platform migrations are forward-only; restore from backup to go back")
