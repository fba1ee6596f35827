"""Bell schedules, the weekly timetable, lessons and their changes (R-STR-5).

Revision ID: s0007
Revises: s0006
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0007"
down_revision: str | Sequence[str] | None = "s0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bell_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bell_schedule")),
        sa.UniqueConstraint("name", name=op.f("uq_bell_schedule_name")),
    )
    op.create_table(
        "bell",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bell_schedule_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.SmallInteger(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.CheckConstraint("starts < ends", name=op.f("ck_bell_times")),
        sa.ForeignKeyConstraint(
            ["bell_schedule_id"], ["bell_schedule.id"], name=op.f("fk_bell_bell_schedule_id_bell_schedule")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bell")),
        sa.UniqueConstraint("bell_schedule_id", "number", name=op.f("uq_bell_bell_schedule_id_number")),
    )
    op.create_index(op.f("ix_bell_bell_schedule_id"), "bell", ["bell_schedule_id"], unique=False)
    op.create_table(
        "timetable_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("teaching_load_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("lesson_number", sa.SmallInteger(), nullable=False),
        sa.Column("room", sa.String(length=20), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint("lesson_number between 0 and 12", name=op.f("ck_timetable_entry_lesson_number")),
        sa.CheckConstraint("weekday between 1 and 6", name=op.f("ck_timetable_entry_weekday")),
        sa.ForeignKeyConstraint(
            ["teaching_load_id"], ["teaching_load.id"], name=op.f("fk_timetable_entry_teaching_load_id_teaching_load")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timetable_entry")),
    )
    op.create_index(op.f("ix_timetable_entry_teaching_load_id"), "timetable_entry", ["teaching_load_id"], unique=False)
    op.create_table(
        "lesson",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("teaching_load_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("lesson_number", sa.SmallInteger(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("timetable_entry_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status in ('planned', 'cancelled')", name=op.f("ck_lesson_status")),
        sa.ForeignKeyConstraint(["teacher_id"], ["person.id"], name=op.f("fk_lesson_teacher_id_person")),
        sa.ForeignKeyConstraint(
            ["teaching_load_id"], ["teaching_load.id"], name=op.f("fk_lesson_teaching_load_id_teaching_load")
        ),
        sa.ForeignKeyConstraint(
            ["timetable_entry_id"], ["timetable_entry.id"], name=op.f("fk_lesson_timetable_entry_id_timetable_entry")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson")),
        sa.UniqueConstraint(
            "teaching_load_id",
            "on_date",
            "lesson_number",
            name=op.f("uq_lesson_teaching_load_id_on_date_lesson_number"),
        ),
    )
    op.create_index(op.f("ix_lesson_on_date"), "lesson", ["on_date"], unique=False)
    op.create_index(op.f("ix_lesson_teacher_id"), "lesson", ["teacher_id"], unique=False)
    op.create_index(op.f("ix_lesson_teaching_load_id"), "lesson", ["teaching_load_id"], unique=False)
    op.create_table(
        "lesson_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=14), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("previous_teacher_id", sa.Integer(), nullable=True),
        sa.Column("previous_room", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind in ('substitution', 'cancellation', 'room', 'extra')", name=op.f("ck_lesson_change_kind")
        ),
        sa.ForeignKeyConstraint(["lesson_id"], ["lesson.id"], name=op.f("fk_lesson_change_lesson_id_lesson")),
        sa.ForeignKeyConstraint(
            ["previous_teacher_id"], ["person.id"], name=op.f("fk_lesson_change_previous_teacher_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_change")),
    )
    op.create_index(op.f("ix_lesson_change_lesson_id"), "lesson_change", ["lesson_id"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("school migrations are forward-only; restore from backup to go back")
