"""At once (R-DRY-2) without asking: an open diary's event stream says `changed` when the teacher's save is
committed — woken through Redis, or by its own re-read every second while Redis is out of reach — and says
nothing to whoever may not read that diary."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy import select

from services.db import Database
from services.diary import live, service
from services.diary.live import DiaryBus
from services.grading.models import WorkKind
from services.journal.models import Mark
from tests.conftest import school_writes
from tests.journal.conftest import Clients, JournalSchool
from tests.notifications.conftest import free_port


def events_url(journal: JournalSchool, student_id: int) -> str:
    return f"/api/v1/schools/{journal.slug}/diary/students/{student_id}/changes?week={journal.today}"


@asynccontextmanager
async def stream(client: httpx.AsyncClient, url: str) -> AsyncIterator[AsyncIterator[tuple[str, str]]]:
    """The (event, data) pairs of a server-sent event stream, comments skipped."""
    async with client.stream("GET", url, headers={"Accept": "text/event-stream"}, timeout=30) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")

        async def events() -> AsyncIterator[tuple[str, str]]:
            name, data = "message", ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    data = line.split(":", 1)[1].strip()
                elif line == "" and data:
                    yield name, data
                    name, data = "message", ""

        yield events()


async def next_event(events: AsyncIterator[tuple[str, str]], within: float) -> tuple[str, str]:
    return await asyncio.wait_for(anext(events), within)


async def test_the_stream_says_changed_as_soon_as_the_teacher_saves(journal: JournalSchool, people: Clients) -> None:
    a, b = journal.students[0], journal.students[1]
    version_url = f"/api/v1/schools/{journal.slug}/diary/students/{a}/version?week={journal.today}"
    async with stream(people.parent, events_url(journal, a)) as events:
        ready = await next_event(events, 5)
        assert ready == ("ready", (await people.parent.get(version_url)).json()["version"])

        # Another student's mark does not concern this diary; this student's does, at once.
        other = await people.teacher.put(journal.api(f"/lessons/{journal.lessons['today']}/cells/{b}"),
                                         json={"text": "4"})
        assert other.status_code == 200, other.text
        started = time.monotonic()
        saved = await people.teacher.put(journal.api(f"/lessons/{journal.lessons['today']}/cells/{a}"),
                                         json={"text": "5"})
        assert saved.status_code == 200, saved.text
        name, version = await next_event(events, 5)
        took = time.monotonic() - started
        print(f"the stream said changed {took * 1000:.0f} ms after the save began")
        assert name == "changed"
        assert version == (await people.parent.get(version_url)).json()["version"] != ready[1]
        assert took < 1.0, "woken by the announcement, not by the 30-second re-read"

        # A topic concerns the whole class: every open diary of it hears of it.
        topic = await people.teacher.put(journal.api(f"/lessons/{journal.lessons['today']}"),
                                         json={"topic": "Сложение дробей"})
        assert topic.status_code == 200, topic.text
        assert (await next_event(events, 5))[0] == "changed"


async def test_only_those_who_may_read_the_diary_get_its_stream(journal: JournalSchool, people: Clients) -> None:
    a, b = journal.students[0], journal.students[1]
    refused = await people.parent.get(events_url(journal, b))  # not their child
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/out-of-scope"
    assert (await people.teacher.get(events_url(journal, a))).status_code == 403  # a subject teacher


async def test_with_redis_out_of_reach_an_open_diary_still_hears_within_a_second_or_two(
        db: Database, journal: JournalSchool) -> None:
    """The bus can't subscribe (nothing listens on its port): the stream re-reads the week every second."""
    bus = DiaryBus(f"redis://127.0.0.1:{free_port()}/0", "nowhere")
    bus.start()
    a = journal.students[0]
    try:
        async with school_writes(db, journal.school.schema) as s:
            first = await service.week_version(s, a, service.week_start(journal.today))
        events = live.changes(bus, db, schema=journal.school.schema, school_id=journal.school.id, student_id=a,
                              monday=service.week_start(journal.today), version=first)
        assert (await anext(events)).event == "ready"
        assert not bus.connected
        async with school_writes(db, journal.school.schema) as s:
            oral = await s.scalar(select(WorkKind.id).where(WorkKind.name == "Устный ответ"))
            s.add(Mark(lesson_id=journal.lessons["today"], student_id=a, value="5", work_kind_id=oral,
                       author_id=journal.teacher))
        started = time.monotonic()
        while True:
            message = await asyncio.wait_for(anext(events), 5)
            if message.event == "changed":
                break
        assert time.monotonic() - started < 2.5
        await events.aclose()
    finally:
        await bus.stop()
