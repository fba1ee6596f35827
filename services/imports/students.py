"""Students (with a guardian) from a school's own table, and back out in the same shape (R-STR-7).

Columns, as schools keep them: «Фамилия», «Имя», «Отчество», «Дата рождения», «Класс» (5А), «Дата зачисления»,
and optionally the guardian: «Фамилия родителя», «Имя родителя», «Отчество родителя». A dry run lists every
problem with its line and column; a confirmed, clean file is written as a whole in the caller's transaction.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import Workbook
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.imports.tables import Problem, read_table
from services.structure.models import ClassUnit, Enrollment, Guardianship, Person

COLUMNS = {
    "last_name": ("Фамилия",),
    "first_name": ("Имя",),
    "middle_name": ("Отчество",),
    "birth_date": ("Дата рождения", "дата рожд"),
    "class_name": ("Класс",),
    "start_date": ("Дата зачисления", "зачислен"),
    "g_last": ("Фамилия родителя", "родитель: фамилия"),
    "g_first": ("Имя родителя", "родитель: имя"),
    "g_middle": ("Отчество родителя", "родитель: отчество"),
}
HEADER = [titles[0] for titles in COLUMNS.values()]
_CLASS = re.compile(r"^\s*(\d{1,2})\s*-?\s*([А-ЯЁа-яё])\s*$")


@dataclass(slots=True)
class StudentImport:
    rows: list[dict[str, object]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    written: bool = False


def _date(text: str, line: int, column: str, problems: list[Problem]) -> date | None:
    if not text:
        return None
    text = text.split(" ", maxsplit=1)[0]
    for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    problems.append(Problem(line, column, f"«{text[:12]}» — дата нужна в виде ДД.ММ.ГГГГ."))
    return None


async def check_students(session: AsyncSession, data: bytes, filename: str, *, today: date) -> StudentImport:
    """Every problem of the file, by line and column; nothing is written."""
    table = read_table(data, filename, COLUMNS, required=("last_name", "first_name", "class_name"))
    result = StudentImport(problems=list(table.problems))
    classes = {(c.grade, c.letter): c.id for c in (await session.execute(select(ClassUnit))).scalars()}
    seen: dict[tuple[str, str, str, date | None], int] = {}
    for line, row in table.rows:
        problems = result.problems
        birth = _date(row.get("birth_date", ""), line, "Дата рождения", problems)
        if birth is not None and birth >= today:
            problems.append(Problem(line, "Дата рождения", "дата рождения должна быть в прошлом."))
        start = _date(row.get("start_date", ""), line, "Дата зачисления", problems) or today
        match = _CLASS.match(row["class_name"]) if row["class_name"] else None
        class_id = classes.get((int(match.group(1)), match.group(2).upper())) if match else None
        if row["class_name"] and class_id is None:
            problems.append(Problem(line, "Класс", f"класса «{row['class_name'][:10]}» в школе нет."))
        key = (row["last_name"].lower(), row["first_name"].lower(), row.get("middle_name", "").lower(), birth)
        if key in seen:
            problems.append(Problem(line, "Фамилия", f"этот ученик уже есть в строке {seen[key]}."))
        seen[key] = line
        if bool(row.get("g_last")) != bool(row.get("g_first")):
            problems.append(Problem(line, "Фамилия родителя", "укажите и фамилию, и имя родителя."))
        result.rows.append({**row, "birth_date": birth, "start_date": start, "class_unit_id": class_id,
                            "line": line})
    if not result.problems:
        await _already_enrolled(session, result)
    result.problems.sort(key=lambda p: p.line)
    return result


async def _already_enrolled(session: AsyncSession, result: StudentImport) -> None:
    """A student of the file who is already in the school (same name and birth date) is a problem, not a copy."""
    names = [(r["last_name"], r["first_name"], r["birth_date"]) for r in result.rows]
    found = set((await session.execute(select(Person.last_name, Person.first_name, Person.birth_date).where(
        Person.kind == "student", or_(*[and_(Person.last_name == ln, Person.first_name == fn,
                                             Person.birth_date == bd) for ln, fn, bd in names])))).tuples())
    for row, name in zip(result.rows, names, strict=True):
        if name in found:
            result.problems.append(Problem(int(str(row["line"])), "Фамилия", "такой ученик уже есть в школе."))


async def import_students(session: AsyncSession, data: bytes, filename: str, *, today: date,
                          confirm: bool) -> StudentImport:
    """Dry run unless `confirm`; confirmed and clean, every student, enrolment and guardian is written."""
    result = await check_students(session, data, filename, today=today)
    if not confirm or result.problems or not result.rows:
        return result
    people = await audit.insert_rows(session, Person, [{
        "kind": "student", "last_name": r["last_name"], "first_name": r["first_name"],
        "middle_name": r.get("middle_name") or None, "birth_date": r["birth_date"]} for r in result.rows])
    await audit.insert_rows(session, Enrollment, [
        {"student_id": p["id"], "class_unit_id": r["class_unit_id"], "start_date": r["start_date"]}
        for p, r in zip(people, result.rows, strict=True)])
    with_guardian = [(p, r) for p, r in zip(people, result.rows, strict=True) if r.get("g_last")]
    guardians = await audit.insert_rows(session, Person, [{
        "kind": "guardian", "last_name": r["g_last"], "first_name": r["g_first"],
        "middle_name": r.get("g_middle") or None} for _, r in with_guardian])
    await audit.insert_rows(session, Guardianship, [{"guardian_id": g["id"], "student_id": p["id"]}
                                                    for g, (p, _) in zip(guardians, with_guardian, strict=True)])
    result.written = True
    return result


async def export_rows(session: AsyncSession, on: date) -> list[list[str]]:
    """The school's students enrolled on `on`, in the import's own columns (a file that imports back)."""
    rows = (await session.execute(
        select(Person, ClassUnit, Enrollment.start_date)
        .join(Enrollment, Enrollment.student_id == Person.id)
        .join(ClassUnit, ClassUnit.id == Enrollment.class_unit_id)
        .where(Enrollment.start_date <= on, or_(Enrollment.end_date.is_(None), Enrollment.end_date >= on))
        .order_by(ClassUnit.grade, ClassUnit.letter, Person.last_name, Person.first_name)
    )).all()
    guardian: dict[int, Person] = dict((await session.execute(
        select(Guardianship.student_id, Person).join(Person, Person.id == Guardianship.guardian_id))).tuples().all())

    def text(value: date | None) -> str:
        return value.strftime("%d.%m.%Y") if value else ""

    out = []
    for person, unit, start in rows:
        g = guardian.get(person.id)
        out.append([person.last_name, person.first_name, person.middle_name or "", text(person.birth_date),
                    f"{unit.grade}{unit.letter}", text(start), g.last_name if g else "", g.first_name if g else "",
                    (g.middle_name or "") if g else ""])
    return out


def as_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def as_xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Ученики"
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
