"""Permissions of school mail, surveys, parent access applications and support requests (R-COM-1, R-COM-3,
R-COM-4, R-DRY-4) for the roles of schools that exist already (new schools get them from the defaults in s0003).

Revision ID: s0011
Revises: s0010
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.identity.permissions import default_rows

revision: str = "s0011"
down_revision: str | Sequence[str] | None = "s0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = ("messages.read", "messages.to_staff", "messages.to_families", "messages.announce", "surveys.answer",
       "surveys.manage", "access.manage", "support.manage")


def upgrade() -> None:
    rows = [r for r in default_rows() if r["permission"] in NEW]
    values = ", ".join(f"('{r['role']}', '{r['permission']}')" for r in rows)
    # The values are this module's own constants, not input.
    op.execute(sa.text(f"INSERT INTO role_permission (role, permission) VALUES {values} ON CONFLICT DO NOTHING"))  # noqa: S608


def downgrade() -> None:
    raise NotImplementedError("school migrations are forward-only; restore from backup to go back")
