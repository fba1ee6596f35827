"""Study groups from a school's XLSX or CSV: a dry run names every bad cell (the structure rules' refusals among
them) and writes nothing; a clean file writes every group and member; the export reads back in and is refused as
duplicates; a teacher may not import (R-STR-7, issue 4 item 8)."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import func, select

from services.db import Database
from services.structure.models import ClassUnit, Enrollment, GroupMembership, Person, StudyGroup, Subject
from tests.conftest import MakeSchool, SignIn, school_writes
from tests.imports.test_staff_classes_load import csv, send, xlsx

HEADER = ["Группа", "Вид", "Класс", "Предмет", "Фамилия ученика", "Имя ученика", "Класс ученика", "С даты"]


async def counts(db: Database, schema: str) -> tuple[int, int]:
    async with db.transaction(schema) as session:
        return (int(await session.scalar(select(func.count()).select_from(StudyGroup)) or 0),
                int(await session.scalar(select(func.count()).select_from(GroupMembership)) or 0))


async def test_groups_import_checks_writes_all_and_refuses_its_export(
    db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    school = await make_school()
    async with school_writes(db, school.schema) as session:
        a5, b5 = ClassUnit(grade=5, letter="А"), ClassUnit(grade=5, letter="Б")
        anna = Person(kind="student", last_name="Ковалёва", first_name="Анна")
        ivan = Person(kind="student", last_name="Лебедев", first_name="Иван")
        session.add_all([a5, b5, anna, ivan, Subject(name="Английский язык", short_name="Англ.")])
        await session.flush()
        session.add_all([Enrollment(student_id=anna.id, class_unit_id=a5.id, start_date=date(2020, 9, 1)),
                         Enrollment(student_id=ivan.id, class_unit_id=b5.id, start_date=date(2020, 9, 1))])
    deputy = await sign_in({school: ["deputy_head"]})

    bad = xlsx([list[object](HEADER),
                ["5А англ. 1", "подгруппа", "5А", "Английский язык", "Ковалёва", "Анна", "5А", "01.09.2025"],
                ["5А англ. 1", "подгруппа", "5А", "Английский язык", "Лебедев", "Иван", "5Б", "01.09.2025"],
                ["Кружок", "кружок", "", "", "", "", "", ""],
                ["Шахматы", "межклассная", "", "Астрология", "Петров", "Пётр", "5А", "31.02.2025"],
                ["", "межклассная", "", "", "", "", "", ""]])
    checked = await send(deputy, school.slug, "groups", "группы.xlsx", bad, confirm=True)
    assert checked == {"written": False, "rows": 5, "problems": [
        "Строка 3, столбец «Фамилия ученика»: Ученик не учится в классе 5А на даты членства в подгруппе.",
        "Строка 4, столбец «Вид»: «кружок» — нужно: подгруппа, межклассная или индивидуальная.",
        "Строка 5, столбец «Предмет»: предмета «Астрология» в школе нет.",
        "Строка 5, столбец «Фамилия ученика»: ученика с таким именем в классе «5А» сегодня нет.",
        "Строка 5, столбец «С даты»: «31.02.2025» — дата нужна в виде ДД.ММ.ГГГГ.",
        "Строка 6, столбец «Группа»: не заполнено.",
    ]}
    assert await counts(db, school.schema) == (0, 0), "a refused file writes nothing"

    good = csv([";".join(HEADER),
                "5А англ. 1;подгруппа;5А;Английский язык;Ковалёва;Анна;5А;01.09.2025",
                "Шахматы;межклассная;;;Ковалёва;Анна;5А;01.09.2025",
                "Шахматы;межклассная;;;Лебедев;Иван;5Б;01.10.2025",
                "Театр;межклассная;;;;;;"])
    assert await send(deputy, school.slug, "groups", "g.csv", good) == {"written": False, "rows": 4, "problems": []}
    assert await counts(db, school.schema) == (0, 0), "a dry run writes nothing"
    assert await send(deputy, school.slug, "groups", "g.csv", good, confirm=True) == {
        "written": True, "rows": 4, "problems": []}
    assert await counts(db, school.schema) == (3, 3)

    exported = await deputy.get(f"/api/v1/schools/{school.slug}/exports/groups", params={"format": "xlsx"})
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.content)).worksheets[0]
    rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == HEADER
    assert rows[1:] == [
        ["5А англ. 1", "подгруппа", "5А", "Английский язык", "Ковалёва", "Анна", "5А", "01.09.2025"],
        ["Театр", "межклассная", "", "", "", "", "", ""],
        ["Шахматы", "межклассная", "", "", "Ковалёва", "Анна", "5А", "01.09.2025"],
        ["Шахматы", "межклассная", "", "", "Лебедев", "Иван", "5Б", "01.10.2025"],
    ]
    again = await send(deputy, school.slug, "groups", "back.xlsx", exported.content, confirm=True)
    assert again["written"] is False
    assert again["problems"] == [f"Строка {n}, столбец «Группа»: группа «{name}» уже есть в школе."
                                 for n, name in [(2, "5А англ. 1"), (3, "Театр"), (4, "Шахматы"), (5, "Шахматы")]]
    assert await counts(db, school.schema) == (3, 3)

    page = await deputy.get(f"/s/{school.slug}/import/groups")
    assert page.status_code == 200
    assert "Загрузка групп из файла" in page.text

    teacher = await sign_in({school: ["teacher"]})
    refused = await teacher.post(f"/api/v1/schools/{school.slug}/imports/groups", params={"confirm": "true"},
                                 files={"data": ("g.csv", good, "application/octet-stream")})
    assert refused.status_code == 403
