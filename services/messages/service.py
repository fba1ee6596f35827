"""The rules of school mail (R-COM-1, R-ROLE-4).

Who may write to whom is a permission: `messages.to_staff` to write to staff, `messages.to_families` to write to
students and parents (a staff-only permission, so students and parents never write to each other). A teacher
without `people.read` reaches only the students of the classes and groups they teach or lead, and those
students' parents. `messages.announce` sends one message to every parent of a class's current students: the
class teacher of that class, or the administration. A reply goes to the other people of the thread the sender
may write to, and always to whoever wrote to them in it; a message is seen by its author and its recipients only,
a thread only by its participants.

Nothing is half-written: every check runs before the first row or file is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.calendar.models import AcademicYear
from services.errors import OutOfScope, RuleError
from services.files.storage import FileStorage, check_upload, new_key, safe_filename
from services.identity.policy import Principal
from services.messages.models import MailAttachment, MailMessage, MailParticipant, MailRecipient, MailThread
from services.structure.models import (
    ClassUnit,
    Enrollment,
    GroupMembership,
    Guardianship,
    Person,
    TeachingLoad,
)
from services.structure.names import short_name
from tenants.registry import SchoolRecord

SUBJECT_MAX = 200
BODY_MAX = 20_000
MAX_RECIPIENTS = 200
MAX_FILES = 10
NO_PERSON = ("Ваша учётная запись не связана с карточкой человека в этой школе: школьная почта недоступна. "
             "Обратитесь к администратору школы.")


class MailError(RuleError):
    """A mail rule refused the message; nothing was sent."""

    problem_type = "/problems/mail"


class MailForbidden(MailError):
    """The sender may not write to this person (or class)."""

    problem_type = "/problems/mail-recipient"
    default_status = 403


class MailNotFound(MailError):
    default_status = 404


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    data: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    name: str
    kind: str
    """staff, student or guardian."""
    note: str = ""
    """«5А» for a student, «родитель: Алексеев У.» for a parent."""


@dataclass(slots=True)
class ThreadSummary:
    id: int
    subject: str
    kind: str
    last_message_at: datetime
    unread: int
    people: list[str] = field(default_factory=list)


@dataclass(slots=True)
class MessageView:
    message: MailMessage
    author: str
    recipients: list[tuple[str, datetime | None]]
    attachments: list[MailAttachment]


@dataclass(slots=True)
class ThreadView:
    thread: MailThread
    messages: list[MessageView]
    people: list[str]
    class_name: str | None
    can_reply: bool


def person_name(person: Person) -> str:
    return " ".join(x for x in (person.last_name, person.first_name, person.middle_name) if x)


def _me(principal: Principal) -> int:
    if principal.person_id is None:
        raise MailForbidden(NO_PERSON)
    return principal.person_id


def _on(model: type[Enrollment] | type[GroupMembership], day: date) -> object:
    return and_(model.start_date <= day, or_(model.end_date.is_(None), model.end_date >= day))


# --- who may write to whom ------------------------------------------------------------------------------------


async def taught_students(session: AsyncSession, teacher_id: int, today: date) -> set[int]:
    """The current students of the classes a teacher leads or teaches this year, and of the groups they teach."""
    year = select(AcademicYear.id).where(AcademicYear.start_date <= today, AcademicYear.end_date >= today)
    loads = select(TeachingLoad.class_unit_id, TeachingLoad.group_id).where(
        TeachingLoad.teacher_id == teacher_id, TeachingLoad.academic_year_id.in_(year))
    rows = (await session.execute(loads)).all()
    classes = {c for c, _ in rows if c is not None}
    groups = {g for _, g in rows if g is not None}
    classes.update((await session.execute(select(ClassUnit.id).where(ClassUnit.class_teacher_id == teacher_id)))
                   .scalars())
    students: set[int] = set()
    if classes:
        students.update((await session.execute(select(Enrollment.student_id).where(
            Enrollment.class_unit_id.in_(classes), _on(Enrollment, today)))).scalars())  # type: ignore[arg-type]
    if groups:
        students.update((await session.execute(select(GroupMembership.student_id).where(
            GroupMembership.group_id.in_(groups), _on(GroupMembership, today)))).scalars())  # type: ignore[arg-type]
    return students


async def reachable_families(session: AsyncSession, principal: Principal, today: date) -> set[int] | None:
    """The students and parents the principal may write to: None means every one (holders of `people.read`),
    an empty set none (no `messages.to_families`)."""
    if not principal.can("messages.to_families") or principal.is_family_only or principal.person_id is None:
        return set()
    if principal.can("people.read"):
        return None
    students = await taught_students(session, principal.person_id, today)
    if not students:
        return set()
    guardians = set((await session.execute(select(Guardianship.guardian_id).where(
        Guardianship.student_id.in_(students)))).scalars())
    return students | guardians


async def check_recipients(session: AsyncSession, principal: Principal, person_ids: Iterable[int],
                           today: date) -> list[Person]:
    """The recipients as people, or MailForbidden / MailError saying in Russian who may not be written to."""
    me = _me(principal)
    wanted = sorted(set(person_ids))
    if not wanted:
        raise MailError("Выберите хотя бы одного получателя.")
    if len(wanted) > MAX_RECIPIENTS:
        raise MailError(f"Не больше {MAX_RECIPIENTS} получателей в одном письме; для класса есть объявления.")
    if me in wanted:
        raise MailError("Себе писать не нужно: выберите других получателей.")
    people = {p.id: p for p in (await session.execute(select(Person).where(Person.id.in_(wanted)))).scalars()}
    if missing := [i for i in wanted if i not in people]:
        raise MailError(f"Получатель не найден (№ {', '.join(map(str, missing))}).")
    families: set[int] | None = set()
    if any(p.kind != "staff" for p in people.values()):
        families = await reachable_families(session, principal, today)
    problems: list[str] = []
    for person in people.values():
        name = short_name(person.last_name, person.first_name)
        if person.kind == "staff":
            if not principal.can("messages.to_staff"):
                problems.append(f"Вам нельзя писать сотрудникам школы ({name}).")
        elif not principal.can("messages.to_families") or principal.is_family_only:
            problems.append(f"Ученики и родители пишут только сотрудникам школы: {name} — не сотрудник.")
        elif families is not None and person.id not in families:
            problems.append(f"{name}: вы можете писать только ученикам своих классов и групп и их родителям.")
    if problems:
        raise MailForbidden(*problems)
    return [people[i] for i in wanted]


async def may_write_to(session: AsyncSession, principal: Principal, person_id: int, today: date) -> bool:
    try:
        await check_recipients(session, principal, [person_id], today)
    except MailError:
        return False
    return True


async def contacts(session: AsyncSession, principal: Principal, today: date) -> list[Contact]:
    """Whom the principal may write to, for the compose form: staff, then students by class, then parents."""
    if principal.person_id is None:
        return []
    result: list[Contact] = []
    if principal.can("messages.to_staff"):
        staff = (await session.execute(select(Person).where(Person.kind == "staff", Person.id != principal.person_id)
                                       .order_by(Person.last_name, Person.first_name, Person.id))).scalars()
        result.extend(Contact(p.id, person_name(p), "staff", "сотрудник") for p in staff)
    families = await reachable_families(session, principal, today)
    if families is not None and not families:
        return result
    current = (select(Enrollment.student_id, ClassUnit.grade, ClassUnit.letter)
               .join(ClassUnit, ClassUnit.id == Enrollment.class_unit_id)
               .where(_on(Enrollment, today)))  # type: ignore[arg-type]
    classes = {s: f"{g}{ltr}" for s, g, ltr in (await session.execute(current)).all()}
    query = select(Person).where(Person.kind.in_(("student", "guardian")), Person.id != principal.person_id)
    if families is not None:
        query = query.where(Person.id.in_(families))
    people = list((await session.execute(query.order_by(Person.last_name, Person.first_name, Person.id))).scalars())
    guardian_ids = [p.id for p in people if p.kind == "guardian"]
    children: dict[int, list[str]] = {}
    if guardian_ids:
        for guardian, last, first in (await session.execute(
                select(Guardianship.guardian_id, Person.last_name, Person.first_name)
                .join(Person, Person.id == Guardianship.student_id)
                .where(Guardianship.guardian_id.in_(guardian_ids)).order_by(Person.last_name))).all():
            children.setdefault(guardian, []).append(short_name(last, first))
    for p in people:
        if p.kind == "student":
            result.append(Contact(p.id, person_name(p), "student", f"ученик {classes.get(p.id, '')}".strip()))
    for p in people:
        if p.kind == "guardian":
            result.append(Contact(p.id, person_name(p), "guardian",
                                  "родитель: " + ", ".join(children.get(p.id, [])) if p.id in children
                                  else "родитель"))
    return result


async def announce_classes(session: AsyncSession, principal: Principal) -> list[ClassUnit]:
    """The classes the principal may send announcements to: every class with `messages.announce_all` (the
    administration by default), the classes they lead with `messages.announce` (class teachers)."""
    may_any = principal.can("messages.announce_all")
    if not (may_any or principal.can("messages.announce")) or principal.is_family_only or principal.person_id is None:
        return []
    query = select(ClassUnit).order_by(ClassUnit.grade, ClassUnit.letter)
    if not may_any:
        query = query.where(ClassUnit.class_teacher_id == principal.person_id)
    return list((await session.execute(query)).scalars())


async def class_guardians(session: AsyncSession, class_unit_id: int, today: date) -> list[int]:
    """Every guardian of the class's current students, once."""
    return sorted(set((await session.execute(
        select(Guardianship.guardian_id)
        .join(Enrollment, Enrollment.student_id == Guardianship.student_id)
        .where(Enrollment.class_unit_id == class_unit_id, _on(Enrollment, today))  # type: ignore[arg-type]
    )).scalars()))


# --- writing -------------------------------------------------------------------------------------------------


def _clean_subject(subject: str) -> str:
    text = " ".join((subject or "").split())
    if not text:
        raise MailError("Укажите тему сообщения.")
    if len(text) > SUBJECT_MAX:
        raise MailError(f"Тема — не длиннее {SUBJECT_MAX} знаков.")
    return text


def _clean_body(body: str) -> str:
    text = (body or "").strip()
    if not text:
        raise MailError("Напишите текст сообщения.")
    if len(text) > BODY_MAX:
        raise MailError(f"Сообщение — не длиннее {BODY_MAX} знаков.")
    return text


def _check_uploads(uploads: Sequence[Upload], max_bytes: int) -> list[Upload]:
    files = [u for u in uploads if u.data or u.filename]
    if len(files) > MAX_FILES:
        raise MailError(f"К сообщению можно приложить не больше {MAX_FILES} файлов.")
    problems: list[str] = []
    for u in files:
        problems.extend(f"{safe_filename(u.filename)}: {p}" for p in check_upload(u.filename, u.data, u.content_type,
                                                                                   max_bytes))
    if problems:
        raise MailError(*problems)
    return files


async def _store(session: AsyncSession, school: SchoolRecord, message: MailMessage, recipients: Sequence[int], *,
                 uploads: Sequence[Upload], storage: FileStorage | None) -> None:
    session.add_all([MailRecipient(message_id=message.id, person_id=p) for p in recipients])
    if uploads:
        if storage is None:
            raise MailError("Хранилище файлов не настроено: отправьте сообщение без вложений.", status_code=503)
        for u in uploads:
            name = safe_filename(u.filename)
            key = new_key(school.id, "mail", name)
            await storage.put(key, u.data, u.content_type)
            session.add(MailAttachment(message_id=message.id, storage_key=key, filename=name,
                                       content_type=u.content_type or "application/octet-stream", size=len(u.data)))
    await session.flush()


async def start_thread(session: AsyncSession, principal: Principal, school: SchoolRecord, *, to: Iterable[int],
                       subject: str, body: str, uploads: Sequence[Upload] = (), storage: FileStorage | None = None,
                       max_bytes: int) -> MailThread:
    """A new thread with its first message to `to`; every check before anything is stored."""
    me = _me(principal)
    subject, body = _clean_subject(subject), _clean_body(body)
    people = await check_recipients(session, principal, to, school.today())
    files = _check_uploads(uploads, max_bytes)
    thread = MailThread(subject=subject, kind="personal", created_by=me)
    session.add(thread)
    await session.flush()
    session.add_all([MailParticipant(thread_id=thread.id, person_id=p) for p in sorted({me, *(p.id for p in people)})])
    message = MailMessage(thread_id=thread.id, author_id=me, body=body)
    session.add(message)
    await session.flush()
    await _store(session, school, message, [p.id for p in people], uploads=files, storage=storage)
    return thread


async def announce(session: AsyncSession, principal: Principal, school: SchoolRecord, *, class_unit_id: int,
                   subject: str, body: str, uploads: Sequence[Upload] = (), storage: FileStorage | None = None,
                   max_bytes: int) -> MailThread:
    """One message to every parent of the class's current students; the recipients are fixed now."""
    me = _me(principal)
    subject, body = _clean_subject(subject), _clean_body(body)
    unit = await session.get(ClassUnit, class_unit_id)
    if unit is None:
        raise MailNotFound("Класс не найден.")
    if unit.id not in {c.id for c in await announce_classes(session, principal)}:
        raise MailForbidden(f"Объявления родителям {unit.name} отправляют классный руководитель этого класса "
                            "и администрация школы.")
    guardians = [g for g in await class_guardians(session, unit.id, school.today()) if g != me]
    if not guardians:
        raise MailError(f"У учеников {unit.name} нет родителей в электронном журнале: объявление некому отправить.")
    files = _check_uploads(uploads, max_bytes)
    thread = MailThread(subject=subject, kind="announcement", class_unit_id=unit.id, created_by=me)
    session.add(thread)
    await session.flush()
    session.add_all([MailParticipant(thread_id=thread.id, person_id=p) for p in sorted({me, *guardians})])
    message = MailMessage(thread_id=thread.id, author_id=me, body=body)
    session.add(message)
    await session.flush()
    await _store(session, school, message, guardians, uploads=files, storage=storage)
    return thread


async def _participant_thread(session: AsyncSession, principal: Principal, thread_id: int) -> MailThread:
    thread = await session.get(MailThread, thread_id)
    if thread is None:
        raise MailNotFound("Переписка не найдена.")
    found = principal.person_id is not None and await session.scalar(select(MailParticipant.person_id).where(
        MailParticipant.thread_id == thread_id, MailParticipant.person_id == principal.person_id)) is not None
    if not found:
        raise OutOfScope("Эта переписка вам недоступна.")
    return thread


async def reply_recipients(session: AsyncSession, principal: Principal, thread: MailThread,
                           today: date) -> list[int]:
    """The other people of the thread the principal may write to (a parent's reply to an announcement reaches
    its author, not the other parents)."""
    me = _me(principal)
    others = list((await session.execute(select(MailParticipant.person_id).where(
        MailParticipant.thread_id == thread.id, MailParticipant.person_id != me))).scalars())
    if thread.kind == "announcement" and thread.created_by != me:
        others = [thread.created_by]
    # Whoever wrote to me in this thread may be answered (a parent who wrote to a teacher of another class).
    wrote_to_me = set((await session.execute(
        select(MailMessage.author_id).join(MailRecipient, MailRecipient.message_id == MailMessage.id)
        .where(MailMessage.thread_id == thread.id, MailRecipient.person_id == me))).scalars())
    return [p for p in others if p in wrote_to_me or await may_write_to(session, principal, p, today)]


async def reply(session: AsyncSession, principal: Principal, school: SchoolRecord, thread_id: int, *, body: str,
                uploads: Sequence[Upload] = (), storage: FileStorage | None = None, max_bytes: int) -> MailMessage:
    thread = await _participant_thread(session, principal, thread_id)
    body = _clean_body(body)
    recipients = await reply_recipients(session, principal, thread, school.today())
    if not recipients:
        raise MailForbidden("В этой переписке некому ответить: вам нельзя писать её участникам.")
    files = _check_uploads(uploads, max_bytes)
    message = MailMessage(thread_id=thread.id, author_id=_me(principal), body=body)
    session.add(message)
    thread.last_message_at = datetime.now(UTC)
    await session.flush()
    await _store(session, school, message, recipients, uploads=files, storage=storage)
    return message


async def mark_read(session: AsyncSession, principal: Principal, thread_id: int) -> int:
    """Mark the principal's unread messages of the thread read; how many were unread."""
    thread = await _participant_thread(session, principal, thread_id)
    messages = select(MailMessage.id).where(MailMessage.thread_id == thread.id)
    where = (MailRecipient.person_id == principal.person_id, MailRecipient.read_at.is_(None),
             MailRecipient.message_id.in_(messages))
    if await session.scalar(select(func.count()).select_from(MailRecipient).where(*where)) == 0:
        return 0
    return await audit.update_rows(session, MailRecipient, {"read_at": datetime.now(UTC)}, *where)


# --- reading -------------------------------------------------------------------------------------------------


def _visible_to(person_id: int) -> object:
    """A message the person wrote or received."""
    received = select(MailRecipient.message_id).where(MailRecipient.person_id == person_id)
    return or_(MailMessage.author_id == person_id, MailMessage.id.in_(received))


async def inbox(session: AsyncSession, principal: Principal, *, limit: int = 100) -> list[ThreadSummary]:
    """The principal's threads, newest first, each with its number of unread messages."""
    if principal.person_id is None:
        return []
    me = principal.person_id
    unread = (select(MailMessage.thread_id, func.count().label("unread"))
              .join(MailRecipient, MailRecipient.message_id == MailMessage.id)
              .where(MailRecipient.person_id == me, MailRecipient.read_at.is_(None))
              .group_by(MailMessage.thread_id).subquery())
    rows = (await session.execute(
        select(MailThread, func.coalesce(unread.c.unread, 0))
        .join(MailParticipant, and_(MailParticipant.thread_id == MailThread.id, MailParticipant.person_id == me))
        .outerjoin(unread, unread.c.thread_id == MailThread.id)
        .order_by(MailThread.last_message_at.desc(), MailThread.id.desc()).limit(limit))).all()
    if not rows:
        return []
    ids = [t.id for t, _ in rows]
    names: dict[int, list[str]] = {}
    for thread_id, last, first in (await session.execute(
            select(MailParticipant.thread_id, Person.last_name, Person.first_name)
            .join(Person, Person.id == MailParticipant.person_id)
            .where(MailParticipant.thread_id.in_(ids), MailParticipant.person_id != me)
            .order_by(Person.last_name, Person.first_name))).all():
        names.setdefault(thread_id, []).append(short_name(last, first))
    result = []
    for thread, count in rows:
        # An announcement's parents see its author, not the other parents.
        people = [] if thread.kind == "announcement" and thread.created_by != me else names.get(thread.id, [])
        result.append(ThreadSummary(thread.id, thread.subject, thread.kind, thread.last_message_at, int(count),
                                    people))
    if any(s.kind == "announcement" and not s.people for s in result):
        authors = {t.id: t.created_by for t, _ in rows if t.kind == "announcement"}
        persons = {p.id: p for p in (await session.execute(select(Person).where(
            Person.id.in_(set(authors.values()))))).scalars()}
        for s in result:
            if s.kind == "announcement" and not s.people and authors.get(s.id) in persons:
                author = persons[authors[s.id]]
                s.people = [short_name(author.last_name, author.first_name)]
    return result


async def unread_count(session: AsyncSession, principal: Principal) -> int:
    if principal.person_id is None:
        return 0
    return int(await session.scalar(select(func.count()).select_from(MailRecipient).where(
        MailRecipient.person_id == principal.person_id, MailRecipient.read_at.is_(None))) or 0)


async def thread_view(session: AsyncSession, principal: Principal, thread_id: int, today: date) -> ThreadView:
    """The thread's messages the principal wrote or received, oldest first; OutOfScope if not theirs."""
    thread = await _participant_thread(session, principal, thread_id)
    me = _me(principal)
    messages = list((await session.execute(select(MailMessage).where(
        MailMessage.thread_id == thread.id, _visible_to(me)).order_by(  # type: ignore[arg-type]
        MailMessage.sent_at, MailMessage.id))).scalars())
    ids = [m.id for m in messages]
    recipients: dict[int, list[tuple[int, datetime | None]]] = {}
    files: dict[int, list[MailAttachment]] = {}
    if ids:
        for r in (await session.execute(select(MailRecipient).where(MailRecipient.message_id.in_(ids)))).scalars():
            recipients.setdefault(r.message_id, []).append((r.person_id, r.read_at))
        for a in (await session.execute(select(MailAttachment).where(MailAttachment.message_id.in_(ids))
                                        .order_by(MailAttachment.id))).scalars():
            files.setdefault(a.message_id, []).append(a)
    person_ids = {m.author_id for m in messages} | {p for rs in recipients.values() for p, _ in rs}
    participants = list((await session.execute(select(MailParticipant.person_id).where(
        MailParticipant.thread_id == thread.id))).scalars())
    person_ids.update(participants)
    people = {p.id: p for p in (await session.execute(select(Person).where(Person.id.in_(person_ids)))).scalars()}

    def name(pid: int) -> str:
        p = people.get(pid)
        return short_name(p.last_name, p.first_name) if p else "—"

    views = []
    for m in messages:
        # Only a message's author sees every recipient and their read marks; a recipient sees themself.
        rs = recipients.get(m.id, [])
        shown = rs if m.author_id == me else [(p, r) for p, r in rs if p == me or thread.kind != "announcement"]
        views.append(MessageView(m, name(m.author_id), [(name(p), r) for p, r in shown], files.get(m.id, [])))
    class_name = None
    if thread.class_unit_id is not None:
        unit = await session.get(ClassUnit, thread.class_unit_id)
        class_name = unit.name if unit else None
    if thread.kind == "announcement" and thread.created_by != me:
        shown_people = [name(thread.created_by)]
    else:
        shown_people = [name(p) for p in participants if p != me]
    can_reply = bool(await reply_recipients(session, principal, thread, today))
    return ThreadView(thread, views, shown_people, class_name, can_reply)


async def readable_attachment(session: AsyncSession, principal: Principal, attachment_id: int) -> MailAttachment:
    """The attachment if the principal wrote or received its message."""
    row = await session.get(MailAttachment, attachment_id)
    if row is None:
        raise MailNotFound("Файл не найден.")
    if principal.person_id is None:
        raise OutOfScope("Этот файл вам недоступен.")
    visible = await session.scalar(select(MailMessage.id).where(
        MailMessage.id == row.message_id, _visible_to(principal.person_id)))  # type: ignore[arg-type]
    if visible is None:
        raise OutOfScope("Этот файл вам недоступен.")
    return row


async def recipients_of(session: AsyncSession, message_id: int) -> list[int]:
    """The person ids a message was sent to (fixed at send time), for notifications: map them to accounts through
    `platform.membership.person_id` of this school."""
    return sorted((await session.execute(select(MailRecipient.person_id).where(
        MailRecipient.message_id == message_id))).scalars())


__all__ = [
    "Contact", "MailError", "MailForbidden", "MailNotFound", "MessageView", "ThreadSummary", "ThreadView", "Upload",
    "announce", "announce_classes", "check_recipients", "class_guardians", "contacts", "inbox", "mark_read",
    "may_write_to", "readable_attachment", "recipients_of", "reply", "start_thread", "thread_view", "unread_count",
]
