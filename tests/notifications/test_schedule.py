"""Quiet hours and digest moments in the school's zone, and the fan-out's idempotency and schedule with an injected
clock (no worker: the service functions the actor calls)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from services.db import Database
from services.notifications import service
from services.notifications.models import Notification, NotificationMail
from services.notifications.schedule import digest_moment, in_quiet_hours, mail_due_at
from services.region.models import School
from services.structure.models import Guardianship, Person
from tests.conftest import MakeSchool, school_writes
from tests.journal import conftest as journal_fixtures
from tests.journal.conftest import Clients, JournalSchool, build_journal_school
from workers.scheduler import purge_notifications, scan_notifications

journal = journal_fixtures.journal
people = journal_fixtures.people
MSK = ZoneInfo("Europe/Moscow")
VLADIVOSTOK = "Asia/Vladivostok"


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK)  # type: ignore[misc]


def test_quiet_hours_may_cross_midnight() -> None:
    assert in_quiet_hours(time(23, 0), time(22, 0), time(7, 0))
    assert in_quiet_hours(time(6, 59), time(22, 0), time(7, 0))
    assert not in_quiet_hours(time(7, 0), time(22, 0), time(7, 0))
    assert in_quiet_hours(time(13, 0), time(13, 0), time(15, 0))
    assert not in_quiet_hours(time(15, 0), time(13, 0), time(15, 0))
    assert not in_quiet_hours(time(3, 0), None, None)


def test_a_letter_in_quiet_hours_waits_for_their_end_in_the_schools_zone() -> None:
    late = msk(2026, 11, 23, 23, 30)
    assert mail_due_at(late, "Europe/Moscow", time(22, 0), time(7, 0)) == msk(2026, 11, 24, 7, 0)
    early = msk(2026, 11, 24, 6, 0)
    assert mail_due_at(early, "Europe/Moscow", time(22, 0), time(7, 0)) == msk(2026, 11, 24, 7, 0)
    day = msk(2026, 11, 24, 12, 0)
    assert mail_due_at(day, "Europe/Moscow", time(22, 0), time(7, 0)) == day
    # 12:00 in Moscow is 19:00 in Vladivostok: outside 22–07 there, but inside 18–20.
    assert mail_due_at(day, VLADIVOSTOK, time(22, 0), time(7, 0)) == day
    assert mail_due_at(day, VLADIVOSTOK, time(18, 0), time(20, 0)) == datetime(2026, 11, 24, 20, 0,
                                                                                 tzinfo=ZoneInfo(VLADIVOSTOK))


def test_digests_go_at_18_daily_and_on_sunday_weekly() -> None:
    monday_noon = msk(2026, 11, 23, 12, 0)
    assert digest_moment(monday_noon, "Europe/Moscow", "daily") == msk(2026, 11, 23, 18, 0)
    assert digest_moment(msk(2026, 11, 23, 18, 0), "Europe/Moscow", "daily") == msk(2026, 11, 24, 18, 0)
    assert digest_moment(monday_noon, "Europe/Moscow", "weekly") == msk(2026, 11, 29, 18, 0)
    assert digest_moment(msk(2026, 11, 29, 19, 0), "Europe/Moscow", "weekly") == msk(2026, 12, 6, 18, 0)


async def test_the_fan_out_schedules_by_an_injected_clock_and_runs_once_per_event(
        db: Database, journal: JournalSchool, people: Clients) -> None:
    settings = {"email": "mama@example.ru", "consent": True, "email_frequency": "each", "inapp_frequency": "daily",
                "quiet_from": "22:00", "quiet_to": "07:00"}
    assert (await people.parent.put(f"/api/v1/schools/{journal.slug}/notifications/settings",
                                    json=settings)).status_code == 200
    cell = await people.teacher.put(journal.api(f"/lessons/{journal.lessons['today']}/cells/{journal.students[0]}"),
                                    json={"text": "5"})
    assert cell.status_code == 200
    event_id = random.randint(10**12, 10**13)
    payload = {"what": "mark", "lesson_id": journal.lessons["today"], "student_id": journal.students[0]}
    # A night ahead of the real clock: the inbox (which reads the real time) must not show the row yet.
    evening = datetime.combine(date.today() + timedelta(days=30), time(23, 30), tzinfo=MSK)
    morning = (evening + timedelta(days=1)).replace(hour=7, minute=0)
    night = evening.astimezone(UTC)
    for _ in range(2):  # a redelivered event adds nothing
        async with school_writes(db, journal.school.schema) as s:
            due_now = await service.notify_entry(s, school_id=journal.school.id, event_id=event_id,
                                                 payload=payload, time_zone="Europe/Moscow", now=night)
            assert due_now == []
    async with school_writes(db, journal.school.schema) as s:
        [row] = (await s.scalars(select(Notification).where(Notification.event_id == event_id))).all()
        mail = await s.get(NotificationMail, row.mail_id)
        assert mail is not None
        assert (await s.scalar(select(func.count()).select_from(NotificationMail))) == 1
    assert mail.due_at == morning
    assert mail.to_address == "mama@example.ru"
    assert row.show_at == morning.replace(hour=18)  # in-app daily: it shows at the digest time
    async with school_writes(db, journal.school.schema) as s:
        assert await service.lease_due_mails(s, now=morning - timedelta(minutes=1)) == []
        assert await service.lease_due_mails(s, now=morning) == [mail.id]
        assert await service.lease_due_mails(s, now=morning + timedelta(minutes=1)) == []  # leased for 2 minutes
        assert await service.lease_due_mails(s, now=morning + timedelta(minutes=2, seconds=1)) == [mail.id]
    assert service.backoff(1) == timedelta(seconds=30)
    assert service.backoff(3) == timedelta(minutes=2)
    assert service.backoff(40) == timedelta(hours=1)

    # Not in the inbox before its time.
    inbox = await people.parent.get(f"/api/v1/schools/{journal.slug}/notifications/inbox")
    assert [n["id"] for n in inbox.json()] == []


async def test_a_parent_sets_their_own_notifications_and_mistakes_are_named(
        journal: JournalSchool, people: Clients) -> None:
    url = f"/api/v1/schools/{journal.slug}/notifications/settings"
    default = (await people.parent.get(url)).json()
    assert (default["email"], default["email_frequency"], default["inapp_frequency"]) == (None, "off", "each")
    assert default["time_zone"] == "Europe/Moscow"

    async def refused(body: dict[str, object], words: str) -> None:
        response = await people.parent.put(url, json={"email_frequency": "each", "inapp_frequency": "each",
                                                      **body})
        assert response.status_code == 422, response.text
        assert words in response.json()["detail"]

    await refused({"email": "не-адрес"}, "не адрес электронной почты")
    await refused({"email": "a@b"}, "не адрес электронной почты")
    await refused({"email": "mama@example.ru", "consent": False}, "согласия")
    await refused({"email": None, "consent": True}, "укажите адрес")
    await refused({"email": "mama@example.ru", "consent": True, "quiet_from": "22:00"}, "Тихие часы")
    await refused({"email": "mama@example.ru", "consent": True, "quiet_from": "25:00", "quiet_to": "07:00"},
                  "ЧЧ:ММ")
    await refused({"email": "mama@example.ru", "consent": True, "email_frequency": "hourly"}, "Частота писем")

    saved = await people.parent.put(url, json={"email": "Mama@Example.RU", "consent": True,
                                               "email_frequency": "weekly", "inapp_frequency": "off",
                                               "quiet_from": "21:30", "quiet_to": "08:00"})
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert (body["email"], body["email_frequency"], body["inapp_frequency"]) == ("Mama@example.ru", "weekly", "off")
    assert (body["quiet_from"], body["quiet_to"]) == ("21:30", "08:00")
    assert body["email_consent_at"] is not None
    # Clearing the address clears the consent with it.
    cleared = (await people.parent.put(url, json={"email": "", "email_frequency": "off",
                                                  "inapp_frequency": "each"})).json()
    assert (cleared["email"], cleared["email_consent_at"]) == (None, None)

    # Students, teachers: no notification settings of their own, and nobody else's.
    assert (await people.student.get(url)).json()["type"] == "/problems/out-of-scope"
    assert (await people.teacher.get(url)).status_code == 403


async def test_the_settings_page_saves_and_shows_mistakes(journal: JournalSchool, people: Clients) -> None:
    page = await people.parent.get(f"/s/{journal.slug}/notifications/")
    assert page.status_code == 200
    assert "Тихие часы" in page.text
    assert "ежедневная сводка" in page.text
    csrf = people.parent.cookies.get("csrftoken")
    form = {"email": "papa@example.ru", "email_frequency": "each", "inapp_frequency": "each",
            "quiet_from": "", "quiet_to": "", "_csrf_token": csrf or ""}
    wrong = await people.parent.post(f"/s/{journal.slug}/notifications/", data=form)
    assert wrong.status_code == 422
    assert "согласия" in wrong.text
    right = await people.parent.post(f"/s/{journal.slug}/notifications/", data={**form, "consent": "1"})
    assert right.status_code == 303
    shown = await people.parent.get(right.headers["location"])
    assert "Настройки сохранены" in shown.text
    assert 'value="papa@example.ru"' in shown.text




async def test_guardians_without_an_account_are_not_told(db: Database, journal: JournalSchool,
                                                        people: Clients) -> None:
    async with school_writes(db, journal.school.schema) as s:
        other = Person(kind="guardian", last_name="Алексеев", first_name="П")
        s.add(other)
        await s.flush()
        s.add(Guardianship(guardian_id=other.id, student_id=journal.students[0]))
    cell = await people.teacher.put(journal.api(f"/lessons/{journal.lessons['today']}/cells/{journal.students[0]}"),
                                    json={"text": "4"})
    assert cell.status_code == 200
    async with school_writes(db, journal.school.schema) as s:
        await service.notify_entry(s, school_id=journal.school.id, event_id=random.randint(10**12, 10**13),
                                   payload={"what": "mark", "lesson_id": journal.lessons["today"],
                                            "student_id": journal.students[0]},
                                   time_zone="Europe/Moscow", now=datetime.now(UTC))
        told = list((await s.scalars(select(Notification.guardian_id))).all())
    assert told == [journal.parent]  # the signed-in parent (defaults: in-app each), not the one without account


async def test_the_scheduler_pass_covers_every_active_school_and_survives_a_failing_one(
        db: Database, journal: JournalSchool, people: Clients, make_school: MakeSchool) -> None:
    broken = await build_journal_school(db, make_school)
    async with db.transaction() as s:
        await s.execute(update(School).where(School.id == broken.school.id).values(time_zone="Nowhere/Atlantis"))
    settings = {"email": "mama@example.ru", "consent": True, "email_frequency": "each", "inapp_frequency": "each"}
    assert (await people.parent.put(f"/api/v1/schools/{journal.slug}/notifications/settings",
                                    json=settings)).status_code == 200
    assert (await people.teacher.put(journal.api(f"/lessons/{journal.lessons['today']}/cells/"
                                                 f"{journal.students[0]}"), json={"text": "5"})).status_code == 200
    async with school_writes(db, journal.school.schema) as s:
        # The fan-out leased it for the worker; nobody took it.
        [mail_id] = await service.notify_entry(
            s, school_id=journal.school.id, event_id=random.randint(10**12, 10**13),
            payload={"what": "mark", "lesson_id": journal.lessons["today"], "student_id": journal.students[0]},
            time_zone="Europe/Moscow", now=datetime.now(UTC))
    handed: list[tuple[int, int]] = []
    try:
        later = datetime.now(UTC) + service.LEASE + timedelta(seconds=1)
        assert await scan_notifications(db, lambda school, mail: handed.append((school, mail)), now=later) >= 1
    finally:
        async with db.transaction() as s:
            await s.execute(update(School).where(School.id == broken.school.id).values(time_zone="Europe/Moscow"))
    assert (journal.school.id, mail_id) in handed


async def test_what_parents_were_told_is_forgotten_after_the_retention_period(
        db: Database, journal: JournalSchool, people: Clients) -> None:
    """Inbox rows and sent letters older than 180 days go; newer ones stay, and so does a letter not sent yet."""
    settings = {"email": "mama@example.ru", "consent": True, "email_frequency": "each", "inapp_frequency": "each"}
    assert (await people.parent.put(f"/api/v1/schools/{journal.slug}/notifications/settings",
                                    json=settings)).status_code == 200
    assert (await people.teacher.put(journal.api(f"/lessons/{journal.lessons['today']}/cells/"
                                                 f"{journal.students[0]}"), json={"text": "5"})).status_code == 200
    payload = {"what": "mark", "lesson_id": journal.lessons["today"], "student_id": journal.students[0]}
    now = datetime.now(UTC)
    moments = {"old, sent": now - timedelta(days=200), "old, unsent": now - timedelta(days=190),
               "recent": now - timedelta(days=10)}
    mails: dict[str, int] = {}
    async with school_writes(db, journal.school.schema) as s:
        for what, moment in moments.items():
            [mails[what]] = await service.notify_entry(s, school_id=journal.school.id,
                                                       event_id=random.randint(10**12, 10**13), payload=payload,
                                                       time_zone="Europe/Moscow", now=moment)
        await s.execute(update(NotificationMail).where(NotificationMail.id.in_([mails["old, sent"], mails["recent"]]))
                        .values(sent_at=NotificationMail.created_at))

    assert await purge_notifications(db, now=now) >= 1
    async with school_writes(db, journal.school.schema) as s:
        kept_mails = set((await s.scalars(select(NotificationMail.id).where(
            NotificationMail.id.in_(mails.values())))).all())
        kept_rows = set((await s.scalars(select(Notification.mail_id).where(
            Notification.mail_id.in_(mails.values())))).all())
    assert kept_mails == {mails["old, unsent"], mails["recent"]}
    assert kept_rows == {mails["old, unsent"], mails["recent"]}
    inbox = (await people.parent.get(f"/api/v1/schools/{journal.slug}/notifications/inbox")).json()
    assert len(inbox) == 2  # the recent one and the one still waiting for its letter
