"""КТП rules: importing a plan (dry run first, then all or nothing), the topic a lesson takes, and program
completion as planned against given hours (R-JRN-8, R-STR-7)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.imports.tables import Problem, read_table
from services.plan.models import PlanTopic
from services.structure.models import TeachingLoad
from services.timetable.models import Lesson

COLUMNS = {
    "position": ("№", "номер", "№ урока", "n"),
    "title": ("Тема", "тема урока", "название темы"),
    "hours": ("Часы", "кол-во часов", "количество часов", "часов"),
    "planned_date": ("Дата", "дата по плану", "плановая дата"),
}


@dataclass(slots=True)
class PlanImport:
    topics: list[dict[str, object]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    written: bool = False


def _positive(text: str, line: int, column: str, problems: list[Problem], top: int) -> int | None:
    try:
        value = int(float(text.replace(",", ".")))
    except ValueError:
        problems.append(Problem(line, column, f"«{text[:20]}» — не число."))
        return None
    if not 1 <= value <= top:
        problems.append(Problem(line, column, f"должно быть от 1 до {top}."))
        return None
    return value


def parse_plan(data: bytes, filename: str) -> PlanImport:
    """Check a КТП file and list every problem with its line and column; writes nothing."""
    table = read_table(data, filename, COLUMNS, required=("position", "title"))
    result = PlanImport(problems=list(table.problems))
    seen: dict[int, int] = {}
    for line, row in table.rows:
        position = _positive(row["position"], line, COLUMNS["position"][0], result.problems, 10_000) \
            if row["position"] else None
        hours = _positive(row.get("hours") or "1", line, COLUMNS["hours"][0], result.problems, 20)
        planned = None
        if row.get("planned_date"):
            text = row["planned_date"].split(" ")[0]
            for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
                try:
                    planned = datetime.strptime(text, pattern).date()
                    break
                except ValueError:
                    continue
            else:
                result.problems.append(Problem(line, COLUMNS["planned_date"][0], "дата в виде ДД.ММ.ГГГГ."))
        if len(row["title"]) > 500:
            result.problems.append(Problem(line, COLUMNS["title"][0], "тема длиннее 500 знаков."))
        if position is not None:
            if position in seen:
                result.problems.append(Problem(line, COLUMNS["position"][0],
                                               f"номер {position} уже был в строке {seen[position]}."))
            seen[position] = line
            result.topics.append({"position": position, "title": row["title"][:500], "hours": hours or 1,
                                  "planned_date": planned})
    result.topics.sort(key=lambda t: int(str(t["position"])))
    return result


async def import_plan(session: AsyncSession, teaching_load_id: int, data: bytes, filename: str, *,
                      confirm: bool) -> PlanImport:
    """Dry run unless `confirm`; confirmed and clean, the plan of the load is replaced as a whole."""
    if await session.get(TeachingLoad, teaching_load_id) is None:
        return PlanImport(problems=[Problem(0, "", "Строка нагрузки не найдена.")])
    result = parse_plan(data, filename)
    if confirm and not result.problems and result.topics:
        await audit.delete_rows(session, PlanTopic, PlanTopic.teaching_load_id == teaching_load_id)
        await audit.insert_rows(session, PlanTopic, [{**t, "teaching_load_id": teaching_load_id}
                                                    for t in result.topics])
        result.written = True
    return result


async def progress(session: AsyncSession, teaching_load_id: int, on_date: date) -> tuple[int, int]:
    """(planned hours of the plan, lessons given up to `on_date`): the program's completion."""
    planned = await session.scalar(select(func.coalesce(func.sum(PlanTopic.hours), 0)).where(
        PlanTopic.teaching_load_id == teaching_load_id))
    given = await session.scalar(select(func.count()).select_from(Lesson).where(
        Lesson.teaching_load_id == teaching_load_id, Lesson.status == "planned", Lesson.on_date <= on_date))
    return int(planned or 0), int(given or 0)


async def topic_for_lesson(session: AsyncSession, lesson: Lesson) -> PlanTopic | None:
    """The plan's topic for this lesson: its place among the load's lessons that take place, walked through
    the topics' hours (a two-hour topic covers two lessons)."""
    before = await session.scalar(select(func.count()).select_from(Lesson).where(
        Lesson.teaching_load_id == lesson.teaching_load_id, Lesson.status == "planned",
        or_(Lesson.on_date < lesson.on_date,
            and_(Lesson.on_date == lesson.on_date, Lesson.lesson_number < lesson.lesson_number))))
    ordinal = int(before or 0) + 1
    covered = 0
    for topic in (await session.execute(select(PlanTopic).where(
            PlanTopic.teaching_load_id == lesson.teaching_load_id).order_by(PlanTopic.position))).scalars():
        covered += topic.hours
        if ordinal <= covered:
            return topic
    return None
