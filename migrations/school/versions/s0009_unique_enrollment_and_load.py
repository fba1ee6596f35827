"""One open enrolment per student; no duplicate teaching-load items — enforced by the database, so two requests
at once cannot get around the service's checks.

Revision ID: s0009
Revises: s0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0009"
down_revision: str | Sequence[str] | None = "s0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ux_enrollment_open", "enrollment", ["student_id"], unique=True,
                    postgresql_where=sa.text("end_date IS NULL"))
    op.create_index("ux_teaching_load_class", "teaching_load",
                    ["academic_year_id", "teacher_id", "subject_id", "class_unit_id"], unique=True,
                    postgresql_where=sa.text("class_unit_id IS NOT NULL"))
    op.create_index("ux_teaching_load_group", "teaching_load",
                    ["academic_year_id", "teacher_id", "subject_id", "group_id"], unique=True,
                    postgresql_where=sa.text("group_id IS NOT NULL"))


def downgrade() -> None:
    raise NotImplementedError("school migrations are forward-only; restore from backup to go back")
