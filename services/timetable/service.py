"""Timetable rules: conflicts, lessons generated from the weekly timetable, and changes to single lessons.

Every rule refuses with Russian messages that name the conflict, so the deputy head can fix it at once.
Nothing here commits: the caller's transaction holds the whole change (and the audit hook records it).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.calendar.models import Holiday
from services.errors import RuleError
from services.structure.models import ClassUnit, Person, StudyGroup, Subject, TeachingLoad
from services.timetable.models import Bell, BellSchedule, Lesson, LessonChange, TimetableEntry

WEEKDAYS = ("", "понедельник", "вторник", "среда", "четверг", "пятница", "суббота")


class TimetableError(RuleError):
    """A timetable change that cannot be made."""

    problem_type = "/problems/timetable"
    default_status = 409


@dataclass(frozen=True, slots=True)
class Audience:
    """Who sits in a lesson: a whole class, or a group (a subgroup belongs to its class)."""

    class_unit_id: int | None
    group_id: int | None
    group_kind: str | None


async def _load(session: AsyncSession, load_id: int) -> tuple[TeachingLoad, Audience, str]:
    load = await session.get(TeachingLoad, load_id)
    if load is None:
        raise TimetableError("Строка нагрузки не найдена.", status_code=404)
    if load.group_id is not None:
        group = await session.get(StudyGroup, load.group_id)
        assert group is not None
        return load, Audience(group.class_unit_id, group.id, group.kind), f"группа «{group.name}»"
    unit = await session.get(ClassUnit, load.class_unit_id)
    assert unit is not None
    return load, Audience(unit.id, None, None), f"{unit.grade}{unit.letter} класс"


def _overlapping(valid_from: date, valid_to: date | None) -> object:
    ends_after_start = or_(TimetableEntry.valid_to.is_(None), TimetableEntry.valid_to >= valid_from)
    return ends_after_start if valid_to is None else and_(ends_after_start, TimetableEntry.valid_from <= valid_to)


async def entry_conflicts(session: AsyncSession, *, teaching_load_id: int, weekday: int, lesson_number: int,
                          room: str | None, valid_from: date, valid_to: date | None,
                          exclude_entry_id: int | None = None) -> list[str]:
    """Every clash of a proposed weekly slot: the teacher, the room, the class or the group already busy."""
    load, audience, _ = await _load(session, teaching_load_id)
    other_load, other_group = aliased(TeachingLoad), aliased(StudyGroup)
    rows = (await session.execute(
        select(TimetableEntry, other_load, other_group, Subject.name, ClassUnit.grade, ClassUnit.letter)
        .join(other_load, other_load.id == TimetableEntry.teaching_load_id)
        .join(Subject, Subject.id == other_load.subject_id)
        .outerjoin(other_group, other_group.id == other_load.group_id)
        .outerjoin(ClassUnit, ClassUnit.id == func.coalesce(other_load.class_unit_id, other_group.class_unit_id))
        .where(TimetableEntry.weekday == weekday, TimetableEntry.lesson_number == lesson_number,
               _overlapping(valid_from, valid_to))  # type: ignore[arg-type]
        .where(TimetableEntry.id != (exclude_entry_id or 0))
    )).all()
    when = f"{WEEKDAYS[weekday]}, {lesson_number}-й урок"
    problems = []
    for entry, other, group, subject, grade, letter in rows:
        where = f"{subject}, {grade}{letter}" if grade is not None else f"{subject}, группа «{group.name}»"
        if other.teacher_id == load.teacher_id:
            problems.append(f"Учитель уже ведёт урок в это время ({when}): {where}.")
        if room and entry.room and entry.room.strip().lower() == room.strip().lower():
            problems.append(f"Кабинет {room} уже занят ({when}): {where}.")
        other_class = other.class_unit_id if group is None else group.class_unit_id
        if audience.group_id is not None and other.group_id == audience.group_id:
            problems.append(f"Группа уже занята ({when}): {where}.")
        elif audience.class_unit_id is not None and other_class == audience.class_unit_id and not (
            audience.group_id is not None and other.group_id is not None
            and audience.group_kind == "subgroup" and group is not None and group.kind == "subgroup"
        ):
            # Two subgroups of one class may sit at once (a split class); anything else of that class may not.
            problems.append(f"У класса {grade}{letter} уже есть урок в это время ({when}): {subject}.")
    return problems


async def add_entry(session: AsyncSession, *, teaching_load_id: int, weekday: int, lesson_number: int,
                    room: str | None, valid_from: date, valid_to: date | None = None) -> TimetableEntry:
    """Put a teaching-load item into the weekly timetable; refused with every clash named."""
    if not 1 <= weekday <= 6:
        raise TimetableError("День недели: с понедельника (1) по субботу (6).", status_code=422)
    if not 0 <= lesson_number <= 12:
        raise TimetableError("Номер урока: от 0 до 12.", status_code=422)
    if valid_to is not None and valid_to < valid_from:
        raise TimetableError("Дата окончания раньше даты начала.", status_code=422)
    problems = await entry_conflicts(session, teaching_load_id=teaching_load_id, weekday=weekday,
                                     lesson_number=lesson_number, room=room, valid_from=valid_from,
                                     valid_to=valid_to)
    if problems:
        raise TimetableError(*problems)
    entry = TimetableEntry(teaching_load_id=teaching_load_id, weekday=weekday, lesson_number=lesson_number,
                           room=(room or "").strip() or None, valid_from=valid_from, valid_to=valid_to)
    session.add(entry)
    await session.flush()
    return entry


async def add_bell_schedule(session: AsyncSession, *, name: str, bells: Sequence[tuple[int, object, object]],
                            is_default: bool = False) -> BellSchedule:
    """A bell schedule with its lesson times; lessons must not overlap each other."""
    ordered = sorted(bells, key=lambda b: b[0])
    for (n1, _, end1), (n2, start2, _) in itertools.pairwise(ordered):
        if start2 < end1:  # type: ignore[operator]
            raise TimetableError(f"Урок {n2} начинается раньше, чем кончается урок {n1}.", status_code=422)
    if await session.scalar(select(BellSchedule.id).where(BellSchedule.name == name)) is not None:
        raise TimetableError(f"Расписание звонков «{name}» уже есть.")
    schedule = BellSchedule(name=name, is_default=is_default)
    session.add(schedule)
    await session.flush()
    session.add_all([Bell(bell_schedule_id=schedule.id, number=n, starts=s, ends=e) for n, s, e in ordered])
    await session.flush()
    return schedule


async def generate_lessons(session: AsyncSession, start: date, end: date) -> int:
    """Lessons for every school day from `start` to `end` from the weekly timetable, skipping holidays of the
    class's grade; lessons that exist already are kept. Returns how many were created."""
    if end < start or (end - start).days > 370:
        raise TimetableError("Укажите период не длиннее учебного года.", status_code=422)
    rows = (await session.execute(
        select(TimetableEntry, TeachingLoad, ClassUnit.grade)
        .join(TeachingLoad, TeachingLoad.id == TimetableEntry.teaching_load_id)
        .outerjoin(StudyGroup, StudyGroup.id == TeachingLoad.group_id)
        .outerjoin(ClassUnit, ClassUnit.id == func.coalesce(TeachingLoad.class_unit_id, StudyGroup.class_unit_id))
        .where(TimetableEntry.valid_from <= end,
               or_(TimetableEntry.valid_to.is_(None), TimetableEntry.valid_to >= start))
    )).all()
    holidays = list((await session.execute(
        select(Holiday).where(Holiday.start_date <= end, Holiday.end_date >= start))).scalars())
    existing = set((await session.execute(
        select(Lesson.teaching_load_id, Lesson.on_date, Lesson.lesson_number)
        .where(Lesson.on_date >= start, Lesson.on_date <= end))).tuples())
    created = 0
    day = start
    while day <= end:
        for entry, load, grade in rows:
            if day.isoweekday() != entry.weekday or day < entry.valid_from or (entry.valid_to and day > entry.valid_to):
                continue
            if any(h.start_date <= day <= h.end_date and (grade is None or h.grade_from <= grade <= h.grade_to)
                   for h in holidays):
                continue
            key = (load.id, day, entry.lesson_number)
            if key in existing:
                continue
            session.add(Lesson(teaching_load_id=load.id, on_date=day, lesson_number=entry.lesson_number,
                               teacher_id=load.teacher_id, room=entry.room, status="planned",
                               timetable_entry_id=entry.id))
            existing.add(key)
            created += 1
        day += timedelta(days=1)
    await session.flush()
    return created


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise TimetableError("Укажите причину изменения: её увидят ученики, родители и учителя.", status_code=422)
    return reason[:300]


async def _lesson(session: AsyncSession, lesson_id: int) -> Lesson:
    lesson = await session.get(Lesson, lesson_id, with_for_update=True)
    if lesson is None:
        raise TimetableError("Урок не найден.", status_code=404)
    return lesson


async def _teacher_busy(session: AsyncSession, teacher_id: int, on_date: date, number: int, skip: int) -> bool:
    found = await session.scalar(select(Lesson.id).where(
        Lesson.teacher_id == teacher_id, Lesson.on_date == on_date, Lesson.lesson_number == number,
        Lesson.status == "planned", Lesson.id != skip))
    return found is not None


async def substitute(session: AsyncSession, lesson_id: int, *, teacher_id: int, reason: str,
                     actor_account_id: int | None) -> LessonChange:
    """Замена: another teacher takes the lesson; the change and its reason are kept with the lesson."""
    lesson = await _lesson(session, lesson_id)
    teacher = await session.get(Person, teacher_id)
    if teacher is None or teacher.kind != "staff":
        raise TimetableError("Заменять урок может только сотрудник школы.", status_code=422)
    if lesson.status == "cancelled":
        raise TimetableError("Урок отменён: замена не нужна.")
    if await _teacher_busy(session, teacher_id, lesson.on_date, lesson.lesson_number, lesson.id):
        raise TimetableError(f"Учитель уже ведёт {lesson.lesson_number}-й урок {lesson.on_date:%d.%m.%Y}.")
    change = LessonChange(lesson_id=lesson.id, kind="substitution", reason=_reason(reason),
                          previous_teacher_id=lesson.teacher_id, created_by=actor_account_id)
    lesson.teacher_id = teacher_id
    session.add(change)
    await session.flush()
    return change


async def cancel(session: AsyncSession, lesson_id: int, *, reason: str, actor_account_id: int | None) -> LessonChange:
    """Отмена урока, with its reason."""
    lesson = await _lesson(session, lesson_id)
    if lesson.status == "cancelled":
        raise TimetableError("Урок уже отменён.")
    lesson.status = "cancelled"
    change = LessonChange(lesson_id=lesson.id, kind="cancellation", reason=_reason(reason), created_by=actor_account_id)
    session.add(change)
    await session.flush()
    return change


async def change_room(session: AsyncSession, lesson_id: int, *, room: str, reason: str,
                      actor_account_id: int | None) -> LessonChange:
    """Перенос в другой кабинет, refused when that room is taken at that time."""
    lesson = await _lesson(session, lesson_id)
    room = room.strip()
    if not room:
        raise TimetableError("Укажите кабинет.", status_code=422)
    taken = await session.scalar(select(Lesson.id).where(
        Lesson.on_date == lesson.on_date, Lesson.lesson_number == lesson.lesson_number, Lesson.room == room,
        Lesson.status == "planned", Lesson.id != lesson.id))
    if taken is not None:
        raise TimetableError(f"Кабинет {room} занят: {lesson.lesson_number}-й урок {lesson.on_date:%d.%m.%Y}.")
    change = LessonChange(lesson_id=lesson.id, kind="room", reason=_reason(reason), previous_room=lesson.room,
                          created_by=actor_account_id)
    lesson.room = room
    session.add(change)
    await session.flush()
    return change


async def extra_lesson(session: AsyncSession, *, teaching_load_id: int, on_date: date, lesson_number: int,
                       room: str | None, reason: str, actor_account_id: int | None) -> Lesson:
    """Дополнительный урок outside the weekly timetable."""
    load, _, _ = await _load(session, teaching_load_id)
    if await _teacher_busy(session, load.teacher_id, on_date, lesson_number, 0):
        raise TimetableError(f"Учитель уже ведёт {lesson_number}-й урок {on_date:%d.%m.%Y}.")
    if await session.scalar(select(Lesson.id).where(Lesson.teaching_load_id == load.id, Lesson.on_date == on_date,
                                                    Lesson.lesson_number == lesson_number)) is not None:
        raise TimetableError("Такой урок уже есть.")
    lesson = Lesson(teaching_load_id=load.id, on_date=on_date, lesson_number=lesson_number,
                    teacher_id=load.teacher_id, room=(room or "").strip() or None, status="planned")
    session.add(lesson)
    await session.flush()
    session.add(LessonChange(lesson_id=lesson.id, kind="extra", reason=_reason(reason),
                             created_by=actor_account_id))
    await session.flush()
    return lesson
