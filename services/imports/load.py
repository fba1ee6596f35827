"""Teaching load from a school's own table, and back out in the same shape (R-STR-7).

Columns: «Учитель» (ФИО of one staff person), «Предмет» (a subject of the school), «Класс» (5А) or «Группа»
(a group's name), «Часов в неделю» (0 < h ≤ 40, a decimal comma is fine), «Учебный год» (2026/2027; by default
the year containing today). The same item twice, in the file or already in the school, is a problem.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.calendar.models import AcademicYear
from services.imports.classes import parse_class
from services.imports.staff import Import, StaffNames
from services.imports.tables import Problem, read_table
from services.structure.models import ClassUnit, Person, StudyGroup, Subject, TeachingLoad

COLUMNS = {
    "teacher": ("Учитель", "педагог", "фио учителя"),
    "subject": ("Предмет",),
    "class_name": ("Класс",),
    "group": ("Группа",),
    "hours": ("Часов в неделю", "часы в неделю", "часов", "часы"),
    "year": ("Учебный год", "год"),
}
HEADER = [titles[0] for titles in COLUMNS.values()]
TITLE = "Нагрузка"


def _hours(text: str, line: int, problems: list[Problem]) -> Decimal | None:
    try:
        hours = Decimal(text.replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        hours = None
    if hours is None or not hours.is_finite() or not 0 < hours <= 40 or hours != hours.quantize(Decimal("0.1")):
        problems.append(Problem(line, "Часов в неделю", f"«{text[:10]}» — нужно число больше 0 и не больше 40, "
                                                          "с точностью до десятых."))
        return None
    return hours


def hours_text(hours: Decimal) -> str:
    return f"{hours.normalize():f}".replace(".", ",")


def _target(row: dict[str, str], line: int, classes: dict[tuple[int, str], int], groups: dict[str, set[int]],
            problems: list[Problem]) -> tuple[int | None, int | None]:
    """The class or the group of a row (exactly one of them)."""
    class_text, group_text = row.get("class_name", ""), row.get("group", "")
    if bool(class_text) == bool(group_text):
        problems.append(Problem(line, "Класс", "укажите либо класс, либо группу." if class_text else
                                "не заполнено: укажите класс или группу."))
        return None, None
    if class_text:
        key = parse_class(class_text, line, "Класс", problems)
        class_id = classes.get(key) if key else None
        if key and class_id is None:
            problems.append(Problem(line, "Класс", f"класса «{class_text[:10]}» в школе нет."))
        return class_id, None
    found = groups.get(" ".join(group_text.split()).lower(), set())
    if len(found) != 1:
        problems.append(Problem(line, "Группа", f"«{group_text[:60]}» — " + (
            "групп с таким названием несколько." if found else "такой группы в школе нет.")))
        return None, None
    return None, next(iter(found))


async def check_load(session: AsyncSession, data: bytes, filename: str, *, today: date) -> Import:
    """Every problem of the file, by line and column; nothing is written."""
    table = read_table(data, filename, COLUMNS, required=("teacher", "subject", "hours"))
    result = Import(problems=list(table.problems))
    staff = await StaffNames.load(session)
    all_subjects = list((await session.execute(select(Subject))).scalars())
    subjects = {s.short_name.lower().replace("ё", "е"): s.id for s in all_subjects}
    subjects.update({s.name.lower().replace("ё", "е"): s.id for s in all_subjects})
    classes = {(c.grade, c.letter): c.id for c in (await session.execute(select(ClassUnit))).scalars()}
    groups: dict[str, set[int]] = {}
    for group in (await session.execute(select(StudyGroup))).scalars():
        groups.setdefault(group.name.strip().lower(), set()).add(group.id)
    years = list((await session.execute(select(AcademicYear))).scalars())
    by_name = {y.name.replace(" ", ""): y.id for y in years}
    current = next((y.id for y in years if y.start_date <= today <= y.end_date), None)
    existing = set((await session.execute(select(
        TeachingLoad.academic_year_id, TeachingLoad.teacher_id, TeachingLoad.subject_id, TeachingLoad.class_unit_id,
        TeachingLoad.group_id))).tuples())
    seen: dict[tuple[int, int, int, int | None, int | None], int] = {}
    for line, row in table.rows:
        problems = result.problems
        teacher = staff.find(row["teacher"], line, "Учитель", problems) if row["teacher"] else None
        subject = subjects.get(" ".join(row["subject"].split()).lower().replace("ё", "е"))
        if row["subject"] and subject is None:
            problems.append(Problem(line, "Предмет", f"предмета «{row['subject'][:60]}» в школе нет."))
        class_id, group_id = _target(row, line, classes, groups, problems)
        hours = _hours(row["hours"], line, problems) if row["hours"] else None
        year_text = row.get("year", "").replace(" ", "")
        year = by_name.get(year_text) if year_text else current
        if year is None:
            problems.append(Problem(line, "Учебный год", f"учебного года «{year_text[:20]}» в школе нет." if year_text
                                    else "нет учебного года на сегодня — укажите учебный год."))
        if teacher and subject and year and (class_id or group_id):
            item = (year, teacher, subject, class_id, group_id)
            if item in seen:
                problems.append(Problem(line, "Учитель", f"эта нагрузка уже есть в строке {seen[item]}."))
            elif item in existing:
                problems.append(Problem(line, "Учитель", "эта нагрузка уже есть в школе."))
            seen.setdefault(item, line)
        result.rows.append({"academic_year_id": year, "teacher_id": teacher, "subject_id": subject,
                            "class_unit_id": class_id, "group_id": group_id, "hours_per_week": hours, "line": line})
    result.problems.sort(key=lambda p: p.line)
    return result


async def import_load(session: AsyncSession, data: bytes, filename: str, *, today: date,
                      confirm: bool) -> Import:
    """Dry run unless `confirm`; confirmed and clean, every item is written."""
    result = await check_load(session, data, filename, today=today)
    if not confirm or result.problems or not result.rows:
        return result
    await audit.insert_rows(session, TeachingLoad, [{k: v for k, v in r.items() if k != "line"} for r in result.rows])
    result.written = True
    return result


async def export_rows(session: AsyncSession, on: date) -> list[list[str]]:
    """The school's teaching load, all years, in the import's own columns."""
    rows = (await session.execute(
        select(TeachingLoad, Person, Subject.name, ClassUnit, StudyGroup.name, AcademicYear.name)
        .join(Person, Person.id == TeachingLoad.teacher_id)
        .join(Subject, Subject.id == TeachingLoad.subject_id)
        .join(AcademicYear, AcademicYear.id == TeachingLoad.academic_year_id)
        .outerjoin(ClassUnit, ClassUnit.id == TeachingLoad.class_unit_id)
        .outerjoin(StudyGroup, StudyGroup.id == TeachingLoad.group_id)
        .order_by(AcademicYear.start_date, Person.last_name, Person.first_name, Subject.name, ClassUnit.grade,
                  ClassUnit.letter, StudyGroup.name))).tuples()
    return [[teacher.full_name, subject, unit.name if unit else "", group or "", hours_text(item.hours_per_week),
             year] for item, teacher, subject, unit, group, year in rows]
