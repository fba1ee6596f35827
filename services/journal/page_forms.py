"""Helpers of the teacher's journal pages (`services.journal.pages`): reading their forms and turning journal
reads into what the templates show. No rules here: every write goes through `services.journal.service`."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.grading.models import WorkKind
from services.grading.service import allowed_marks
from services.journal import queries, service
from services.journal.cells import CODE_OF
from services.journal.models import Attendance
from services.journal.scope import JournalError

ATTENDANCE_CHOICES = [
    ("present", "присутствовал"),
    ("absent:illness", "отсутствовал: болезнь"),
    ("absent:excused", "отсутствовал: уважительная причина"),
    ("absent:unexcused", "отсутствовал: неуважительная"),
    ("late", "опоздал"),
]
STATUSES = {"planned": "по расписанию", "cancelled": "отменён"}
DONE = {
    "content": "Тема и задание сохранены.",
    "attendance": "Посещаемость сохранена.",
    "mark": "Отметка поставлена.",
    "file": "Файл приложен к заданию.",
    "homework": "Индивидуальные задания сохранены.",
}


def parse_day(on: str | None, today: date) -> date:
    if on:
        try:
            return date.fromisoformat(on)
        except ValueError:
            pass
    return today


def parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def field(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value if value is not None else "").strip()


def int_field(data: dict[str, Any], name: str, what: str, *, required: bool = True) -> int | None:
    text = field(data, name)
    if not text:
        if required:
            raise JournalError(f"Укажите {what}.")
        return None
    if not text.isdigit():
        raise JournalError(f"Поле «{what}» заполнено неверно.")
    return int(text)


def _hhmm(t: time | None) -> str:
    return t.strftime("%H:%M") if t else ""


def day_rows(lessons: list[queries.DayLesson]) -> list[dict[str, Any]]:
    rows = []
    for x in lessons:
        record = x.record
        rows.append({
            "id": x.lesson.id, "load_id": x.load.id, "number": x.lesson.lesson_number,
            "times": f"{_hhmm(x.starts)}–{_hhmm(x.ends)}" if x.starts and x.ends else "",
            "subject": x.subject, "audience": x.audience, "room": x.lesson.room or "—",
            "cancelled": x.lesson.status == "cancelled", "role": x.role,
            "changes": [c.reason for c in x.changes],
            "topic": record.topic if record and record.topic else None, "offered_topic": x.offered_topic,
            "topic_done": bool(record and record.topic),
            "attendance_done": bool(record and record.attendance_taken),
            "homework_done": bool(record and (record.homework or record.no_homework)),
        })
    return rows


def attendance_choice(a: Attendance | None) -> str:
    if a is None:
        return "present"
    return f"absent:{a.reason}" if a.status == "absent" else "late"


def presences(view: queries.LessonView, data: dict[str, Any]) -> list[service.Presence]:
    """The whole class's attendance from the form: one select per student («present» when missing)."""
    known = {value for value, _ in ATTENDANCE_CHOICES}
    result = []
    for row in view.students:
        sid = row.student.id
        choice = field(data, f"status_{sid}") or "present"
        if choice not in known:
            raise JournalError(f"Посещаемость ученика {row.name} указана неверно.")
        current = view.attendance.get(sid)
        if choice == "present":
            result.append(service.Presence(sid))
        elif choice == "late":
            minutes = current.late_minutes if current is not None and current.status == "late" else None
            result.append(service.Presence(sid, "late", None, minutes))
        else:
            result.append(service.Presence(sid, "absent", choice.partition(":")[2]))
    return result


async def work_kinds(session: AsyncSession) -> list[WorkKind]:
    return list((await session.execute(select(WorkKind).where(WorkKind.active)
                                       .order_by(WorkKind.weight, WorkKind.id))).scalars())


async def mark_values(session: AsyncSession, view: queries.LessonView) -> list[str]:
    if view.grade is None:
        return []
    return [v.value for v in await allowed_marks(session, view.subject.id, view.grade) if not v.is_special]


def lesson_context(view: queries.LessonView, today: date) -> dict[str, Any]:
    record = view.record
    names = {row.student.id: row.name for row in view.students}
    students = [{
        "id": row.student.id, "name": row.name,
        "attendance": attendance_choice(view.attendance.get(row.student.id)),
        "marks": [m.value for m in view.marks.get(row.student.id, [])],
        "homework": view.individual[row.student.id].text if row.student.id in view.individual else "",
    } for row in view.students]
    offered_id, offered = view.offered_topic if view.offered_topic else (None, None)
    has_topic = bool(record and record.topic)
    return {
        "lesson": view.lesson, "load": view.load, "subject": view.subject.name, "audience": view.audience,
        "status": STATUSES.get(view.lesson.status, view.lesson.status),
        "cancelled": view.lesson.status == "cancelled", "future": view.lesson.on_date > today,
        "topic": record.topic if has_topic and record else (offered or ""),
        "plan_topic_id": (record.plan_topic_id if has_topic and record else offered_id) or "",
        "offered": offered if not has_topic else None,
        "covered": (record.covered or "") if record else "",
        "homework": (record.homework or "") if record else "",
        "no_homework": bool(record and record.no_homework),
        "attendance_taken": bool(record and record.attendance_taken),
        "students": students, "choices": ATTENDANCE_CHOICES,
        "files": [{"id": f.id, "name": f.filename, "size": f.size,
                   "student": names.get(f.student_id, "") if f.student_id else ""} for f in view.files],
    }


def grid_context(g: queries.Grid, today: date) -> dict[str, Any]:
    lessons = [{
        "id": x.id, "date": x.on_date.strftime("%d.%m"), "full_date": x.on_date.strftime("%d.%m.%Y"),
        "number": x.lesson_number, "cancelled": x.status == "cancelled", "future": x.on_date > today,
        "today": x.on_date == today,
        "topic": g.records[x.id].topic if x.id in g.records else None,
        "homework": g.records[x.id].homework if x.id in g.records else None,
        "no_homework": g.records[x.id].no_homework if x.id in g.records else False,
    } for x in g.lessons]
    rows = []
    for row in g.students:
        cells = []
        for lesson in g.lessons:
            cell = g.cells.get((row.student.id, lesson.id))
            text = cell.text() if cell else ""
            enrolled = row.enrolled_on(lesson.on_date)
            cells.append({"lesson": lesson.id, "text": text if enrolled else "", "enrolled": enrolled,
                          "editable": enrolled and lesson.status != "cancelled" and lesson.on_date <= today})
        rows.append({"id": row.student.id, "name": row.name, "cells": cells})
    return {"lessons": lessons, "rows": rows, "codes": sorted(CODE_OF.values())}
