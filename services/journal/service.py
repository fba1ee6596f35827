"""Writing the journal (R-JRN-1…3, R-JRN-6): a lesson's topic and homework, attendance, marks, and a grid cell.
Each write checks the rules of `services.journal.scope`, is audited by the session hook (the history of a cell),
puts its event in the outbox in the same transaction, and never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.grading.models import WorkKind
from services.journal.cells import Cell, parse_cell
from services.journal.models import ABSENCE_REASONS, Attendance, IndividualHomework, LessonRecord, Mark
from services.journal.scope import (
    JournalError,
    JournalNotFound,
    LessonScope,
    ReasonRequired,
    Writer,
    check_lesson_held,
    check_may_write,
    check_value,
    lesson_scope,
    marks_allowed,
    not_in_roster,
    roster_members,
    saved,
    saved_many,
    student_grade,
)
from services.plan.models import PlanTopic

TOPIC_MAX = 500
TEXT_MAX = 5000
COMMENT_MAX = 500


def _text(value: str | None, limit: int, what: str) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise JournalError(f"{what} — не длиннее {limit} знаков.")
    return text or None


async def _record(session: AsyncSession, lesson_id: int) -> LessonRecord:
    record = await session.get(LessonRecord, lesson_id)
    if record is None:
        record = LessonRecord(lesson_id=lesson_id, no_homework=False, attendance_taken=False)
        session.add(record)
    return record


# --- the lesson: topic, material, homework ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LessonContent:
    topic: str | None
    covered: str | None
    homework: str | None
    no_homework: bool
    plan_topic_id: int | None = None


async def save_content(session: AsyncSession, writer: Writer, lesson_id: int, content: LessonContent) -> LessonRecord:
    """Topic, material covered and the class's homework — or «Без задания» (R-JRN-1)."""
    scope = await lesson_scope(session, lesson_id, lock=True)
    await check_may_write(session, writer, scope)
    if scope.lesson.status == "cancelled":
        raise JournalError("Урок отменён: тему и задание не записывают.")
    topic = _text(content.topic, TOPIC_MAX, "Тема урока")
    homework = _text(content.homework, TEXT_MAX, "Домашнее задание")
    covered = _text(content.covered, TEXT_MAX, "Пройденный материал")
    if content.no_homework and homework:
        raise JournalError("Либо задание, либо «Без задания»: выберите одно.")
    if content.plan_topic_id is not None:
        plan = await session.get(PlanTopic, content.plan_topic_id)
        if plan is None or plan.teaching_load_id != scope.load.id:
            raise JournalError("Тема не из тематического плана этого журнала.")
        topic = topic or plan.title
    record = await _record(session, lesson_id)
    homework_changed = (homework, content.no_homework) != (record.homework, record.no_homework)
    record.topic, record.covered, record.plan_topic_id = topic, covered, content.plan_topic_id
    record.homework, record.no_homework, record.author_id = homework, content.no_homework, writer.person_id
    record.updated_at = writer.school.now()
    if homework_changed and (homework or content.no_homework):
        record.homework_set_at = writer.school.now()
    await session.flush()
    await saved(session, writer, "lesson", lesson_id=lesson_id)
    return record


async def set_individual_homework(session: AsyncSession, writer: Writer, lesson_id: int, student_id: int,
                                  text: str | None) -> IndividualHomework | None:
    """A student's own homework for the lesson; empty text removes it."""
    scope = await lesson_scope(session, lesson_id)
    await check_may_write(session, writer, scope)
    await student_grade(session, scope, student_id)
    body = _text(text, TEXT_MAX, "Индивидуальное задание")
    row = await session.scalar(select(IndividualHomework).where(
        IndividualHomework.lesson_id == lesson_id, IndividualHomework.student_id == student_id))
    if body is None:
        if row is not None:
            await session.delete(row)
    elif row is None:
        row = IndividualHomework(lesson_id=lesson_id, student_id=student_id, text=body, author_id=writer.person_id)
        session.add(row)
    else:
        row.text, row.author_id = body, writer.person_id
    await session.flush()
    await saved(session, writer, "homework", lesson_id=lesson_id, student_id=student_id)
    return row if body is not None else None


# --- attendance --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Presence:
    """One student's attendance at a lesson: status None means present."""

    student_id: int
    status: str | None = None
    reason: str | None = None
    late_minutes: int | None = None


def _check_presence(p: Presence) -> None:
    if p.status not in (None, "absent", "late"):
        raise JournalError("Отметка посещаемости: «отсутствовал» или «опоздал».")
    if p.status == "absent" and p.reason not in ABSENCE_REASONS:
        raise JournalError("Укажите причину пропуска: болезнь, уважительная или неуважительная.")
    if p.status == "late" and p.late_minutes is not None and not 1 <= p.late_minutes <= 45:
        raise JournalError("Опоздание — от 1 до 45 минут.")


async def _apply_presence(session: AsyncSession, writer: Writer, scope: LessonScope, p: Presence,
                          current: Attendance | None) -> bool:
    """Write one student's attendance; True when something changed."""
    if p.status is None:
        if current is None:
            return False
        _check_correction(writer, current.updated_at)
        await session.delete(current)
        return True
    reason = p.reason if p.status == "absent" else None
    minutes = p.late_minutes if p.status == "late" else None
    if current is None:
        session.add(Attendance(lesson_id=scope.lesson.id, student_id=p.student_id, status=p.status, reason=reason,
                               late_minutes=minutes, author_id=writer.person_id, updated_at=writer.school.now()))
        return True
    if (current.status, current.reason, current.late_minutes) == (p.status, reason, minutes):
        return False
    _check_correction(writer, current.updated_at)
    current.status, current.reason, current.late_minutes = p.status, reason, minutes
    current.author_id, current.updated_at = writer.person_id, writer.school.now()
    return True


async def set_attendance(session: AsyncSession, writer: Writer, lesson_id: int, entries: list[Presence], *,
                         whole_class: bool = True) -> list[Attendance]:
    """Save the attendance of a lesson (R-JRN-2). With `whole_class` the lesson's attendance counts as taken and
    students not listed keep what they had; only changed rows are written."""
    scope = await lesson_scope(session, lesson_id, lock=True)
    await check_may_write(session, writer, scope)
    check_lesson_held(writer, scope)
    if len({p.student_id for p in entries}) != len(entries):
        raise JournalError("Ученик указан дважды.")
    current = {a.student_id: a for a in (await session.execute(
        select(Attendance).where(Attendance.lesson_id == lesson_id))).scalars()}
    members = await roster_members(session, scope.load, scope.lesson.on_date)
    changed = []
    for presence in entries:
        _check_presence(presence)
        if presence.student_id not in members:
            raise not_in_roster(scope.audience, scope.lesson.on_date)
        if await _apply_presence(session, writer, scope, presence, current.get(presence.student_id)):
            changed.append(presence.student_id)
    if whole_class:
        record = await _record(session, lesson_id)
        if not record.attendance_taken:
            record.attendance_taken, record.updated_at = True, writer.school.now()
    await session.flush()
    await saved_many(session, writer, "attendance", lesson_id, changed)
    if whole_class and not changed:
        await saved(session, writer, "attendance", lesson_id=lesson_id)
    rows = await session.execute(select(Attendance).where(Attendance.lesson_id == lesson_id))
    return list(rows.scalars())


# --- marks -------------------------------------------------------------------------------------------------


def _check_correction(writer: Writer, entered_at: datetime | None) -> None:
    """Changing or removing an entry made on an earlier day is a correction: it must say why (R-JRN-6)."""
    if entered_at is None or writer.reason is not None:
        return
    if entered_at.astimezone(writer.school.now().tzinfo).date() < writer.school.today():
        raise ReasonRequired("Это исправление записи прошлого дня: укажите причину.")


async def _work_kind(session: AsyncSession, work_kind_id: int | None) -> WorkKind:
    if work_kind_id is None:
        kind = await session.scalar(select(WorkKind).where(WorkKind.active).order_by(WorkKind.weight, WorkKind.id)
                                    .limit(1))
    else:
        kind = await session.get(WorkKind, work_kind_id)
    if kind is None or not kind.active:
        raise JournalError("Вид работы не найден или больше не используется.")
    return kind


@dataclass(frozen=True, slots=True)
class MarkDraft:
    student_id: int
    value: str
    work_kind_id: int | None = None
    comment: str | None = None


async def add_mark(session: AsyncSession, writer: Writer, lesson_id: int, draft: MarkDraft) -> Mark:
    """A mark for a lesson in the subject's grading system, with its kind of work and a comment (R-JRN-3)."""
    scope = await lesson_scope(session, lesson_id)
    await check_may_write(session, writer, scope)
    check_lesson_held(writer, scope)
    grade = await student_grade(session, scope, draft.student_id)
    check_value(draft.value.strip(), await marks_allowed(session, scope.subject, grade, special=False))
    kind = await _work_kind(session, draft.work_kind_id)
    mark = Mark(lesson_id=lesson_id, student_id=draft.student_id, work_kind_id=kind.id, value=draft.value.strip(),
                comment=_text(draft.comment, COMMENT_MAX, "Комментарий"), author_id=writer.person_id,
                created_at=writer.school.now())
    session.add(mark)
    await session.flush()
    await saved(session, writer, "mark", lesson_id=lesson_id, student_id=draft.student_id, mark_id=mark.id)
    return mark


async def _mark(session: AsyncSession, mark_id: int) -> Mark:
    mark = await session.get(Mark, mark_id)
    if mark is None:
        raise JournalNotFound("Отметка не найдена.")
    return mark


async def change_mark(session: AsyncSession, writer: Writer, mark_id: int, draft: MarkDraft) -> Mark:
    """Correct a mark: its value, kind of work or comment; an earlier day's mark needs a reason (R-JRN-6)."""
    mark = await _mark(session, mark_id)
    scope = await lesson_scope(session, mark.lesson_id)
    await check_may_write(session, writer, scope)
    check_lesson_held(writer, scope)
    grade = await student_grade(session, scope, mark.student_id)
    check_value(draft.value.strip(), await marks_allowed(session, scope.subject, grade, special=False))
    kind = await _work_kind(session, draft.work_kind_id or mark.work_kind_id)
    comment = _text(draft.comment, COMMENT_MAX, "Комментарий")
    if (mark.value, mark.work_kind_id, mark.comment) == (draft.value.strip(), kind.id, comment):
        return mark
    _check_correction(writer, mark.created_at)
    mark.value, mark.work_kind_id, mark.comment = draft.value.strip(), kind.id, comment
    mark.author_id = writer.person_id
    await session.flush()
    await saved(session, writer, "mark", lesson_id=mark.lesson_id, student_id=mark.student_id, mark_id=mark.id)
    return mark


async def remove_mark(session: AsyncSession, writer: Writer, mark_id: int) -> None:
    mark = await _mark(session, mark_id)
    scope = await lesson_scope(session, mark.lesson_id)
    await check_may_write(session, writer, scope)
    _check_correction(writer, mark.created_at)
    await session.delete(mark)
    await session.flush()
    await saved(session, writer, "mark_removed", lesson_id=mark.lesson_id, student_id=mark.student_id,
                mark_id=mark_id)


# --- a cell of the grid ------------------------------------------------------------------------------------


async def save_cell(session: AsyncSession, writer: Writer, lesson_id: int, student_id: int, text: str, *,
                    work_kind_id: int | None = None) -> Cell:
    """Make the cell (student × lesson) say what was typed: marks in order, then absence. Existing marks are
    changed in place, extra ones removed, new ones added with the column's kind of work."""
    cell = parse_cell(text)
    scope = await lesson_scope(session, lesson_id, lock=True)
    await check_may_write(session, writer, scope)
    check_lesson_held(writer, scope)
    grade = await student_grade(session, scope, student_id)
    if cell.marks:
        allowed = await marks_allowed(session, scope.subject, grade, special=False)
        for value in cell.marks:
            check_value(value, allowed)
    existing = list((await session.execute(select(Mark).where(
        Mark.lesson_id == lesson_id, Mark.student_id == student_id).order_by(Mark.id))).scalars())
    kind = await _work_kind(session, work_kind_id) if len(cell.marks) > len(existing) else None
    changed_marks: list[int] = []
    for position, value in enumerate(cell.marks):
        if position < len(existing):
            mark = existing[position]
            if mark.value != value:
                _check_correction(writer, mark.created_at)
                mark.value, mark.author_id = value, writer.person_id
                changed_marks.append(mark.id)
        else:
            assert kind is not None
            session.add(Mark(lesson_id=lesson_id, student_id=student_id, work_kind_id=kind.id, value=value,
                             author_id=writer.person_id, created_at=writer.school.now()))
    for mark in existing[len(cell.marks):]:
        _check_correction(writer, mark.created_at)
        await session.delete(mark)
    attendance = await session.get(Attendance, (lesson_id, student_id))
    status, reason = cell.absence or (None, None)
    presence_changed = await _apply_presence(session, writer, scope, Presence(student_id, status, reason),
                                             attendance)
    await session.flush()
    if changed_marks or len(cell.marks) != len(existing):
        await saved(session, writer, "mark", lesson_id=lesson_id, student_id=student_id)
    if presence_changed:
        await saved(session, writer, "attendance", lesson_id=lesson_id, student_id=student_id)
    return cell
