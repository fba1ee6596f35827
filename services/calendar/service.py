"""Rules of the school year (R-STR-1): years, study periods per grade range, holidays, closing periods, and the
helpers the journal asks (`period_for`, `is_school_day`). Never commits: the caller's session does."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar import repository
from services.calendar.models import PERIOD_KINDS, AcademicYear, Holiday, StudyPeriod
from services.errors import RuleError

KIND_NAMES = {"quarter": "четверть", "trimester": "триместр", "half": "полугодие", "year": "год"}
LAYOUTS = {"quarters": "Четверти для 1–9 классов, полугодия для 10–11", "trimesters": "Триместры для 1–11 классов"}
_YEAR_NAME = re.compile(r"^(\d{4})/(\d{4})$")


class CalendarError(RuleError):
    """A rule of the calendar refused the change."""

    problem_type = "/problems/calendar"


@dataclass(frozen=True, slots=True)
class PeriodDraft:
    """A study period not yet written (the standard layouts, a form)."""

    kind: str
    number: int
    grade_from: int
    grade_to: int
    start_date: date
    end_date: date
    name: str = ""

    @property
    def title(self) -> str:
        return self.name or default_period_name(self.kind, self.number)


def ru_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def grades_text(grade_from: int, grade_to: int) -> str:
    return f"{grade_from} кл." if grade_from == grade_to else f"{grade_from}–{grade_to} кл."


def default_period_name(kind: str, number: int) -> str:
    return "Учебный год" if kind == "year" else f"{number} {KIND_NAMES.get(kind, kind)}"


def _describe(p: StudyPeriod | PeriodDraft) -> str:
    name = p.name or default_period_name(p.kind, p.number)
    return f"«{name}» ({grades_text(p.grade_from, p.grade_to)}): {ru_date(p.start_date)}–{ru_date(p.end_date)}"


def _year_end_limit(start: date) -> date:
    try:
        return start.replace(year=start.year + 1)
    except ValueError:  # 29 February
        return start.replace(year=start.year + 1, day=28)


# --- academic year ---------------------------------------------------------------------------------------------


def year_problems(name: str, start: date, end: date) -> list[str]:
    """What is wrong with a year's name and dates, in Russian; empty when nothing."""
    problems = []
    match = _YEAR_NAME.fullmatch(name.strip())
    if not match or int(match[2]) != int(match[1]) + 1:
        problems.append("Название учебного года — два года подряд через косую черту, например «2026/2027».")
    elif start.year != int(match[1]):
        problems.append(f"Учебный год «{name.strip()}» должен начинаться в {match[1]} году.")
    if start >= end:
        problems.append("Дата начала учебного года должна быть раньше даты окончания.")
    elif end >= _year_end_limit(start):
        problems.append("Учебный год не может быть длиннее одного года.")
    return problems


async def _check_year(session: AsyncSession, name: str, start: date, end: date, exclude: int | None) -> None:
    problems = year_problems(name, start, end)
    if problems:
        raise CalendarError(*problems)
    same = await repository.year_named(session, name.strip())
    if same is not None and same.id != exclude:
        raise CalendarError(f"Учебный год «{name.strip()}» уже есть.", status_code=409)
    for other in await repository.overlapping_years(session, start, end, exclude=exclude):
        raise CalendarError(f"Даты пересекаются с учебным годом «{other.name}»: "
                            f"{ru_date(other.start_date)}–{ru_date(other.end_date)}.", status_code=409)


async def create_year(session: AsyncSession, name: str, start: date, end: date) -> AcademicYear:
    """A new academic year: name like 2026/2027, start before end, at most one year long, no overlap."""
    await _check_year(session, name, start, end, None)
    year = AcademicYear(name=name.strip(), start_date=start, end_date=end)
    session.add(year)
    await session.flush()
    return year


async def update_year(session: AsyncSession, year_id: int, name: str, start: date, end: date) -> AcademicYear:
    """Change a year's name or dates; its periods and holidays must stay inside."""
    year = await _year(session, year_id)
    await _check_year(session, name, start, end, year_id)
    outside = [_describe(p) for p in await repository.periods(session, year_id)
               if p.start_date < start or p.end_date > end]
    outside += [f"«{h.name}»: {ru_date(h.start_date)}–{ru_date(h.end_date)}"
                for h in await repository.holidays(session, year_id) if h.start_date < start or h.end_date > end]
    if outside:
        raise CalendarError("Новые даты года не вмещают: " + "; ".join(outside) + ".")
    year.name, year.start_date, year.end_date = name.strip(), start, end
    await session.flush()
    return year


async def _year(session: AsyncSession, year_id: int) -> AcademicYear:
    year = await repository.year(session, year_id)
    if year is None:
        raise CalendarError("Учебный год не найден.", status_code=404)
    return year


def default_year_dates(first_year: int) -> tuple[str, date, date]:
    """The usual Russian year: 1 September to 31 May (lessons end in late May; the rest is attestation)."""
    return f"{first_year}/{first_year + 1}", date(first_year, 9, 1), date(first_year + 1, 5, 31)


# --- study periods ---------------------------------------------------------------------------------------------


def standard_layout(year: AcademicYear, layout: str) -> list[PeriodDraft]:
    """The usual periods for a year, to be edited before they are written: `quarters` (quarters for grades 1–9,
    halves for 10–11) or `trimesters` (grades 1–11). Dates follow the Ministry's usual recommendations."""
    y, n = year.start_date.year, year.start_date.year + 1
    last = min(date(n, 5, 26), year.end_date)
    if layout == "quarters":
        quarters = [(date(y, 9, 1), date(y, 10, 25)), (date(y, 11, 5), date(y, 12, 28)),
                    (date(n, 1, 9), date(n, 3, 21)), (date(n, 3, 30), last)]
        halves = [(date(y, 9, 1), date(y, 12, 28)), (date(n, 1, 9), last)]
        return [PeriodDraft("quarter", i, 1, 9, s, e) for i, (s, e) in enumerate(quarters, 1)] + [
            PeriodDraft("half", i, 10, 11, s, e) for i, (s, e) in enumerate(halves, 1)]
    if layout == "trimesters":
        trimesters = [(date(y, 9, 1), date(y, 11, 30)), (date(y, 12, 1), date(n, 2, 28)), (date(n, 3, 1), last)]
        return [PeriodDraft("trimester", i, 1, 11, s, e) for i, (s, e) in enumerate(trimesters, 1)]
    raise CalendarError("Неизвестная схема периодов: выберите четверти или триместры.")


def standard_holidays(year: AcademicYear) -> list[tuple[str, date, date, int, int]]:
    """The usual holidays (name, start, end, grades) for the quarters layout, to be edited."""
    y, n = year.start_date.year, year.start_date.year + 1
    return [("Осенние каникулы", date(y, 10, 26), date(y, 11, 4), 1, 11),
            ("Зимние каникулы", date(y, 12, 29), date(n, 1, 8), 1, 11),
            ("Дополнительные каникулы для 1 класса", date(n, 2, 15), date(n, 2, 22), 1, 1),
            ("Весенние каникулы", date(n, 3, 22), date(n, 3, 29), 1, 11)]


def _draft_problems(year: AcademicYear, d: PeriodDraft) -> list[str]:
    problems = []
    if d.kind not in PERIOD_KINDS:
        problems.append(f"Неизвестный вид периода: {d.kind}.")
    if not (1 <= d.grade_from <= d.grade_to <= 11):
        problems.append("Классы периода: от 1 до 11, первый не больше последнего.")
    if d.number < 1 or (d.kind == "quarter" and d.number > 4) or (d.kind == "trimester" and d.number > 3) or (
            d.kind == "half" and d.number > 2) or (d.kind == "year" and d.number > 1):
        problems.append(f"Неверный номер периода: {d.number}.")
    if d.start_date > d.end_date:
        problems.append(f"Период «{d.title}»: дата начала позже даты окончания.")
    elif d.start_date < year.start_date or d.end_date > year.end_date:
        problems.append(f"Период {_describe(d)} выходит за границы учебного года «{year.name}»: "
                        f"{ru_date(year.start_date)}–{ru_date(year.end_date)}.")
    return problems


def _conflicts(d: PeriodDraft, others: list[StudyPeriod] | list[PeriodDraft]) -> list[str]:
    problems = []
    for o in others:
        if o.kind != d.kind or o.grade_to < d.grade_from or o.grade_from > d.grade_to:
            continue
        here = f"Период «{d.title}» ({grades_text(d.grade_from, d.grade_to)})"
        if o.number == d.number:
            problems.append(f"{here}: такой период для этих классов уже есть — {_describe(o)}.")
        elif o.start_date <= d.end_date and o.end_date >= d.start_date:
            problems.append(f"{here} пересекается с {_describe(o)}.")
    return problems


async def add_periods(session: AsyncSession, year_id: int, drafts: list[PeriodDraft]) -> list[StudyPeriod]:
    """Write periods into a year: inside the year, and periods of the same kind for the same grades never
    overlap (with each other or with those already there). All or none."""
    year = await _year(session, year_id)
    existing = await repository.periods(session, year_id)
    problems: list[str] = []
    for i, d in enumerate(drafts):
        problems += _draft_problems(year, d) or _conflicts(d, existing) + _conflicts(d, drafts[:i])
    if problems:
        raise CalendarError(*problems, status_code=409 if any("пересекается" in p for p in problems) else 422)
    rows = [StudyPeriod(academic_year_id=year_id, kind=d.kind, number=d.number, name=d.title,
                        grade_from=d.grade_from, grade_to=d.grade_to, start_date=d.start_date,
                        end_date=d.end_date) for d in drafts]
    session.add_all(rows)
    await session.flush()
    return rows


async def add_standard_layout(session: AsyncSession, year_id: int, layout: str,
                              drafts: list[PeriodDraft] | None = None) -> list[StudyPeriod]:
    """The one-click layout: the standard periods of `layout`, or the school's edited `drafts` of it."""
    year = await _year(session, year_id)
    return await add_periods(session, year_id, drafts if drafts is not None else standard_layout(year, layout))


async def update_period(session: AsyncSession, period_id: int, draft: PeriodDraft) -> StudyPeriod:
    """Change a period's dates, grades or name; a closed period must be reopened first."""
    period = await _period(session, period_id)
    if period.closed_at is not None:
        raise CalendarError(f"Период {_describe(period)} закрыт: сначала откройте его.", status_code=409)
    year = await _year(session, period.academic_year_id)
    others = [p for p in await repository.periods(session, year.id) if p.id != period_id]
    problems = _draft_problems(year, draft) or _conflicts(draft, others)
    if problems:
        raise CalendarError(*problems, status_code=409 if any("пересекается" in p for p in problems) else 422)
    period.kind, period.number, period.name = draft.kind, draft.number, draft.title
    period.grade_from, period.grade_to = draft.grade_from, draft.grade_to
    period.start_date, period.end_date = draft.start_date, draft.end_date
    await session.flush()
    return period


async def delete_period(session: AsyncSession, period_id: int) -> None:
    """Remove a period that is not closed."""
    period = await _period(session, period_id)
    if period.closed_at is not None:
        raise CalendarError(f"Период {_describe(period)} закрыт: его нельзя удалить.", status_code=409)
    await session.delete(period)
    await session.flush()


async def _period(session: AsyncSession, period_id: int) -> StudyPeriod:
    period = await repository.period(session, period_id)
    if period is None:
        raise CalendarError("Период не найден.", status_code=404)
    return period


async def close_period(session: AsyncSession, period_id: int, account_id: int,
                       now: datetime | None = None) -> StudyPeriod:
    """Close a period: marks in it are final from now on (corrections need `journal.correct_closed`)."""
    period = await _period(session, period_id)
    if period.closed_at is not None:
        raise CalendarError(f"Период {_describe(period)} уже закрыт {period.closed_at.strftime('%d.%m.%Y')}.",
                            status_code=409)
    period.closed_at, period.closed_by = now or datetime.now(UTC), account_id
    await session.flush()
    return period


async def reopen_period(session: AsyncSession, period_id: int) -> StudyPeriod:
    """Reopen a closed period; the audit log records who did it and when."""
    period = await _period(session, period_id)
    if period.closed_at is None:
        raise CalendarError(f"Период {_describe(period)} не закрыт.", status_code=409)
    period.closed_at, period.closed_by = None, None
    await session.flush()
    return period


# --- holidays --------------------------------------------------------------------------------------------------


async def add_holiday(session: AsyncSession, year_id: int, name: str, start: date, end: date, *,
                      grade_from: int = 1, grade_to: int = 11) -> Holiday:
    """Holidays (каникулы) or a day off, inside the year, for a range of grades."""
    year = await _year(session, year_id)
    problems = []
    if not name.strip():
        problems.append("Укажите название каникул.")
    if not (1 <= grade_from <= grade_to <= 11):
        problems.append("Классы: от 1 до 11, первый не больше последнего.")
    if start > end:
        problems.append("Дата начала каникул позже даты окончания.")
    elif start < year.start_date or end > year.end_date:
        problems.append(f"Каникулы «{name.strip()}» ({ru_date(start)}–{ru_date(end)}) выходят за границы "
                        f"учебного года «{year.name}»: {ru_date(year.start_date)}–{ru_date(year.end_date)}.")
    if problems:
        raise CalendarError(*problems)
    holiday = Holiday(academic_year_id=year_id, name=name.strip(), start_date=start, end_date=end,
                      grade_from=grade_from, grade_to=grade_to)
    session.add(holiday)
    await session.flush()
    return holiday


async def delete_holiday(session: AsyncSession, holiday_id: int) -> None:
    """Remove holidays."""
    holiday = await repository.holiday(session, holiday_id)
    if holiday is None:
        raise CalendarError("Каникулы не найдены.", status_code=404)
    await session.delete(holiday)
    await session.flush()


# --- what the journal asks -------------------------------------------------------------------------------------


async def period_for(session: AsyncSession, grade: int, on_date: date) -> StudyPeriod | None:
    """The study period of `grade` that `on_date` falls in (the shortest, so a quarter before the year);
    None on days between periods or outside every year."""
    found = await repository.periods_on(session, grade, on_date)
    return found[0] if found else None


async def is_school_day(session: AsyncSession, grade: int, on_date: date, *, saturday: bool = False) -> bool:
    """Whether `grade` has lessons on `on_date`: inside an academic year, Monday to Friday (Saturday too in
    six-day schools, `saturday=True`), and not in holidays for that grade."""
    if on_date.weekday() > (5 if saturday else 4):
        return False
    if await repository.year_on(session, on_date) is None:
        return False
    return await repository.holiday_on(session, grade, on_date) is None


async def school_days(session: AsyncSession, grade: int, start: date, end: date, *,
                      saturday: bool = False) -> list[date]:
    """Every school day of `grade` from `start` to `end` inclusive (for generating lessons)."""
    days, day = [], start
    while day <= end:
        if await is_school_day(session, grade, day, saturday=saturday):
            days.append(day)
        day += timedelta(days=1)
    return days


async def add_working_days(session: AsyncSession, start: date, days: int) -> date:
    """The date `days` working days after `start` (`start` itself does not count): Monday to Friday, except the
    school's holidays for every grade — the deadlines of applications and erasures (R-DRY-4, R-SEC-5)."""
    spans = await repository.school_wide_holidays(session, start, start + timedelta(days=days * 3 + 60))
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and not any(s <= day <= e for s, e in spans):
            left -= 1
    return day
