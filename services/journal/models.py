"""The class journal's entries (R-JRN-1…6): what was done in a lesson, who was absent, the marks, the period and
year marks, substitution grants, permits to correct a closed period, and lateness indicators (R-REP-2).

Every row is written through `services.journal.service` (the rules) and audited like every school write, so the
history of a cell is the audit log of its rows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.calendar import models as _calendar  # noqa: F401 - study_period is referred to
from services.db import SchoolBase
from services.grading import models as _grading  # noqa: F401 - work_kind is referred to
from services.plan import models as _plan  # noqa: F401 - plan_topic is referred to
from services.timetable import models as _timetable  # noqa: F401 - lesson is referred to

ABSENCE_STATUSES = ("absent", "late")
ABSENCE_REASONS = ("illness", "excused", "unexcused")
FINAL_KINDS = ("period", "year", "exam", "project", "practice", "final")
LATENESS_KINDS = ("topic_missing", "attendance_missing", "homework_late", "mark_late")


class LessonRecord(SchoolBase):
    """What the teacher wrote about a lesson: topic, material covered, the class's homework or «Без задания»."""

    __tablename__ = "lesson_record"
    __table_args__ = (CheckConstraint("NOT (no_homework AND homework IS NOT NULL)", name="homework"),)

    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), primary_key=True)
    topic: Mapped[str | None] = mapped_column(String(500))
    plan_topic_id: Mapped[int | None] = mapped_column(ForeignKey("plan_topic.id"))
    covered: Mapped[str | None] = mapped_column(Text)
    homework: Mapped[str | None] = mapped_column(Text)
    no_homework: Mapped[bool] = mapped_column(Boolean, default=False)
    attendance_taken: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    homework_set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IndividualHomework(SchoolBase):
    """Индивидуальное домашнее задание: for one student, instead of or beside the class's."""

    __tablename__ = "individual_homework"
    __table_args__ = (UniqueConstraint("lesson_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class HomeworkFile(SchoolBase):
    """A file attached to a lesson's homework (the class's, or one student's); the bytes are in object storage."""

    __tablename__ = "homework_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), index=True)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Attendance(SchoolBase):
    """An absence or a lateness of a student at a lesson; a student with no row was present."""

    __tablename__ = "attendance"
    __table_args__ = (
        CheckConstraint(f"status in {ABSENCE_STATUSES!r}", name="status"),
        CheckConstraint(f"reason is null or reason in {ABSENCE_REASONS!r}", name="reason"),
        CheckConstraint("status = 'late' or late_minutes is null", name="late_minutes"),
    )

    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(10))
    late_minutes: Mapped[int | None] = mapped_column(SmallInteger)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Mark(SchoolBase):
    """Отметка for a lesson: a value of the subject's grading system, the kind of work, a comment to the student."""

    __tablename__ = "mark"
    __table_args__ = (Index("ix_mark_lesson_student", "lesson_id", "student_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    work_kind_id: Mapped[int] = mapped_column(ForeignKey("work_kind.id"))
    value: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str | None] = mapped_column(String(500))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FinalMark(SchoolBase):
    """Period, year, exam, project, practice or final mark of a student in a subject.

    `study_period_id` is set for period marks only; the others belong to the academic year.
    """

    __tablename__ = "final_mark"
    __table_args__ = (
        CheckConstraint(f"kind in {FINAL_KINDS!r}", name="kind"),
        CheckConstraint("(kind = 'period') = (study_period_id is not null)", name="period"),
        Index("ux_final_mark_period", "student_id", "subject_id", "study_period_id", unique=True,
              postgresql_where=text("study_period_id IS NOT NULL")),
        Index("ux_final_mark_year", "student_id", "subject_id", "academic_year_id", "kind", unique=True,
              postgresql_where=text("study_period_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"))
    study_period_id: Mapped[int | None] = mapped_column(ForeignKey("study_period.id"))
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(10))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class JournalGrant(SchoolBase):
    """Доступ к журналу на замену: a substitute writes one load's journal from the day before the substituted
    lesson to the day after (R-JRN-5); granted by the deputy head."""

    __tablename__ = "journal_grant"
    __table_args__ = (CheckConstraint("valid_from <= valid_to", name="dates"),
                      Index("ix_journal_grant_teacher_load", "teacher_id", "teaching_load_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    teaching_load_id: Mapped[int] = mapped_column(ForeignKey("teaching_load.id"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(300))
    granted_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CorrectionPermit(SchoolBase):
    """Разрешение на исправление в закрытом периоде: the deputy head lets a teacher correct one load's journal
    in one closed period until a date, for a recorded reason (R-JRN-4)."""

    __tablename__ = "correction_permit"

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    teaching_load_id: Mapped[int] = mapped_column(ForeignKey("teaching_load.id"), index=True)
    study_period_id: Mapped[int] = mapped_column(ForeignKey("study_period.id"))
    valid_until: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(300))
    granted_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Lateness(SchoolBase):
    """A timeliness indicator (R-REP-2) for the deputy head's control report: which lesson, what was late."""

    __tablename__ = "journal_lateness"
    __table_args__ = (CheckConstraint(f"kind in {LATENESS_KINDS!r}", name="kind"),
                      UniqueConstraint("lesson_id", "kind", "mark_id", postgresql_nulls_not_distinct=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    mark_id: Mapped[int | None] = mapped_column(BigInteger)
    """For a late mark: which one (no foreign key: the indicator outlives a deleted mark)."""
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the entry was made at last; None while it is still missing."""
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
