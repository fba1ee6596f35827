"""The rules of parent notifications (R-COM-2): settings, the fan-out of a journal event to the guardians, digests,
the queue the mail actor and the scheduler work from, and the inbox. Workers and controllers call these.

Every function works in one school's schema inside the caller's transaction, and takes `now` so the schedule is
testable. Texts are Russian and carry personal data (names, marks): they stay in the school's schema and in the
letter, never in logs.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import RuleError
from services.grading.models import WorkKind
from services.identity.models import Membership
from services.journal.models import Attendance, Mark
from services.notifications.models import FREQUENCIES, Notification, NotificationMail, NotificationSetting
from services.notifications.schedule import digest_moment, mail_due_at
from services.structure.models import Guardianship, Person, Subject, TeachingLoad
from services.timetable.models import Lesson

EMAIL_MAX = 254
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
LEASE = timedelta(minutes=2)
"""A letter handed to a worker is not handed out again for this long (unless its attempt fails sooner)."""
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
FREQUENCY_LABELS = {"each": "каждая отметка", "daily": "ежедневная сводка", "weekly": "еженедельная сводка",
                    "off": "не присылать"}
ABSENCE_REASONS = {"illness": "болезнь", "excused": "уважительная причина", "unexcused": "неуважительная причина"}
NOTIFY_ON = ("mark", "attendance")


class NotificationError(RuleError):
    problem_type = "/problems/notifications"


def ru_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


# --- settings ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SettingsDraft:
    email: str | None
    consent: bool
    email_frequency: str
    inapp_frequency: str
    quiet_from: time | None
    quiet_to: time | None


def default_setting(guardian_id: int) -> NotificationSetting:
    """What applies to a parent who never chose: in-app notifications of each entry, no mail."""
    return NotificationSetting(guardian_id=guardian_id, email=None, email_consent_at=None, email_frequency="off",
                               inapp_frequency="each", quiet_from=None, quiet_to=None)


async def get_setting(session: AsyncSession, guardian_id: int) -> NotificationSetting:
    found = await session.get(NotificationSetting, guardian_id)
    return found if found is not None else default_setting(guardian_id)


def clean_email(raw: str | None) -> str | None:
    email = (raw or "").strip()
    if not email:
        return None
    if len(email) > EMAIL_MAX or not _EMAIL_RE.fullmatch(email):
        raise NotificationError(f"«{email[:60]}» — не адрес электронной почты. Пример: ivanova@mail.ru.")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def check_draft(draft: SettingsDraft) -> list[str]:
    problems = []
    for value, what in ((draft.email_frequency, "писем"), (draft.inapp_frequency, "уведомлений в дневнике")):
        if value not in FREQUENCIES:
            problems.append(f"Частота {what}: выберите одно из — {', '.join(FREQUENCY_LABELS.values())}.")
    if draft.email_frequency != "off" and draft.email is None:
        problems.append("Чтобы получать письма, укажите адрес электронной почты.")
    if draft.email is not None and not draft.consent:
        problems.append("Адрес хранится и письма отправляются только с вашего согласия: отметьте согласие "
                        "или сотрите адрес.")
    if (draft.quiet_from is None) != (draft.quiet_to is None):
        problems.append("Тихие часы: укажите и начало, и конец (или ни того, ни другого).")
    elif draft.quiet_from is not None and draft.quiet_from == draft.quiet_to:
        problems.append("Тихие часы: начало и конец совпадают.")
    return problems


async def save_setting(session: AsyncSession, guardian_id: int, draft: SettingsDraft,
                       now: datetime) -> NotificationSetting:
    """Store a parent's choice (audited: the consent's moment is part of the record)."""
    if problems := check_draft(draft):
        raise NotificationError(*problems)
    row = await session.get(NotificationSetting, guardian_id, with_for_update=True)
    if row is None:
        row = default_setting(guardian_id)
        session.add(row)
    if draft.email is None:
        row.email, row.email_consent_at = None, None
    elif draft.email != row.email or row.email_consent_at is None:
        row.email, row.email_consent_at = draft.email, now
    row.email_frequency, row.inapp_frequency = draft.email_frequency, draft.inapp_frequency
    row.quiet_from, row.quiet_to = draft.quiet_from, draft.quiet_to
    row.updated_at = now
    await session.flush()
    return row


async def is_guardian(session: AsyncSession, person_id: int) -> bool:
    found = await session.scalar(select(Guardianship.guardian_id).where(Guardianship.guardian_id == person_id)
                                 .limit(1))
    return found is not None


# --- fan-out of a journal event ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """What the event means, told once for all guardians."""

    kind: str
    student_id: int
    title: str
    body: str


async def _lesson_facts(session: AsyncSession, lesson_id: int) -> tuple[str, date] | None:
    row = (await session.execute(
        select(Subject.name, Lesson.on_date).join(TeachingLoad, TeachingLoad.id == Lesson.teaching_load_id)
        .join(Subject, Subject.id == TeachingLoad.subject_id).where(Lesson.id == lesson_id))).first()
    return (row[0], row[1]) if row else None


async def describe(session: AsyncSession, payload: dict[str, Any]) -> Entry | None:
    """The entry an event of `services.journal.scope.saved` is about, if parents hear of it: a mark added or
    changed, an absence or a lateness. None for everything else, and for an entry gone since."""
    what, lesson_id, student_id = payload.get("what"), payload.get("lesson_id"), payload.get("student_id")
    if what not in NOTIFY_ON or lesson_id is None or student_id is None:
        return None
    facts = await _lesson_facts(session, int(lesson_id))
    first_name = await session.scalar(select(Person.first_name).where(Person.id == student_id))
    if facts is None or first_name is None:
        return None
    subject, on_date = facts
    if what == "mark":
        query = (select(Mark.value, WorkKind.name).join(WorkKind, WorkKind.id == Mark.work_kind_id)
                 .where(Mark.lesson_id == lesson_id, Mark.student_id == student_id).order_by(Mark.id))
        if payload.get("mark_id") is not None:
            query = query.where(Mark.id == payload["mark_id"])
        marks = (await session.execute(query)).all()
        if not marks:
            return None
        values = ", ".join(value for value, _ in marks)
        detail = "; ".join(f"{value} — {kind.lower()}" for value, kind in marks)
        word = "отметка" if len(marks) == 1 else "отметки"
        return Entry("mark", int(student_id), f"{first_name}: {word} {values} — {subject}",
                     f"{first_name}, {subject}, урок {ru_date(on_date)}: {word} {detail}.")
    absence = await session.get(Attendance, (lesson_id, student_id))
    if absence is None:
        return None
    if absence.status == "late":
        label = f"опоздание на {absence.late_minutes} мин" if absence.late_minutes else "опоздание"
    else:
        reason = ABSENCE_REASONS.get(absence.reason or "")
        label = f"отсутствие ({reason})" if reason else "отсутствие"
    return Entry("absence", int(student_id), f"{first_name}: {label} — {subject}",
                 f"{first_name}, {subject}, урок {ru_date(on_date)}: {label}.")


def _letter(entry: Entry) -> str:
    return (f"Здравствуйте!\n\n{entry.body}\n\nЭто уведомление из электронного дневника. Частоту писем и тихие "
            "часы можно изменить в дневнике, в разделе «Уведомления».\n")


async def notify_entry(session: AsyncSession, *, school_id: int, event_id: int, payload: dict[str, Any],
                       time_zone: str, now: datetime) -> list[int]:
    """Tell the student's guardians about a journal event, as each of them chose: an inbox row and a letter
    (at once, after the quiet hours, or later in a digest). Only guardians with an account in the school (a
    membership linked to their person) are told: nobody else could read an inbox or have chosen mail.
    Idempotent per (event, guardian).

    Returns the letters due now, already leased: the caller hands them to `notifications.send_mail`.
    """
    entry = await describe(session, payload)
    if entry is None:
        return []
    guardians = list((await session.scalars(
        select(Guardianship.guardian_id)
        .where(Guardianship.student_id == entry.student_id,
               Guardianship.guardian_id.in_(select(Membership.person_id).where(
                   Membership.school_id == school_id, Membership.person_id.is_not(None))))
        .order_by(Guardianship.guardian_id))).all())
    if not guardians:
        return []
    done = set((await session.scalars(select(Notification.guardian_id).where(
        Notification.event_id == event_id, Notification.guardian_id.in_(guardians)))).all())
    settings = {s.guardian_id: s for s in (await session.scalars(
        select(NotificationSetting).where(NotificationSetting.guardian_id.in_(guardians)))).all()}
    due_now: list[NotificationMail] = []
    for guardian_id in guardians:
        if guardian_id in done:
            continue
        setting = settings.get(guardian_id) or default_setting(guardian_id)
        inapp = setting.inapp_frequency != "off"
        show_at = now if setting.inapp_frequency in ("each", "off") else digest_moment(
            now, time_zone, setting.inapp_frequency)
        email_mode = (setting.email_frequency if setting.email and setting.email_consent_at is not None
                      and setting.email_frequency != "off" else None)
        if not inapp and email_mode is None:
            continue
        row = Notification(event_id=event_id, guardian_id=guardian_id, student_id=entry.student_id,
                           kind=entry.kind, title=entry.title, body=entry.body, inapp=inapp, show_at=show_at,
                           email_mode=email_mode, created_at=now)
        if email_mode == "each":
            assert setting.email is not None
            due = mail_due_at(now, time_zone, setting.quiet_from, setting.quiet_to)
            mail = NotificationMail(guardian_id=guardian_id, mode="each", to_address=setting.email,
                                    subject=entry.title, body=_letter(entry), due_at=due,
                                    next_attempt_at=now + LEASE if due <= now else due, attempts=0,
                                    created_at=now)
            session.add(mail)
            await session.flush()
            row.mail_id = mail.id
            if due <= now:
                due_now.append(mail)
        session.add(row)
    await session.flush()
    return [mail.id for mail in due_now]


# --- digests -------------------------------------------------------------------------------------------------


def _digest_subject(mode: str, now: datetime, time_zone: str) -> str:
    today = now.astimezone(ZoneInfo(time_zone)).date()
    if mode == "weekly":
        return (f"Сводка за неделю {(today - timedelta(days=6)).strftime('%d.%m')}–{ru_date(today)}: "
                "отметки и посещаемость")
    return f"Сводка за {ru_date(today)}: отметки и посещаемость"


async def compose_digests(session: AsyncSession, *, time_zone: str, now: datetime) -> int:
    """One letter per guardian whose digest time has come, with every entry collected since the last one; entries
    of a parent who has since turned mail off are dropped. Idempotent; how many letters were composed."""
    pending = list((await session.scalars(
        select(Notification).where(Notification.email_mode.is_not(None), Notification.mail_id.is_(None),
                                   Notification.email_mode != "each")
        .order_by(Notification.guardian_id, Notification.created_at, Notification.id)
        .with_for_update(skip_locked=True))).all())
    by_guardian: dict[int, list[Notification]] = defaultdict(list)
    for row in pending:
        by_guardian[row.guardian_id].append(row)
    composed = 0
    for guardian_id, rows in by_guardian.items():
        setting = await get_setting(session, guardian_id)
        if not setting.email or setting.email_consent_at is None or setting.email_frequency == "off":
            for row in rows:
                row.email_mode = None
            continue
        mode = setting.email_frequency if setting.email_frequency != "each" else "daily"
        if digest_moment(rows[0].created_at, time_zone, mode) > now:
            continue
        lines = "\n".join(f"• {row.body}" for row in rows)
        due = mail_due_at(now, time_zone, setting.quiet_from, setting.quiet_to)
        mail = NotificationMail(
            guardian_id=guardian_id, mode=mode, to_address=setting.email,
            subject=_digest_subject(mode, now, time_zone),
            body=(f"Здравствуйте!\n\nЗаписи электронного журнала о ваших детях "
                  f"{'за неделю' if mode == 'weekly' else 'за день'}:\n\n{lines}\n\n"
                  "Частоту писем и тихие часы можно изменить в дневнике, в разделе «Уведомления».\n"),
            due_at=due, next_attempt_at=due, attempts=0, created_at=now)
        session.add(mail)
        await session.flush()
        for row in rows:
            row.mail_id = mail.id
        composed += 1
    await session.flush()
    return composed


# --- the mail queue ------------------------------------------------------------------------------------------


async def lease_due_mails(session: AsyncSession, *, now: datetime, limit: int = 200) -> list[int]:
    """Unsent letters whose time has come (due, and their retry time reached), leased for `LEASE`."""
    rows = list((await session.scalars(
        select(NotificationMail).where(NotificationMail.sent_at.is_(None), NotificationMail.due_at <= now,
                                       NotificationMail.next_attempt_at <= now)
        .order_by(NotificationMail.next_attempt_at).limit(limit).with_for_update(skip_locked=True))).all())
    for row in rows:
        row.next_attempt_at = now + LEASE
    await session.flush()
    return [row.id for row in rows]


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … up to an hour between attempts."""
    doubled: timedelta = BACKOFF_FIRST * 2 ** max(0, min(attempts - 1, 12))
    return min(doubled, BACKOFF_MAX)


# --- the inbox -----------------------------------------------------------------------------------------------


async def inbox(session: AsyncSession, guardian_id: int, *, now: datetime, limit: int = 100) -> list[Notification]:
    return list((await session.scalars(
        select(Notification).where(Notification.guardian_id == guardian_id, Notification.inapp,
                                   Notification.show_at <= now)
        .order_by(Notification.show_at.desc(), Notification.id.desc()).limit(limit))).all())


async def mark_read(session: AsyncSession, guardian_id: int, notification_id: int, *, now: datetime) -> bool:
    """Mark one of the guardian's own notifications read; False when there is no such notification of theirs."""
    row = await session.scalar(select(Notification).where(Notification.id == notification_id,
                                                          Notification.guardian_id == guardian_id,
                                                          Notification.inapp))
    if row is None:
        return False
    if row.read_at is None:
        row.read_at = now
        await session.flush()
    return True


# --- retention -----------------------------------------------------------------------------------------------

RETENTION = timedelta(days=180)
"""How long what a parent was told (the inbox row and the letter, with the student's mark in them) is kept."""


async def purge_told(session: AsyncSession, *, now: datetime) -> int:
    """Forget notifications older than `RETENTION`, read or not, and their letters once sent. The journal keeps
    the marks themselves; these rows only repeat them, and personal data is kept no longer than it serves. A letter
    not sent yet keeps its notifications until it goes. How many notifications were removed."""
    cutoff = now - RETENTION
    sent = select(NotificationMail.id).where(NotificationMail.sent_at.is_not(None))
    removed = await session.execute(delete(Notification).where(
        Notification.created_at < cutoff, or_(Notification.mail_id.is_(None), Notification.mail_id.in_(sent))))
    await session.execute(delete(NotificationMail).where(
        NotificationMail.created_at < cutoff, NotificationMail.sent_at.is_not(None),
        ~exists().where(Notification.mail_id == NotificationMail.id)))
    return int(removed.rowcount or 0)  # type: ignore[attr-defined]
