"""The weekly printed report (R-DRY-5): for parents who declined electronic access, a student's week on paper —
per day the lessons with topic, homework (the class's and the student's own), marks with the kind of work,
absences and changes; then per subject the current period's marks, weighted average and forecast; and lines for
the class teacher's and the parent's signatures.

Everything shown is what the diary shows: the week is `diary.service.week`, the subjects `diary.service.subjects`.
The database is read on the event loop (`student_report`, `class_reports`); the PDF is drawn by `render`, which is
synchronous and CPU-bound — callers run it in a worker thread. Russian text needs a Unicode TTF font: DejaVu Sans
from Debian's `fonts-dejavu-core` (infra/local/fonts.sh installs it), embedded (subset) into every document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.diary import service as diary
from services.structure.models import ClassUnit, Enrollment, Person
from services.structure.repository import students_of_class_on

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
FONT = "DejaVu"

TITLE = "Еженедельный отчёт об успеваемости и посещаемости"
TEACHER_SIGNATURE = "Подпись классного руководителя"
PARENT_SIGNATURE = "Подпись родителя (законного представителя)"
LESSON_COLUMNS = ("№", "Предмет, учитель", "Тема урока и домашнее задание", "Отметки", "Посещаемость, изменения")
LESSON_WIDTHS = (7, 36, 73, 32, 32)
SUBJECT_COLUMNS = ("Предмет", "Отметки за период", "Средний балл", "Прогноз", "Выставлено")
SUBJECT_WIDTHS = (40, 62, 22, 20, 36)


class FontMissing(RuntimeError):
    """The TTF font for Cyrillic is not installed; the routes answer 503."""


def fonts_available() -> bool:
    return FONT_REGULAR.is_file() and FONT_BOLD.is_file()


def _dmy(day: date) -> str:
    return day.strftime("%d.%m.%Y")


@dataclass(frozen=True, slots=True)
class StudentReport:
    school_name: str
    student_name: str
    class_name: str | None
    class_teacher: str | None
    week: diary.DiaryWeek
    subjects: diary.SubjectsView
    printed_on: date


def reference_day(monday: date, today: date) -> date:
    """The day the report is about: today within the week, else the week's Saturday (past) or Monday (future).
    The class, its students and the current period are taken on this day."""
    return min(max(today, monday), monday + timedelta(days=5))


async def class_of_week(session: AsyncSession, student_id: int, monday: date,
                        on: date) -> tuple[ClassUnit, Person | None] | None:
    """The class the student was in during the week (the one on `on` first, else the latest stay overlapping the
    week) and its class teacher."""
    sunday = diary.week_end(monday)
    row = (await session.execute(
        select(ClassUnit, Enrollment.start_date, Enrollment.end_date)
        .join(Enrollment, Enrollment.class_unit_id == ClassUnit.id)
        .where(Enrollment.student_id == student_id, Enrollment.start_date <= sunday,
               or_(Enrollment.end_date.is_(None), Enrollment.end_date >= monday))
        .order_by((Enrollment.start_date <= on).desc(), Enrollment.start_date.desc()).limit(1))).first()
    if row is None:
        return None
    unit = row[0]
    head = await session.get(Person, unit.class_teacher_id) if unit.class_teacher_id else None
    return unit, head


async def is_class_teacher_of_student(session: AsyncSession, person_id: int, student_id: int, monday: date) -> bool:
    """Whether `person_id` is the class teacher of a class the student belonged to on some day of the week."""
    sunday = diary.week_end(monday)
    found = await session.scalar(
        select(Enrollment.id).join(ClassUnit, ClassUnit.id == Enrollment.class_unit_id)
        .where(Enrollment.student_id == student_id, ClassUnit.class_teacher_id == person_id,
               Enrollment.start_date <= sunday,
               or_(Enrollment.end_date.is_(None), Enrollment.end_date >= monday)).limit(1))
    return found is not None


async def student_report(session: AsyncSession, school_name: str, person: Person, monday: date,
                         today: date, *, unit: tuple[ClassUnit, Person | None] | None = None) -> StudentReport:
    """One student's week and period, read through the diary's own assembly."""
    on = reference_day(monday, today)
    if unit is None:
        unit = await class_of_week(session, person.id, monday, on)
    week = await diary.week(session, person.id, monday, person)
    subjects = await diary.subjects(session, person.id, on, None, person)
    return StudentReport(school_name, person.full_name, unit[0].name if unit else None,
                         unit[1].full_name if unit and unit[1] else None, week, subjects, today)


async def class_reports(session: AsyncSession, school_name: str, unit: ClassUnit, monday: date,
                        today: date) -> list[StudentReport]:
    """Every student of the class on the report's day, by name: one report each."""
    head = await session.get(Person, unit.class_teacher_id) if unit.class_teacher_id else None
    students = await students_of_class_on(session, unit.id, reference_day(monday, today))
    return [await student_report(session, school_name, p, monday, today, unit=(unit, head)) for p in students]


# --- drawing -------------------------------------------------------------------------------------------------


def _lesson_cells(lesson: diary.DiaryLesson) -> tuple[str, str, str, str, str]:
    when = ""
    if lesson.starts and lesson.ends:
        when = f", {lesson.starts.strftime('%H:%M')}–{lesson.ends.strftime('%H:%M')}"
    room = f", каб. {lesson.room}" if lesson.room else ""
    subject = f"{lesson.subject}\n{lesson.teacher}{when}{room}"
    work: list[str] = []
    if lesson.topic:
        work.append(f"Тема: {lesson.topic}")
    if lesson.no_homework:
        work.append("Домашнее задание: без задания")
    elif lesson.homework:
        work.append(f"Домашнее задание: {lesson.homework}")
    if lesson.individual_homework:
        work.append(f"Индивидуальное задание: {lesson.individual_homework}")
    if lesson.files:
        work.append("Файлы к заданию: " + ", ".join(f.filename for f in lesson.files))
    marks = []
    for m in lesson.marks:
        text = f"{m.value} — {m.work_kind}, вес {m.weight.normalize()}"
        marks.append(f"{text} ({m.comment})" if m.comment else text)
    notes: list[str] = []
    if lesson.absence:
        notes.append(lesson.absence.label)
    for change in lesson.changes:
        text = change.label
        details = ", ".join(x for x in (change.reason, change.detail) if x)
        notes.append(f"{text}: {details}" if details else text)
    if lesson.cancelled and not any(c.kind == "cancellation" for c in lesson.changes):
        notes.append(diary.CHANGE_LABELS["cancellation"])
    return str(lesson.number), subject, "\n".join(work) or "—", "\n".join(marks) or "—", "\n".join(notes) or "—"


def _subject_cells(row: diary.SubjectView) -> tuple[str, str, str, str, str]:
    marks = " ".join(m.value for m in row.marks) or "—"
    average = f"{row.average.value:.2f}" if row.average.value is not None else "—"
    finals = "\n".join(f"{f.label}: {f.value}" for f in row.finals) or "—"
    return row.subject, marks, average, row.forecast or "—", finals


def _new_document() -> Any:
    from fpdf import FPDF  # drawing only: kept off the application's import path

    class Document(FPDF):
        footer_text = ""

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FONT, "", 7)
            self.set_text_color(110)
            self.cell(0, 5, f"{self.footer_text} · стр. {self.page_no()}", align="C")
            self.set_text_color(0)

    if not fonts_available():
        raise FontMissing(f"Шрифт {FONT_REGULAR} не установлен (пакет fonts-dejavu-core).")
    pdf = Document(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_font(FONT, "", str(FONT_REGULAR))
    pdf.add_font(FONT, "B", str(FONT_BOLD))
    pdf.set_title(TITLE)
    pdf.set_creator("Электронный журнал")
    return pdf


def _heading(pdf: Any, text: str, size: float = 11, space: float = 14) -> None:
    """A heading kept with what follows: it moves to the next page when fewer than `space` mm are left."""
    if pdf.will_page_break(space):
        pdf.add_page()
    pdf.set_font(FONT, "B", size)
    pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(0.5)


def _table(pdf: Any, columns: tuple[str, ...], widths: tuple[int, ...], rows: list[tuple[str, ...]]) -> None:
    from fpdf.fonts import FontFace

    pdf.set_font(FONT, "", 8)
    with pdf.table(col_widths=widths, width=sum(widths), text_align="LEFT", line_height=3.7,
                   padding=(0.8, 1.2),
                   headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
                   first_row_as_headings=True, repeat_headings=1) as table:
        head = table.row()
        for text in columns:
            head.cell(text)
        for values in rows:
            row = table.row()
            for text in values:
                row.cell(text)
    pdf.ln(2)


def _line(pdf: Any, text: str, size: float = 9, style: str = "", height: float = 4.6) -> None:
    pdf.set_font(FONT, style, size)
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")


def _draw_student(pdf: Any, report: StudentReport) -> None:
    week = report.week
    pdf.add_page()
    pdf.footer_text = f"{report.student_name}, {_dmy(week.monday)}–{_dmy(week.last_day)}"
    _line(pdf, report.school_name, 12, "B", 6)
    _line(pdf, TITLE, 10, "", 5.5)
    pdf.ln(1)
    _line(pdf, f"Ученик: {report.student_name}", 9.5)
    _line(pdf, f"Класс: {report.class_name or '—'}"
               + (f", классный руководитель: {report.class_teacher}" if report.class_teacher else ""), 9.5)
    _line(pdf, f"Неделя: {_dmy(week.monday)} – {_dmy(week.last_day)}", 9.5)
    pdf.ln(2)

    for day in week.days:
        title = f"{day.weekday}, {_dmy(day.on_date)}"
        if not day.lessons:
            if pdf.will_page_break(6):
                pdf.add_page()
            pdf.set_font(FONT, "B", 9.5)
            pdf.write(5, title)
            pdf.set_font(FONT, "", 9)
            pdf.write(5, " — уроков нет.")
            pdf.ln(6)
            continue
        _heading(pdf, title, 9.5, 20)
        _table(pdf, LESSON_COLUMNS, LESSON_WIDTHS, [_lesson_cells(x) for x in day.lessons])

    view = report.subjects
    pdf.ln(1)
    if view.period is None:
        _heading(pdf, "Успеваемость за период", 10, 16)
        _line(pdf, "Учебные периоды для класса этого ученика не заданы.")
    else:
        period = view.period
        _heading(pdf, f"Успеваемость: {diary.period_name(period)} ({_dmy(period.start_date)} – "
                      f"{_dmy(period.end_date)})", 10, 22)
        _line(pdf, "Средний балл — взвешенный: каждая отметка умножается на вес вида работы. Прогноз — отметка, к "
                   "которой округляется средний балл по правилу школы; это не выставленная отметка.", 7.5, "", 3.6)
        pdf.ln(1)
        if view.subjects:
            _table(pdf, SUBJECT_COLUMNS, SUBJECT_WIDTHS, [_subject_cells(s) for s in view.subjects])
        else:
            _line(pdf, "В этом периоде нет предметов и отметок.")

    if pdf.will_page_break(26):
        pdf.add_page()
    pdf.ln(3)
    teacher = f" ({report.class_teacher})" if report.class_teacher else ""
    _line(pdf, f"{TEACHER_SIGNATURE}{teacher}: ______________________", 9.5, "", 6)
    pdf.ln(3)
    _line(pdf, f"{PARENT_SIGNATURE}: ______________________   Дата: ____________", 9.5, "", 6)
    pdf.ln(1)
    _line(pdf, f"Отчёт сформирован {_dmy(report.printed_on)} по данным электронного журнала.", 7, "", 3.6)


def render(reports: list[StudentReport]) -> bytes:
    """One PDF: each student's report from a new page. Synchronous; run it in a worker thread."""
    pdf = _new_document()
    if not reports:
        pdf.add_page()
        _line(pdf, "В классе нет учеников на эту неделю.", 11, "", 6)
    for report in reports:
        _draw_student(pdf, report)
    return bytes(pdf.output())

