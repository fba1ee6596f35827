"""Classes from a school's own table, and back out in the same shape (R-STR-7).

Columns: «Класс» (5А), «Классный руководитель» («Фамилия Имя Отчество» or «Фамилия И.О.» of one staff person).
A class already in the file or in the school is a problem.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.imports.staff import Import, StaffNames
from services.imports.students import _CLASS
from services.imports.tables import Problem, read_table
from services.structure.models import ClassUnit, Person

COLUMNS = {
    "class_name": ("Класс",),
    "teacher": ("Классный руководитель", "кл. руководитель", "классный руководитель (фио)"),
}
HEADER = [titles[0] for titles in COLUMNS.values()]
TITLE = "Классы"


def parse_class(text: str, line: int, column: str, problems: list[Problem]) -> tuple[int, str] | None:
    match = _CLASS.match(text)
    if match is None or not 1 <= int(match.group(1)) <= 11:
        problems.append(Problem(line, column, f"«{text[:10]}» — класс нужен в виде 5А (параллель 1–11 и буква)."))
        return None
    return int(match.group(1)), match.group(2).upper()


async def check_classes(session: AsyncSession, data: bytes, filename: str, *, today: date) -> Import:
    """Every problem of the file, by line and column; nothing is written."""
    table = read_table(data, filename, COLUMNS, required=("class_name",))
    result = Import(problems=list(table.problems))
    existing = set((await session.execute(select(ClassUnit.grade, ClassUnit.letter))).tuples())
    staff = await StaffNames.load(session)
    seen: dict[tuple[int, str], int] = {}
    for line, row in table.rows:
        problems = result.problems
        key = parse_class(row["class_name"], line, "Класс", problems) if row["class_name"] else None
        if key in seen:
            problems.append(Problem(line, "Класс", f"этот класс уже есть в строке {seen[key]}."))
        elif key in existing:
            problems.append(Problem(line, "Класс", f"класс «{key[0]}{key[1]}» уже есть в школе."))
        if key is not None:
            seen.setdefault(key, line)
        teacher = staff.find(row["teacher"], line, "Классный руководитель", problems) if row.get("teacher") else None
        result.rows.append({"key": key, "teacher_id": teacher, "line": line})
    result.problems.sort(key=lambda p: p.line)
    return result


async def import_classes(session: AsyncSession, data: bytes, filename: str, *, today: date,
                         confirm: bool) -> Import:
    """Dry run unless `confirm`; confirmed and clean, every class is written."""
    result = await check_classes(session, data, filename, today=today)
    if not confirm or result.problems or not result.rows:
        return result
    keys = [(r["key"], r["teacher_id"]) for r in result.rows]
    await audit.insert_rows(session, ClassUnit, [
        {"grade": k[0], "letter": k[1], "class_teacher_id": t} for k, t in keys if isinstance(k, tuple)])
    result.written = True
    return result


async def export_rows(session: AsyncSession, on: date) -> list[list[str]]:
    """The school's classes with their class teachers, in the import's own columns."""
    rows = (await session.execute(select(ClassUnit, Person).outerjoin(Person, Person.id == ClassUnit.class_teacher_id)
                                  .order_by(ClassUnit.grade, ClassUnit.letter))).tuples()
    return [[unit.name, teacher.full_name if teacher else ""] for unit, teacher in rows]
