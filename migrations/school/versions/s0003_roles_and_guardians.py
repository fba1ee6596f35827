"""Role permissions as school data (R-ROLE-3) and guardian–student relations (R-ROLE-4).

Revision ID: s0003
Revises: s0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.identity.permissions import default_rows

revision: str = "s0003"
down_revision: str | Sequence[str] | None = "s0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    role_permission = op.create_table(
        "role_permission",
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("permission", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("role", "permission", name=op.f("pk_role_permission")),
    )
    op.bulk_insert(role_permission, default_rows())
    op.create_table(
        "guardianship",
        sa.Column("guardian_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=40), nullable=False, server_default="законный представитель"),
        sa.ForeignKeyConstraint(["guardian_id"], ["person.id"], name=op.f("fk_guardianship_guardian_id_person")),
        sa.ForeignKeyConstraint(["student_id"], ["person.id"], name=op.f("fk_guardianship_student_id_person")),
        sa.PrimaryKeyConstraint("guardian_id", "student_id", name=op.f("pk_guardianship")),
    )
    op.create_index(op.f("ix_guardianship_student_id"), "guardianship", ["student_id"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("school migrations are forward-only; restore from backup to go back")
