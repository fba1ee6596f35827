"""The diary (R-DRY-1…3) through its API: a week with everything the journal holds for one student, the scope of
students and parents (R-ROLE-4), the forecast by the journal's own rule, children across schools, and the
fingerprint an open page polls."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from litestar import Litestar
from sqlalchemy import event, select

from services.calendar.models import StudyPeriod
from services.db import Database
from services.grading.service import allowed_marks
from services.journal.finals import suggest, weighted_average
from services.structure.models import Guardianship, Person, SchoolSetting, Subject
from services.timetable.models import Lesson
from tests.conftest import MakeSchool, SignIn, school_writes
from tests.journal.conftest import Clients, JournalSchool, keep_lessons, work_kinds


def diary(journal: JournalSchool, student_id: int, tail: str) -> str:
    return f"/api/v1/schools/{journal.slug}/diary/students/{student_id}{tail}"


def lessons_of(week: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {x["id"]: x for day in week["days"] for x in day["lessons"]}


async def test_the_week_shows_what_the_journal_holds_for_this_student(
    db: Database, journal: JournalSchool, people: Clients, sign_in: SignIn
) -> None:
    a, b, left = journal.students
    today, russian, tomorrow = journal.lessons["today"], journal.lessons["russian_today"], journal.lessons["tomorrow"]
    await keep_lessons(db, journal, people, maths=today, russian=russian, cancelled=tomorrow,
                              individual_for=b)

    # The parent's view of their child's week.
    response = await people.parent.get(diary(journal, a, f"/week?week={journal.today.isoformat()}"))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    week = response.json()
    assert date.fromisoformat(week["monday"]).weekday() == 0
    # Monday to Saturday; a Sunday only when a lesson falls on it (the fixture's "today" may be a Sunday).
    assert [d["on_date"] for d in week["days"]][5:] == [
        (date.fromisoformat(week["monday"]) + timedelta(days=n)).isoformat()
        for n in range(5, 7 if journal.today.weekday() == 6 else 6)]
    found = lessons_of(week)
    maths = found[today]
    assert (maths["subject"], maths["teacher"], maths["number"], maths["starts"]) == (
        "Математика", "Иванова Т.", 1, "08:00:00")
    assert (maths["topic"], maths["homework"], maths["individual_homework"]) == (
        "Сложение дробей", "№ 245, 247", None)
    assert [(m["value"], m["work_kind"], Decimal(str(m["weight"])), m["comment"]) for m in maths["marks"]] == [
        ("5", "Контрольная работа", Decimal("2"), "Без ошибок")]
    lesson = found[russian]
    assert lesson["absence"] == {"status": "absent", "reason": "illness", "late_minutes": None,
                                 "label": "отсутствие: болезнь"}
    assert lesson["teacher"] == "Сидорова Т."
    assert [(c["label"], c["reason"], c["detail"]) for c in lesson["changes"]] == [
        ("замена", "Учитель на курсах", "вместо Петров Т.")]
    later = (await people.parent.get(diary(journal, a, f"/week?week={(journal.today + timedelta(days=1))}"))).json()
    cancelled = lessons_of(later).get(tomorrow)
    assert cancelled is not None
    assert cancelled["cancelled"]
    assert [(c["label"], c["reason"]) for c in cancelled["changes"]] == [("урок отменён", "Карантин")]

    # Individual homework is the student's own: b sees it (through staff with people.read), a does not.
    deputy = people.deputy
    other = lessons_of((await deputy.get(diary(journal, b, f"/week?week={journal.today}"))).json())[today]
    assert other["individual_homework"] == "Повторить § 11"
    assert [m["value"] for m in other["marks"]] == ["3"]
    assert maths["individual_homework"] is None

    # A student who left the class 10 days ago: their earlier lesson is there, this week's are not.
    assert lessons_of((await deputy.get(diary(journal, left, f"/week?week={journal.today}"))).json()) == {}
    early_day = journal.today - timedelta(days=20)
    early = lessons_of((await deputy.get(diary(journal, left, f"/week?week={early_day}"))).json())
    assert journal.lessons["early"] in early

    # The student reads their own diary too.
    own = await sign_in({journal.school: ["student"]}, person_ids={journal.school: a})
    assert lessons_of((await own.get(diary(journal, a, f"/week?week={journal.today}"))).json()) == found


async def test_nobody_reads_a_diary_outside_their_scope(
    journal: JournalSchool, people: Clients, sign_in: SignIn
) -> None:
    a, b, _ = journal.students
    refused = await people.parent.get(diary(journal, b, "/week"))
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/out-of-scope"
    refused = await people.student.get(diary(journal, b, "/subjects"))
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/out-of-scope"
    refused = await people.parent.get(diary(journal, b, "/version"))
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/out-of-scope"
    # A teacher without people.read is refused by the route's policy itself.
    refused = await people.teacher.get(diary(journal, a, "/week"))
    assert refused.status_code == 403
    assert refused.json()["type"] != "/problems/out-of-scope"
    # The page of another family's child is refused as well, in Russian.
    page = await people.parent.get(f"/s/{journal.slug}/diary/{b}/", headers={"accept": "text/html"})
    assert page.status_code == 403
    assert "Доступ запрещён" in page.text
    # A parent account without a person record sees nobody.
    stranger = await sign_in({journal.school: ["parent"]})
    refused = await stranger.get(diary(journal, a, "/week"))
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/out-of-scope"
    assert (await people.parent.get(diary(journal, a, "/week"))).status_code == 200


async def test_the_forecast_is_the_journals_own_weighted_average_and_rounding_rule(
    db: Database, journal: JournalSchool, people: Clients
) -> None:
    a = journal.students[0]
    today = journal.lessons["today"]
    kind = await work_kinds(people.teacher, journal)
    async with school_writes(db, journal.school.schema) as s:
        s.add(SchoolSetting(key="journal.rounding_threshold", value="0.6"))
        running = list((await s.execute(select(StudyPeriod).where(
            StudyPeriod.start_date <= journal.today, StudyPeriod.end_date >= journal.today))).scalars())
        period = min(running, key=lambda p: p.end_date - p.start_date)
        maths = await s.scalar(select(Subject.id).where(Subject.name == "Математика"))
        assert maths is not None
        values = await allowed_marks(s, maths, 5)
    for value in ("4", "3"):
        assert (await people.teacher.post(journal.api(f"/lessons/{today}/marks"), json={
            "student_id": a, "value": value, "work_kind_id": kind["Работа на уроке"]})).status_code == 201

    answer = await people.parent.get(diary(journal, a, f"/subjects?period_id={period.id}"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["period"]["id"] == period.id
    assert Decimal(str(body["rounding_threshold"])) == Decimal("0.6")
    row = next(x for x in body["subjects"] if x["subject"] == "Математика")
    expected = weighted_average([(Decimal(4), Decimal("1.00")), (Decimal(3), Decimal("1.00"))])  # weights as stored
    assert Decimal(str(row["average"])) == expected.value == Decimal("3.50")
    assert row["average_explained"] == expected.explain()
    assert row["forecast"] == suggest(expected.value, values, Decimal("0.6")) == "3"
    assert [m["value"] for m in row["marks"]] == ["4", "3"]
    russian = next(x for x in body["subjects"] if x["subject"] == "Русский язык")
    assert russian["marks"] == []
    assert russian["forecast"] is None
    # Without a period the current one is shown; an unknown period is 404.
    default = (await people.parent.get(diary(journal, a, "/subjects"))).json()
    assert default["period"] is not None
    assert (await people.parent.get(diary(journal, a, "/subjects?period_id=999999"))).status_code == 404
    # The page labels the forecast as a forecast.
    page = await people.parent.get(f"/s/{journal.slug}/diary/{a}/subjects?period_id={period.id}",
                                   headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "(прогноз)" in page.text
    assert "3.50" in page.text


async def test_the_fingerprint_changes_with_every_entry_of_the_week(journal: JournalSchool, people: Clients) -> None:
    a = journal.students[0]
    url = diary(journal, a, f"/version?week={journal.today}")
    first = (await people.parent.get(url)).json()["version"]
    assert (await people.parent.get(url)).json()["version"] == first
    answer = await people.teacher.put(journal.api(f"/lessons/{journal.lessons['today']}/cells/{a}"), json={"text": "5"})
    assert answer.status_code == 200, answer.text
    second = (await people.parent.get(url)).json()["version"]
    assert second != first
    week = (await people.parent.get(diary(journal, a, f"/week?week={journal.today}"))).json()
    assert week["version"] == second
    await people.teacher.put(journal.api(f"/lessons/{journal.lessons['today']}/cells/{a}"), json={"text": "4"})
    assert (await people.parent.get(url)).json()["version"] not in (first, second)


async def test_a_parent_sees_children_in_two_schools(
    db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    first, second = await make_school(name="Школа № 1"), await make_school(name="Школа № 2")
    guardians = {}
    kids = {}
    for school, child in ((first, "Аникина"), (second, "Аникин")):
        async with school_writes(db, school.schema) as s:
            pupil = Person(kind="student", last_name=child, first_name="Дарья" if child == "Аникина" else "Иван")
            parent = Person(kind="guardian", last_name="Аникина", first_name="Ольга")
            s.add_all([pupil, parent])
            await s.flush()
            s.add(Guardianship(guardian_id=parent.id, student_id=pupil.id))
            guardians[school], kids[school] = parent.id, pupil.id
    parent = await sign_in({first: ["parent"], second: ["parent"]}, person_ids=guardians)
    answer = await parent.get("/api/v1/diary/children")
    assert answer.status_code == 200, answer.text
    listed = sorted((c["school_slug"], c["school_name"], c["student_id"], c["name"]) for c in answer.json())
    assert listed == sorted([(first.slug, "Школа № 1", kids[first], "Аникина Дарья"),
                             (second.slug, "Школа № 2", kids[second], "Аникин Иван")])
    page = await parent.get("/diary", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 200
    assert "Аникина Дарья" in page.text
    assert "Аникин Иван" in page.text
    # Each child's diary opens in its own school; the other school's id is not this school's child.
    assert (await parent.get(f"/api/v1/schools/{first.slug}/diary/students/{kids[first]}/week")).status_code == 200
    assert (await parent.get(f"/api/v1/schools/{second.slug}/diary/students/{kids[second]}/week")).status_code == 200

    # One child: straight to its diary. A student's own account lists themself.
    single = await sign_in({first: ["parent"]}, person_ids={first: guardians[first]})
    jump = await single.get("/diary", headers={"accept": "text/html"}, follow_redirects=False)
    assert jump.status_code == 303
    assert jump.headers["location"] == f"/s/{first.slug}/diary/{kids[first]}"
    pupil = await sign_in({second: ["student"]}, person_ids={second: kids[second]})
    assert [c["student_id"] for c in (await pupil.get("/api/v1/diary/children")).json()] == [kids[second]]
    nobody = await sign_in({first: ["teacher"]})
    assert (await nobody.get("/api/v1/diary/children")).json() == []


async def test_a_week_is_a_fixed_handful_of_statements_whatever_the_number_of_lessons(
    app: Litestar, db: Database, journal: JournalSchool, people: Clients
) -> None:
    a = journal.students[0]
    engine = app.state.runtime.db.engine.sync_engine
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    async def cost() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            answer = await people.parent.get(diary(journal, a, f"/week?week={journal.today}"))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert answer.status_code == 200
        return len([s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))])

    await cost()  # the school's registry entry is read once, then cached
    before = await cost()
    monday = journal.today - timedelta(days=journal.today.weekday())
    async with school_writes(db, journal.school.schema) as s:
        for day in range(6):
            for number in (4, 5, 6):
                s.add(Lesson(teaching_load_id=journal.russian, on_date=monday + timedelta(days=day),
                             lesson_number=number, teacher_id=journal.other_teacher))
    after = await cost()
    print(f"\nstatements of a week's diary request: {before} with few lessons, {after} with 18 more")
    assert after == before
    # The guard (account, roles), the scope, the student, then lessons, bells, changes, records, individual
    # homework, files, marks, attendance and the fingerprint: one statement each.
    assert before <= 13, statements
