"""`messages.announce_all` — announcements to the parents of any class (R-COM-1) — for the administrator, director
and deputy head of schools that exist already (new schools get it from the defaults in s0003). Until now the
service gave those three roles every class by their names; now it is a permission the school may move.

Revision ID: s0016
Revises: s0015
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.identity.permissions import default_rows

revision: str = "s0016"
down_revision: str | Sequence[str] | None = "s0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    rows = [r for r in default_rows() if r["permission"] == "messages.announce_all"]
    values = ", ".join(f"('{r['role']}', '{r['permission']}')" for r in rows)
    # The values are this module's own constants, not input.
    op.execute(sa.text(f"INSERT INTO role_permission (role, permission) VALUES {values} ON CONFLICT DO NOTHING"))  # noqa: S608


def downgrade() -> None:
    raise NotImplementedError("school migrations are forward-only; restore from backup to go back")
