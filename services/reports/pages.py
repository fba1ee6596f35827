"""`/s/{school}/reports/weekly`: the classes the person may print the weekly report for (R-DRY-5) — their own class
for a class teacher, every class for the administration — with a week picker, a link to each class's batch and to
each student's report."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.diary.controllers import NO_STORE, week_of
from services.identity.policy import Principal, provide_principal
from services.reports import weekly
from services.reports.controllers import CLASS
from services.structure.models import ClassUnit, Enrollment, Person
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

PAGE = """{% extends "base.html" %}
{% block title %}Еженедельные отчёты — {{ school.name }}{% endblock %}
{% block header %} · <a href="/s/{{ school.slug }}/">{{ school.name }}</a>{% endblock %}
{% block content %}
<div class="card">
  <h1>Еженедельные отчёты для родителей</h1>
  <p class="muted">Печатный отчёт для семей, которые отказались от электронного дневника: уроки недели, темы,
    домашние задания, отметки, пропуски и изменения, успеваемость за период и строки для подписей.</p>
  <form method="get" action="{{ base }}">
    <label>Неделя (любой её день)
      <input type="date" name="week" value="{{ monday.isoformat() }}" required></label>
    <button type="submit">Показать</button>
  </form>
  <p>Неделя: {{ monday.strftime("%d.%m.%Y") }} – {{ saturday.strftime("%d.%m.%Y") }} ·
    <a href="{{ base }}?week={{ previous }}">← предыдущая</a> · <a href="{{ base }}?week={{ next }}">следующая →</a></p>
</div>
{% if not classes %}
<p class="card">Классов, отчёты которых вы можете печатать, нет: их печатает классный руководитель класса или
  администрация школы.</p>
{% endif %}
{% for c in classes %}
<section class="card" aria-label="{{ c.name }}">
  <h2>{{ c.name }}</h2>
  <p class="muted">Классный руководитель: {{ c.teacher or "не назначен" }}</p>
  <p><a class="button" href="{{ base }}/classes/{{ c.id }}.pdf?week={{ monday.isoformat() }}">Отчёты всего класса,
    PDF</a></p>
  {% if c.students %}
  <details><summary>По одному ученику ({{ c.students|length }})</summary>
    <ul>{% for s in c.students %}
      <li><a href="{{ base }}/students/{{ s.id }}.pdf?week={{ monday.isoformat() }}">{{ s.name }}</a></li>
    {% endfor %}</ul>
  </details>
  {% else %}<p class="muted">В классе нет учеников на эту неделю.</p>{% endif %}
</section>
{% endfor %}
{% endblock %}
"""


def _parse_week(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


class WeeklyReportPages(Controller):
    path = "/s/{school_slug:str}/reports/weekly"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/", opt=CLASS)
    async def classes(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                      principal: NamedDependency[Principal], week: FromQuery[str | None] = None) -> Template:
        monday = week_of(school, _parse_week(week))
        query = select(ClassUnit).order_by(ClassUnit.grade, ClassUnit.letter)
        if principal.is_family_only or not principal.can("journal.read_all"):
            query = query.where(ClassUnit.class_teacher_id == (principal.person_id or 0))
        units = list((await session.execute(query)).scalars())
        on = weekly.reference_day(monday, school.today())
        students: dict[int, list[dict[str, object]]] = defaultdict(list)
        teachers: dict[int, str] = {}
        if units:
            ids = [u.id for u in units]
            rows = await session.execute(
                select(Enrollment.class_unit_id, Person).join(Person, Person.id == Enrollment.student_id)
                .where(Enrollment.class_unit_id.in_(ids), Enrollment.start_date <= on,
                       (Enrollment.end_date.is_(None)) | (Enrollment.end_date >= on))
                .order_by(Person.last_name, Person.first_name, Person.id))
            for class_id, person in rows.tuples():
                students[class_id].append({"id": person.id, "name": person.full_name})
            heads = [u.class_teacher_id for u in units if u.class_teacher_id]
            if heads:
                teachers = {p.id: p.short_name for p in (await session.execute(
                    select(Person).where(Person.id.in_(heads)))).scalars()}
        classes = [{"id": u.id, "name": u.name, "teacher": teachers.get(u.class_teacher_id or 0),
                    "students": students.get(u.id, [])} for u in units]
        return Template(template_str=PAGE, headers=NO_STORE, context={
            "school": school, "base": f"/s/{school.slug}/reports/weekly", "classes": classes, "monday": monday,
            "saturday": monday + timedelta(days=5), "previous": (monday - timedelta(days=7)).isoformat(),
            "next": (monday + timedelta(days=7)).isoformat()})
