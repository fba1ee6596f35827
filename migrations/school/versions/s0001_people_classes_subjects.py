"""School schema: subjects, people, classes and enrolment.

Revision ID: s0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("middle_name", sa.String(length=100), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind in ('staff', 'student', 'guardian')", name=op.f("ck_person_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
    )
    op.create_table(
        "subject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("short_name", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject")),
        sa.UniqueConstraint("name", name=op.f("uq_subject_name")),
    )
    op.create_table(
        "class_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grade", sa.SmallInteger(), nullable=False),
        sa.Column("letter", sa.String(length=4), nullable=False),
        sa.Column("class_teacher_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("grade between 1 and 11", name=op.f("ck_class_unit_grade")),
        sa.ForeignKeyConstraint(
            ["class_teacher_id"], ["person.id"], name=op.f("fk_class_unit_class_teacher_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_unit")),
        sa.UniqueConstraint("grade", "letter", name=op.f("uq_class_unit_grade_letter")),
    )
    op.create_table(
        "enrollment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("class_unit_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["class_unit_id"], ["class_unit.id"], name=op.f("fk_enrollment_class_unit_id_class_unit")
        ),
        sa.ForeignKeyConstraint(["student_id"], ["person.id"], name=op.f("fk_enrollment_student_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment")),
    )
    op.create_index(op.f("ix_enrollment_class_unit_id"), "enrollment", ["class_unit_id"], unique=False)
    op.create_index(op.f("ix_enrollment_student_id"), "enrollment", ["student_id"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("school migrations are forward-only; restore from backup to go back")
