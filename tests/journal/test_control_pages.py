"""The deputy head's journal control pages over HTTP (R-JRN-4, R-JRN-5, R-REP-2): the timeliness report, a
substitution grant given through the page, the period marks sheet with its weighted average, refused forms."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from services.calendar.models import StudyPeriod
from services.db import Database
from services.grading.models import WorkKind
from services.journal.models import FinalMark, JournalGrant, Lateness, Mark
from tests.conftest import school_writes
from tests.journal.conftest import Clients, JournalSchool


def control(journal: JournalSchool, path: str = "") -> str:
    return f"/s/{journal.slug}/journal-control{path}"


async def test_the_deputy_head_sees_the_timeliness_report_by_teacher(db: Database, journal: JournalSchool,
                                                                     people: Clients) -> None:
    due = datetime.now(UTC) - timedelta(hours=2)
    async with school_writes(db, journal.school.schema) as s:
        s.add_all([Lateness(lesson_id=journal.lessons["yesterday"], kind="topic_missing", teacher_id=journal.teacher,
                            due_at=due, done_at=None),
                   Lateness(lesson_id=journal.lessons["early"], kind="attendance_missing",
                            teacher_id=journal.teacher, due_at=due, done_at=due + timedelta(hours=1))])

    page = await people.deputy.get(control(journal))
    assert page.status_code == 200, page.text
    assert f'href="/s/{journal.slug}/journal/loads/{journal.maths}"' in page.text  # the journals, to the grid
    assert f"/journal-control/loads/{journal.russian}/finals" in page.text
    assert "Иванова Т" in page.text
    assert "нет темы к концу дня: 1" in page.text
    assert "не заполнено" in page.text
    assert "нет посещаемости к концу дня" not in page.text  # 20 days ago: outside the default 14 days

    wide = await people.deputy.get(control(journal), params={
        "start": (journal.today - timedelta(days=30)).isoformat(), "end": journal.today.isoformat()})
    assert "нет посещаемости к концу дня: 1" in wide.text
    assert "заполнено " in wide.text.replace("не заполнено", "")
    assert (await people.teacher.get(control(journal))).status_code == 403


async def test_a_grant_made_on_the_page_lets_the_substitute_write_the_lesson(journal: JournalSchool,
                                                                            people: Clients) -> None:
    lesson, student = journal.lessons["today"], journal.students[0]
    cell = journal.api(f"/lessons/{lesson}/cells/{student}")
    before = await people.other_teacher.put(cell, json={"text": "5"})
    assert before.status_code == 403, before.text

    page = await people.deputy.get(control(journal, "/grants"))
    assert page.status_code == 200
    assert "Математика, 5А — Иванова Т." in page.text
    refused = await people.deputy.post(control(journal, "/grants"), data={
        "on": journal.today.isoformat(), "lesson_id": str(lesson), "teacher_id": str(journal.teacher),
        "reason": "Болезнь"})
    assert refused.status_code == 422
    assert "Это учитель самого журнала: доступ на замену ему не нужен." in refused.text
    missing = await people.deputy.post(control(journal, "/grants"), data={
        "on": journal.today.isoformat(), "lesson_id": str(lesson), "teacher_id": str(journal.other_teacher),
        "reason": " "})
    assert missing.status_code == 422
    assert "Укажите причину." in missing.text
    assert (await people.other_teacher.put(cell, json={"text": "5"})).status_code == 403

    made = await people.deputy.post(control(journal, "/grants"), data={
        "on": journal.today.isoformat(), "lesson_id": str(lesson), "teacher_id": str(journal.other_teacher),
        "reason": "Больничный учителя"}, follow_redirects=False)
    assert made.status_code == 303, made.text
    after = await people.other_teacher.put(cell, json={"text": "5"})
    assert after.status_code == 200, after.text
    listed = await people.deputy.get(made.headers["location"])
    assert "Доступ на замену выдан." in listed.text
    assert "Больничный учителя" in listed.text
    assert "Петров Т." in listed.text
    # The route's permission: a teacher gives no grants.
    assert (await people.teacher.get(control(journal, "/grants"))).status_code == 403


async def test_the_finals_sheet_shows_the_weighted_average_and_saves_period_marks(
        db: Database, journal: JournalSchool, people: Clients) -> None:
    student = journal.students[0]
    today = journal.today
    async with school_writes(db, journal.school.schema) as s:
        kinds = {k.name: k.id for k in (await s.execute(select(WorkKind))).scalars()}
        s.add_all([Mark(lesson_id=journal.lessons["today"], student_id=student, value="5",
                        work_kind_id=kinds["Контрольная работа"]),  # weight 2
                   Mark(lesson_id=journal.lessons["today"], student_id=student, value="3",
                        work_kind_id=kinds["Устный ответ"])])  # weight 1
        period = await s.scalar(select(StudyPeriod).where(
            StudyPeriod.start_date <= today, StudyPeriod.end_date >= today, StudyPeriod.kind != "year",
            StudyPeriod.grade_from <= 5, StudyPeriod.grade_to >= 5))
        assert period is not None
        period.end_date = min(period.end_date, today + timedelta(days=3))  # today is inside the marks' window
        period_id = period.id
    url = control(journal, f"/loads/{journal.maths}/finals")

    page = await people.teacher.get(url, params={"period_id": period_id})
    assert page.status_code == 200, page.text
    row = re.search(rf'<tr id="student-{student}">(.*?)</tr>', page.text, re.S)
    assert row is not None
    assert "<strong>4.33</strong>" in row.group(1)  # (5·2 + 3·1) / 3
    assert "= 4.33 по 2 отм. (сумма весов 3.00)" in row.group(1)
    assert "<td>4</td>" in row.group(1)  # the suggested mark
    assert "<h1>Отметки за период: Математика, 5А: " in page.text
    assert "Отметки за период ставятся с" in page.text
    assert ">н/а</option>" in page.text
    deputy = await people.deputy.get(url)  # the period of today by default
    assert deputy.status_code == 200
    assert "<strong>4.33</strong>" in deputy.text
    assert (await people.other_teacher.get(url)).status_code == 403

    saved = await people.teacher.post(url, data={"form": "period", "period_id": str(period_id),
                                                 f"value_{student}": "4"}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    again = await people.teacher.get(saved.headers["location"])
    assert "Отметки сохранены." in again.text
    assert '<option value="4" selected>4</option>' in again.text

    # A final mark is out of its window now (the last quarter ends in May): refused in the form, nothing saved.
    refused = await people.teacher.post(url, data={"form": "year", "period_id": str(period_id),
                                                   "student_id": str(student), "kind": "final", "value": "5"})
    assert refused.status_code == 422
    assert "Отметки (итоговая) ставятся с" in refused.text
    assert 'role="alert"' in refused.text
    # The deputy head holds no journal.write: entering marks is the teacher's.
    assert (await people.deputy.post(url, data={"form": "period", "period_id": str(period_id)})).status_code == 403
    async with school_writes(db, journal.school.schema) as s:
        assert await s.scalar(select(func.count()).select_from(FinalMark)) == 1
        assert await s.scalar(select(func.count()).select_from(JournalGrant)) == 0


async def test_a_correction_permit_for_a_closed_period_is_given_on_the_page(db: Database, journal: JournalSchool,
                                                                           people: Clients) -> None:
    async with school_writes(db, journal.school.schema) as s:
        first = await s.scalar(select(StudyPeriod).where(StudyPeriod.kind != "year", StudyPeriod.grade_from <= 5,
                                                         StudyPeriod.grade_to >= 5)
                               .order_by(StudyPeriod.start_date).limit(1))
        assert first is not None
        first.closed_at = datetime.now(UTC)
        period_id, name = first.id, first.name
    page = await people.deputy.get(control(journal, "/grants"))
    assert f'<option value="{period_id}">{name}' in page.text
    form = {"teaching_load_id": str(journal.maths), "study_period_id": str(period_id),
            "teacher_id": str(journal.teacher), "reason": "Пересдача контрольной"}

    too_long = await people.deputy.post(control(journal, "/permits"), data={
        **form, "valid_until": (journal.today + timedelta(days=40)).isoformat()})
    assert too_long.status_code == 422
    assert "Разрешение действует от сегодняшнего дня до" in too_long.text
    no_date = await people.deputy.post(control(journal, "/permits"), data={**form, "valid_until": ""})
    assert no_date.status_code == 422
    assert "Укажите срок действия (дата)." in no_date.text

    given = await people.deputy.post(control(journal, "/permits"), data={
        **form, "valid_until": (journal.today + timedelta(days=5)).isoformat()}, follow_redirects=False)
    assert given.status_code == 303, given.text
    listed = await people.deputy.get(given.headers["location"])
    assert "Разрешение на исправление выдано." in listed.text
    assert "Пересдача контрольной" in listed.text
    assert (journal.today + timedelta(days=5)).strftime("%d.%m.%Y") in listed.text
    assert (await people.teacher.post(control(journal, "/permits"), data=form)).status_code == 403
