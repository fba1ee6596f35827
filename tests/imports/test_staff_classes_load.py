"""Staff, classes and teaching load from the school's XLSX or Excel-made CSV: a dry run names every bad cell and
writes nothing; a clean file is written whole; the same file again is refused; the export reads back in (R-STR-7)."""

from __future__ import annotations

import io
from datetime import date

import httpx
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from services.calendar.models import AcademicYear
from services.db import Database
from services.structure.models import ClassUnit, Enrollment, Guardianship, Person, TeachingLoad
from tests.conftest import MakeSchool, SignIn, school_writes


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv(lines: list[str]) -> bytes:
    return "".join(line + "\r\n" for line in lines).encode("cp1251")


async def send(client: httpx.AsyncClient, slug: str, kind: str, name: str, body: bytes, *,
               confirm: bool = False) -> dict[str, object]:
    response = await client.post(f"/api/v1/schools/{slug}/imports/{kind}", params={"confirm": str(confirm).lower()},
                                 files={"data": (name, body, "application/octet-stream")})
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


async def count(db: Database, schema: str, model: type[Person | ClassUnit | TeachingLoad | Guardianship]) -> int:
    async with db.transaction(schema) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


STAFF = ["Фамилия;Имя;Отчество;Дата рождения",
         "Иванова;Мария;Петровна;01.02.1980",
         "Петров;Пётр;Павлович;",
         "Петров;Павел;Петрович;15.05.1975"]


async def test_staff_import_checks_first_writes_all_and_round_trips(
    db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})

    bad = xlsx([["Фамилия", "Имя", "Отчество", "Дата рождения"],
                ["Иванова", "Мария", "Петровна", "01.02.1980"],
                ["Иванова", "Мария", "Петровна", "01.02.1980"],
                ["Сидоров", "", "", "31.02.1980"],
                ["Кузнецова", "Ольга", "", "01.01.2099"]])
    checked = await send(deputy, school.slug, "staff", "сотрудники.xlsx", bad, confirm=True)
    assert checked == {"written": False, "rows": 4, "problems": [
        "Строка 3, столбец «Фамилия»: этот сотрудник уже есть в строке 2.",
        "Строка 4, столбец «Имя»: не заполнено.",
        "Строка 4, столбец «Дата рождения»: «31.02.1980» — дата нужна в виде ДД.ММ.ГГГГ.",
        "Строка 5, столбец «Дата рождения»: дата рождения должна быть в прошлом.",
    ]}
    no_column = await send(deputy, school.slug, "staff", "x.csv", csv(["Фамилия;Отчество", "Иванова;Петровна"]))
    assert no_column["problems"] == ["Строка 1, столбец «Имя»: нет такого столбца в первой строке файла."]
    assert await count(db, school.schema, Person) == 0, "a dry run writes nothing"

    assert await send(deputy, school.slug, "staff", "s.csv", csv(STAFF)) == {"written": False, "rows": 3,
                                                                             "problems": []}
    assert await count(db, school.schema, Person) == 0
    assert await send(deputy, school.slug, "staff", "s.csv", csv(STAFF), confirm=True) == {
        "written": True, "rows": 3, "problems": []}
    assert await count(db, school.schema, Person) == 3
    again = await send(deputy, school.slug, "staff", "s.csv", csv(STAFF), confirm=True)
    assert again["written"] is False
    assert again["problems"] == [f"Строка {n}, столбец «Фамилия»: такой сотрудник уже есть в школе."
                                 for n in (2, 3, 4)]
    assert await count(db, school.schema, Person) == 3

    exported = await deputy.get(f"/api/v1/schools/{school.slug}/exports/staff", params={"format": "xlsx"})
    assert exported.headers["content-disposition"].startswith("attachment")
    sheet = load_workbook(io.BytesIO(exported.content)).worksheets[0]
    rows = [[c or "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert rows == [["Фамилия", "Имя", "Отчество", "Дата рождения"], ["Иванова", "Мария", "Петровна", "01.02.1980"],
                    ["Петров", "Павел", "Петрович", "15.05.1975"], ["Петров", "Пётр", "Павлович", ""]]
    as_csv = (await deputy.get(f"/api/v1/schools/{school.slug}/exports/staff")).content
    assert as_csv.startswith("\ufeff".encode())

    other = await make_school()
    deputy2 = await sign_in({other: ["deputy_head"]})
    assert (await send(deputy2, other.slug, "staff", "export.xlsx", exported.content, confirm=True))["written"]
    assert (await deputy2.get(f"/api/v1/schools/{other.slug}/exports/staff")).content == as_csv
    assert (await send(deputy2, other.slug, "staff", "export.csv", as_csv))["problems"] == [
        f"Строка {n}, столбец «Фамилия»: такой сотрудник уже есть в школе." for n in (2, 3, 4)]

    teacher = await sign_in({school: ["teacher"]})
    for kind in ("staff", "classes", "load", "guardians"):
        response = await teacher.post(f"/api/v1/schools/{school.slug}/imports/{kind}",
                                      files={"data": ("x.csv", b"x", "text/csv")})
        assert response.status_code == 403


async def test_classes_and_load_import_match_staff_and_round_trip(
    db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    assert (await send(deputy, school.slug, "staff", "s.csv", csv(STAFF), confirm=True))["written"]
    async with school_writes(db, school.schema) as session:
        session.add(ClassUnit(grade=7, letter="В"))
        session.add(AcademicYear(name="2026/2027", start_date=date(2026, 9, 1), end_date=date(2027, 8, 31)))

    bad_classes = csv(["Класс;Классный руководитель",
                       "5А;Петров П.П.",
                       "5 а;Иванова М.П.",
                       "12А;",
                       "7В;Смирнова А.А."])
    checked = await send(deputy, school.slug, "classes", "классы.csv", bad_classes, confirm=True)
    assert checked["problems"] == [
        "Строка 2, столбец «Классный руководитель»: «Петров П.П.» — таких сотрудников несколько, укажите полное ФИО.",
        "Строка 3, столбец «Класс»: этот класс уже есть в строке 2.",
        "Строка 4, столбец «Класс»: «12А» — класс нужен в виде 5А (параллель 1–11 и буква).",
        "Строка 5, столбец «Класс»: класс «7В» уже есть в школе.",
        "Строка 5, столбец «Классный руководитель»: «Смирнова А.А.» — такого сотрудника в школе нет.",
    ]
    assert await count(db, school.schema, ClassUnit) == 1

    good_classes = xlsx([["Класс", "Кл. руководитель"], ["5А", "Петров Пётр Павлович"], ["6б", "Иванова М. П."],
                         ["8А", ""]])
    assert await send(deputy, school.slug, "classes", "классы.xlsx", good_classes, confirm=True) == {
        "written": True, "rows": 3, "problems": []}
    again = await send(deputy, school.slug, "classes", "классы.xlsx", good_classes, confirm=True)
    assert again["problems"] == ["Строка 2, столбец «Класс»: класс «5А» уже есть в школе.",
                                 "Строка 3, столбец «Класс»: класс «6Б» уже есть в школе.",
                                 "Строка 4, столбец «Класс»: класс «8А» уже есть в школе."]
    classes_csv = (await deputy.get(f"/api/v1/schools/{school.slug}/exports/classes")).content.decode("utf-8-sig")
    assert classes_csv.splitlines() == ["Класс;Классный руководитель", "5А;Петров Пётр Павлович",
                                        "6Б;Иванова Мария Петровна", "7В;", "8А;"]

    bad_load = csv(["Учитель;Предмет;Класс;Группа;Часов в неделю;Учебный год",
                    "Смирнова А.А.;Математика;5А;;4;",
                    "Иванова М.П.;Астрология;5А;;4;",
                    "Иванова М.П.;Математика;;;0;",
                    "Иванова М.П.;Математика;5А;Хор;50;",
                    "Иванова М.П.;Математика;9Я;;4;2030/2031",
                    "Иванова М.П.;Математика;5А;;4,5;",
                    "Иванова М.П.;математика;5А;;4,5;2026/2027"])
    checked = await send(deputy, school.slug, "load", "нагрузка.csv", bad_load, confirm=True)
    assert checked["problems"] == [
        "Строка 2, столбец «Учитель»: «Смирнова А.А.» — такого сотрудника в школе нет.",
        "Строка 3, столбец «Предмет»: предмета «Астрология» в школе нет.",
        "Строка 4, столбец «Класс»: не заполнено: укажите класс или группу.",
        "Строка 4, столбец «Часов в неделю»: «0» — нужно число больше 0 и не больше 40, с точностью до десятых.",
        "Строка 5, столбец «Класс»: укажите либо класс, либо группу.",
        "Строка 5, столбец «Часов в неделю»: «50» — нужно число больше 0 и не больше 40, с точностью до десятых.",
        "Строка 6, столбец «Класс»: класса «9Я» в школе нет.",
        "Строка 6, столбец «Учебный год»: учебного года «2030/2031» в школе нет.",
        "Строка 8, столбец «Учитель»: эта нагрузка уже есть в строке 7.",
    ]
    assert await count(db, school.schema, TeachingLoad) == 0

    good_load = csv(["Учитель;Предмет;Класс;Часов в неделю",
                     "Иванова М.П.;математика;5А;4,5",
                     "Иванова Мария Петровна;Русский язык;6Б;5",
                     "Петров Павел Петрович;Математика;6Б;5"])
    assert await send(deputy, school.slug, "load", "нагрузка.csv", good_load, confirm=True) == {
        "written": True, "rows": 3, "problems": []}
    again = await send(deputy, school.slug, "load", "нагрузка.csv", good_load)
    assert again["problems"] == [f"Строка {n}, столбец «Учитель»: эта нагрузка уже есть в школе." for n in (2, 3, 4)]
    assert await count(db, school.schema, TeachingLoad) == 3

    load_csv = (await deputy.get(f"/api/v1/schools/{school.slug}/exports/load")).content
    assert load_csv.decode("utf-8-sig").splitlines() == [
        "Учитель;Предмет;Класс;Группа;Часов в неделю;Учебный год",
        "Иванова Мария Петровна;Математика;5А;;4,5;2026/2027",
        "Иванова Мария Петровна;Русский язык;6Б;;5;2026/2027",
        "Петров Павел Петрович;Математика;6Б;;5;2026/2027"]
    load_xlsx = await deputy.get(f"/api/v1/schools/{school.slug}/exports/load", params={"format": "xlsx"})
    assert (await send(deputy, school.slug, "load", "export.xlsx", load_xlsx.content))["problems"] == [
        f"Строка {n}, столбец «Учитель»: эта нагрузка уже есть в школе." for n in (2, 3, 4)]


async def test_guardians_import_finds_students_by_class_and_round_trips(
    db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    async with school_writes(db, school.schema) as session:
        a5, b6 = ClassUnit(grade=5, letter="А"), ClassUnit(grade=6, letter="Б")
        kids = [Person(kind="student", last_name="Ковалёва", first_name="Анна"),
                Person(kind="student", last_name="Ковалёв", first_name="Илья"),
                Person(kind="student", last_name="Лебедев", first_name="Пётр"),
                Person(kind="student", last_name="Лебедев", first_name="Пётр")]
        session.add_all([a5, b6, *kids])
        await session.flush()
        session.add_all([Enrollment(student_id=kid.id, class_unit_id=unit.id, start_date=date(2026, 9, 1))
                         for kid, unit in zip(kids, [a5, b6, a5, a5], strict=True)])
    persons = await count(db, school.schema, Person)

    bad = csv(["Фамилия ученика;Имя ученика;Класс ученика;Фамилия родителя;Имя родителя;Отчество родителя;"
               "Кем приходится",
               "Ковалёва;Анна;6Б;Ковалёв;Игорь;;отец",
               "Лебедев;Пётр;5А;Лебедева;Ольга;;мать",
               "Ковалёва;Анна;5А;;Игорь;;",
               "Ковалёв;Илья;6Б;Ковалёв;Игорь;;отец",
               "Ковалев;Илья;6б;Ковалев;Игорь;;"])
    checked = await send(deputy, school.slug, "guardians", "родители.csv", bad, confirm=True)
    assert checked["problems"] == [
        "Строка 2, столбец «Фамилия ученика»: ученика с таким именем в классе «6Б» сегодня нет.",
        "Строка 3, столбец «Фамилия ученика»: в этом классе несколько учеников с таким именем.",
        "Строка 4, столбец «Фамилия родителя»: не заполнено.",
        "Строка 6, столбец «Фамилия родителя»: этот родитель этого ученика уже есть в строке 5.",
    ]
    assert await count(db, school.schema, Person) == persons

    good = xlsx([["Фамилия ученика", "Имя ученика", "Класс ученика", "Фамилия родителя", "Имя родителя",
                  "Отчество родителя", "Кем приходится"],
                 ["Ковалёва", "Анна", "5А", "Ковалёв", "Игорь", "Петрович", "отец"],
                 ["Ковалёв", "Илья", "6Б", "Ковалёв", "Игорь", "Петрович", "отец"],
                 ["Ковалёва", "Анна", "5А", "Ковалёва", "Елена", "", ""]])
    assert await send(deputy, school.slug, "guardians", "родители.xlsx", good, confirm=True) == {
        "written": True, "rows": 3, "problems": []}
    assert await count(db, school.schema, Person) == persons + 2, "one father of two children is one person"
    assert await count(db, school.schema, Guardianship) == 3

    exported = (await deputy.get(f"/api/v1/schools/{school.slug}/exports/guardians")).content
    assert exported.decode("utf-8-sig").splitlines() == [
        "Фамилия ученика;Имя ученика;Класс ученика;Фамилия родителя;Имя родителя;Отчество родителя;Кем приходится",
        "Ковалёва;Анна;5А;Ковалёв;Игорь;Петрович;отец",
        "Ковалёва;Анна;5А;Ковалёва;Елена;;законный представитель",
        "Ковалёв;Илья;6Б;Ковалёв;Игорь;Петрович;отец"]
    again = await send(deputy, school.slug, "guardians", "export.csv", exported, confirm=True)
    assert again["problems"] == [f"Строка {n}, столбец «Фамилия родителя»: этот родитель уже указан у ученика в школе."
                                 for n in (2, 3, 4)]
    assert await count(db, school.schema, Guardianship) == 3


async def test_upload_pages_check_then_write(db: Database, make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    for kind in ("staff", "classes", "load", "guardians"):
        page = await deputy.get(f"/s/{school.slug}/import/{kind}")
        assert page.status_code == 200, kind
        assert f'action="/s/{school.slug}/import/{kind}"' in page.text
        assert f"/import/{kind}" in (await deputy.get(f"/s/{school.slug}/import/students")).text
    url = f"/s/{school.slug}/import/staff"
    bad = await deputy.post(url, data={"confirm": "true"},
                            files={"data": ("s.csv", csv(["Фамилия;Имя", "Иванова;"]), "text/csv")})
    assert bad.status_code == 400
    assert "Строка 2, столбец «Имя»: не заполнено." in bad.text
    assert await count(db, school.schema, Person) == 0
    done = await deputy.post(url, data={"confirm": "true"}, files={"data": ("s.csv", csv(STAFF), "text/csv")})
    assert done.status_code == 200
    assert "Записано сотрудников: 3." in done.text
    assert await count(db, school.schema, Person) == 3
    teacher = await sign_in({school: ["teacher"]})
    assert (await teacher.get(url)).status_code == 403
