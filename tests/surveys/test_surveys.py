"""Surveys through the served app (R-COM-3): the audience, one answer per person, results and charts, anonymity."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.messages.conftest import MailClients, MailSchool

HTML = {"accept": "text/html"}


def today() -> str:
    return datetime.now(ZoneInfo("Europe/Moscow")).date().isoformat()


def survey_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Школьное питание", "opens_on": today(), "closes_on": today(), "roles": ["parent"],
        "questions": [
            {"text": "Нравится ли ребёнку питание?", "kind": "single", "options": ["Да", "Нет"], "required": True},
            {"text": "Что добавить в меню?", "kind": "multiple", "options": ["Фрукты", "Выпечку", "Салаты"]},
            {"text": "Ваши пожелания", "kind": "text"},
        ],
    }
    body.update(changes)
    return body


async def create(http: httpx.AsyncClient, mail: MailSchool, **changes: Any) -> dict[str, Any]:
    response = await http.post(mail.surveys("/"), json=survey_body(**changes))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def answers(survey: dict[str, Any], single: int, multiple: list[int], text: str | None) -> dict[str, Any]:
    q = survey["questions"]
    return {"answers": [
        {"question_id": q[0]["id"], "option_ids": [q[0]["options"][single]["id"]]},
        {"question_id": q[1]["id"], "option_ids": [q[1]["options"][i]["id"] for i in multiple]},
        {"question_id": q[2]["id"], "text": text},
    ]}


async def test_the_audience_answers_once_and_the_author_sees_results(mail: MailSchool, people: MailClients) -> None:
    survey = await create(people.deputy, mail, class_ids=[mail.five_a])
    url = mail.surveys(f"/{survey['id']}")
    # The parents of 5А are the audience; 6Б's parents, students and teachers are not.
    listed = (await people.parent.get(mail.surveys("/"))).json()
    assert [(x["id"], x["in_audience"], x["is_open"]) for x in listed] == [(survey["id"], True, True)]
    assert (await people.six_b_parent.get(mail.surveys("/"))).json() == []
    for outsider in (people.six_b_parent, people.student, people.left_parent):
        response = await outsider.get(url)
        assert response.status_code == 403
        assert response.json()["type"] == "/problems/out-of-scope"
        refused = await outsider.post(f"{url}/responses", json=answers(survey, 0, [], None))
        assert refused.status_code == 403
    # A teacher holds surveys.answer but is not in a parents' survey; as a surveys.manage holder she may look.
    assert (await people.class_teacher.post(f"{url}/responses", json=answers(survey, 0, [], None))).status_code == 403

    first = await people.parent.post(f"{url}/responses", json=answers(survey, 0, [0, 2], "Больше овощей"))
    assert first.status_code == 201, first.text
    again = await people.parent.post(f"{url}/responses", json=answers(survey, 1, [], None))
    assert again.status_code == 409
    assert again.json()["detail"] == "Вы уже ответили на этот опрос: ответить можно только один раз."
    second = await people.other_parent.post(f"{url}/responses", json=answers(survey, 1, [0], "Компот"))
    assert second.status_code == 201

    results = (await people.deputy.get(f"{url}/results")).json()
    assert results["respondents"] == 2
    single, multiple, text = results["questions"]
    assert [(o["text"], o["count"], o["percent"]) for o in single["options"]] == [("Да", 1, 50.0), ("Нет", 1, 50.0)]
    assert [(o["text"], o["count"], o["percent"]) for o in multiple["options"]] == [
        ("Фрукты", 2, 100.0), ("Выпечку", 0, 0.0), ("Салаты", 1, 50.0)]
    # Not anonymous: the author sees who wrote what; another manager sees the texts without names.
    assert sorted((t["name"], t["text"]) for t in text["texts"]) == [
        ("Алексеева Р.", "Больше овощей"), ("Борисов Р.", "Компот")]
    other = (await people.other_teacher.get(f"{url}/results")).json()
    assert sorted((t["name"], t["text"]) for t in other["questions"][2]["texts"]) == [
        (None, "Больше овощей"), (None, "Компот")]
    assert (await people.parent.get(f"{url}/results")).status_code == 403

    page = await people.deputy.get(f"/s/{mail.slug}/surveys/{survey['id']}/results", headers=HTML)
    assert page.status_code == 200
    assert page.text.count("<svg") == 2
    assert 'class="bar"' in page.text
    assert "50,0 %" in page.text
    assert "Больше овощей" in page.text


async def test_an_anonymous_survey_shows_no_names_even_to_its_author(mail: MailSchool, people: MailClients) -> None:
    survey = await create(people.deputy, mail, anonymous=True, roles=["parent", "student"])
    url = mail.surveys(f"/{survey['id']}")
    for who in (people.parent, people.student, people.six_b_parent):
        assert (await who.post(f"{url}/responses", json=answers(survey, 0, [], "Секрет"))).status_code == 201
    results = (await people.deputy.get(f"{url}/results")).json()
    assert results["respondents"] == 3
    assert [t["name"] for t in results["questions"][2]["texts"]] == [None, None, None]
    page = await people.deputy.get(f"/s/{mail.slug}/surveys/{survey['id']}/results", headers=HTML)
    assert "Алексеева" not in page.text
    assert "анонимный опрос" in page.text


async def test_survey_rules(mail: MailSchool, people: MailClients) -> None:
    # Families never create surveys; answers outside the dates and broken answers are refused.
    assert (await people.parent.post(mail.surveys("/"), json=survey_body())).status_code == 403
    bad = await people.deputy.post(mail.surveys("/"), json=survey_body(
        roles=[], closes_on="2000-01-01", questions=[{"text": "Один вариант?", "kind": "single", "options": ["Да"]}]))
    assert bad.status_code == 422
    assert set(bad.json()["messages"]) == {"Дата окончания опроса раньше даты начала.",
                                           "Выберите, кому адресован опрос: роли и/или классы.",
                                           "Вопрос 1: нужно хотя бы два варианта ответа."}
    tomorrow = (datetime.now(ZoneInfo("Europe/Moscow")).date() + timedelta(days=1)).isoformat()
    later = await create(people.class_teacher, mail, opens_on=tomorrow, closes_on=tomorrow)
    refused = await people.parent.post(mail.surveys(f"/{later['id']}/responses"), json=answers(later, 0, [], None))
    assert refused.status_code == 422
    assert "откроется" in refused.json()["detail"]
    survey = await create(people.class_teacher, mail)
    q = survey["questions"]
    two = {"answers": [{"question_id": q[0]["id"], "option_ids": [o["id"] for o in q[0]["options"]]}]}
    refused = await people.parent.post(mail.surveys(f"/{survey['id']}/responses"), json=two)
    assert refused.status_code == 422
    assert "выберите один вариант" in refused.json()["detail"]
    missing = {"answers": [{"question_id": q[2]["id"], "text": "Только текст"}]}
    refused = await people.parent.post(mail.surveys(f"/{survey['id']}/responses"), json=missing)
    assert refused.status_code == 422
    assert "обязательный" in refused.json()["detail"]


async def test_survey_pages(mail: MailSchool, people: MailClients) -> None:
    created = await people.deputy.post(f"/s/{mail.slug}/surveys/new", headers=HTML, data={
        "title": "Кружки", "opens_on": today(), "closes_on": today(), "roles": ["student"],
        "class_ids": [str(mail.five_a)],
        "questions": "Какой кружок выбрать? *\n- Шахматы\n- Робототехника\nЧто ещё? [текст]"})
    assert created.status_code == 303, created.text
    survey_url = created.headers["location"].split("?")[0]
    page = await people.student.get(survey_url, headers=HTML)
    assert page.status_code == 200
    assert "Робототехника" in page.text
    assert 'type="radio"' in page.text
    survey = (await people.student.get(mail.surveys("/" + survey_url.rsplit("/", 1)[1]))).json()
    option = survey["questions"][0]["options"][1]["id"]
    answered = await people.student.post(survey_url, headers=HTML, data={
        f"q{survey['questions'][0]['id']}": str(option), f"q{survey['questions'][1]['id']}": "Театр"})
    assert answered.status_code == 303
    page = await people.student.get(survey_url, headers=HTML)
    assert "Вы уже ответили" in page.text
    listing = await people.student.get(f"/s/{mail.slug}/surveys", headers=HTML)
    assert "вы ответили" in listing.text
    refused = await people.deputy.post(f"/s/{mail.slug}/surveys/new", headers=HTML, data={
        "title": "", "opens_on": today(), "closes_on": today(), "questions": "- вариант без вопроса"})
    assert refused.status_code == 422
    assert "Вариант ответа указан до первого вопроса" in refused.text
    results = await people.deputy.get(survey_url + "/results", headers=HTML)
    assert results.status_code == 200
    assert "100,0 %" in results.text
    assert "Театр" in results.text
