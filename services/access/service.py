"""Parent access as a service (R-DRY-4, 004 annex 3 §2.11, §3.7): an application is registered (number and
date), decided within 3 working days and answered either with a пригласительный код for the parent role bound to
the guardian's person record, or with a written refusal for one of the listed reasons. An application about a
student who is 18 or older is refused automatically."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.access.models import AccessApplication
from services.access.workdays import age_on
from services.calendar.service import add_working_days
from services.errors import RuleError
from services.identity import invites
from services.identity.models import PlatformAudit
from services.runtime import Runtime
from services.structure.models import ClassUnit, Enrollment, Guardianship, Person
from services.structure.names import full_name
from tenants.registry import SchoolRecord

DECISION_WORKING_DAYS = 3
INVITE_VALID_DAYS = 30
ADULT_AGE = 18

REFUSAL_REASONS: dict[str, str] = {
    "not_guardian": "не является родителем (законным представителем)",
    "not_student": "ребёнок не обучается в школе",
    "adult": "ученику исполнилось 18 лет",
    "documents": "документы недействительны или противоречивы",
    "withdrawn": "заявитель отозвал заявление",
}
ADULT_ANSWER = ("Обучающемуся исполнилось 18 лет: сведения о его текущей успеваемости и посещаемости "
                "предоставляются ему самому, а не законным представителям (п. 2.11.3 регламента). "
                "Отказ оформлен автоматически.")
STATUS_TITLES = {"open": "на рассмотрении", "approved": "доступ предоставлен", "refused": "отказано"}
SOURCE_TITLES = {"paper": "бумажное заявление", "online": "через сайт"}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[0-9 ()\-]{6,20}$")


class AccessError(RuleError):
    problem_type = "/problems/access"


@dataclass(frozen=True, slots=True)
class ApplicationDraft:
    applicant_name: str
    contact_email: str
    contact_phone: str
    child_name: str
    child_class: str
    child_birth_date: date | None
    relationship: str
    documents: str


@dataclass(frozen=True, slots=True)
class Decision:
    application: AccessApplication
    code: str | None = None
    """The plain invite code of an approval: shown once, stored hashed."""
    valid_until: date | None = None


def ru(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def draft_problems(d: ApplicationDraft, today: date) -> list[str]:
    """Why an application cannot be registered, in Russian; empty when it can."""
    problems = []
    if len(d.applicant_name.split()) < 2:
        problems.append("Укажите фамилию и имя заявителя.")
    if not d.contact_email and not d.contact_phone:
        problems.append("Укажите адрес электронной почты или телефон для ответа.")
    if d.contact_email and not EMAIL_RE.fullmatch(d.contact_email):
        problems.append("Адрес электронной почты указан неверно.")
    if d.contact_phone and not PHONE_RE.fullmatch(d.contact_phone):
        problems.append("Телефон указан неверно: только цифры, пробелы, скобки, дефисы и «+».")
    if len(d.child_name.split()) < 2:
        problems.append("Укажите фамилию и имя ребёнка.")
    if not re.fullmatch(r"(1[01]|[1-9])\s*[А-Яа-яЁё]{0,2}", d.child_class):
        problems.append("Класс ребёнка: номер от 1 до 11 и буква, например 5А.")
    if d.child_birth_date is None:
        problems.append("Укажите дату рождения ребёнка.")
    elif d.child_birth_date >= today or d.child_birth_date.year < 1900:
        problems.append("Дата рождения ребёнка указана неверно.")
    if not d.relationship:
        problems.append("Укажите, кем вы приходитесь ребёнку: мать, отец, опекун…")
    if not d.documents:
        problems.append("Перечислите предъявленные документы: паспорт, свидетельство о рождении…")
    lengths = ((d.applicant_name, 300), (d.child_name, 300), (d.relationship, 40), (d.documents, 2000),
               (d.contact_email, 254), (d.contact_phone, 40))
    if any(len(v) > n for v, n in lengths):
        problems.append("Слишком длинный текст в одном из полей.")
    return problems


def _refuse(app: AccessApplication, reason: str, answer: str, actor_account_id: int | None) -> None:
    app.status = "refused"
    app.refusal_reason = reason
    app.answer_text = answer
    app.decided_at = datetime.now(UTC)
    app.decided_by_account_id = actor_account_id


async def register(runtime: Runtime, school: SchoolRecord, draft: ApplicationDraft, *, source: str,
                   actor_account_id: int | None) -> AccessApplication:
    """Register an application (paper, by staff; or online, by the parent): its number is its id, its deadline
    3 working days later in the school's calendar. A child of 18 or more is refused at once."""
    today = school.today()
    problems = draft_problems(draft, today)
    if problems:
        raise AccessError(*problems)
    assert draft.child_birth_date is not None
    actor = audit.Actor.account(actor_account_id) if actor_account_id else audit.Actor.system("access-form")
    async with runtime.db.transaction(school.schema) as session:
        audit.set_actor(session, actor)
        app = AccessApplication(
            source=source, applicant_name=draft.applicant_name, contact_email=draft.contact_email or None,
            contact_phone=draft.contact_phone or None, child_name=draft.child_name,
            child_class=draft.child_class.replace(" ", "").upper(), child_birth_date=draft.child_birth_date,
            relationship=draft.relationship, documents=draft.documents, registered_on=today,
            registered_by_account_id=actor_account_id,
            due_on=await add_working_days(session, today, DECISION_WORKING_DAYS), status="open",
        )
        if age_on(draft.child_birth_date, today) >= ADULT_AGE:
            _refuse(app, "adult", ADULT_ANSWER, None)
        session.add(app)
        await session.flush()
        return app


async def applications(session: AsyncSession, *, open_only: bool = False, limit: int = 200
                       ) -> list[AccessApplication]:
    query = select(AccessApplication)
    if open_only:
        query = query.where(AccessApplication.status == "open").order_by(AccessApplication.due_on,
                                                                         AccessApplication.id)
    else:
        query = query.order_by(AccessApplication.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def application(session: AsyncSession, app_id: int, *, lock: bool = False) -> AccessApplication:
    app = await session.get(AccessApplication, app_id, with_for_update=lock)
    if app is None:
        raise AccessError("Заявление не найдено.", status_code=404)
    return app


async def _open_application(session: AsyncSession, app_id: int) -> AccessApplication:
    """The application, locked for the decision, if none was taken yet."""
    app = await application(session, app_id, lock=True)
    if app.status != "open":
        raise AccessError(f"По заявлению № {app.id} уже принято решение.", status_code=409)
    return app


def is_overdue(app: AccessApplication, today: date) -> bool:
    return app.status == "open" and today > app.due_on


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    name: str
    birth_date: date | None
    class_name: str
    guardians: list[tuple[int, str]]



async def candidates(session: AsyncSession, app: AccessApplication, today: date) -> list[Candidate]:
    """Students now at school who may be the child: same birth date, or same surname and first name."""
    words = app.child_name.lower().split()
    current = and_(Enrollment.start_date <= today, or_(Enrollment.end_date.is_(None), Enrollment.end_date >= today))
    name_match = and_(func.lower(Person.last_name) == words[0], func.lower(Person.first_name) == words[1]) \
        if len(words) >= 2 else Person.id.is_(None)
    rows = (await session.execute(
        select(Person.id, Person.last_name, Person.first_name, Person.middle_name, Person.birth_date,
               ClassUnit.grade, ClassUnit.letter)
        .join(Enrollment, and_(Enrollment.student_id == Person.id, current))
        .join(ClassUnit, ClassUnit.id == Enrollment.class_unit_id)
        .where(Person.kind == "student", or_(Person.birth_date == app.child_birth_date, name_match))
        .order_by(Person.last_name, Person.first_name, Person.id).limit(20)
    )).all()
    guardians: dict[int, list[tuple[int, str]]] = {}
    if rows:
        for sid, gid, last, first, middle in (await session.execute(
            select(Guardianship.student_id, Person.id, Person.last_name, Person.first_name, Person.middle_name)
            .join(Person, Person.id == Guardianship.guardian_id)
            .where(Guardianship.student_id.in_([r.id for r in rows]))
        )).tuples():
            guardians.setdefault(sid, []).append((gid, full_name(last, first, middle)))
    return [Candidate(r.id, full_name(r.last_name, r.first_name, r.middle_name), r.birth_date,
                      f"{r.grade}{r.letter}", guardians.get(r.id, [])) for r in rows]


def _split_name(name: str) -> tuple[str, str, str | None]:
    parts = name.split()
    return parts[0], parts[1] if len(parts) > 1 else "", " ".join(parts[2:]) or None


async def approve(runtime: Runtime, school: SchoolRecord, app_id: int, *, student_id: int,
                  guardian_id: int | None, actor_account_id: int) -> Decision:
    """Grant access: link the applicant to a guardian record of the student (an existing one, or a new one with
    the guardianship) and issue an invite code for the parent role bound to it, in one transaction. A student
    of 18 or older is refused automatically instead."""
    today = school.today()
    async with runtime.db.transaction(school.schema) as session:
        audit.set_actor(session, audit.Actor.account(actor_account_id))
        app = await _open_application(session, app_id)
        student = await session.get(Person, student_id)
        if student is None or student.kind != "student":
            raise AccessError("Выберите ученика школы, о котором подано заявление.", status_code=422)
        enrolled = await session.scalar(select(Enrollment.id).where(
            Enrollment.student_id == student.id, Enrollment.start_date <= today,
            or_(Enrollment.end_date.is_(None), Enrollment.end_date >= today)).limit(1))
        if enrolled is None:
            raise AccessError("Этот ученик сейчас не обучается в школе: откажите по причине «ребёнок не "
                              "обучается в школе».", status_code=422)
        app.student_id = student.id
        birth = student.birth_date or app.child_birth_date
        if age_on(birth, today) >= ADULT_AGE:
            _refuse(app, "adult", ADULT_ANSWER, None)
            return Decision(app)
        if guardian_id is not None:
            guardian = await session.get(Person, guardian_id)
            if guardian is None or guardian.kind != "guardian":
                raise AccessError("Выберите родителя (законного представителя) из списка.", status_code=422)
        else:
            last, first, middle = _split_name(app.applicant_name)
            guardian = Person(kind="guardian", last_name=last, first_name=first, middle_name=middle)
            session.add(guardian)
            await session.flush()
        if await session.get(Guardianship, (guardian.id, student.id)) is None:
            session.add(Guardianship(guardian_id=guardian.id, student_id=student.id, relation=app.relationship))
        invite, code, valid_until = await invites.issue_one(session, school=school, role="parent",
                                                            person_id=guardian.id, today=today,
                                                            valid_days=INVITE_VALID_DAYS)
        session.add(PlatformAudit(actor=f"account:{actor_account_id}", action="invites.issued", school_id=school.id,
                                  detail={"access_application_id": app.id, "issued": {"parent": 1}}))
        app.guardian_id = guardian.id
        app.invite_id = invite.id
        app.status = "approved"
        app.answer_text = (f"Доступ предоставлен. Пригласительный код действует до {ru(valid_until)}: "
                           "введите его на странице регистрации.")
        app.decided_at = datetime.now(UTC)
        app.decided_by_account_id = actor_account_id
        return Decision(app, code, valid_until)


async def refuse(runtime: Runtime, school: SchoolRecord, app_id: int, *, reason: str, answer: str,
                 actor_account_id: int) -> Decision:
    """Refuse for one of the listed reasons with a written answer."""
    answer = answer.strip()
    problems = []
    if reason not in REFUSAL_REASONS:
        problems.append("Выберите причину отказа из списка.")
    if not answer:
        problems.append("Напишите текст ответа заявителю.")
    if problems:
        raise AccessError(*problems)
    async with runtime.db.transaction(school.schema) as session:
        audit.set_actor(session, audit.Actor.account(actor_account_id))
        app = await _open_application(session, app_id)
        _refuse(app, reason, answer, actor_account_id)
        return Decision(app)
