"""Period and year marks (R-JRN-4): the closing window, the weighted average and suggested mark by the school's
rounding rule, «н/а», exam results before the final mark, and the lock of a closed period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from services.calendar.models import StudyPeriod
from services.db import Database
from services.grading.models import GradeValue, WorkKind
from services.journal.finals import suggest, weighted_average
from services.journal.models import FinalMark, Mark
from services.timetable.models import Lesson
from tests.conftest import school_writes
from tests.journal.conftest import Clients, JournalSchool


def _values(*numbers: int) -> list[GradeValue]:
    return [GradeValue(value=str(n), label=str(n), numeric_value=Decimal(n), is_special=False) for n in numbers]


def test_the_weighted_average_and_the_rounding_rule() -> None:
    average = weighted_average([(Decimal(5), Decimal(2)), (Decimal(3), Decimal(1)), (Decimal(2), Decimal(1))])
    assert average.value == Decimal("3.75")
    assert "3.75" in average.explain()
    five = _values(5, 4, 3, 2)
    assert suggest(Decimal("3.50"), five, Decimal("0.5")) == "4"
    assert suggest(Decimal("3.50"), five, Decimal("0.6")) == "3"
    assert suggest(Decimal("3.60"), five, Decimal("0.6")) == "4"
    assert suggest(Decimal("1.20"), five, Decimal("0.5")) == "2", "never below the lowest value of the system"
    assert suggest(None, five, Decimal("0.5")) is None
    assert weighted_average([]).value is None


async def _current_period(db: Database, journal: JournalSchool) -> StudyPeriod | None:
    async with db.transaction(journal.school.schema) as s:
        found: StudyPeriod | None = await s.scalar(select(StudyPeriod).where(
            StudyPeriod.start_date <= journal.today, StudyPeriod.end_date >= journal.today,
            StudyPeriod.grade_from <= 5, StudyPeriod.grade_to >= 5, StudyPeriod.kind == "quarter"))
        return found


async def test_period_marks_go_in_within_the_window_with_the_suggestion_beside(
        db: Database, journal: JournalSchool, people: Clients) -> None:
    period = await _current_period(db, journal)
    assert period is not None, "the fixture's year always has a quarter around today"
    a = journal.students[0]
    async with school_writes(db, journal.school.schema) as s:
        lessons = (await s.execute(select(Lesson.id).where(Lesson.teaching_load_id == journal.maths,
                                                           Lesson.on_date >= period.start_date,
                                                           Lesson.on_date <= journal.today))).scalars().all()
        kinds = dict((await s.execute(select(WorkKind.name, WorkKind.id))).tuples().all())
        test, oral = kinds["Контрольная работа"], kinds["Устный ответ"]  # weights 2 and 1 by default
        for value, kind in (("5", test), ("3", oral), ("4", oral)):
            s.add(Mark(lesson_id=lessons[0], student_id=a, work_kind_id=kind, value=value, author_id=journal.teacher))
    url = journal.api(f"/loads/{journal.maths}/finals/{a}")
    closed_window = await people.teacher.put(url, json={"kind": "period", "period_id": period.id, "value": "4"})
    opens = period.end_date - timedelta(days=7)
    if journal.today < opens:
        assert closed_window.status_code == 422
        assert f"с {opens:%d.%m.%Y}" in closed_window.json()["detail"]
        settings = await people.deputy.put(journal.api("/settings"), json={
            "final_window_before_days": 60, "rounding_threshold": "0,6"})
        assert settings.status_code == 200, settings.text
    sheet = (await people.teacher.get(journal.api(f"/loads/{journal.maths}/finals"),
                                      params={"period_id": period.id})).json()
    row = next(r for r in sheet["rows"] if r["student_id"] == a)
    weights = {k["id"]: Decimal(k["weight"]) for k in (await people.teacher.get(
        f"/api/v1/schools/{journal.slug}/grading/work-kinds")).json()}
    expected = ((5 * weights[test] + 3 * weights[oral] + 4 * weights[oral])
                / (weights[test] + 2 * weights[oral])).quantize(Decimal("0.01"))
    assert Decimal(str(row["average"])) == expected
    assert row["suggested"] == suggest(expected, _values(5, 4, 3, 2), Decimal("0.6"))
    assert sorted(row["marks"]) == ["3", "4", "5"]
    assert "н/а" in sheet["values"]
    entered = await people.teacher.put(url, json={"kind": "period", "period_id": period.id, "value": "н/а"})
    assert entered.status_code == 200, entered.text
    again = await people.teacher.put(url, json={"kind": "period", "period_id": period.id, "value": "4"})
    assert again.json()["id"] == entered.json()["id"]
    refused = await people.teacher.put(url, json={"kind": "period", "period_id": period.id, "value": "6"})
    assert refused.status_code == 422
    other = await people.other_teacher.put(url, json={"kind": "period", "period_id": period.id, "value": "5"})
    assert other.status_code == 403
    async with db.transaction(journal.school.schema) as s:
        assert [(f.kind, f.value) for f in (await s.execute(select(FinalMark))).scalars()] == [("period", "4")]


async def test_exam_before_the_final_mark_and_year_marks_only_in_their_window(
        journal: JournalSchool, people: Clients) -> None:
    a = journal.students[0]
    url = journal.api(f"/loads/{journal.maths}/finals/{a}")
    exam = await people.teacher.put(url, json={"kind": "exam", "value": "5"})
    assert exam.status_code == 200, exam.text
    year = await people.teacher.put(url, json={"kind": "year", "value": "5"})
    assert year.status_code == 422
    assert "ставятся с" in year.json()["detail"]
    final = await people.teacher.put(url, json={"kind": "final", "value": "5"})
    assert final.status_code == 422
    mixed = await people.teacher.put(url, json={"kind": "year", "value": "5", "period_id": 1})
    assert mixed.status_code == 422


async def test_a_closed_period_needs_a_permit_and_a_reason(db: Database, journal: JournalSchool,
                                                           people: Clients) -> None:
    a = journal.students[0]
    async with school_writes(db, journal.school.schema) as s:
        first = await s.scalar(select(StudyPeriod).where(StudyPeriod.kind == "quarter", StudyPeriod.number == 1))
        assert first is not None
        first.closed_at = datetime.now(UTC)
        first_id = first.id
    url = journal.api(f"/loads/{journal.maths}/finals/{a}")
    body = {"kind": "period", "period_id": first_id, "value": "4"}
    locked = await people.teacher.put(url, json=body)
    assert locked.status_code == 403
    assert "закрыт" in locked.json()["detail"]
    too_long = await people.deputy.post(journal.api("/permits"), json={
        "teaching_load_id": journal.maths, "study_period_id": first_id, "teacher_id": journal.teacher,
        "valid_until": (journal.today + timedelta(days=90)).isoformat(), "reason": "Апелляция"})
    assert too_long.status_code == 422
    permit = await people.deputy.post(journal.api("/permits"), json={
        "teaching_load_id": journal.maths, "study_period_id": first_id, "teacher_id": journal.teacher,
        "valid_until": journal.today.isoformat(), "reason": "Апелляция родителей"})
    assert permit.status_code == 201, permit.text
    assert (await people.teacher.put(url, json=body)).json()["type"] == "/problems/journal-reason-required"
    done = await people.teacher.put(url, json={**body, "reason": "Решение апелляционной комиссии"})
    assert done.status_code == 200, done.text
    assert (await people.other_teacher.put(url, json={**body, "reason": "x"})).status_code == 403


async def test_journal_settings_are_checked_as_a_whole(people: Clients, journal: JournalSchool) -> None:
    refused = await people.deputy.put(journal.api("/settings"), json={
        "rounding_threshold": "2", "homework_deadline_hours": "много", "colour": 1})
    assert refused.status_code == 422
    assert len(refused.json()["messages"]) == 3
    assert (await people.deputy.get(journal.api("/settings"))).json()["rounding_threshold"] == "0.5"
    assert (await people.teacher.put(journal.api("/settings"), json={"written_mark_days": 5})).status_code == 403
