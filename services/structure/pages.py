"""Pages of a school under /s/{school}: the home page, classes with their students and movement, staff, load.

Server-rendered forms. A refused form rolls the request's transaction back (nothing half-written is committed)
and shows the page again with the Russian message; a saved one redirects back (post/redirect/get).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.policy import Principal, needs, provide_principal
from services.structure import repository, service
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

DONE = {"saved": "Сохранено.", "arrival": "Прибытие оформлено.", "transfer": "Перевод оформлен.",
        "withdrawal": "Выбытие оформлено.", "staff": "Сотрудник добавлен.", "load": "Нагрузка добавлена."}
MOVEMENT_TITLES = {"arrival": "Прибытие", "transfer": "Перевод", "withdrawal": "Выбытие"}


def _field(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    return str(value[0] if isinstance(value, list) and value else value).strip()


def _date(data: dict[str, Any], key: str, label: str, *, required: bool = True) -> date | None:
    raw = _field(data, key)
    if not raw:
        if required:
            raise service.StructureError(f"Укажите {label}.")
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise service.StructureError(f"Неверная дата: {label}.") from None


def _int(data: dict[str, Any], key: str, label: str, *, required: bool = True) -> int | None:
    raw = _field(data, key)
    if not raw:
        if required:
            raise service.StructureError(f"Выберите {label}.")
        return None
    try:
        return int(raw)
    except ValueError:
        raise service.StructureError(f"Неверное значение: {label}.") from None


def _required_int(data: dict[str, Any], key: str, label: str) -> int:
    value = _int(data, key, label)
    assert value is not None
    return value


def _required_date(data: dict[str, Any], key: str, label: str) -> date:
    value = _date(data, key, label)
    assert value is not None
    return value


class SchoolPages(Controller):
    path = "/s/{school_slug:str}"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/", opt=needs("school.view"))
    async def home(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                   principal: NamedDependency[Principal]) -> Template:
        classes = await repository.classes_with_counts(session, school.today())
        return Template("school_home.html", context={"school": school, "classes": classes, "me": principal})

    # --- classes ----------------------------------------------------------------------------------------------

    @get("/classes", opt=needs("structure.read"))
    async def classes(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                      principal: NamedDependency[Principal]) -> Template:
        return await _classes_page(session, school, principal)

    @post("/classes", opt=needs("structure.manage"))
    async def create_class(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                           principal: NamedDependency[Principal], data: Form) -> Response[Any]:
        try:
            unit = await service.create_class(
                session, grade=_required_int(data, "grade", "параллель"), letter=_field(data, "letter"),
                class_teacher_id=_int(data, "class_teacher_id", "классного руководителя", required=False))
        except service.StructureError as exc:
            await session.rollback()
            return await _classes_page(session, school, principal, errors=[exc.message_ru], form=data,
                                       status_code=exc.status_code)
        return Redirect(f"/s/{school.slug}/classes/{unit.id}", status_code=303)

    @get("/classes/{class_id:int}", opt=needs("people.read"))
    async def class_page(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                         principal: NamedDependency[Principal], class_id: FromPath[int], *,
                         on: FromQuery[str | None] = None, done: FromQuery[str | None] = None) -> Template:
        try:
            day = date.fromisoformat(on) if on else None
        except ValueError:
            day = None
        return await _class_page(session, school, principal, class_id, on=day, done=DONE.get(done or ""))

    @post("/classes/{class_id:int}", opt=needs("structure.manage"))
    async def update_class(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                           principal: NamedDependency[Principal], class_id: FromPath[int],
                           data: Form) -> Response[Any]:
        try:
            await service.update_class(
                session, class_id, grade=_required_int(data, "grade", "параллель"), letter=_field(data, "letter"),
                class_teacher_id=_int(data, "class_teacher_id", "классного руководителя", required=False))
        except service.StructureError as exc:
            await session.rollback()
            return await _class_page(session, school, principal, class_id, errors=[exc.message_ru],
                                     status_code=exc.status_code)
        return Redirect(f"/s/{school.slug}/classes/{class_id}?done=saved", status_code=303)

    @post("/classes/{class_id:int}/arrival", opt=needs("structure.manage"))
    async def arrival(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                      principal: NamedDependency[Principal], class_id: FromPath[int], data: Form) -> Response[Any]:
        try:
            on_date = _required_date(data, "on_date", "дату прибытия")
            student_id = _int(data, "student_id", "ученика", required=False)
            if student_id is None:
                student = await service.add_person(
                    session, "student", last_name=_field(data, "last_name"), first_name=_field(data, "first_name"),
                    middle_name=_field(data, "middle_name"),
                    birth_date=_date(data, "birth_date", "дату рождения", required=False),
                    today=school.today())
                student_id = student.id
            await service.arrival(session, student_id=student_id, class_unit_id=class_id, on_date=on_date,
                                  reason=_field(data, "reason"), document=_field(data, "document"))
        except service.StructureError as exc:
            await session.rollback()
            return await _class_page(session, school, principal, class_id, errors=[exc.message_ru],
                                     status_code=exc.status_code)
        return Redirect(f"/s/{school.slug}/classes/{class_id}?on={on_date.isoformat()}&done=arrival",
                        status_code=303)

    @post("/classes/{class_id:int}/transfer", opt=needs("structure.manage"))
    async def transfer(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                       principal: NamedDependency[Principal], class_id: FromPath[int], data: Form) -> Response[Any]:
        try:
            on_date = _required_date(data, "on_date", "дату перевода")
            student_id = _required_int(data, "student_id", "ученика")
            current = await repository.open_enrollment(session, student_id)
            if current is None or current.class_unit_id != class_id:
                raise service.StructureError("Ученик не числится в этом классе.")
            await service.transfer(session, student_id=student_id,
                                   to_class_id=_required_int(data, "to_class_id", "класс, куда переводится ученик"),
                                   on_date=on_date, reason=_field(data, "reason"), document=_field(data, "document"))
        except service.StructureError as exc:
            await session.rollback()
            return await _class_page(session, school, principal, class_id, errors=[exc.message_ru],
                                     status_code=exc.status_code)
        return Redirect(f"/s/{school.slug}/classes/{class_id}?done=transfer", status_code=303)

    @post("/classes/{class_id:int}/withdrawal", opt=needs("structure.manage"))
    async def withdrawal(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                         principal: NamedDependency[Principal], class_id: FromPath[int],
                         data: Form) -> Response[Any]:
        try:
            on_date = _required_date(data, "on_date", "дату выбытия")
            student_id = _required_int(data, "student_id", "ученика")
            current = await repository.open_enrollment(session, student_id)
            if current is None or current.class_unit_id != class_id:
                raise service.StructureError("Ученик не числится в этом классе.")
            await service.withdrawal(session, student_id=student_id, on_date=on_date,
                                     reason=_field(data, "reason"), document=_field(data, "document"))
        except service.StructureError as exc:
            await session.rollback()
            return await _class_page(session, school, principal, class_id, errors=[exc.message_ru],
                                     status_code=exc.status_code)
        return Redirect(f"/s/{school.slug}/classes/{class_id}?done=withdrawal", status_code=303)

    @get("/students/{student_id:int}", opt=needs("people.read"))
    async def student(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                      student_id: FromPath[int]) -> Template:
        try:
            person = await service.person_of_kind(session, student_id, "student")
        except service.StructureError as exc:
            raise NotFoundException(exc.message_ru) from exc
        names = {c.id: c.name for c in await repository.classes(session)}
        guardians = await repository.guardianships_of_student(session, student_id)
        people = await repository.people_by_id(session, [g.guardian_id for g in guardians])
        return Template("structure/student.html", context={
            "school": school, "student": person, "name": person.full_name, "classes": names,
            "movements": await repository.movements_of(session, student_id),
            "enrollments": await repository.enrollments_of(session, student_id),
            "guardians": [(people[g.guardian_id].full_name, g.relation)
                          for g in guardians if g.guardian_id in people],
            "titles": MOVEMENT_TITLES})

    # --- staff and load ---------------------------------------------------------------------------------------

    @get("/staff", opt=needs("people.read"))
    async def staff(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                    principal: NamedDependency[Principal], done: FromQuery[str | None] = None) -> Template:
        return await _staff_page(session, school, principal, done=DONE.get(done or ""))

    @post("/staff", opt=needs("structure.manage"))
    async def add_staff(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                        principal: NamedDependency[Principal], data: Form) -> Response[Any]:
        try:
            await service.add_person(
                session, "staff", last_name=_field(data, "last_name"), first_name=_field(data, "first_name"),
                middle_name=_field(data, "middle_name"),
                birth_date=_date(data, "birth_date", "дату рождения", required=False),
                today=school.today())
        except service.StructureError as exc:
            await session.rollback()
            return await _staff_page(session, school, principal, errors=[exc.message_ru], form=data,
                                     status_code=exc.status_code)
        return Redirect(f"/s/{school.slug}/staff?done=staff", status_code=303)

    @get("/load", opt=needs("structure.read"))
    async def load(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                   principal: NamedDependency[Principal], year: FromQuery[int | None] = None,
                   done: FromQuery[str | None] = None) -> Template:
        return await _load_page(session, school, principal, year_id=year, done=DONE.get(done or ""))

    @post("/load", opt=needs("structure.manage"))
    async def add_load(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                       principal: NamedDependency[Principal], data: Form) -> Response[Any]:
        year_id = _int(data, "academic_year_id", "учебный год", required=False)
        try:
            target = _field(data, "target")
            kind, _, raw_id = target.partition(":")
            if kind not in ("class", "group") or not raw_id.isdigit():
                raise service.StructureError("Выберите класс или группу.")
            await service.add_load(
                session, academic_year_id=_required_int(data, "academic_year_id", "учебный год"),
                teacher_id=_required_int(data, "teacher_id", "учителя"),
                subject_id=_required_int(data, "subject_id", "предмет"),
                hours_per_week=_field(data, "hours").replace(",", ".") or "0",
                class_unit_id=int(raw_id) if kind == "class" else None,
                group_id=int(raw_id) if kind == "group" else None)
        except service.StructureError as exc:
            await session.rollback()
            return await _load_page(session, school, principal, year_id=year_id, errors=[exc.message_ru],
                                    form=data, status_code=exc.status_code)
        return Redirect(f"/s/{school.slug}/load?year={year_id}&done=load", status_code=303)


async def _classes_page(session: AsyncSession, school: SchoolRecord, principal: Principal, *,
                        status_code: int = 200, **context: Any) -> Template:
    rows = await repository.classes_with_counts(session, school.today())
    staff = await repository.people(session, "staff")
    teachers = {p.id: p.full_name for p in staff}
    return Template("structure/classes.html", status_code=status_code, context={
        "school": school, "me": principal, "rows": rows, "staff": staff, "teachers": teachers,
        "form": {}, **context})


async def _class_page(session: AsyncSession, school: SchoolRecord, principal: Principal, class_id: int, *,
                      on: FromQuery[date | None] = None, status_code: int = 200, **context: Any) -> Template:
    unit = await repository.get_class(session, class_id)
    if unit is None:
        raise NotFoundException("Класс не найден.")
    today = school.today()
    day = on or today
    students = await repository.students_of_class_on(session, class_id, day)
    current = await repository.students_of_class_on(session, class_id, today) if day != today else students
    teacher = await repository.get_person(session, unit.class_teacher_id) if unit.class_teacher_id else None
    return Template("structure/class.html", status_code=status_code, context={
        "school": school, "me": principal, "unit": unit, "day": day, "today": today, "students": students,
        "current": current, "teacher": teacher, "staff": await repository.people(session, "staff"),
        "classes": [c for c in await repository.classes(session) if c.id != class_id],
        "unplaced": await repository.students_without_class(session),
        **context})


async def _staff_page(session: AsyncSession, school: SchoolRecord, principal: Principal, *,
                      status_code: int = 200, **context: Any) -> Template:
    return Template("structure/staff.html", status_code=status_code, context={
        "school": school, "me": principal, "staff": await repository.people(session, "staff"),
        "form": {}, **context})


async def _load_page(session: AsyncSession, school: SchoolRecord, principal: Principal, *, year_id: int | None,
                     status_code: int = 200, **context: Any) -> Template:
    years = await repository.academic_years(session)
    year = next((y for y in years if y.id == year_id), None)
    if year is None:
        year = await repository.year_on(session, school.today()) or (years[0] if years else None)
    items = await repository.loads(session, academic_year_id=year.id) if year else []
    staff = await repository.people(session, "staff")
    teachers = {p.id: p.full_name for p in staff}
    by_teacher: dict[int, list[Any]] = {}
    for item in items:
        by_teacher.setdefault(item.teacher_id, []).append(item)
    totals = await repository.hours_by_teacher(session, year.id) if year else {}
    return Template("structure/load.html", status_code=status_code, context={
        "school": school, "me": principal, "years": years, "year": year, "staff": staff, "teachers": teachers,
        "by_teacher": by_teacher, "totals": totals,
        "subjects": {s.id: s for s in await repository.subjects(session)},
        "classes": {c.id: c for c in await repository.classes(session)},
        "groups": {g.id: g for g in await repository.groups(session)}, "form": {}, **context})
