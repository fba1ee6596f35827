"""School year, grading systems and kinds of work, groups, teaching load and student movement (R-STR-1…6),
with the default grading data a school starts with.

Revision ID: s0005
Revises: s0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.grading import defaults

revision: str = "s0005"
down_revision: str | Sequence[str] | None = "s0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "academic_year",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.CheckConstraint("start_date < end_date", name=op.f("ck_academic_year_dates")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_academic_year")),
        sa.UniqueConstraint("name", name=op.f("uq_academic_year_name")),
    )
    op.create_table(
        "grading_system",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grading_system")),
        sa.UniqueConstraint("code", name=op.f("uq_grading_system_code")),
    )
    op.create_table(
        "work_kind",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("short_name", sa.String(length=20), nullable=False),
        sa.Column("weight", sa.Numeric(precision=4, scale=2), nullable=False),
        sa.Column("is_written", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("weight > 0 and weight <= 10", name=op.f("ck_work_kind_weight")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_kind")),
        sa.UniqueConstraint("name", name=op.f("uq_work_kind_name")),
    )
    op.create_table(
        "grade_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grading_system_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("numeric_value", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("is_passing", sa.Boolean(), nullable=False),
        sa.Column("is_special", sa.Boolean(), nullable=False),
        sa.Column("ordering", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grading_system_id"], ["grading_system.id"], name=op.f("fk_grade_value_grading_system_id_grading_system")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_value")),
        sa.UniqueConstraint("grading_system_id", "value", name=op.f("uq_grade_value_grading_system_id_value")),
    )
    op.create_index(op.f("ix_grade_value_grading_system_id"), "grade_value", ["grading_system_id"], unique=False)
    op.create_table(
        "holiday",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("academic_year_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("grade_from", sa.SmallInteger(), nullable=False),
        sa.Column("grade_to", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("start_date <= end_date", name=op.f("ck_holiday_dates")),
        sa.ForeignKeyConstraint(
            ["academic_year_id"], ["academic_year.id"], name=op.f("fk_holiday_academic_year_id_academic_year")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holiday")),
    )
    op.create_index(op.f("ix_holiday_academic_year_id"), "holiday", ["academic_year_id"], unique=False)
    op.create_table(
        "study_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("academic_year_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("number", sa.SmallInteger(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("grade_from", sa.SmallInteger(), nullable=False),
        sa.Column("grade_to", sa.SmallInteger(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind in ('quarter', 'trimester', 'half', 'year')", name=op.f("ck_study_period_kind")),
        sa.CheckConstraint(
            "grade_from between 1 and 11 and grade_to between grade_from and 11", name=op.f("ck_study_period_grades")
        ),
        sa.CheckConstraint("start_date <= end_date", name=op.f("ck_study_period_dates")),
        sa.ForeignKeyConstraint(
            ["academic_year_id"], ["academic_year.id"], name=op.f("fk_study_period_academic_year_id_academic_year")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_period")),
        sa.UniqueConstraint(
            "academic_year_id",
            "kind",
            "number",
            "grade_from",
            name=op.f("uq_study_period_academic_year_id_kind_number_grade_from"),
        ),
    )
    op.create_index(op.f("ix_study_period_academic_year_id"), "study_period", ["academic_year_id"], unique=False)
    op.create_table(
        "subject_grading",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("grade", sa.SmallInteger(), nullable=False),
        sa.Column("grading_system_id", sa.Integer(), nullable=True),
        sa.Column("marks_allowed", sa.Boolean(), nullable=False),
        sa.CheckConstraint("grade between 1 and 11", name=op.f("ck_subject_grading_grade")),
        sa.ForeignKeyConstraint(
            ["grading_system_id"],
            ["grading_system.id"],
            name=op.f("fk_subject_grading_grading_system_id_grading_system"),
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_subject_grading_subject_id_subject")),
        sa.PrimaryKeyConstraint("subject_id", "grade", name=op.f("pk_subject_grading")),
    )
    op.create_table(
        "grade_conversion",
        sa.Column("from_value_id", sa.Integer(), nullable=False),
        sa.Column("to_system_id", sa.Integer(), nullable=False),
        sa.Column("to_value_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_value_id"], ["grade_value.id"], name=op.f("fk_grade_conversion_from_value_id_grade_value")
        ),
        sa.ForeignKeyConstraint(
            ["to_system_id"], ["grading_system.id"], name=op.f("fk_grade_conversion_to_system_id_grading_system")
        ),
        sa.ForeignKeyConstraint(
            ["to_value_id"], ["grade_value.id"], name=op.f("fk_grade_conversion_to_value_id_grade_value")
        ),
        sa.PrimaryKeyConstraint("from_value_id", "to_system_id", name=op.f("pk_grade_conversion")),
    )
    op.create_table(
        "movement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("from_class_id", sa.Integer(), nullable=True),
        sa.Column("to_class_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("document", sa.String(length=100), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind in ('arrival', 'transfer', 'withdrawal')", name=op.f("ck_movement_kind")),
        sa.ForeignKeyConstraint(
            ["from_class_id"], ["class_unit.id"], name=op.f("fk_movement_from_class_id_class_unit")
        ),
        sa.ForeignKeyConstraint(["student_id"], ["person.id"], name=op.f("fk_movement_student_id_person")),
        sa.ForeignKeyConstraint(["to_class_id"], ["class_unit.id"], name=op.f("fk_movement_to_class_id_class_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_movement")),
    )
    op.create_index(op.f("ix_movement_student_id"), "movement", ["student_id"], unique=False)
    op.create_table(
        "study_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("class_unit_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind in ('subgroup', 'cross_class', 'individual')", name=op.f("ck_study_group_kind")),
        sa.ForeignKeyConstraint(
            ["class_unit_id"], ["class_unit.id"], name=op.f("fk_study_group_class_unit_id_class_unit")
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_study_group_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_group")),
    )
    op.create_index(op.f("ix_study_group_class_unit_id"), "study_group", ["class_unit_id"], unique=False)
    op.create_table(
        "group_membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["study_group.id"], name=op.f("fk_group_membership_group_id_study_group")
        ),
        sa.ForeignKeyConstraint(["student_id"], ["person.id"], name=op.f("fk_group_membership_student_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_membership")),
    )
    op.create_index(op.f("ix_group_membership_group_id"), "group_membership", ["group_id"], unique=False)
    op.create_index(op.f("ix_group_membership_student_id"), "group_membership", ["student_id"], unique=False)
    op.create_table(
        "teaching_load",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("academic_year_id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("class_unit_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("hours_per_week", sa.Numeric(precision=4, scale=1), nullable=False),
        sa.CheckConstraint("(class_unit_id IS NULL) <> (group_id IS NULL)", name=op.f("ck_teaching_load_target")),
        sa.CheckConstraint("hours_per_week > 0 and hours_per_week <= 40", name=op.f("ck_teaching_load_hours")),
        sa.ForeignKeyConstraint(
            ["academic_year_id"], ["academic_year.id"], name=op.f("fk_teaching_load_academic_year_id_academic_year")
        ),
        sa.ForeignKeyConstraint(
            ["class_unit_id"], ["class_unit.id"], name=op.f("fk_teaching_load_class_unit_id_class_unit")
        ),
        sa.ForeignKeyConstraint(["group_id"], ["study_group.id"], name=op.f("fk_teaching_load_group_id_study_group")),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_teaching_load_subject_id_subject")),
        sa.ForeignKeyConstraint(["teacher_id"], ["person.id"], name=op.f("fk_teaching_load_teacher_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teaching_load")),
    )
    op.create_index(op.f("ix_teaching_load_academic_year_id"), "teaching_load", ["academic_year_id"], unique=False)
    op.create_index(op.f("ix_teaching_load_class_unit_id"), "teaching_load", ["class_unit_id"], unique=False)
    op.create_index(op.f("ix_teaching_load_group_id"), "teaching_load", ["group_id"], unique=False)
    op.create_index(op.f("ix_teaching_load_teacher_id"), "teaching_load", ["teacher_id"], unique=False)
    _seed()


def _seed() -> None:
    # Reference data written by the migration itself (no actor): the audit log starts with the school's own edits.
    conn = op.get_bind()
    systems = sa.table(
        "grading_system", sa.column("id", sa.Integer), sa.column("code", sa.String), sa.column("name", sa.String)
    )
    values = sa.table(
        "grade_value",
        sa.column("id", sa.Integer),
        sa.column("grading_system_id", sa.Integer),
        sa.column("value", sa.String),
        sa.column("label", sa.String),
        sa.column("numeric_value", sa.Numeric),
        sa.column("is_passing", sa.Boolean),
        sa.column("is_special", sa.Boolean),
        sa.column("ordering", sa.SmallInteger),
    )
    ids: dict[tuple[str, str], int] = {}
    system_ids: dict[str, int] = {}
    for code, (name, marks) in defaults.SYSTEMS.items():
        system_id = conn.execute(sa.insert(systems).values(code=code, name=name).returning(systems.c.id)).scalar_one()
        system_ids[code] = system_id
        rows = [
            {
                "grading_system_id": system_id,
                "value": v,
                "label": label,
                "numeric_value": num,
                "is_passing": passing,
                "is_special": False,
                "ordering": i,
            }
            for i, (v, label, num, passing) in enumerate(marks)
        ]
        rows += [
            {
                "grading_system_id": system_id,
                "value": v,
                "label": label,
                "numeric_value": None,
                "is_passing": True,
                "is_special": True,
                "ordering": 1000 + i,
            }
            for i, (v, label) in enumerate(defaults.SPECIAL_MARKS)
        ]
        for row in conn.execute(sa.insert(values).returning(values.c.id, values.c.value), rows):
            ids[(code, row.value)] = row.id
    conversions = sa.table(
        "grade_conversion",
        sa.column("from_value_id", sa.Integer),
        sa.column("to_system_id", sa.Integer),
        sa.column("to_value_id", sa.Integer),
    )
    rows = []
    for (code, value), value_id in ids.items():
        target = defaults.five_point_of(code, value)
        if target is not None:
            rows.append(
                {"from_value_id": value_id, "to_system_id": system_ids["five"], "to_value_id": ids[("five", target)]}
            )
    op.bulk_insert(conversions, rows)
    kinds = sa.table(
        "work_kind",
        sa.column("name", sa.String),
        sa.column("short_name", sa.String),
        sa.column("weight", sa.Numeric),
        sa.column("is_written", sa.Boolean),
        sa.column("active", sa.Boolean),
    )
    op.bulk_insert(
        kinds,
        [
            {"name": n, "short_name": s, "weight": w, "is_written": wr, "active": True}
            for n, s, w, wr in defaults.WORK_KINDS
        ],
    )


def downgrade() -> None:
    raise NotImplementedError("school migrations are forward-only; restore from backup to go back")
