"""School mail through the served app (R-COM-1): a teacher and a parent write to each other, read marks,
attachments in S3, who may write to whom, who may read what, and announcements to the parents of a class."""

from __future__ import annotations

from typing import Any

import httpx

from services.db import Database
from services.files.storage import FileStorage
from services.messages.service import recipients_of
from tests.conftest import school_writes
from tests.messages.conftest import MailClients, MailSchool

PDF = b"%PDF-1.4\n% test attachment\n"


async def send(http: httpx.AsyncClient, mail: MailSchool, to: list[int], *, subject: str = "Контрольная работа",
               body: str = "Добрый день! Завтра контрольная.", files: list[Any] | None = None) -> httpx.Response:
    return await http.post(mail.api("/threads"), data={"to": ",".join(map(str, to)), "subject": subject,
                                                       "body": body}, files=files or [("files", ("", b"", ""))])


async def test_a_teacher_writes_to_a_parent_and_the_parent_replies(mail: MailSchool, people: MailClients,
                                                                   storage: FileStorage) -> None:
    sent = await send(people.class_teacher, mail, [mail.parents[0]],
                      files=[("files", ("план занятий.pdf", PDF, "application/pdf"))])
    assert sent.status_code == 201, sent.text
    thread_id = sent.json()["thread_id"]
    assert sent.json()["recipients"] == 1

    inbox = (await people.parent.get(mail.api("/threads"))).json()
    assert inbox["unread"] == 1
    assert [(t["id"], t["unread"], t["subject"]) for t in inbox["threads"]] == [(thread_id, 1, "Контрольная работа")]
    assert inbox["threads"][0]["people"] == ["Иванова Т."]

    thread = (await people.parent.get(mail.api(f"/threads/{thread_id}"))).json()
    assert thread["can_reply"] is True
    [message] = thread["messages"]
    assert message["body"] == "Добрый день! Завтра контрольная."
    [attachment] = message["attachments"]
    assert attachment["filename"] == "план занятий.pdf"
    download = await people.parent.get(attachment["url"])
    assert download.status_code == 200
    assert download.content == PDF
    assert "attachment;" in download.headers["content-disposition"]

    # Read marks: the teacher sees the parent has not read it, then has.
    before = (await people.class_teacher.get(mail.api(f"/threads/{thread_id}"))).json()
    assert before["messages"][0]["recipients"] == [{"name": "Алексеева Р.", "read_at": None}]
    marked = await people.parent.post(mail.api(f"/threads/{thread_id}/read"))
    assert marked.status_code == 200
    assert marked.json() == {"marked": 1}
    assert (await people.parent.get(mail.api("/threads"))).json()["unread"] == 0
    after = (await people.class_teacher.get(mail.api(f"/threads/{thread_id}"))).json()
    assert after["messages"][0]["recipients"][0]["read_at"] is not None

    reply = await people.parent.post(mail.api(f"/threads/{thread_id}/messages"),
                                     data={"body": "Спасибо, подготовимся."}, files=[("files", ("", b"", ""))])
    assert reply.status_code == 201, reply.text
    assert reply.json()["recipients"] == 1
    teacher_inbox = (await people.class_teacher.get(mail.api("/threads"))).json()
    assert teacher_inbox["unread"] == 1
    thread = (await people.class_teacher.get(mail.api(f"/threads/{thread_id}"))).json()
    assert [m["body"] for m in thread["messages"]] == ["Добрый день! Завтра контрольная.", "Спасибо, подготовимся."]


async def test_recipients_are_fixed_for_notifications(db: Database, mail: MailSchool, people: MailClients) -> None:
    sent = await send(people.deputy, mail, [mail.parents[0], mail.parents[3], mail.class_teacher])
    assert sent.status_code == 201, sent.text
    async with school_writes(db, mail.school.schema) as session:
        assert await recipients_of(session, sent.json()["message_id"]) == sorted(
            [mail.parents[0], mail.parents[3], mail.class_teacher])


async def test_a_parent_cannot_write_to_another_parent_or_a_student(mail: MailSchool, people: MailClients) -> None:
    for to in ([mail.parents[1]], [mail.students[1]], [mail.class_teacher, mail.parents[1]]):
        refused = await send(people.parent, mail, to)
        assert refused.status_code == 403, refused.text
        assert refused.json()["type"] == "/problems/mail-recipient"
        assert "пишут только сотрудникам" in refused.json()["detail"]
    assert (await people.other_parent.get(mail.api("/threads"))).json()["threads"] == []
    # To a teacher they may.
    assert (await send(people.parent, mail, [mail.class_teacher])).status_code == 201
    contacts = (await people.parent.get(mail.api("/recipients"))).json()
    assert {c["kind"] for c in contacts} == {"staff"}


async def test_a_teacher_reaches_only_the_families_of_their_classes(mail: MailSchool, people: MailClients) -> None:
    # Петров teaches nothing: no students or parents for him.
    refused = await send(people.other_teacher, mail, [mail.parents[0]])
    assert refused.status_code == 403
    assert "своих классов" in refused.json()["detail"]
    contacts = (await people.other_teacher.get(mail.api("/recipients"))).json()
    assert {c["kind"] for c in contacts} == {"staff"}
    # But he answers a parent who wrote to him.
    asked = await send(people.parent, mail, [mail.other_teacher], subject="Вопрос", body="Можно вопрос?")
    answered = await people.other_teacher.post(mail.api(f"/threads/{asked.json()['thread_id']}/messages"),
                                               data={"body": "Да, конечно."}, files=[("files", ("", b"", ""))])
    assert answered.status_code == 201, answered.text
    # The deputy head (people.read) reaches every family.
    kinds = {c["id"]: c["kind"] for c in (await people.deputy.get(mail.api("/recipients"))).json()}
    assert mail.parents[3] in kinds
    assert mail.students[3] in kinds


async def test_nobody_reads_a_thread_they_are_not_in(mail: MailSchool, people: MailClients,
                                                     storage: FileStorage) -> None:
    sent = await send(people.class_teacher, mail, [mail.parents[0]],
                      files=[("files", ("оценки.pdf", PDF, "application/pdf"))])
    thread_id = sent.json()["thread_id"]
    attachment = (await people.parent.get(mail.api(f"/threads/{thread_id}"))).json()["messages"][0]["attachments"][0]
    for outsider in (people.student, people.other_parent, people.other_teacher):
        response = await outsider.get(mail.api(f"/threads/{thread_id}"))
        assert response.status_code == 403
        assert response.json()["type"] == "/problems/out-of-scope"
        assert (await outsider.get(attachment["url"])).status_code == 403
        answer = await outsider.post(mail.api(f"/threads/{thread_id}/messages"), data={"body": "Привет"},
                                     files=[("files", ("", b"", ""))])
        assert answer.status_code == 403
        assert (await outsider.post(mail.api(f"/threads/{thread_id}/read"))).status_code == 403
    page = await people.student.get(f"/s/{mail.slug}/messages/threads/{thread_id}", headers={"accept": "text/html"})
    assert page.status_code == 403
    assert (await people.student.get(mail.api("/threads/999999"))).status_code == 404


async def test_a_bad_attachment_sends_nothing(mail: MailSchool, people: MailClients, storage: FileStorage) -> None:
    refused = await send(people.class_teacher, mail, [mail.parents[0]],
                         files=[("files", ("ok.pdf", PDF, "application/pdf")),
                                ("files", ("virus.exe", b"MZ", "application/octet-stream"))])
    assert refused.status_code == 422
    assert "virus.exe" in refused.json()["detail"]
    assert (await people.parent.get(mail.api("/threads"))).json()["threads"] == []
    assert (await people.class_teacher.get(mail.api("/threads"))).json()["threads"] == []


async def test_a_class_teacher_announcement_reaches_every_parent_of_the_class_and_nobody_else(
        mail: MailSchool, people: MailClients) -> None:
    classes = (await people.class_teacher.get(mail.api("/announcements/classes"))).json()
    assert classes == [{"id": mail.five_a, "name": "5А"}]
    sent = await people.class_teacher.post(mail.api("/announcements"), data={
        "class_unit_id": str(mail.five_a), "subject": "Родительское собрание", "body": "В четверг в 18:00."},
        files=[("files", ("", b"", ""))])
    assert sent.status_code == 201, sent.text
    assert sent.json()["recipients"] == 2
    thread_id = sent.json()["thread_id"]
    for reached in (people.parent, people.other_parent):
        inbox = (await reached.get(mail.api("/threads"))).json()
        assert [(t["id"], t["kind"], t["unread"]) for t in inbox["threads"]] == [(thread_id, "announcement", 1)]
        assert inbox["threads"][0]["people"] == ["Иванова Т."]
    for missed in (people.six_b_parent, people.left_parent, people.student, people.other_teacher):
        assert (await missed.get(mail.api("/threads"))).json()["threads"] == []

    # A parent's reply reaches the teacher only; the other parent never sees it.
    reply = await people.parent.post(mail.api(f"/threads/{thread_id}/messages"), data={"body": "Придём."},
                                     files=[("files", ("", b"", ""))])
    assert reply.status_code == 201
    assert reply.json()["recipients"] == 1
    other = (await people.other_parent.get(mail.api(f"/threads/{thread_id}"))).json()
    assert [m["body"] for m in other["messages"]] == ["В четверг в 18:00."]
    assert other["people"] == ["Иванова Т."]
    teacher = (await people.class_teacher.get(mail.api(f"/threads/{thread_id}"))).json()
    assert [m["body"] for m in teacher["messages"]] == ["В четверг в 18:00.", "Придём."]
    assert len(teacher["messages"][0]["recipients"]) == 2


async def test_announcements_only_by_the_class_teacher_or_the_administration(
        mail: MailSchool, people: MailClients) -> None:
    data = {"class_unit_id": str(mail.six_b), "subject": "Экскурсия", "body": "В пятницу."}
    empty = [("files", ("", b"", ""))]
    refused = await people.class_teacher.post(mail.api("/announcements"), data=data, files=empty)
    assert refused.status_code == 403
    assert "классный руководитель" in refused.json()["detail"]
    # A subject teacher holds no messages.announce; a parent neither.
    assert (await people.other_teacher.post(mail.api("/announcements"), data=data, files=empty)).status_code == 403
    assert (await people.parent.post(mail.api("/announcements"), data=data, files=empty)).status_code == 403
    deputy = await people.deputy.post(mail.api("/announcements"), data=data, files=empty)
    assert deputy.status_code == 201, deputy.text
    assert deputy.json()["recipients"] == 1
    assert len((await people.six_b_parent.get(mail.api("/threads"))).json()["threads"]) == 1


async def test_announcing_to_any_class_is_a_permission_the_school_may_move(
        db: Database, mail: MailSchool, people: MailClients) -> None:
    """`messages.announce_all` is school data: taken from the deputy head, they reach no class (they lead none);
    given to class teachers, the 5А class teacher reaches 6Б."""
    from sqlalchemy import select

    from services import audit
    from services.identity.models import RolePermission

    data = {"class_unit_id": str(mail.six_b), "subject": "Собрание", "body": "В среду."}
    empty = [("files", ("", b"", ""))]
    async with school_writes(db, mail.school.schema) as s:
        grant = await s.scalar(select(RolePermission).where(RolePermission.role == "deputy_head",
                                                            RolePermission.permission == "messages.announce_all"))
        assert grant is not None
        await s.delete(grant)
        await audit.insert_rows(s, RolePermission, [{"role": "class_teacher", "permission": "messages.announce_all"}])
    assert (await people.deputy.get(mail.api("/announcements/classes"))).json() == []
    assert (await people.deputy.post(mail.api("/announcements"), data=data, files=empty)).status_code == 403
    classes = (await people.class_teacher.get(mail.api("/announcements/classes"))).json()
    assert {c["id"] for c in classes} >= {mail.five_a, mail.six_b}
    sent = await people.class_teacher.post(mail.api("/announcements"), data=data, files=empty)
    assert sent.status_code == 201, sent.text


async def test_mail_pages(mail: MailSchool, people: MailClients) -> None:
    html = {"accept": "text/html"}
    compose = await people.class_teacher.get(f"/s/{mail.slug}/messages/new", headers=html)
    assert compose.status_code == 200
    assert "Алексеева Р" in compose.text
    assert "Гришина Р" in compose.text
    sent = await people.class_teacher.post(f"/s/{mail.slug}/messages/new", data={
        "to": str(mail.parents[0]), "subject": "Пропуски", "body": "Прошу зайти."},
        files=[("files", ("", b"", ""))], headers=html)
    assert sent.status_code == 303, sent.text
    thread_url = sent.headers["location"].split("?")[0]
    inbox = await people.parent.get(f"/s/{mail.slug}/messages", headers=html)
    assert inbox.status_code == 200
    assert "Пропуски" in inbox.text
    assert "непрочитанных: 1" in inbox.text
    page = await people.parent.get(thread_url, headers=html)
    assert page.status_code == 200
    assert "Прошу зайти." in page.text
    inbox = await people.parent.get(f"/s/{mail.slug}/messages", headers=html)
    assert "непрочитанных" not in inbox.text  # opening the thread marked it read

    refused = await people.parent.post(f"/s/{mail.slug}/messages/new", data={
        "to": str(mail.parents[1]), "subject": "Вопрос", "body": "Здравствуйте"},
        files=[("files", ("", b"", ""))], headers=html)
    assert refused.status_code == 403
    assert "пишут только сотрудникам" in refused.text

    reply = await people.parent.post(thread_url, data={"body": "Зайду в среду."}, files=[("files", ("", b"", ""))],
                                     headers=html)
    assert reply.status_code == 303
    announce = await people.class_teacher.get(f"/s/{mail.slug}/messages/announce", headers=html)
    assert announce.status_code == 200
    assert "5А (родителей: 2)" in announce.text
