"""The weekly printed report (R-DRY-5) over HTTP: a student's week as PDF with everything the diary shows, read
back with pypdf; the class batch with one student per page; and who may print what."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import httpx
from pypdf import PdfReader
from sqlalchemy import select

from services.db import Database
from services.diary import service as diary
from services.reports import weekly
from services.structure.models import ClassUnit, Enrollment, Person
from services.timetable.models import Lesson
from tests.conftest import SignIn, school_writes
from tests.journal.conftest import Clients, JournalSchool, keep_lessons


def pages_of(response: httpx.Response) -> list[str]:
    """Each page's text, whitespace collapsed (table cells wrap words onto new lines)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(response.content)).pages]


def report_day(journal: JournalSchool) -> date:
    """A day of a diary week (Monday–Saturday) not after today: today, or Saturday when today is Sunday."""
    return journal.today if journal.today.weekday() != 6 else journal.today - timedelta(days=1)


@dataclass
class Week:
    day: date
    maths: int
    russian: int
    cancelled: int
    class_id: int
    class_teacher: httpx.AsyncClient


async def fill_week(db: Database, journal: JournalSchool, people: Clients, sign_in: SignIn) -> Week:
    """Иванова is the class teacher of 5А; on one day of this week Алексеев gets a 5 for a test in maths with the
    class's and his own homework, is ill at Russian (taught by a substitute), and a third lesson is cancelled."""
    a = journal.students[0]
    day = report_day(journal)
    async with school_writes(db, journal.school.schema) as s:
        class_id = await s.scalar(select(Enrollment.class_unit_id).where(Enrollment.student_id == a))
        unit = await s.get(ClassUnit, class_id)
        assert unit is not None
        unit.class_teacher_id = journal.teacher
        made = [Lesson(teaching_load_id=journal.maths, on_date=day, lesson_number=4, teacher_id=journal.teacher),
                Lesson(teaching_load_id=journal.russian, on_date=day, lesson_number=5,
                       teacher_id=journal.other_teacher),
                Lesson(teaching_load_id=journal.maths, on_date=day, lesson_number=6, teacher_id=journal.teacher)]
        s.add_all(made)
        await s.flush()
        maths, russian, cancelled = (x.id for x in made)
    await keep_lessons(db, journal, people, maths=maths, russian=russian, cancelled=cancelled, individual_for=a)
    class_teacher = await sign_in({journal.school: ["teacher", "class_teacher"]},
                                  person_ids={journal.school: journal.teacher})
    return Week(day, maths, russian, cancelled, class_id, class_teacher)


def student_pdf(journal: JournalSchool, student_id: int, day: date) -> str:
    return f"/s/{journal.slug}/reports/weekly/students/{student_id}.pdf?week={day.isoformat()}"


def class_pdf(journal: JournalSchool, class_id: int, day: date) -> str:
    return f"/s/{journal.slug}/reports/weekly/classes/{class_id}.pdf?week={day.isoformat()}"


async def test_a_students_week_prints_with_everything_the_diary_shows(
    db: Database, journal: JournalSchool, people: Clients, sign_in: SignIn
) -> None:
    week = await fill_week(db, journal, people, sign_in)
    a = journal.students[0]
    response = await week.class_teacher.get(student_pdf(journal, a, week.day))
    text = " ".join(pages_of(response))
    assert response.headers["content-disposition"] == (
        f'attachment; filename="weekly-{a}-{diary.week_start(week.day).isoformat()}.pdf"')
    assert response.headers["cache-control"] == "no-store"
    monday = diary.week_start(week.day)
    # The fixture's own lessons fall on its "today", which may be a Sunday: then the week runs to Sunday.
    last = monday + timedelta(days=6 if journal.today == monday + timedelta(days=6) else 5)
    for expected in (
        "Тестовая школа", "Еженедельный отчёт об успеваемости и посещаемости",
        "Ученик: Алексеев У", "Класс: 5А, классный руководитель: Иванова Т",
        f"Неделя: {monday.strftime('%d.%m.%Y')} – {last.strftime('%d.%m.%Y')}",
        f"{diary.WEEKDAYS[week.day.weekday()]}, {week.day.strftime('%d.%m.%Y')}",
        "Математика", "Русский язык", "Тема: Сложение дробей", "Домашнее задание: № 245, 247",
        "Индивидуальное задание: Повторить § 11", "5 — Контрольная работа, вес 2 (Без ошибок)",
        "отсутствие: болезнь", "замена: Учитель на курсах, вместо Петров Т.", "урок отменён: Карантин",
        "Подпись классного руководителя", "Подпись родителя",
    ):
        assert expected in text, f"{expected!r} not in {text!r}"
    # Another student's mark and individual homework are not in this report.
    assert "Устный ответ" not in text

    # The subjects of the current period: the diary's own average and forecast.
    async with school_writes(db, journal.school.schema) as s:
        view = await diary.subjects(s, a, weekly.reference_day(monday, journal.today))
    assert view.period is not None
    assert f"Успеваемость: {diary.period_name(view.period)}" in text
    for row in view.subjects:
        assert row.subject in text
        if row.average.value is not None:
            assert f"{row.subject} {' '.join(m.value for m in row.marks)} {row.average.value:.2f} {row.forecast}" \
                in text

    # The student and their parent print it too; the deputy head (people.read) as well.
    own = await sign_in({journal.school: ["student"]}, person_ids={journal.school: a})
    for client in (own, people.parent, people.deputy):
        assert "Ученик: Алексеев У" in " ".join(pages_of(await client.get(student_pdf(journal, a, week.day))))


async def test_the_class_batch_has_each_current_student_on_a_page_of_their_own(
    db: Database, journal: JournalSchool, people: Clients, sign_in: SignIn
) -> None:
    week = await fill_week(db, journal, people, sign_in)
    response = await week.class_teacher.get(class_pdf(journal, week.class_id, week.day))
    pages = pages_of(response)
    assert response.headers["content-disposition"] == (
        f'attachment; filename="weekly-class-{week.class_id}-{diary.week_start(week.day).isoformat()}.pdf"')
    # 5А on the report's day: Алексеев and Борисова (who arrived 10 days ago); Васин left 10 days ago.
    assert len(pages) == 2
    assert "Ученик: Алексеев У" in pages[0]
    assert "Ученик: Борисова У" in pages[1]
    assert "Алексеев" not in pages[1]
    assert "Васин" not in " ".join(pages)
    for page in pages:
        assert "Подпись классного руководителя" in page
        assert "Подпись родителя" in page
    assert "Индивидуальное задание: Повторить § 11" in pages[0]
    assert "3 — Устный ответ, вес" in pages[1]
    assert "Повторить § 11" not in pages[1]
    # The administration (journal.read_all) prints any class.
    assert len(pages_of(await people.deputy.get(class_pdf(journal, week.class_id, week.day)))) == 2


async def test_nobody_prints_outside_their_scope(
    db: Database, journal: JournalSchool, people: Clients, sign_in: SignIn
) -> None:
    week = await fill_week(db, journal, people, sign_in)
    a, b, _ = journal.students
    # A parent of another child.
    refused = await people.parent.get(student_pdf(journal, b, week.day))
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/out-of-scope"
    # The student themself only.
    refused = await people.student.get(student_pdf(journal, b, week.day))
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/out-of-scope"
    # A class teacher of another class (or none) may not print 5А's batch.
    other_head = await sign_in({journal.school: ["teacher", "class_teacher"]},
                               person_ids={journal.school: journal.other_teacher})
    refused = await other_head.get(class_pdf(journal, week.class_id, week.day))
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/out-of-scope"
    # A subject teacher: neither the batch nor a student's report (no people.read, not their class).
    for url in (class_pdf(journal, week.class_id, week.day), student_pdf(journal, a, week.day)):
        refused = await people.other_teacher.get(url)
        assert refused.status_code == 403
    # Families never print a class.
    assert (await people.parent.get(class_pdf(journal, week.class_id, week.day))).status_code == 403
    # Not a report address, not a class.
    assert (await week.class_teacher.get(f"/s/{journal.slug}/reports/weekly/students/{a}.txt")).status_code == 404
    assert (await people.deputy.get(class_pdf(journal, 999999, week.day))).status_code == 404


async def test_a_class_teacher_without_people_read_prints_only_their_classs_students(
    db: Database, journal: JournalSchool, people: Clients, sign_in: SignIn
) -> None:
    """A school may take `people.read` from class teachers: the class teacher of the student's class still prints
    the report, a class teacher of another class does not."""
    from services.identity.models import RolePermission

    week = await fill_week(db, journal, people, sign_in)
    async with school_writes(db, journal.school.schema) as s:
        grant = await s.scalar(select(RolePermission).where(
            RolePermission.role == "class_teacher", RolePermission.permission == "people.read"))
        assert grant is not None
        await s.delete(grant)
    a = journal.students[0]
    assert "Ученик: Алексеев У" in " ".join(pages_of(await week.class_teacher.get(student_pdf(journal, a, week.day))))
    other_head = await sign_in({journal.school: ["teacher", "class_teacher"]},
                               person_ids={journal.school: journal.other_teacher})
    refused = await other_head.get(student_pdf(journal, a, week.day))
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/out-of-scope"


async def test_the_page_lists_the_classes_the_person_may_print(
    db: Database, journal: JournalSchool, people: Clients, sign_in: SignIn
) -> None:
    week = await fill_week(db, journal, people, sign_in)
    base = f"/s/{journal.slug}/reports/weekly"
    page = await week.class_teacher.get(f"{base}?week={week.day.isoformat()}", headers={"accept": "text/html"})
    assert page.status_code == 200, page.text
    monday = diary.week_start(week.day).isoformat()
    assert f'href="{base}/classes/{week.class_id}.pdf?week={monday}"' in page.text
    assert f'href="{base}/students/{journal.students[0]}.pdf?week={monday}"' in page.text
    assert "1А" not in page.text
    everything = await people.deputy.get(base, headers={"accept": "text/html"})
    assert everything.status_code == 200
    assert "5А" in everything.text
    assert "1А" in everything.text
    assert (await people.parent.get(base, headers={"accept": "text/html"})).status_code == 403


def test_a_long_week_breaks_across_pages_with_the_signatures_at_the_end() -> None:
    """Drawn without a database: six days of seven lessons with long homework run over several A4 pages."""
    person = Person(id=1, kind="student", last_name="Яковлева", first_name="Ёлка", middle_name="Щ")
    monday = date(2026, 11, 16)
    days = [diary.DiaryDay(monday + timedelta(days=n), [
        diary.DiaryLesson(n * 10 + k, monday + timedelta(days=n), k, None, None, f"Предмет {k}", "Учитель У.",
                          "12", False, topic="Длинная тема урока " * 4, homework="Прочитать и пересказать " * 8,
                          marks=[diary.MarkView(k, "4", "Самостоятельная работа", Decimal("1.5"), None)],
                          absence=diary.AbsenceView("late", None, 5))
        for k in range(1, 8)]) for n in range(6)]
    report = weekly.StudentReport("Школа № 1", "Яковлева Ёлка Щ", "7Б", None, diary.DiaryWeek(person, monday, days),
                                  diary.SubjectsView(person, None, [], Decimal("0.5"), [], False), monday)
    reader = PdfReader(io.BytesIO(weekly.render([report])))
    assert len(reader.pages) > 2
    texts = [" ".join((p.extract_text() or "").split()) for p in reader.pages]
    assert "Ученик: Яковлева Ёлка Щ" in texts[0]
    assert "Подпись родителя" in texts[-1]
    assert "Суббота, 21.11.2026" in " ".join(texts)
    assert "опоздание на 5 мин" in " ".join(texts)
    assert (round(float(reader.pages[0].mediabox.width)), round(float(reader.pages[0].mediabox.height))) == (595, 842)
