"""How fast the journal answers a class of teachers at once: the journal page, one mark, a class's attendance;
and what an open diary's polling costs.

    .venv/bin/python -m loadtests.journal_bench [--teachers 50] [--seconds 20] [--workers 1 2] [--profile]

Builds one school: the academic year with its quarters, `--teachers` teachers each with a class of 30 students
(grades 5–9) and a maths load of 6 lessons a week (Monday to Saturday) over the current quarter, and a lived-in
past: topics, homework, attendance taken with a few absences, three marks per student. Everything is written in
bulk through `audit.insert_rows`, so every row is audited as the app's own writes are. Then it serves the real
app (`services.app.create_app`) with uvicorn in a subprocess (`uvicorn --factory`, 1 and then 2 worker
processes by default), signs in one account per teacher through POST /login, and runs one HTTP client per teacher
(httpx.AsyncClient, keep-alive) for each scenario in turn:

  grid        GET  …/journal/loads/{load}/grid?period_id=…       the journal page of the class for the quarter
  mark        PUT  …/journal/lessons/{lesson}/cells/{student}    «5» / «4» alternating, a lesson of today (or the
                                                                 last one held), students in turn
  attendance  PUT  …/journal/lessons/{lesson}/attendance         30 entries, 3 absent with reasons, the absent
                                                                 ones move on each request so rows change
  diary       GET  …/diary/students/{student}/version?week=…     the fingerprint an open diary asks for every
                                                                 second (R-DRY-2); here asked by the class
                                                                 teacher, students in turn

Per scenario it prints requests, errors (non-2xx, with the first error body), p50/p95/p99 latency and requests
per second. The load generator runs on the same machine as the server and PostgreSQL and shares its cores.

Uses DATABASE_URL / REDIS_URL when set (a scratch database is created on that server and dropped; Redis keys go
under a namespace of their own and are removed), else embedded PostgreSQL and Redis in a temporary folder.

`--profile` also serves with statement accounting in every server process (SQLAlchemy cursor events): how many
SQL statements each kind of request runs, the slowest statements by total time, and a cProfile of the server
(top functions by cumulative time), from one extra single-client pass so the timings are not queueing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import cProfile
import io
import json
import os
import pstats
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

from services import (
    all_models,  # noqa: F401 - every table known before the first flush
    audit,
)
from services.calendar import service as calendar
from services.config import load_settings
from services.db import Database, create_engine
from services.grading.models import WorkKind
from services.identity.models import Account, Membership
from services.identity.passwords import hash_password
from services.journal.models import Attendance, LessonRecord, Mark
from services.region.service import add_region_with_municipality
from services.structure.models import ClassUnit, Enrollment, Person, Subject, TeachingLoad
from services.timetable.models import Lesson
from tenants.migrate import migrate_platform
from tenants.provisioning import create_school

SCHOOL_TZ = "Europe/Moscow"
STUDENTS = 30
PASSWORD = "bench-пароль-2026"
LETTERS = "АБВГДЕЖЗИК"
REASONS = ("illness", "excused", "unexcused")
WEEKDAYS = (1, 2, 3, 4, 5, 6)  # a six-day week: ~45 lesson dates in a quarter
MARKS_PER_STUDENT = 3


# --- the served app: `uvicorn --factory loadtests.journal_bench:bench_app` -----------------------------------

_request_stats: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("bench_request", default=None)


def bench_app() -> Any:
    """The real app; with BENCH_STATS_DIR set, wrapped to count SQL statements per request and profile the
    process (written to that folder when the worker exits)."""
    from services.app import create_app

    app = create_app()
    folder = os.environ.get("BENCH_STATS_DIR")
    if not folder:
        return app
    return _instrumented(app, Path(folder))


def _route_of(scope: dict[str, Any]) -> str:
    path = re.sub(r"/\d+", "/{id}", scope["path"])
    return f"{scope['method']} {path}"


def _instrumented(app: Any, folder: Path) -> Any:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    per_route: dict[str, list[tuple[float, float, float]]] = defaultdict(list)  # (statements, sql s, total s)
    per_statement: dict[str, list[float]] = defaultdict(list)
    profiler = cProfile.Profile()

    @event.listens_for(Engine, "before_cursor_execute")
    def _before(conn: Any, *_: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    @event.listens_for(Engine, "after_cursor_execute")
    def _after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        took = time.perf_counter() - conn.info["bench_started"].pop()
        key = re.sub(r'"school_\d+"\.', "", " ".join(statement.split()))
        per_statement[key].append(took)
        stats = _request_stats.get()
        if stats is not None:
            stats[0] += 1.0
            stats[1] += took

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            # uvicorn ends its process by re-raising SIGTERM (no atexit): write the figures at shutdown.
            async def send_after_dump(message: dict[str, Any]) -> None:
                if message["type"] == "lifespan.shutdown.complete":
                    dump()
                await send(message)

            await app(scope, receive, send_after_dump)
            return
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        stats = [0.0, 0.0]
        token = _request_stats.set(stats)
        started = time.perf_counter()
        try:
            await app(scope, receive, send)
        finally:
            _request_stats.reset(token)
            per_route[_route_of(scope)].append((stats[0], stats[1], time.perf_counter() - started))

    def dump() -> None:
        profiler.disable()
        folder.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(str(folder / f"profile-{os.getpid()}.pstats"))
        (folder / f"sql-{os.getpid()}.json").write_text(json.dumps({"routes": per_route,
                                                                  "statements": per_statement}))

    profiler.enable()
    return wrapped


# --- the school ---------------------------------------------------------------------------------------------


@dataclass
class Teacher:
    person_id: int
    load_id: int
    students: list[int]
    mark_lesson: int
    attendance_lesson: int
    login: str = ""


@dataclass
class BenchSchool:
    slug: str
    period_id: int
    period: tuple[date, date]
    today: date
    lessons_per_load: int
    teachers: list[Teacher] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)


def _current_quarter(periods: list[Any], today: date) -> Any:
    quarters = sorted((p for p in periods if p.kind == "quarter" and p.grade_from <= 5 <= p.grade_to),
                      key=lambda p: p.start_date)
    current = next((p for p in quarters if p.start_date <= today <= p.end_date), None)
    started = [p for p in quarters if p.start_date <= today]
    return current or (started[-1] if started else quarters[0])


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, dt_time(hour, 0), zoneinfo.ZoneInfo(SCHOOL_TZ))


def _past(school: BenchSchool, *, by_load: dict[int, list[dict[str, Any]]], loads: list[int], staff: list[int],
          pupils: list[int], kinds: list[int], rng: random.Random) -> tuple[list[dict[str, Any]], ...]:
    """The lived-in past: every lesson held before the two the benchmark writes to has its topic, homework and
    attendance (two absent); three marks per student spread over them. Fills `school.teachers`."""
    records, absences, marks = [], [], []
    for t, load in enumerate(loads):
        held = [r for r in by_load[load] if r["on_date"] <= school.today]
        if len(held) < 3:
            raise SystemExit(f"the quarter {school.period[0]}–{school.period[1]} has fewer than 3 lessons by "
                             f"{school.today}: the benchmark needs lessons held to write to")
        mark_lesson, attendance_lesson, past = held[-1], held[-2], held[:-2]
        students = pupils[t * STUDENTS:(t + 1) * STUDENTS]
        school.teachers.append(Teacher(staff[t], load, students, mark_lesson["id"], attendance_lesson["id"]))
        for n, lesson in enumerate(past, 1):
            at = _at(lesson["on_date"], 15)
            records.append({"lesson_id": lesson["id"], "topic": f"Тема {n}. Дроби: урок {n}",
                            "homework": f"№ {100 + n}, {101 + n}", "no_homework": False, "attendance_taken": True,
                            "author_id": staff[t], "homework_set_at": at, "updated_at": at})
            for student in rng.sample(students, 2):
                absences.append({"lesson_id": lesson["id"], "student_id": student, "status": "absent",
                                 "reason": rng.choice(REASONS), "author_id": staff[t], "updated_at": at})
        for student in students:
            for lesson in rng.sample(past, min(MARKS_PER_STUDENT, len(past))):
                marks.append({"lesson_id": lesson["id"], "student_id": student, "work_kind_id": rng.choice(kinds),
                              "value": rng.choice("5544432"), "author_id": staff[t],
                              "created_at": _at(lesson["on_date"], 15)})
    return records, absences, marks


async def build_school(database_url: str, redis_url: str, teachers: int) -> BenchSchool:
    audit.install()
    settings = load_settings({"DATABASE_URL": database_url, "REDIS_URL": redis_url})
    db = Database(create_engine(settings, application_name="bench-setup"))
    rng = random.Random(2026)
    try:
        await migrate_platform(db)
        async with db.transaction() as session:
            _, municipality = await add_region_with_municipality(
                session, code=f"J{uuid.uuid4().hex[:6]}", name="Нагрузочная область", municipality="Нагрузочный район")
        slug = f"jbench-{uuid.uuid4().hex[:6]}"
        school = await create_school(db, municipality_id=municipality.id, slug=slug, name="Школа нагрузки",
                                     time_zone=SCHOOL_TZ, actor="bench")
        today = datetime.now(zoneinfo.ZoneInfo(SCHOOL_TZ)).date()
        async with db.transaction(school.schema) as s:
            audit.set_actor(s, audit.Actor.system("bench"))
            name, start, end = calendar.default_year_dates(today.year if today.month >= 9 else today.year - 1)
            year = await calendar.create_year(s, name, start, end)
            quarter = _current_quarter(await calendar.add_standard_layout(s, year.id, "quarters"), today)
            maths = await s.scalar(select(Subject.id).where(Subject.name == "Математика"))
            kinds = list((await s.execute(select(WorkKind.id).where(WorkKind.active))).scalars())
            assert maths is not None
            assert kinds

            async def people(rows: list[dict[str, Any]]) -> list[int]:
                return [r["id"] for r in await audit.insert_rows(s, Person, rows)]

            staff = await people([{"kind": "staff", "last_name": f"Учитель{n}", "first_name": "Мария",
                                   "middle_name": "Ивановна"} for n in range(teachers)])
            classes = [r["id"] for r in await audit.insert_rows(s, ClassUnit, [
                {"grade": 5 + n // len(LETTERS) % 5, "letter": LETTERS[n % len(LETTERS)] + ("" if n < 50 else str(n)),
                 "class_teacher_id": staff[n]} for n in range(teachers)])]
            pupils = await people([{"kind": "student", "last_name": f"Ученик{n}", "first_name": "Иван",
                                    "birth_date": date(2014, 1, 1) + timedelta(days=n % 365)}
                                   for n in range(teachers * STUDENTS)])
            await audit.insert_rows(s, Enrollment, [
                {"student_id": pupils[t * STUDENTS + k], "class_unit_id": classes[t], "start_date": start}
                for t in range(teachers) for k in range(STUDENTS)])
            loads = [r["id"] for r in await audit.insert_rows(s, TeachingLoad, [
                {"academic_year_id": year.id, "teacher_id": staff[t], "subject_id": maths, "class_unit_id": classes[t],
                 "hours_per_week": len(WEEKDAYS)} for t in range(teachers)])]
            days = [quarter.start_date + timedelta(days=n)
                    for n in range((quarter.end_date - quarter.start_date).days + 1)]
            days = [d for d in days if d.isoweekday() in WEEKDAYS]
            lesson_rows = await audit.insert_rows(s, Lesson, [
                {"teaching_load_id": loads[t], "on_date": d, "lesson_number": 1 + (t + d.isoweekday()) % 6,
                 "teacher_id": staff[t], "room": str(200 + t), "status": "planned"}
                for t in range(teachers) for d in days])
            by_load: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for row in lesson_rows:
                by_load[row["teaching_load_id"]].append(row)

            result = BenchSchool(slug, quarter.id, (quarter.start_date, quarter.end_date), today, len(days))
            records, absences, marks = _past(result, by_load=by_load, loads=loads, staff=staff, pupils=pupils,
                                             kinds=kinds, rng=rng)
            await audit.insert_rows(s, LessonRecord, records)
            await audit.insert_rows(s, Attendance, absences)
            await audit.insert_rows(s, Mark, marks)
            result.rows = {"students": len(pupils), "lessons": len(lesson_rows), "lesson records": len(records),
                           "absences": len(absences), "marks": len(marks)}

        password_hash = await hash_password(PASSWORD)
        async with db.transaction() as session:
            for teacher in result.teachers:
                teacher.login = f"{slug}-t{teacher.person_id}"
                account_id = await session.scalar(insert(Account).values(
                    login=teacher.login, password_hash=password_hash, platform_roles=[]).returning(Account.id))
                await session.execute(insert(Membership).values(account_id=account_id, school_id=school.id,
                                                                roles=["teacher", "class_teacher"],
                                                                person_id=teacher.person_id))
        return result
    finally:
        await db.dispose()


# --- the server ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_server(environ: dict[str, str], workers: int, folder: Path, stats_dir: Path | None) -> Server:
    port = _free_port()
    env = {**os.environ, **environ, "JOURNAL_PORT": str(port), "JOURNAL_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "LOG_LEVEL": "WARNING"}
    env.pop("BENCH_STATS_DIR", None)
    if stats_dir is not None:
        env["BENCH_STATS_DIR"] = str(stats_dir)
    log = folder / f"uvicorn-{workers}-{port}.log"
    command = [sys.executable, "-m", "uvicorn", "loadtests.journal_bench:bench_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
               # behind a reverse proxy connections stay open; uvicorn's 5 s default would drop idle clients
               "--timeout-keep-alive", "75"]
    if workers > 1:
        command += ["--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True, cwd=Path(__file__).resolve().parent.parent)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/health/ready", timeout=2).status_code == 200:
                # Every worker answers once it is up: give the others a moment to finish their start.
                time.sleep(1.0 if workers > 1 else 0)
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"the server did not start within 60 s:\n{log.read_text()[-3000:]}")


# --- the clients --------------------------------------------------------------------------------------------


async def _csrf_header(request: httpx.Request) -> None:
    """The double-submit CSRF token: the cookie goes back as the header, as the pages' scripts do."""
    for part in request.headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "csrftoken":
            request.headers["x-csrftoken"] = value


async def sign_in(url: str, login: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=url, timeout=30, event_hooks={"request": [_csrf_header]},
                             limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
    await http.get("/login")
    response = await http.post("/login", data={"login": login, "password": PASSWORD})
    if response.status_code != 303:
        raise RuntimeError(f"login {login} failed: {response.status_code} {response.text[:300]}")
    return http


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    seconds: float = 0.0

    def line(self) -> str:
        done = len(self.latencies)
        if not done:
            return f"{self.name:<11} no requests"
        ordered = sorted(self.latencies)

        def q(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

        return (f"{self.name:<11} {done:>6} req  {self.errors:>4} err  p50 {q(0.50):6.1f}  p95 {q(0.95):6.1f}  "
                f"p99 {q(0.99):6.1f} ms  mean {statistics.mean(ordered) * 1000:6.1f} ms  "
                f"{done / self.seconds:7.1f} req/s")


Request = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


async def run_scenario(name: str, clients: list[httpx.AsyncClient], requests: list[Request],  # noqa: PLR0917
                       seconds: float, warmup: float, think: float) -> Result:
    result = Result(name)
    counters = [0] * len(clients)

    async def one(i: int, record: bool) -> None:
        started = time.perf_counter()
        try:
            response = await requests[i](clients[i], counters[i])
        except httpx.TransportError as exc:  # counted, not fatal: the figures say how many
            problem = f"{type(exc).__name__}: {exc}"
        else:
            problem = "" if 200 <= response.status_code < 300 else (
                f"{response.status_code} {response.request.method} {response.request.url.path}: {response.text[:500]}")
        took = time.perf_counter() - started
        counters[i] += 1
        if not record:
            return
        result.latencies.append(took)
        if problem:
            result.errors += 1
            result.first_error = result.first_error or problem

    pace = random.Random(len(clients))

    async def loop(i: int, until: float, record: bool) -> None:
        if think:  # teachers act independently: no synchronized burst at the start of a phase
            await asyncio.sleep(think * pace.uniform(0.0, 1.0))
        while time.perf_counter() < until:
            await one(i, record)
            if think:
                await asyncio.sleep(think * pace.uniform(0.5, 1.5))

    t0 = time.perf_counter()
    await asyncio.gather(*(loop(i, t0 + warmup, False) for i in range(len(clients))))
    t1 = time.perf_counter()
    await asyncio.gather(*(loop(i, t1 + seconds, True) for i in range(len(clients))))
    result.seconds = time.perf_counter() - t1
    return result


def scenarios(school: BenchSchool) -> dict[str, list[Request]]:
    api = f"/api/v1/schools/{school.slug}/journal"

    def grid(t: Teacher) -> Request:
        async def request(http: httpx.AsyncClient, n: int) -> httpx.Response:
            return await http.get(f"{api}/loads/{t.load_id}/grid", params={"period_id": school.period_id})
        return request

    def mark(t: Teacher) -> Request:
        async def request(http: httpx.AsyncClient, n: int) -> httpx.Response:
            student = t.students[n % len(t.students)]
            text = "5" if (n // len(t.students)) % 2 == 0 else "4"
            return await http.put(f"{api}/lessons/{t.mark_lesson}/cells/{student}", json={"text": text})
        return request

    def attendance(t: Teacher) -> Request:
        async def request(http: httpx.AsyncClient, n: int) -> httpx.Response:
            absent = {(n * 3 + k) % len(t.students): REASONS[k] for k in range(3)}
            entries = [{"student_id": s, "status": "absent", "reason": absent[k]} if k in absent else
                       {"student_id": s, "status": None} for k, s in enumerate(t.students)]
            return await http.put(f"{api}/lessons/{t.attendance_lesson}/attendance", json={"entries": entries})
        return request

    def diary(t: Teacher) -> Request:
        async def request(http: httpx.AsyncClient, n: int) -> httpx.Response:
            student = t.students[n % len(t.students)]
            return await http.get(f"/api/v1/schools/{school.slug}/diary/students/{student}/version",
                                  params={"week": school.today.isoformat()})
        return request

    return {"grid": [grid(t) for t in school.teachers], "mark": [mark(t) for t in school.teachers],
            "attendance": [attendance(t) for t in school.teachers], "diary": [diary(t) for t in school.teachers]}


async def measure(url: str, school: BenchSchool, seconds: float, warmup: float, clients_n: int,  # noqa: PLR0917
                  think: float = 0.0) -> list[Result]:
    teachers = school.teachers[:clients_n]
    clients = list(await asyncio.gather(*(sign_in(url, t.login) for t in teachers)))
    try:
        results = []
        for name, requests in scenarios(school).items():
            results.append(await run_scenario(name, clients, requests[:clients_n], seconds, warmup, think))
        return results
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


# --- the profile ------------------------------------------------------------------------------------------------


def print_profile(folder: Path) -> None:
    routes: dict[str, list[list[float]]] = defaultdict(list)
    statements: dict[str, list[float]] = defaultdict(list)
    for path in folder.glob("sql-*.json"):
        data = json.loads(path.read_text())
        for route, rows in data["routes"].items():
            routes[route] += rows
        for statement, times in data["statements"].items():
            statements[statement] += times
    print("\nper request (single client; server-side): statements, time in SQL, total")
    for route, rows in sorted(routes.items(), key=lambda kv: -len(kv[1])):
        if len(rows) < 5:
            continue
        counts = [r[0] for r in rows]
        print(f"  {route:<70} n={len(rows):<5} stmts {statistics.mean(counts):5.1f} "
              f"(min {min(counts)}, max {max(counts)})  sql {statistics.mean(r[1] for r in rows) * 1000:5.1f} ms  "
              f"total {statistics.mean(r[2] for r in rows) * 1000:5.1f} ms")
    print("\nstatements by total time (count, mean ms, total ms):")
    for statement, times in sorted(statements.items(), key=lambda kv: -sum(kv[1]))[:15]:
        print(f"  {len(times):>6} {statistics.mean(times) * 1000:6.2f} {sum(times) * 1000:8.0f}  {statement[:150]}")
    profiles = list(folder.glob("profile-*.pstats"))
    if profiles:
        out = io.StringIO()
        stats = pstats.Stats(*(str(p) for p in profiles), stream=out)
        stats.sort_stats("cumulative").print_stats(45)
        print("\ncProfile of the server process (cumulative):")
        print("\n".join(out.getvalue().splitlines()[:80]))


# --- main ---------------------------------------------------------------------------------------------------


async def _clear_redis(url: str, namespace: str) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    try:
        keys = [key async for key in redis.scan_iter(match=f"{namespace}:*", count=1000)]
        for n in range(0, len(keys), 500):
            await redis.delete(*keys[n:n + 500])
    finally:
        await redis.aclose()


def _load() -> str:
    """The 1-minute load average: other work on the machine shows up in the figures."""
    return f"{os.getloadavg()[0]:.1f}"


def bench(database_url: str, redis_url: str, args: argparse.Namespace, folder: Path) -> None:
    started = time.perf_counter()
    school = asyncio.run(build_school(database_url, redis_url, args.teachers))
    print(f"setup: {time.perf_counter() - started:.1f} s — 1 school, {args.teachers} teachers, "
          + ", ".join(f"{v} {k}" for k, v in school.rows.items()), flush=True)
    print(f"quarter {school.period[0]}–{school.period[1]}, {school.lessons_per_load} lessons per class; "
          f"school today {school.today}", flush=True)
    namespace = f"jbench-{uuid.uuid4().hex[:6]}"
    environ = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "REDIS_NAMESPACE": namespace,
               "JOURNAL_SECRET_KEY": secrets.token_hex(32), "JOURNAL_DATA_DIR": str(folder)}
    clients = min(args.clients or args.teachers, args.teachers)
    pacing = (f"each waits {args.think:g} s (±50 %) between requests" if args.think else
              "each sends its next request as soon as the last is answered (saturation: latency ≈ clients / "
              "throughput)")
    print(f"\ncores: {os.cpu_count()}; {clients} concurrent clients, {pacing}; {args.seconds:g} s per scenario "
          f"after {args.warmup:g} s warm-up; the load generator (this process, httpx) shares the cores with uvicorn "
          "and PostgreSQL, so the figures include its CPU time", flush=True)
    try:
        for workers in args.workers:
            server = start_server(environ, workers, folder, None)
            load_before = _load()
            try:
                results = asyncio.run(measure(server.url, school, args.seconds, args.warmup, clients, args.think))
            finally:
                server.stop()
            print(f"\nuvicorn --workers {workers} (load average before/after: {load_before} / {_load()}):")
            for result in results:
                print("  " + result.line())
                if result.first_error:
                    print(f"    first error: {result.first_error}")
            sys.stdout.flush()
        if args.profile:
            stats_dir = folder / "stats"
            server = start_server(environ, 1, folder, stats_dir)
            try:
                asyncio.run(measure(server.url, school, max(args.seconds / 2, 3), 1, 1))
            finally:
                server.stop()
            print_profile(stats_dir)
        print("\ntargets (this 2-core machine): mark p99 < 50 ms, grid (journal page) p99 < 150 ms")
    finally:
        asyncio.run(_clear_redis(redis_url, namespace))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teachers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3, help="seconds of load before measuring each scenario")
    parser.add_argument("--clients", type=int, default=0, help="concurrent clients (default: one per teacher)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds a client waits between requests (default 0: back to back)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="uvicorn worker processes to try")
    parser.add_argument("--profile", action="store_true", help="also count SQL per request and profile the server")
    args = parser.parse_args()

    from infra.local.embedded import quiet_platformdirs, run_admin_sql, start_postgres, start_redis
    from services.db import libpq_url

    # As root, pgserver runs PostgreSQL as its own user, which must be able to enter the folder.
    folder = Path(tempfile.mkdtemp(prefix="journal-bench-"))
    folder.chmod(0o755)
    stops: list[Callable[[], None]] = []
    if not os.environ.get("BENCH_KEEP"):  # BENCH_KEEP=1 leaves the folder (server logs, profiles) behind
        stops.append(lambda: shutil.rmtree(folder, ignore_errors=True))
    try:
        with quiet_platformdirs():
            server_url = os.environ.get("DATABASE_URL")
            if server_url:
                name = f"journal_bench_{uuid.uuid4().hex[:8]}"
                asyncio.run(run_admin_sql(server_url, f'CREATE DATABASE "{name}"'))
                drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
                stops.append(lambda: asyncio.run(run_admin_sql(server_url, drop)))
                database_url = libpq_url(server_url, name)
                print(f"PostgreSQL: {server_url.split('@')[-1]} (scratch database {name})")
            else:
                pg = start_postgres(folder / "postgres", delete_on_stop=True)
                stops.append(pg.stop)
                database_url = pg.create_database("bench")
                print("PostgreSQL: embedded (pgserver, Unix socket)")
            redis_url = os.environ.get("REDIS_URL") or ""
            if redis_url:
                print(f"Redis: {redis_url.split('@')[-1]}")
            else:
                redis = start_redis(folder / "redis", appendonly=False)
                stops.append(redis.stop)
                redis_url = redis.url
                print("Redis: embedded (Unix socket)")
            bench(database_url, redis_url, args, folder)
    finally:
        for stop in reversed(stops):
            stop()


if __name__ == "__main__":
    main()
