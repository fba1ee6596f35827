"""Staff from a school's own table, and back out in the same shape (R-STR-7).

Columns: «Фамилия», «Имя», «Отчество», «Дата рождения». A person already in the file or in the school (same full
name and birth date) is a problem, not a copy. Also the pieces the other staff-related imports share: the result,
matching a teacher by «Фамилия Имя Отчество» or «Фамилия И.О.», and writing CSV/XLSX in a given header.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.imports.students import _date
from services.imports.tables import Problem, read_table
from services.structure.models import Person

COLUMNS = {
    "last_name": ("Фамилия",),
    "first_name": ("Имя",),
    "middle_name": ("Отчество",),
    "birth_date": ("Дата рождения", "дата рожд"),
}
HEADER = [titles[0] for titles in COLUMNS.values()]
TITLE = "Сотрудники"


@dataclass(slots=True)
class Import:
    rows: list[dict[str, object]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    written: bool = False


def _norm(text: str) -> str:
    text = re.sub(r"\.\s*", ".", " ".join(text.split()))
    return text.lower().replace("ё", "е")


class StaffNames:
    """The school's staff, found by «Фамилия Имя Отчество», «Фамилия Имя» or «Фамилия И.О.»."""

    def __init__(self, people: Sequence[Person]) -> None:
        self.keys: dict[str, set[int]] = {}
        for p in people:
            initials = p.first_name[:1] + "." + (p.middle_name[:1] + "." if p.middle_name else "")
            for key in {p.full_name, f"{p.last_name} {p.first_name}", f"{p.last_name} {initials}"}:
                self.keys.setdefault(_norm(key), set()).add(p.id)

    @classmethod
    async def load(cls, session: AsyncSession) -> StaffNames:
        return cls((await session.execute(select(Person).where(Person.kind == "staff"))).scalars().all())

    def find(self, text: str, line: int, column: str, problems: list[Problem]) -> int | None:
        found = self.keys.get(_norm(text), set())
        if len(found) == 1:
            return next(iter(found))
        problems.append(Problem(line, column, f"«{text[:60]}» — " + (
            "таких сотрудников несколько, укажите полное ФИО." if found else "такого сотрудника в школе нет.")))
        return None


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(header: list[str], rows: list[list[str]], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _key(last: str, first: str, middle: str | None, birth: date | None) -> tuple[str, str, str, date | None]:
    return _norm(last), _norm(first), _norm(middle or ""), birth


async def check_staff(session: AsyncSession, data: bytes, filename: str, *, today: date) -> Import:
    """Every problem of the file, by line and column; nothing is written."""
    table = read_table(data, filename, COLUMNS, required=("last_name", "first_name"))
    result = Import(problems=list(table.problems))
    existing = {_key(p.last_name, p.first_name, p.middle_name, p.birth_date) for p in
                (await session.execute(select(Person).where(Person.kind == "staff"))).scalars()}
    seen: dict[tuple[str, str, str, date | None], int] = {}
    for line, row in table.rows:
        problems = result.problems
        birth = _date(row.get("birth_date", ""), line, "Дата рождения", problems)
        if birth is not None and birth >= today:
            problems.append(Problem(line, "Дата рождения", "дата рождения должна быть в прошлом."))
        for name in ("last_name", "first_name", "middle_name"):
            if len(row.get(name, "")) > 100:
                problems.append(Problem(line, COLUMNS[name][0], "не длиннее 100 знаков."))
        key = _key(row["last_name"], row["first_name"], row.get("middle_name"), birth)
        if key in seen:
            problems.append(Problem(line, "Фамилия", f"этот сотрудник уже есть в строке {seen[key]}."))
        elif key in existing and row["last_name"]:
            problems.append(Problem(line, "Фамилия", "такой сотрудник уже есть в школе."))
        seen.setdefault(key, line)
        result.rows.append({**row, "birth_date": birth, "line": line})
    result.problems.sort(key=lambda p: p.line)
    return result


async def import_staff(session: AsyncSession, data: bytes, filename: str, *, today: date,
                       confirm: bool) -> Import:
    """Dry run unless `confirm`; confirmed and clean, every person is written."""
    result = await check_staff(session, data, filename, today=today)
    if not confirm or result.problems or not result.rows:
        return result
    await audit.insert_rows(session, Person, [{
        "kind": "staff", "last_name": r["last_name"], "first_name": r["first_name"],
        "middle_name": r.get("middle_name") or None, "birth_date": r["birth_date"]} for r in result.rows])
    result.written = True
    return result


async def export_rows(session: AsyncSession, on: date) -> list[list[str]]:
    """The school's staff, in the import's own columns."""
    people = (await session.execute(select(Person).where(Person.kind == "staff").order_by(
        Person.last_name, Person.first_name, Person.middle_name, Person.id))).scalars()
    return [[p.last_name, p.first_name, p.middle_name or "",
             p.birth_date.strftime("%d.%m.%Y") if p.birth_date else ""] for p in people]
