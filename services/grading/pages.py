"""The grading set-up page under /s/{school}/setup/grading: systems and values, conversions, the system of each
subject in each grade, kinds of work with weights (R-STR-2)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.grading import repository, service
from services.identity.policy import needs, provide_principal
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
MANAGE = needs("structure.manage")
NO_MARKS = "none"
GRADES = range(1, 12)


def _text(data: dict[str, Any], key: str) -> str:
    raw = data.get(key, "")
    return str(raw[-1] if isinstance(raw, list) and raw else raw).strip()


def _number(text: str, mark: str) -> Decimal | None:
    if not text:
        return None
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise service.GradingError(f"Отметка «{mark}»: числовое значение — число.") from None
    if not number.is_finite():
        raise service.GradingError(f"Отметка «{mark}»: числовое значение — число.")
    return number


def parse_value_lines(text: str) -> list[service.ValueDraft]:
    """Lines «отметка; расшифровка; число; не сдано» as the form's textarea has them (number and the last
    field optional; «нет» or «незачёт» in it marks a failing value)."""
    drafts = []
    for i, line in enumerate(line for line in text.splitlines() if line.strip()):
        parts = [p.strip() for p in line.split(";")]
        mark = parts[0]
        label = parts[1] if len(parts) > 1 and parts[1] else mark
        number = _number(parts[2] if len(parts) > 2 else "", mark)
        failing = len(parts) > 3 and parts[3].lower() in ("нет", "незачёт", "незачет", "не сдано", "0")
        drafts.append(service.ValueDraft(mark, label, number, not failing, False, i))
    return drafts


async def grading_page(session: AsyncSession, school: SchoolRecord, status_code: int = 200,
                       **context: Any) -> Template:
    systems = await service.systems_with_values(session)
    subjects = await repository.subjects(session)
    codes = {s.id: s.code for s, _ in systems}
    chosen: dict[tuple[int, int], str] = {}
    for row in await repository.subject_gradings(session):
        allowed = row.marks_allowed and row.grading_system_id is not None
        chosen[(row.subject_id, row.grade)] = codes.get(row.grading_system_id or 0, NO_MARKS) if allowed else NO_MARKS
    for subject in subjects:
        for grade in GRADES:
            chosen.setdefault((subject.id, grade), NO_MARKS if grade in service.NO_MARKS_GRADES
                              else service.DEFAULT_SYSTEM)
    return Template("grading/setup.html", status_code=status_code, context={
        "school": school, "systems": systems, "subjects": subjects, "grades": list(GRADES), "chosen": chosen,
        "no_marks": NO_MARKS, "conversions": await repository.conversions(session),
        "work_kinds": await repository.work_kinds(session), **context})


class GradingPages(Controller):
    path = "/s/{school_slug:str}/setup/grading"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/", opt=MANAGE)
    async def show(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession]) -> Template:
        return await grading_page(session, school)

    async def _refused(self, session: AsyncSession, school: SchoolRecord, exc: service.GradingError) -> Template:
        await session.rollback()
        return await grading_page(session, school, status_code=400, errors=exc.messages)

    @post("/systems", opt=MANAGE, status_code=200)
    async def create_system(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                            data: Form) -> Template:
        try:
            values = parse_value_lines(_text(data, "values"))
            if not values:
                raise service.GradingError("Укажите отметки системы, по одной в строке.")
            system = await service.create_system(session, _text(data, "code"), _text(data, "name"), values)
        except service.GradingError as exc:
            return await self._refused(session, school, exc)
        return await grading_page(session, school, done=f"Система оценивания «{system.name}» добавлена.")

    @post("/systems/{system_id:int}/values", opt=MANAGE, status_code=200)
    async def add_value(self, system_id: FromPath[int], school: NamedDependency[SchoolRecord],
                        session: NamedDependency[AsyncSession], data: Form) -> Template:
        try:
            mark = _text(data, "value")
            draft = service.ValueDraft(mark, _text(data, "label") or mark, _number(_text(data, "numeric_value"), mark),
                                       bool(_text(data, "is_passing")), bool(_text(data, "is_special")),
                                       int(_text(data, "ordering") or 0) if _text(data, "ordering").isdigit() else 0)
            await service.add_value(session, system_id, draft)
        except service.GradingError as exc:
            return await self._refused(session, school, exc)
        return await grading_page(session, school, done=f"Отметка «{mark}» добавлена.")

    @post("/conversions", opt=MANAGE, status_code=200)
    async def set_conversion(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                             data: Form) -> Template:
        try:
            await service.set_conversion(session, _text(data, "from_system"), _text(data, "value"),
                                         _text(data, "to_system"), _text(data, "to_value") or None)
        except service.GradingError as exc:
            return await self._refused(session, school, exc)
        return await grading_page(session, school, done="Таблица перевода сохранена.")

    @post("/subjects", opt=MANAGE, status_code=200)
    async def set_subjects(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                           data: Form) -> Template:
        changed = 0
        try:
            for subject in await repository.subjects(session):
                for grade in GRADES:
                    wanted = _text(data, f"sg-{subject.id}-{grade}")
                    if not wanted:
                        continue
                    current = await service.effective_grading(session, subject.id, grade)
                    now = current.system.code if current.system else NO_MARKS
                    if wanted != now:
                        await service.set_subject_grading(session, subject.id, grade,
                                                          None if wanted == NO_MARKS else wanted)
                        changed += 1
        except service.GradingError as exc:
            return await self._refused(session, school, exc)
        return await grading_page(session, school, done=f"Изменено настроек предметов: {changed}.")

    @post("/work-kinds", opt=MANAGE, status_code=200)
    async def create_work_kind(self, school: NamedDependency[SchoolRecord],
                               session: NamedDependency[AsyncSession], data: Form) -> Template:
        try:
            kind = await service.create_work_kind(session, _text(data, "name"), _text(data, "short_name"),
                                                  service.parse_weight(_text(data, "weight")),
                                                  bool(_text(data, "is_written")))
        except service.GradingError as exc:
            return await self._refused(session, school, exc)
        return await grading_page(session, school, done=f"Вид работы «{kind.name}» добавлен.")

    @post("/work-kinds/{kind_id:int}", opt=MANAGE, status_code=200)
    async def update_work_kind(self, kind_id: FromPath[int], school: NamedDependency[SchoolRecord],
                               session: NamedDependency[AsyncSession], data: Form) -> Template:
        try:
            if _text(data, "remove"):
                deleted = await service.remove_work_kind(session, kind_id)
                done = "Вид работы удалён." if deleted else "Вид работы уже используется в отметках: он отключён."
            else:
                kind = await service.update_work_kind(
                    session, kind_id, _text(data, "name"), _text(data, "short_name"),
                    service.parse_weight(_text(data, "weight")), is_written=bool(_text(data, "is_written")),
                    active=bool(_text(data, "active")))
                done = f"Вид работы «{kind.name}» сохранён."
        except service.GradingError as exc:
            return await self._refused(session, school, exc)
        return await grading_page(session, school, done=done)
