"""School structure rules: people, classes, groups, teaching load and student movement (R-STR-3, 4, 6).

Functions change rows through the session (the audit hook records each one) and never commit: the caller's
request or job decides. A refused change raises `StructureError` with the Russian message to show, before
anything is written.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import RuleError
from services.structure import repository
from services.structure.models import (
    GROUP_KINDS,
    PERSON_KINDS,
    ClassUnit,
    Enrollment,
    GroupMembership,
    Guardianship,
    Movement,
    Person,
    StudyGroup,
    Subject,
    TeachingLoad,
)

LETTER_RE = re.compile(r"^[А-ЯЁ]$")
MAX_HOURS = Decimal(40)
_MOVEMENT_RU = {"arrival": "прибытия", "transfer": "перевода", "withdrawal": "выбытия"}


class StructureError(RuleError):
    """A refused structure change; `message_ru` is shown to the user as is."""

    problem_type = "/problems/structure"

    def __init__(self, message_ru: str, status_code: int = 422) -> None:
        super().__init__(message_ru, status_code=status_code)
        self.message_ru = message_ru


class NotFound(StructureError):
    def __init__(self, message_ru: str) -> None:
        super().__init__(message_ru, 404)


def ru_date(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def _text(value: str | None, limit: int) -> str | None:
    cleaned = " ".join((value or "").split())
    return cleaned[:limit] if cleaned else None


# --- people ---------------------------------------------------------------------------------------------------


def _person_fields(last_name: str, first_name: str, middle_name: str | None, birth_date: date | None,
                   today: date) -> dict[str, object]:
    last, first = _text(last_name, 100), _text(first_name, 100)
    problems = []
    if not last:
        problems.append("Укажите фамилию.")
    if not first:
        problems.append("Укажите имя.")
    if birth_date is not None and birth_date > today:
        problems.append("Дата рождения не может быть в будущем.")
    if problems:
        raise StructureError(" ".join(problems))
    return {"last_name": last, "first_name": first, "middle_name": _text(middle_name, 100), "birth_date": birth_date}


async def add_person(session: AsyncSession, kind: str, *, last_name: str, first_name: str,
                     middle_name: str | None = None, birth_date: date | None = None, today: date) -> Person:
    """Add a staff member, student or guardian."""
    if kind not in PERSON_KINDS:
        raise StructureError("Неизвестный вид записи о человеке.")
    person = Person(kind=kind, **_person_fields(last_name, first_name, middle_name, birth_date, today))
    session.add(person)
    await session.flush()
    return person


async def person_of_kind(session: AsyncSession, person_id: int, kind: str, *, lock: bool = False) -> Person:
    person = await (repository.lock_person if lock else repository.get_person)(session, person_id)
    if person is None or person.kind != kind:
        raise NotFound({"staff": "Сотрудник не найден.", "student": "Ученик не найден.",
                        "guardian": "Родитель (законный представитель) не найден."}.get(kind, "Запись не найдена."))
    return person


async def update_person(session: AsyncSession, person_id: int, kind: str, *, last_name: str, first_name: str,
                        middle_name: str | None = None, birth_date: date | None = None, today: date) -> Person:
    """Correct a person's name or birth date."""
    person = await person_of_kind(session, person_id, kind)
    for key, value in _person_fields(last_name, first_name, middle_name, birth_date, today).items():
        setattr(person, key, value)
    await session.flush()
    return person


async def remove_person(session: AsyncSession, person_id: int, kind: str) -> None:
    """Delete a person entered by mistake; anyone with history (classes, load, movement, links) is kept."""
    person = await person_of_kind(session, person_id, kind)
    if await repository.person_in_use(session, person_id):
        raise StructureError("Запись нельзя удалить: с ней уже связаны классы, нагрузка, движение или родители.",
                             409)
    await session.delete(person)
    await session.flush()


async def link_guardian(session: AsyncSession, *, guardian_id: int, student_id: int,
                        relation: str | None = None) -> Guardianship:
    """Record that a guardian is a parent or legal representative of a student."""
    await person_of_kind(session, student_id, "student")
    await person_of_kind(session, guardian_id, "guardian")
    if await repository.get_guardianship(session, guardian_id, student_id) is not None:
        raise StructureError("Этот родитель уже связан с учеником.", 409)
    link = Guardianship(guardian_id=guardian_id, student_id=student_id,
                        relation=_text(relation, 40) or "законный представитель")
    session.add(link)
    await session.flush()
    return link


async def unlink_guardian(session: AsyncSession, *, guardian_id: int, student_id: int) -> None:
    link = await repository.get_guardianship(session, guardian_id, student_id)
    if link is None:
        raise NotFound("Такой связи родителя с учеником нет.")
    await session.delete(link)
    await session.flush()


async def add_subject(session: AsyncSession, name: str, short_name: str | None = None) -> Subject:
    """Add a subject; names are unique regardless of letter case."""
    clean = _text(name, 200)
    if not clean:
        raise StructureError("Укажите название предмета.")
    if await repository.subject_by_name(session, clean) is not None:
        raise StructureError(f"Предмет «{clean}» уже есть.", 409)
    subject = Subject(name=clean, short_name=_text(short_name, 40) or clean[:40])
    session.add(subject)
    await session.flush()
    return subject


# --- classes --------------------------------------------------------------------------------------------------


async def _check_class(session: AsyncSession, grade: int, letter: str, class_teacher_id: int | None,
                       own_id: int | None = None) -> str:
    clean = (letter or "").strip().upper()
    if not 1 <= grade <= 11:
        raise StructureError("Параллель класса — от 1 до 11.")
    if not LETTER_RE.fullmatch(clean):
        raise StructureError("Литера класса — одна заглавная русская буква, например А.")
    existing = await repository.class_by_name(session, grade, clean)
    if existing is not None and existing.id != own_id:
        raise StructureError(f"Класс {grade}{clean} уже есть.", 409)
    if class_teacher_id is not None:
        teacher = await repository.get_person(session, class_teacher_id)
        if teacher is None or teacher.kind != "staff":
            raise StructureError("Классным руководителем может быть только сотрудник школы.")
    return clean


async def create_class(session: AsyncSession, *, grade: int, letter: str,
                       class_teacher_id: int | None = None) -> ClassUnit:
    """Create a class such as 5А."""
    clean = await _check_class(session, grade, letter, class_teacher_id)
    unit = ClassUnit(grade=grade, letter=clean, class_teacher_id=class_teacher_id)
    try:
        # Two people creating the same class at once both pass the check; the unique constraint decides.
        async with session.begin_nested():
            session.add(unit)
            await session.flush()
    except IntegrityError as exc:
        raise StructureError(f"Класс {grade}{clean} уже есть.", 409) from exc
    return unit


async def update_class(session: AsyncSession, class_id: int, *, grade: int, letter: str,
                       class_teacher_id: int | None = None) -> ClassUnit:
    """Rename a class or change its class teacher."""
    unit = await existing_class(session, class_id)
    clean = await _check_class(session, grade, letter, class_teacher_id, own_id=class_id)
    unit.grade, unit.letter, unit.class_teacher_id = grade, clean, class_teacher_id
    await session.flush()
    return unit


async def existing_class(session: AsyncSession, class_id: int) -> ClassUnit:
    unit = await repository.get_class(session, class_id)
    if unit is None:
        raise NotFound("Класс не найден.")
    return unit


# --- groups ---------------------------------------------------------------------------------------------------


async def create_group(session: AsyncSession, *, kind: str, name: str, class_unit_id: int | None = None,
                       subject_id: int | None = None) -> StudyGroup:
    """Create a subgroup of a class for a subject, a cross-class group or an individual (home) group."""
    if kind not in GROUP_KINDS:
        raise StructureError("Вид группы: подгруппа класса, межклассная группа или индивидуальное обучение.")
    clean = _text(name, 100)
    if not clean:
        raise StructureError("Укажите название группы.")
    if kind == "subgroup" and (class_unit_id is None or subject_id is None):
        raise StructureError("Для подгруппы укажите класс и предмет.")
    if kind == "cross_class" and class_unit_id is not None:
        raise StructureError("Межклассная группа не относится к одному классу.")
    if class_unit_id is not None:
        await existing_class(session, class_unit_id)
    if subject_id is not None and await repository.get_subject(session, subject_id) is None:
        raise StructureError("Предмет не найден.")
    group = StudyGroup(kind=kind, name=clean, class_unit_id=class_unit_id, subject_id=subject_id)
    session.add(group)
    await session.flush()
    return group


async def existing_group(session: AsyncSession, group_id: int) -> StudyGroup:
    group = await repository.get_group(session, group_id)
    if group is None:
        raise NotFound("Группа не найдена.")
    return group


async def add_group_member(session: AsyncSession, group_id: int, *, student_id: int, start_date: date,
                           end_date: date | None = None) -> GroupMembership:
    """Put a student in a group from one date to another (None: until further notice)."""
    group = await existing_group(session, group_id)
    await person_of_kind(session, student_id, "student")
    if end_date is not None and end_date < start_date:
        raise StructureError("Дата окончания раньше даты начала.")
    members = await repository.group_members(session, group_id)
    overlapping = [m for m in members if m.student_id == student_id
                   and (m.end_date is None or m.end_date >= start_date)
                   and (end_date is None or m.start_date <= end_date)]
    if overlapping:
        raise StructureError("Ученик уже состоит в этой группе в эти даты.", 409)
    if group.kind == "individual" and any(m.student_id != student_id for m in members):
        raise StructureError("В группе индивидуального обучения может быть только один ученик.")
    if group.kind == "subgroup" and group.class_unit_id is not None and not await repository.enrolled_throughout(
            session, student_id, group.class_unit_id, start_date, end_date):
        unit = await existing_class(session, group.class_unit_id)
        raise StructureError(f"Ученик не учится в классе {unit.name} на даты членства в подгруппе.")
    membership = GroupMembership(group_id=group_id, student_id=student_id, start_date=start_date, end_date=end_date)
    session.add(membership)
    await session.flush()
    return membership


# --- teaching load --------------------------------------------------------------------------------------------


def _hours(value: Decimal | float | str) -> Decimal:
    try:
        hours = Decimal(str(value))
    except InvalidOperation:
        raise StructureError("Часы в неделю — число, например 2 или 0,5.") from None
    if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS:
        raise StructureError("Часов в неделю должно быть больше 0 и не больше 40.")
    if hours != hours.quantize(Decimal("0.1")):
        raise StructureError("Часы в неделю указываются с точностью до десятых.")
    return hours.quantize(Decimal("0.1"))


async def add_load(session: AsyncSession, *, academic_year_id: int, teacher_id: int, subject_id: int,
                   hours_per_week: Decimal | float | str, class_unit_id: int | None = None,
                   group_id: int | None = None) -> TeachingLoad:
    """Give a teacher a subject in a class or a group for a year, with hours per week."""
    hours = _hours(hours_per_week)
    if (class_unit_id is None) == (group_id is None):
        raise StructureError("Укажите либо класс, либо группу.")
    if await repository.get_academic_year(session, academic_year_id) is None:
        raise StructureError("Учебный год не найден.")
    teacher = await repository.get_person(session, teacher_id)
    if teacher is None or teacher.kind != "staff":
        raise StructureError("Нагрузку можно дать только сотруднику школы.")
    if await repository.get_subject(session, subject_id) is None:
        raise StructureError("Предмет не найден.")
    if class_unit_id is not None:
        await existing_class(session, class_unit_id)
    if group_id is not None:
        await existing_group(session, group_id)
    if await repository.same_load(session, academic_year_id=academic_year_id, teacher_id=teacher_id,
                                  subject_id=subject_id, class_unit_id=class_unit_id, group_id=group_id):
        raise StructureError("Такая нагрузка уже есть: этот учитель уже ведёт этот предмет в этом классе или группе.",
                             409)
    load = TeachingLoad(academic_year_id=academic_year_id, teacher_id=teacher_id, subject_id=subject_id,
                        class_unit_id=class_unit_id, group_id=group_id, hours_per_week=hours)
    session.add(load)
    await session.flush()
    return load


async def remove_load(session: AsyncSession, load_id: int) -> None:
    load = await repository.get_load(session, load_id)
    if load is None:
        raise NotFound("Нагрузка не найдена.")
    await session.delete(load)
    await session.flush()


# --- movement (R-STR-6) ---------------------------------------------------------------------------------------


async def _check_order(session: AsyncSession, student_id: int, kind: str, on_date: date) -> None:
    last = await repository.last_movement(session, student_id)
    if last is not None and on_date < last.on_date:
        raise StructureError(f"Дата {_MOVEMENT_RU[kind]} раньше даты предыдущего движения ({ru_date(last.on_date)}).")


async def _current_enrollment(session: AsyncSession, student_id: int, kind: str, on_date: date) -> Enrollment:
    current = await repository.open_enrollment(session, student_id)
    if current is None:
        raise StructureError("Ученик сейчас не зачислен ни в один класс.")
    if on_date < current.start_date:
        raise StructureError(f"Дата {_MOVEMENT_RU[kind]} раньше даты зачисления ({ru_date(current.start_date)}).")
    return current


def _movement(student_id: int, kind: str, on_date: date, *, from_class_id: int | None, to_class_id: int | None,
              reason: str | None, document: str | None) -> Movement:
    return Movement(student_id=student_id, kind=kind, on_date=on_date, from_class_id=from_class_id,
                    to_class_id=to_class_id, reason=_text(reason, 300), document=_text(document, 100))


async def _close_memberships(session: AsyncSession, student_id: int, last_day: date,
                             class_unit_id: int | None) -> None:
    """End group memberships after `last_day`; one that would only start later never happened, so it goes."""
    for membership in await repository.memberships_to_close(session, student_id, last_day + timedelta(days=1),
                                                            class_unit_id):
        if membership.start_date > last_day:
            await session.delete(membership)
        else:
            membership.end_date = last_day


async def arrival(session: AsyncSession, *, student_id: int, class_unit_id: int, on_date: date,
                  reason: str | None = None, document: str | None = None) -> Movement:
    """Прибытие: enrol a student who is not in any class, from `on_date`."""
    await person_of_kind(session, student_id, "student", lock=True)
    unit = await existing_class(session, class_unit_id)
    if await repository.open_enrollment(session, student_id) is not None:
        raise StructureError("Ученик уже зачислен в класс: оформите перевод или выбытие.", 409)
    latest = await repository.latest_enrollment(session, student_id)
    if latest is not None and latest.end_date is not None and on_date <= latest.end_date:
        raise StructureError(f"Дата прибытия не позже даты выбытия ({ru_date(latest.end_date)}).")
    await _check_order(session, student_id, "arrival", on_date)
    session.add(Enrollment(student_id=student_id, class_unit_id=unit.id, start_date=on_date))
    movement = _movement(student_id, "arrival", on_date, from_class_id=None, to_class_id=unit.id,
                         reason=reason, document=document)
    session.add(movement)
    await session.flush()
    return movement


async def transfer(session: AsyncSession, *, student_id: int, to_class_id: int, on_date: date,
                   reason: str | None = None, document: str | None = None) -> Movement:
    """Перевод: the student leaves the current class the day before `on_date` and joins another from it."""
    await person_of_kind(session, student_id, "student", lock=True)
    target = await existing_class(session, to_class_id)
    current = await _current_enrollment(session, student_id, "transfer", on_date)
    if current.class_unit_id == to_class_id:
        raise StructureError(f"Ученик уже учится в классе {target.name}.")
    if on_date == current.start_date:
        raise StructureError(f"Перевод возможен не раньше следующего дня после зачисления "
                             f"({ru_date(current.start_date)}).")
    await _check_order(session, student_id, "transfer", on_date)
    last_day = on_date - timedelta(days=1)
    current.end_date = last_day
    await _close_memberships(session, student_id, last_day, current.class_unit_id)
    session.add(Enrollment(student_id=student_id, class_unit_id=to_class_id, start_date=on_date))
    movement = _movement(student_id, "transfer", on_date, from_class_id=current.class_unit_id,
                         to_class_id=to_class_id, reason=reason, document=document)
    session.add(movement)
    await session.flush()
    return movement


async def withdrawal(session: AsyncSession, *, student_id: int, on_date: date, reason: str | None = None,
                     document: str | None = None) -> Movement:
    """Выбытие: the enrolment (and every group membership) ends on `on_date`, the last day in the class."""
    await person_of_kind(session, student_id, "student", lock=True)
    current = await _current_enrollment(session, student_id, "withdrawal", on_date)
    await _check_order(session, student_id, "withdrawal", on_date)
    current.end_date = on_date
    await _close_memberships(session, student_id, on_date, None)
    movement = _movement(student_id, "withdrawal", on_date, from_class_id=current.class_unit_id,
                         to_class_id=None, reason=reason, document=document)
    session.add(movement)
    await session.flush()
    return movement
