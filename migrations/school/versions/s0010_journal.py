"""The journal: lesson records, homework (with files), attendance, marks, period and year marks, substitution
grants, correction permits in closed periods, timeliness indicators (R-JRN-1…6, R-REP-2).

Revision ID: s0010
Revises: s0009
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0010"
down_revision: str | Sequence[str] | None = "s0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('final_mark',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('academic_year_id', sa.Integer(), nullable=False),
        sa.Column('study_period_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('value', sa.String(length=10), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint("(kind = 'period') = (study_period_id is not null)", name=op.f('ck_final_mark_period')),
        sa.CheckConstraint("kind in ('period', 'year', 'exam', 'project', 'practice', 'final')", name=op.f('ck_final_mark_kind')),
        sa.ForeignKeyConstraint(['academic_year_id'], ['academic_year.id'], name=op.f('fk_final_mark_academic_year_id_academic_year')),
        sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_final_mark_author_id_person')),
        sa.ForeignKeyConstraint(['student_id'], ['person.id'], name=op.f('fk_final_mark_student_id_person')),
        sa.ForeignKeyConstraint(['study_period_id'], ['study_period.id'], name=op.f('fk_final_mark_study_period_id_study_period')),
        sa.ForeignKeyConstraint(['subject_id'], ['subject.id'], name=op.f('fk_final_mark_subject_id_subject')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_final_mark'))
    )
    op.create_index(op.f('ix_final_mark_student_id'), 'final_mark', ['student_id'], unique=False)
    op.create_index('ux_final_mark_period', 'final_mark', ['student_id', 'subject_id', 'study_period_id'], unique=True, postgresql_where=sa.text('study_period_id IS NOT NULL'))
    op.create_index('ux_final_mark_year', 'final_mark', ['student_id', 'subject_id', 'academic_year_id', 'kind'], unique=True, postgresql_where=sa.text('study_period_id IS NULL'))
    op.create_table('correction_permit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('teacher_id', sa.Integer(), nullable=False),
        sa.Column('teaching_load_id', sa.Integer(), nullable=False),
        sa.Column('study_period_id', sa.Integer(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('granted_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['study_period_id'], ['study_period.id'], name=op.f('fk_correction_permit_study_period_id_study_period')),
        sa.ForeignKeyConstraint(['teacher_id'], ['person.id'], name=op.f('fk_correction_permit_teacher_id_person')),
        sa.ForeignKeyConstraint(['teaching_load_id'], ['teaching_load.id'], name=op.f('fk_correction_permit_teaching_load_id_teaching_load')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_correction_permit'))
    )
    op.create_index(op.f('ix_correction_permit_teaching_load_id'), 'correction_permit', ['teaching_load_id'], unique=False)
    op.create_table('attendance',
        sa.Column('lesson_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('reason', sa.String(length=10), nullable=True),
        sa.Column('late_minutes', sa.SmallInteger(), nullable=True),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint("reason is null or reason in ('illness', 'excused', 'unexcused')", name=op.f('ck_attendance_reason')),
        sa.CheckConstraint("status = 'late' or late_minutes is null", name=op.f('ck_attendance_late_minutes')),
        sa.CheckConstraint("status in ('absent', 'late')", name=op.f('ck_attendance_status')),
        sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_attendance_author_id_person')),
        sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_attendance_lesson_id_lesson')),
        sa.ForeignKeyConstraint(['student_id'], ['person.id'], name=op.f('fk_attendance_student_id_person')),
        sa.PrimaryKeyConstraint('lesson_id', 'student_id', name=op.f('pk_attendance'))
    )
    op.create_table('homework_file',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('lesson_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=True),
        sa.Column('storage_key', sa.String(length=200), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('content_type', sa.String(length=120), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_homework_file_author_id_person')),
        sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_homework_file_lesson_id_lesson')),
        sa.ForeignKeyConstraint(['student_id'], ['person.id'], name=op.f('fk_homework_file_student_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_homework_file')),
        sa.UniqueConstraint('storage_key', name=op.f('uq_homework_file_storage_key'))
    )
    op.create_index(op.f('ix_homework_file_lesson_id'), 'homework_file', ['lesson_id'], unique=False)
    op.create_table('individual_homework',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('lesson_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_individual_homework_author_id_person')),
        sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_individual_homework_lesson_id_lesson')),
        sa.ForeignKeyConstraint(['student_id'], ['person.id'], name=op.f('fk_individual_homework_student_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_individual_homework')),
        sa.UniqueConstraint('lesson_id', 'student_id', name=op.f('uq_individual_homework_lesson_id_student_id'))
    )
    op.create_index(op.f('ix_individual_homework_lesson_id'), 'individual_homework', ['lesson_id'], unique=False)
    op.create_table('journal_grant',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('teacher_id', sa.Integer(), nullable=False),
        sa.Column('teaching_load_id', sa.Integer(), nullable=False),
        sa.Column('lesson_id', sa.Integer(), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_to', sa.Date(), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('granted_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint('valid_from <= valid_to', name=op.f('ck_journal_grant_dates')),
        sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_journal_grant_lesson_id_lesson')),
        sa.ForeignKeyConstraint(['teacher_id'], ['person.id'], name=op.f('fk_journal_grant_teacher_id_person')),
        sa.ForeignKeyConstraint(['teaching_load_id'], ['teaching_load.id'], name=op.f('fk_journal_grant_teaching_load_id_teaching_load')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_grant'))
    )
    op.create_index('ix_journal_grant_teacher_load', 'journal_grant', ['teacher_id', 'teaching_load_id'], unique=False)
    op.create_table('journal_lateness',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('lesson_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('teacher_id', sa.Integer(), nullable=False),
        sa.Column('mark_id', sa.BigInteger(), nullable=True),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('detected_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint("kind in ('topic_missing', 'attendance_missing', 'homework_late', 'mark_late')", name=op.f('ck_journal_lateness_kind')),
        sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_journal_lateness_lesson_id_lesson')),
        sa.ForeignKeyConstraint(['teacher_id'], ['person.id'], name=op.f('fk_journal_lateness_teacher_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_lateness')),
        sa.UniqueConstraint('lesson_id', 'kind', 'mark_id', name=op.f('uq_journal_lateness_lesson_id_kind_mark_id'), postgresql_nulls_not_distinct=True)
    )
    op.create_index(op.f('ix_journal_lateness_lesson_id'), 'journal_lateness', ['lesson_id'], unique=False)
    op.create_index(op.f('ix_journal_lateness_teacher_id'), 'journal_lateness', ['teacher_id'], unique=False)
    op.create_table('lesson_record',
        sa.Column('lesson_id', sa.Integer(), nullable=False),
        sa.Column('topic', sa.String(length=500), nullable=True),
        sa.Column('plan_topic_id', sa.Integer(), nullable=True),
        sa.Column('covered', sa.Text(), nullable=True),
        sa.Column('homework', sa.Text(), nullable=True),
        sa.Column('no_homework', sa.Boolean(), nullable=False),
        sa.Column('attendance_taken', sa.Boolean(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('homework_set_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint('NOT (no_homework AND homework IS NOT NULL)', name=op.f('ck_lesson_record_homework')),
        sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_lesson_record_author_id_person')),
        sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_lesson_record_lesson_id_lesson')),
        sa.ForeignKeyConstraint(['plan_topic_id'], ['plan_topic.id'], name=op.f('fk_lesson_record_plan_topic_id_plan_topic')),
        sa.PrimaryKeyConstraint('lesson_id', name=op.f('pk_lesson_record'))
    )
    op.create_table('mark',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('lesson_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('work_kind_id', sa.Integer(), nullable=False),
        sa.Column('value', sa.String(length=10), nullable=False),
        sa.Column('comment', sa.String(length=500), nullable=True),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_mark_author_id_person')),
        sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_mark_lesson_id_lesson')),
        sa.ForeignKeyConstraint(['student_id'], ['person.id'], name=op.f('fk_mark_student_id_person')),
        sa.ForeignKeyConstraint(['work_kind_id'], ['work_kind.id'], name=op.f('fk_mark_work_kind_id_work_kind')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mark'))
    )
    op.create_index('ix_mark_lesson_student', 'mark', ['lesson_id', 'student_id'], unique=False)
    op.create_index(op.f('ix_mark_student_id'), 'mark', ['student_id'], unique=False)


def downgrade() -> None:
    raise NotImplementedError("school migrations are forward-only; restore from backup to go back")
