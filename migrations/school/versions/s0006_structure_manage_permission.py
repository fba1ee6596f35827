"""The `structure.manage` permission for administrators and deputy heads of schools that exist already
(new schools get it from the defaults in s0003).

Revision ID: s0006
Revises: s0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0006"
down_revision: str | Sequence[str] | None = "s0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.text(
        "INSERT INTO role_permission (role, permission) VALUES ('administrator', 'structure.manage'), "
        "('deputy_head', 'structure.manage') ON CONFLICT DO NOTHING"
    ))


def downgrade() -> None:
    raise NotImplementedError("school migrations are forward-only; restore from backup to go back")
