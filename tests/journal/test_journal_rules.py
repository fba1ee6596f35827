"""The journal's rules, each at the API (R-JRN-1…5, R-ROLE-4): what a teacher may write where and when, and
that a refused write leaves nothing behind — not even its outbox event."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from services.calendar.models import StudyPeriod
from services.db import Database
from services.journal.models import Attendance, LessonRecord, Mark
from services.outbox.models import OutboxEvent
from services.timetable.models import Lesson
from tests.conftest import SignIn, school_writes
from tests.journal.conftest import Clients, JournalSchool


async def _outbox(db: Database, school_id: int) -> int:
    async with db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.school_id == school_id, OutboxEvent.topic == "journal.entry_saved")) or 0)


async def _marks(db: Database, j: JournalSchool) -> list[tuple[int, int, str, int | None]]:
    async with db.transaction(j.school.schema) as s:
        rows = await s.execute(select(Mark.lesson_id, Mark.student_id, Mark.value, Mark.author_id).order_by(Mark.id))
        return [tuple(r) for r in rows.tuples()]  # type: ignore[misc]


async def test_a_teacher_keeps_todays_lesson(db: Database, journal: JournalSchool, people: Clients) -> None:
    day = (await people.teacher.get(journal.api("/day"))).json()
    assert [(x["subject"], x["audience"], x["role"]) for x in day] == [("Математика", "5А", "own"),
                                                                       ("Математика", "1А", "own")]
    lesson = journal.lessons["today"]
    a, b, _ = journal.students
    saved = await people.teacher.put(journal.api(f"/lessons/{lesson}"), json={
        "topic": "Сложение дробей", "covered": "§ 12", "homework": "№ 245, 247"})
    assert saved.status_code == 200, saved.text
    attendance = await people.teacher.put(journal.api(f"/lessons/{lesson}/attendance"), json={"entries": [
        {"student_id": a, "status": "absent", "reason": "illness"}, {"student_id": b, "status": None}]})
    assert attendance.json() == [{"student_id": a, "status": "absent", "reason": "illness", "late_minutes": None}]
    kinds = await people.teacher.get(f"/api/v1/schools/{journal.slug}/grading/work-kinds")
    test_kind = next(k["id"] for k in kinds.json() if k["name"] == "Контрольная работа")
    for value in ("5", "4"):
        response = await people.teacher.post(journal.api(f"/lessons/{lesson}/marks"), json={
            "student_id": b, "value": value, "work_kind_id": test_kind, "comment": "Молодец"})
        assert response.status_code == 201, response.text
    view = (await people.teacher.get(journal.api(f"/lessons/{lesson}"))).json()
    assert view["record"]["topic"] == "Сложение дробей"
    assert view["record"]["attendance_taken"]
    by_id = {s["id"]: s for s in view["students"]}
    assert by_id[a]["attendance"]["reason"] == "illness"
    assert [(m["value"], m["work_kind_id"], m["comment"]) for m in by_id[b]["marks"]] == [
        ("5", test_kind, "Молодец"), ("4", test_kind, "Молодец")]
    # Every write put its event in the outbox: content, attendance (one change), two marks.
    assert await _outbox(db, journal.school.id) == 4


async def test_the_grid_takes_what_is_typed_and_refuses_what_is_not_a_mark(
        db: Database, journal: JournalSchool, people: Clients) -> None:
    lesson, (a, b, _) = journal.lessons["today"], journal.students

    async def cell(student: int, text: str) -> dict[str, object]:
        response = await people.teacher.put(journal.api(f"/lessons/{lesson}/cells/{student}"), json={"text": text})
        return {"status": response.status_code, **response.json()}

    assert (await cell(a, "5 / 4"))["text"] == "5/4"
    assert (await cell(b, "Н"))["absence"] == "н"
    assert (await cell(b, "оп/3"))["text"] == "оп/3"
    before = await _outbox(db, journal.school.id)
    for bad, words in (("7", "Допустимы: 5, 4, 3, 2"), ("н/б", "только одна"), ("отл", "не отметка"),
                       ("5/5/5/5/5", "не больше 4")):
        refused = await cell(a, bad)
        assert (refused["status"], words in str(refused["detail"])) == (422, True), refused
    assert await _outbox(db, journal.school.id) == before
    assert await cell(a, "4") == {"status": 200, "text": "4", "marks": ["4"], "absence": None}
    assert [(s, v) for _, s, v, _ in await _marks(db, journal)] == [(a, "4"), (b, "3")]
    grid = (await people.teacher.get(journal.api(f"/loads/{journal.maths}/grid"))).json()
    cells = {row["student_id"]: row["cells"] for row in grid["rows"]}
    assert cells[a][str(lesson)] == "4"
    assert cells[b][str(lesson)] == "оп/3"
    assert await cell(a, "") == {"status": 200, "text": "", "marks": [], "absence": None}


async def test_grade_one_gets_no_marks_but_attendance(journal: JournalSchool, people: Clients) -> None:
    lesson = journal.lessons["first_grade"]
    refused = await people.teacher.put(journal.api(f"/lessons/{lesson}/cells/{journal.first_grader}"),
                                       json={"text": "5"})
    assert refused.status_code == 422
    assert "безотметочное" in refused.json()["detail"]
    marked = await people.teacher.post(journal.api(f"/lessons/{lesson}/marks"), json={
        "student_id": journal.first_grader, "value": "5"})
    assert marked.status_code == 422
    absent = await people.teacher.put(journal.api(f"/lessons/{lesson}/cells/{journal.first_grader}"),
                                      json={"text": "б"})
    assert absent.status_code == 200
    assert absent.json()["absence"] == "б"


async def test_no_entry_for_a_student_on_a_day_they_were_not_in_the_class(
        db: Database, journal: JournalSchool, people: Clients) -> None:
    _, arrived, left = journal.students
    early, today = journal.lessons["early"], journal.lessons["today"]
    for lesson, student in ((early, arrived), (today, left)):
        for body in ({"text": "5"}, {"text": "н"}):
            refused = await people.teacher.put(journal.api(f"/lessons/{lesson}/cells/{student}"), json=body)
            assert (refused.status_code, "не числится" in refused.json()["detail"]) == (422, True), refused.text
        attendance = await people.teacher.put(journal.api(f"/lessons/{lesson}/attendance"), json={
            "entries": [{"student_id": student, "status": "absent", "reason": "unexcused"}]})
        assert attendance.status_code == 422
    assert (await people.teacher.put(journal.api(f"/lessons/{early}/cells/{left}"), json={"text": "3"})
            ).status_code == 200
    assert [(s, v) for _, s, v, _ in await _marks(db, journal)] == [(left, "3")]
    async with db.transaction(journal.school.schema) as s:
        assert await s.scalar(select(func.count()).select_from(Attendance)) == 0


async def test_only_the_subjects_values_and_only_past_lessons(journal: JournalSchool, people: Clients) -> None:
    a = journal.students[0]
    special = await people.teacher.post(journal.api(f"/lessons/{journal.lessons['today']}/marks"), json={
        "student_id": a, "value": "н/а"})
    assert special.status_code == 422
    assert "не отметка системы" in special.json()["detail"]
    future = await people.teacher.put(journal.api(f"/lessons/{journal.lessons['tomorrow']}/cells/{a}"),
                                      json={"text": "5"})
    assert future.status_code == 422
    assert "ещё не прошёл" in future.json()["detail"]
    # Homework for tomorrow may be set today.
    ahead = await people.teacher.put(journal.api(f"/lessons/{journal.lessons['tomorrow']}"),
                                     json={"homework": "Повторить § 12"})
    assert ahead.status_code == 200
    both = await people.teacher.put(journal.api(f"/lessons/{journal.lessons['today']}"),
                                     json={"homework": "№ 1", "no_homework": True})
    assert both.status_code == 422
    assert "Без задания" in both.json()["detail"]


async def test_nobody_writes_outside_their_load_and_grants(db: Database, journal: JournalSchool, people: Clients,
                                                           sign_in: SignIn) -> None:
    maths_today, russian_today = journal.lessons["today"], journal.lessons["russian_today"]
    a = journal.students[0]
    foreign = await people.teacher.put(journal.api(f"/lessons/{russian_today}/cells/{a}"), json={"text": "5"})
    assert foreign.status_code == 403
    assert "недоступен для записи" in foreign.json()["detail"]
    assert (await people.other_teacher.put(journal.api(f"/lessons/{maths_today}/cells/{a}"), json={"text": "5"})
            ).status_code == 403
    for family in (people.student, people.parent):
        for method, path, body in (("PUT", f"/lessons/{maths_today}/cells/{a}", {"text": "5"}),
                                   ("PUT", f"/lessons/{maths_today}", {"topic": "x"}),
                                   ("POST", f"/lessons/{maths_today}/marks", {"student_id": a, "value": "5"})):
            assert (await family.request(method, journal.api(path), json=body)).status_code == 403
        assert (await family.get(journal.api(f"/loads/{journal.maths}/grid"))).status_code == 403
    # A teacher without a person in the school, or reading another teacher's journal, is out of scope.
    reading = await people.other_teacher.get(journal.api(f"/loads/{journal.maths}/grid"))
    assert reading.status_code == 403
    assert reading.json()["type"] == "/problems/out-of-scope"
    assert await _marks(db, journal) == []


async def test_a_substitute_writes_with_the_grant_from_the_day_before_to_the_day_after(
        db: Database, journal: JournalSchool, people: Clients) -> None:
    today, early, a = journal.lessons["today"], journal.lessons["early"], journal.students[0]
    no_reason = await people.deputy.post(journal.api("/grants"), json={
        "lesson_id": today, "teacher_id": journal.other_teacher, "reason": " "})
    assert no_reason.status_code == 422
    granted = await people.deputy.post(journal.api("/grants"), json={
        "lesson_id": today, "teacher_id": journal.other_teacher, "reason": "Больничный учителя"})
    assert granted.status_code == 201, granted.text
    assert (await people.other_teacher.put(journal.api(f"/lessons/{today}/cells/{a}"), json={"text": "4"})
            ).status_code == 200
    outside = await people.other_teacher.put(journal.api(f"/lessons/{early}/cells/{a}"), json={"text": "4"})
    assert outside.status_code == 403
    assert (await people.other_teacher.get(journal.api(f"/loads/{journal.maths}/grid"))).status_code == 200
    assert await _marks(db, journal) == [(today, a, "4", journal.other_teacher)]
    substitute_day = (await people.other_teacher.get(journal.api("/day"))).json()
    assert [(x["id"], x["role"]) for x in substitute_day if x["subject"] == "Математика"] == [(today, "substitute")]
    assert (await people.teacher.post(journal.api("/grants"), json={
        "lesson_id": today, "teacher_id": journal.other_teacher, "reason": "x"})).status_code == 403


async def test_a_cancelled_lesson_is_recorded_as_such(db: Database, journal: JournalSchool, people: Clients) -> None:
    lesson = journal.lessons["today"]
    cancelled = await people.deputy.post(f"/api/v1/schools/{journal.slug}/lessons/{lesson}/cancellation",
                                         json={"reason": "Карантин"})
    assert cancelled.status_code == 201, cancelled.text
    refused = await people.teacher.put(journal.api(f"/lessons/{lesson}/cells/{journal.students[0]}"),
                                       json={"text": "5"})
    assert refused.status_code == 422
    assert "отменён" in refused.json()["detail"]
    grid = (await people.teacher.get(journal.api(f"/loads/{journal.maths}/grid"))).json()
    assert {x["id"]: x["status"] for x in grid["lessons"]}[lesson] == "cancelled"
    day = (await people.teacher.get(journal.api("/day"))).json()
    assert day[0]["status"] == "cancelled"
    assert day[0]["changes"] == ["Карантин"]


async def test_a_closed_period_is_locked_without_the_deputy_heads_permission(
        db: Database, journal: JournalSchool, people: Clients) -> None:
    lesson, a = journal.lessons["today"], journal.students[0]
    async with school_writes(db, journal.school.schema) as s:
        on = await s.scalar(select(Lesson.on_date).where(Lesson.id == lesson))
        period = await s.scalar(select(StudyPeriod).where(StudyPeriod.start_date <= on, StudyPeriod.end_date >= on,
                                                          StudyPeriod.grade_from <= 5, StudyPeriod.grade_to >= 5)
                                .order_by(StudyPeriod.end_date - StudyPeriod.start_date))
        assert period is not None, "the fixture's year always has a quarter around today"
        period.closed_at = datetime.now(UTC)
        await s.flush()
        period_id = period.id
    locked = await people.teacher.put(journal.api(f"/lessons/{lesson}/cells/{a}"), json={"text": "5"})
    assert locked.status_code == 403
    assert "закрыт" in locked.json()["detail"]
    permit = await people.deputy.post(journal.api("/permits"), json={
        "teaching_load_id": journal.maths, "study_period_id": period_id, "teacher_id": journal.teacher,
        "valid_until": journal.today.isoformat(), "reason": "Ошибка в отметке, заявление учителя"})
    assert permit.status_code == 201, permit.text
    why = await people.teacher.put(journal.api(f"/lessons/{lesson}/cells/{a}"), json={"text": "5"})
    assert why.status_code == 422
    assert why.json()["type"] == "/problems/journal-reason-required"
    done = await people.teacher.put(journal.api(f"/lessons/{lesson}/cells/{a}"),
                                    json={"text": "5", "reason": "Исправление по разрешению"})
    assert done.status_code == 200
    assert [(s, v) for _, s, v, _ in await _marks(db, journal)] == [(a, "5")]
    async with db.transaction(journal.school.schema) as s:
        assert await s.scalar(select(func.count()).select_from(LessonRecord)) == 0
