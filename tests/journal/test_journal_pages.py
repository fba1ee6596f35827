"""The teacher's journal pages over HTTP: a refused form comes back with the Russian message (422) and nothing
saved; a saved one redirects back to the lesson; someone else's journal is out of scope."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from services.db import Database
from services.journal.models import Attendance, IndividualHomework, LessonRecord, Mark
from tests.journal.conftest import Clients, JournalSchool

HTML = {"accept": "text/html"}


def page(journal: JournalSchool, path: str = "") -> str:
    return f"/s/{journal.slug}/journal{path}"


async def test_my_day_lists_the_teachers_lessons_with_links(journal: JournalSchool, people: Clients) -> None:
    response = await people.teacher.get(page(journal), headers=HTML)
    assert response.status_code == 200
    assert "Математика" in response.text
    assert f"/journal/lessons/{journal.lessons['today']}" in response.text
    assert f"/journal/loads/{journal.maths}" in response.text
    assert f"lesson-{journal.lessons['russian_today']}" not in response.text
    tomorrow = journal.today + timedelta(days=1)
    response = await people.teacher.get(page(journal), params={"on": tomorrow.isoformat()}, headers=HTML)
    assert f"lesson-{journal.lessons['tomorrow']}" in response.text


async def test_a_refused_form_shows_the_rule_in_russian_and_saves_nothing(
    db: Database, journal: JournalSchool, people: Clients
) -> None:
    lesson = journal.lessons["today"]
    response = await people.teacher.post(page(journal, f"/lessons/{lesson}/content"), headers=HTML, data={
        "topic": "Дроби", "homework": "№ 1", "no_homework": "on"})
    assert response.status_code == 422
    assert "Либо задание, либо «Без задания»" in response.text
    assert 'value="Дроби"' in response.text  # what was typed stays in the form

    response = await people.teacher.post(page(journal, f"/lessons/{lesson}/marks"), headers=HTML, data={
        "student_id": str(journal.students[0]), "value": "7"})
    assert response.status_code == 422
    assert "«7» — не отметка" in response.text

    response = await people.teacher.post(page(journal, f"/lessons/{journal.lessons['tomorrow']}/attendance"),
                                         headers=HTML, data={f"status_{journal.students[0]}": "absent:illness"})
    assert response.status_code == 422
    assert "ещё не прошёл" in response.text

    response = await people.teacher.post(page(journal, f"/lessons/{lesson}/homework"), headers=HTML, data={
        f"homework_{journal.students[0]}": "x" * 5001})
    assert response.status_code == 422
    async with db.transaction(journal.school.schema) as session:
        for model in (LessonRecord, Mark, Attendance, IndividualHomework):
            assert await session.scalar(select(func.count()).select_from(model)) == 0, model


async def test_saved_forms_redirect_back_to_the_lesson(db: Database, journal: JournalSchool,
                                                       people: Clients) -> None:
    lesson = journal.lessons["today"]
    back = page(journal, f"/lessons/{lesson}")
    response = await people.teacher.post(page(journal, f"/lessons/{lesson}/marks"), headers=HTML, data={
        "student_id": str(journal.students[1]), "value": "5", "comment": "у доски"})
    assert response.status_code == 303
    assert response.headers["location"] == f"{back}?done=mark"
    response = await people.teacher.post(page(journal, f"/lessons/{lesson}/attendance"), headers=HTML, data={
        f"status_{journal.students[0]}": "late", f"status_{journal.students[1]}": "present"})
    assert response.status_code == 303
    response = await people.teacher.post(page(journal, f"/lessons/{lesson}/homework"), headers=HTML, data={
        f"homework_{journal.students[0]}": "Повторить таблицу умножения"})
    assert response.status_code == 303
    shown = await people.teacher.get(response.headers["location"], headers=HTML)
    assert "Индивидуальные задания сохранены." in shown.text
    assert "Повторить таблицу умножения" in shown.text
    async with db.transaction(journal.school.schema) as session:
        mark = (await session.execute(select(Mark))).scalar_one()
        assert (mark.value, mark.comment, mark.author_id) == ("5", "у доски", journal.teacher)
        late = (await session.execute(select(Attendance))).scalar_one()
        assert (late.student_id, late.status) == (journal.students[0], "late")
        record = await session.get(LessonRecord, lesson)
        assert record is not None
        assert record.attendance_taken


async def test_the_grid_is_the_teachers_own(journal: JournalSchool, people: Clients) -> None:
    response = await people.teacher.get(page(journal, f"/loads/{journal.maths}"), headers=HTML)
    assert response.status_code == 200
    assert f'data-lesson="{journal.lessons["today"]}"' in response.text
    assert "Вид работы для новых отметок" in response.text
    response = await people.other_teacher.get(page(journal, f"/loads/{journal.maths}"))
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/out-of-scope"
    response = await people.other_teacher.get(page(journal, f"/lessons/{journal.lessons['today']}"))
    assert response.status_code == 403
