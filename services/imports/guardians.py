"""Guardians of the school's students from a school's own table, and back out in the same shape (R-STR-7).

Columns: «Фамилия ученика», «Имя ученика», «Класс ученика» (5А), «Фамилия родителя», «Имя родителя», «Отчество
родителя», «Кем приходится». The student must be found uniquely by name in that class today. One guardian named
the same on several lines of the file is one person (brothers and sisters); a guardian is never matched to a
namesake already in the school, so a new file cannot hand a stranger's child to anyone. A guardian already linked
to the student under the same name is a problem, not a copy.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services import audit
from services.imports.classes import parse_class
from services.imports.staff import Import, _norm
from services.imports.tables import Problem, read_table
from services.structure.models import ClassUnit, Enrollment, Guardianship, Person

COLUMNS = {
    "s_last": ("Фамилия ученика",),
    "s_first": ("Имя ученика",),
    "s_class": ("Класс ученика", "класс"),
    "g_last": ("Фамилия родителя", "родитель: фамилия"),
    "g_first": ("Имя родителя", "родитель: имя"),
    "g_middle": ("Отчество родителя", "родитель: отчество"),
    "relation": ("Кем приходится", "родство", "степень родства"),
}
HEADER = [titles[0] for titles in COLUMNS.values()]
TITLE = "Родители"
DEFAULT_RELATION = "законный представитель"


def _current(on: date) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return Enrollment.start_date <= on, or_(Enrollment.end_date.is_(None), Enrollment.end_date >= on)


async def check_guardians(session: AsyncSession, data: bytes, filename: str, *, today: date) -> Import:
    """Every problem of the file, by line and column; nothing is written."""
    table = read_table(data, filename, COLUMNS, required=("s_last", "s_first", "s_class", "g_last", "g_first"))
    result = Import(problems=list(table.problems))
    students: dict[tuple[int, str, str, str], set[int]] = {}
    for person, grade, letter in (await session.execute(
            select(Person, ClassUnit.grade, ClassUnit.letter)
            .join(Enrollment, Enrollment.student_id == Person.id)
            .join(ClassUnit, ClassUnit.id == Enrollment.class_unit_id)
            .where(Person.kind == "student", *_current(today)))).tuples():
        students.setdefault((grade, letter, _norm(person.last_name), _norm(person.first_name)), set()).add(person.id)
    linked = {(student_id, _norm(g.full_name)) for student_id, g in (await session.execute(
        select(Guardianship.student_id, Person).join(Person, Person.id == Guardianship.guardian_id))).tuples()}
    seen: dict[tuple[int, str], int] = {}
    for line, row in table.rows:
        problems = result.problems
        key = parse_class(row["s_class"], line, "Класс ученика", problems) if row["s_class"] else None
        student = None
        if key and row["s_last"] and row["s_first"]:
            found = students.get((*key, _norm(row["s_last"]), _norm(row["s_first"])), set())
            student = next(iter(found)) if len(found) == 1 else None
            if student is None:
                problems.append(Problem(line, "Фамилия ученика", (
                    "в этом классе несколько учеников с таким именем." if found
                    else f"ученика с таким именем в классе «{key[0]}{key[1]}» сегодня нет.")))
        for name in ("g_last", "g_first", "g_middle"):
            if len(row.get(name, "")) > 100:
                problems.append(Problem(line, COLUMNS[name][0], "не длиннее 100 знаков."))
        if len(row.get("relation", "")) > 40:
            problems.append(Problem(line, "Кем приходится", "не длиннее 40 знаков."))
        guardian = _norm(" ".join(p for p in (row["g_last"], row["g_first"], row.get("g_middle", "")) if p))
        if student is not None and row["g_last"] and row["g_first"]:
            if (student, guardian) in seen:
                problems.append(Problem(line, "Фамилия родителя",
                                        f"этот родитель этого ученика уже есть в строке {seen[(student, guardian)]}."))
            elif (student, guardian) in linked:
                problems.append(Problem(line, "Фамилия родителя", "этот родитель уже указан у ученика в школе."))
            seen.setdefault((student, guardian), line)
        result.rows.append({**row, "student_id": student, "guardian": guardian, "line": line})
    result.problems.sort(key=lambda p: p.line)
    return result


async def import_guardians(session: AsyncSession, data: bytes, filename: str, *, today: date,
                           confirm: bool) -> Import:
    """Dry run unless `confirm`; confirmed and clean, every guardian and link is written."""
    result = await check_guardians(session, data, filename, today=today)
    if not confirm or result.problems or not result.rows:
        return result
    first: dict[str, dict[str, object]] = {}
    for r in result.rows:
        first.setdefault(str(r["guardian"]), r)
    people = await audit.insert_rows(session, Person, [{
        "kind": "guardian", "last_name": r["g_last"], "first_name": r["g_first"],
        "middle_name": r.get("g_middle") or None} for r in first.values()])
    ids = {name: p["id"] for name, p in zip(first, people, strict=True)}
    await audit.insert_rows(session, Guardianship, [{
        "guardian_id": ids[str(r["guardian"])], "student_id": r["student_id"],
        "relation": r.get("relation") or DEFAULT_RELATION} for r in result.rows])
    result.written = True
    return result


async def export_rows(session: AsyncSession, on: date) -> list[list[str]]:
    """Guardians of the students enrolled on `on`, in the import's own columns."""
    student, guardian = aliased(Person), aliased(Person)
    rows = (await session.execute(
        select(student.last_name, student.first_name, ClassUnit.grade, ClassUnit.letter, guardian.last_name,
               guardian.first_name, guardian.middle_name, Guardianship.relation)
        .select_from(Guardianship)
        .join(student, student.id == Guardianship.student_id)
        .join(guardian, guardian.id == Guardianship.guardian_id)
        .join(Enrollment, Enrollment.student_id == Guardianship.student_id)
        .join(ClassUnit, ClassUnit.id == Enrollment.class_unit_id)
        .where(*_current(on))
        .order_by(ClassUnit.grade, ClassUnit.letter, student.last_name, student.first_name,
                  guardian.last_name, guardian.first_name))).tuples()
    return [[s_last, s_first, f"{grade}{letter}", g_last, g_first, g_middle or "", relation]
            for s_last, s_first, grade, letter, g_last, g_first, g_middle, relation in rows]
