"""Students from the school's XLSX or Excel-made CSV: a dry run names every bad cell and writes nothing; a
clean file is written whole, with guardians; the export reads back in (R-STR-7)."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from services.db import Database
from services.structure.models import ClassUnit, Guardianship, Person
from tests.conftest import MakeSchool, SignIn, school_writes

HEADER = ["Фамилия", "Имя", "Отчество", "Дата рождения", "Класс", "Фамилия родителя", "Имя родителя"]


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEADER, *rows]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_students_import_checks_first_then_writes_all_and_exports_back(
    db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    school = await make_school()
    async with school_writes(db, school.schema) as session:
        session.add_all([ClassUnit(grade=5, letter="А"), ClassUnit(grade=6, letter="Б")])
    deputy = await sign_in({school: ["deputy_head"]})
    url = f"/api/v1/schools/{school.slug}/imports/students"

    bad = xlsx([["Ковалёва", "Анна", "Игоревна", "12.03.2014", "5А", "Ковалёв", "Игорь"],
                ["Ковалёва", "Анна", "Игоревна", "12.03.2014", "5А", "", ""],
                ["Лебедев", "", "", "31.02.2014", "7В", "Лебедева", ""]])
    checked = (await deputy.post(url, params={"confirm": "true"}, files={"data": ("ученики.xlsx", bad, "x")})).json()
    assert checked["written"] is False
    assert checked["problems"] == [
        "Строка 3, столбец «Фамилия»: этот ученик уже есть в строке 2.",
        "Строка 4, столбец «Имя»: не заполнено.",
        "Строка 4, столбец «Дата рождения»: «31.02.2014» — дата нужна в виде ДД.ММ.ГГГГ.",
        "Строка 4, столбец «Класс»: класса «7В» в школе нет.",
        "Строка 4, столбец «Фамилия родителя»: укажите и фамилию, и имя родителя.",
    ]
    async with db.transaction(school.schema) as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 0, "a dry run writes nothing"

    csv_text = ("Фамилия;Имя;Отчество;Дата рождения;Класс;Фамилия родителя;Имя родителя\r\n"
                "Ковалёва;Анна;Игоревна;12.03.2014;5А;Ковалёв;Игорь\r\n"
                "Лебедев;Пётр;;01.09.2013;6 Б;;\r\n")
    dry = (await deputy.post(url, files={"data": ("ученики.csv", csv_text.encode("cp1251"), "text/csv")})).json()
    assert dry == {"written": False, "students": 2, "problems": []}
    done = (await deputy.post(url, params={"confirm": "true"},
                              files={"data": ("ученики.csv", csv_text.encode("cp1251"), "text/csv")})).json()
    assert done == {"written": True, "students": 2, "problems": []}
    again = (await deputy.post(url, files={"data": ("ученики.csv", csv_text.encode("cp1251"), "text/csv")})).json()
    assert "такой ученик уже есть в школе" in " ".join(again["problems"])

    async with db.transaction(school.schema) as session:
        assert await session.scalar(select(func.count()).select_from(Guardianship)) == 1

    export = await deputy.get(f"/api/v1/schools/{school.slug}/exports/students", params={"format": "xlsx"})
    assert export.headers["content-disposition"].startswith("attachment")
    sheet = load_workbook(io.BytesIO(export.content)).worksheets[0]
    rows = [[c or "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:5] == HEADER[:5]
    assert rows[1][:5] == ["Ковалёва", "Анна", "Игоревна", "12.03.2014", "5А"]
    assert rows[2][4] == "6Б"
    as_csv = await deputy.get(f"/api/v1/schools/{school.slug}/exports/students")
    assert as_csv.content.startswith("\ufeff".encode())
    assert "Лебедев;Пётр" in as_csv.content.decode("utf-8-sig")

    teacher = await sign_in({school: ["teacher"]})
    assert (await teacher.post(url, files={"data": ("x.csv", b"x", "text/csv")})).status_code == 403
