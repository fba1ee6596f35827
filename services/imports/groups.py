"""Study groups and their members from a school's own table, and back out in the same shape (R-STR-7).

Columns: «Группа», «Вид» (подгруппа / межклассная / индивидуальная), «Класс» (5А, for a subgroup), «Предмет»,
«Фамилия ученика», «Имя ученика», «Класс ученика» (the student's class today), «С даты» (by default today).
One line per member; a group may have one line with no student. A group whose name is already in the school is
a problem, not a copy. The rules of groups and memberships are those of services.structure.service: the file is
tried in a savepoint, each refusal becomes a problem of its line, and the savepoint is kept only when confirmed
and clean — all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.imports.classes import parse_class
from services.imports.staff import Import, _norm
from services.imports.students import _date
from services.imports.tables import Problem, read_table
from services.structure import service
from services.structure.models import ClassUnit, Enrollment, GroupMembership, Person, StudyGroup, Subject

COLUMNS = {
    "name": ("Группа", "название группы"),
    "kind": ("Вид", "вид группы"),
    "class_name": ("Класс",),
    "subject": ("Предмет",),
    "s_last": ("Фамилия ученика",),
    "s_first": ("Имя ученика",),
    "s_class": ("Класс ученика",),
    "start": ("С даты", "дата начала"),
}
HEADER = [titles[0] for titles in COLUMNS.values()]
TITLE = "Группы"
KIND_WORDS = {"подгруппа": "subgroup", "подгруппа класса": "subgroup", "межклассная": "cross_class",
              "межклассная группа": "cross_class", "индивидуальная": "individual",
              "индивидуальное обучение": "individual"}
KIND_TEXT = {"subgroup": "подгруппа", "cross_class": "межклассная", "individual": "индивидуальная"}


@dataclass(frozen=True, slots=True)
class _Group:
    kind: str
    class_unit_id: int | None
    subject_id: int | None


def _current(on: date) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return Enrollment.start_date <= on, or_(Enrollment.end_date.is_(None), Enrollment.end_date >= on)


def _group_name(text: str) -> str:
    return _norm(text)


def _shape(row: dict[str, str], line: int, classes: dict[tuple[int, str], int], subjects: dict[str, int],
           problems: list[Problem]) -> _Group | None:
    """The kind, class and subject a line gives its group (None when one of them is wrong)."""
    before = len(problems)
    kind = KIND_WORDS.get(_norm(row["kind"])) if row["kind"] else None
    if row["kind"] and kind is None:
        problems.append(Problem(line, "Вид", f"«{row['kind'][:30]}» — нужно: подгруппа, межклассная или "
                                             "индивидуальная."))
    unit_key = parse_class(row["class_name"], line, "Класс", problems) if row.get("class_name") else None
    class_id = classes.get(unit_key) if unit_key else None
    if unit_key and class_id is None:
        problems.append(Problem(line, "Класс", f"класса «{row['class_name'][:10]}» в школе нет."))
    subject_text = row.get("subject", "")
    subject = subjects.get(" ".join(subject_text.split()).lower().replace("ё", "е")) if subject_text else None
    if subject_text and subject is None:
        problems.append(Problem(line, "Предмет", f"предмета «{subject_text[:60]}» в школе нет."))
    return _Group(kind, class_id, subject) if kind and len(problems) == before else None


def _student(row: dict[str, str], line: int, students: dict[tuple[int, str, str, str], set[int]],
             problems: list[Problem]) -> int | None:
    """The one student the line names by name and class today."""
    for key in ("s_last", "s_first", "s_class"):
        if not row.get(key):
            problems.append(Problem(line, COLUMNS[key][0], "не заполнено."))
    s_key = parse_class(row["s_class"], line, "Класс ученика", problems) if row.get("s_class") else None
    if not (s_key and row.get("s_last") and row.get("s_first")):
        return None
    found = students.get((*s_key, _norm(row["s_last"]), _norm(row["s_first"])), set())
    if len(found) != 1:
        problems.append(Problem(line, "Фамилия ученика", (
            "в этом классе несколько учеников с таким именем." if found
            else f"ученика с таким именем в классе «{s_key[0]}{s_key[1]}» сегодня нет.")))
        return None
    return next(iter(found))


async def check_groups(session: AsyncSession, data: bytes, filename: str, *, today: date) -> Import:
    """Every problem of the file, by line and column, the file's own and the structure rules'; nothing is kept."""
    table = read_table(data, filename, COLUMNS, required=("name", "kind"))
    result = Import(problems=list(table.problems))
    classes = {(c.grade, c.letter): c.id for c in (await session.execute(select(ClassUnit))).scalars()}
    all_subjects = list((await session.execute(select(Subject))).scalars())
    subjects = {s.short_name.lower().replace("ё", "е"): s.id for s in all_subjects}
    subjects.update({s.name.lower().replace("ё", "е"): s.id for s in all_subjects})
    existing = {_group_name(g.name) for g in (await session.execute(select(StudyGroup))).scalars()}
    students: dict[tuple[int, str, str, str], set[int]] = {}
    for person, grade, letter in (await session.execute(
            select(Person, ClassUnit.grade, ClassUnit.letter)
            .join(Enrollment, Enrollment.student_id == Person.id)
            .join(ClassUnit, ClassUnit.id == Enrollment.class_unit_id)
            .where(Person.kind == "student", *_current(today)))).tuples():
        students.setdefault((grade, letter, _norm(person.last_name), _norm(person.first_name)), set()).add(person.id)
    groups: dict[str, tuple[int, _Group | None]] = {}
    empty: dict[str, int] = {}
    for line, row in table.rows:
        problems = result.problems
        before = len(problems)
        name = _group_name(row["name"])
        shape = _shape(row, line, classes, subjects, problems)
        if name and name in existing:
            problems.append(Problem(line, "Группа", f"группа «{row['name'][:60]}» уже есть в школе."))
        if len(problems) != before:
            shape = None
        if name in groups:
            first, known = groups[name]
            if shape is not None and known is not None and shape != known:
                problems.append(Problem(line, "Группа", f"эта группа в строке {first} описана иначе "
                                                        "(вид, класс или предмет)."))
        elif name:
            groups[name] = (line, shape)
        has_student = any(row.get(k) for k in ("s_last", "s_first", "s_class"))
        student = _student(row, line, students, problems) if has_student else None
        if not has_student and name in empty:
            problems.append(Problem(line, "Фамилия ученика",
                                    f"строка этой группы без ученика уже есть в строке {empty[name]}."))
        elif not has_student and name:
            empty[name] = line
        start = _date(row.get("start", ""), line, "С даты", problems) if row.get("start") else today
        result.rows.append({"name": row["name"], "group": name, "student_id": student, "start": start,
                            "line": line})
    await _try_rules(session, result, groups)
    result.problems.sort(key=lambda p: p.line)
    return result


async def _try_rules(session: AsyncSession, result: Import, groups: dict[str, tuple[int, _Group | None]]) -> None:
    """Create the groups and members by the structure rules in the session's current savepoint (the caller keeps
    or drops it); a refusal is a problem of its line."""
    made: dict[str, int] = {}
    for name, (line, shape) in groups.items():
        if shape is None:
            continue
        title = next(str(r["name"]) for r in result.rows if r["group"] == name)
        try:
            group = await service.create_group(session, kind=shape.kind, name=title,
                                               class_unit_id=shape.class_unit_id, subject_id=shape.subject_id)
        except service.StructureError as exc:
            result.problems.append(Problem(line, "Вид", exc.message_ru))
            continue
        made[name] = group.id
    for row in result.rows:
        group_id, student_id, start = made.get(str(row["group"])), row["student_id"], row["start"]
        if group_id is None or not isinstance(student_id, int) or not isinstance(start, date):
            continue
        try:
            await service.add_group_member(session, group_id, student_id=student_id, start_date=start)
        except service.StructureError as exc:
            result.problems.append(Problem(int(str(row["line"])), "Фамилия ученика", exc.message_ru))


async def import_groups(session: AsyncSession, data: bytes, filename: str, *, today: date,
                        confirm: bool) -> Import:
    """Dry run unless `confirm`; confirmed and clean, every group and member is written."""
    savepoint = await session.begin_nested()
    try:
        result = await check_groups(session, data, filename, today=today)
    except BaseException:
        await savepoint.rollback()
        raise
    if not confirm or result.problems or not result.rows:
        await savepoint.rollback()
        return result
    await savepoint.commit()
    result.written = True
    return result


async def export_rows(session: AsyncSession, on: date) -> list[list[str]]:
    """The school's groups, one line per member (a group without members on one line), in the import's columns."""
    classes = {c.id: c.name for c in (await session.execute(select(ClassUnit))).scalars()}
    subjects = {s.id: s.name for s in (await session.execute(select(Subject))).scalars()}
    class_of = dict((await session.execute(
        select(Enrollment.student_id, Enrollment.class_unit_id).where(*_current(on)))).tuples().all())
    rows: list[list[str]] = []
    groups = (await session.execute(select(StudyGroup).order_by(StudyGroup.name, StudyGroup.id))).scalars().all()
    for group in groups:
        head = [group.name, KIND_TEXT.get(group.kind, group.kind), classes.get(group.class_unit_id or 0, ""),
                subjects.get(group.subject_id or 0, "")]
        members = (await session.execute(
            select(GroupMembership, Person).join(Person, Person.id == GroupMembership.student_id)
            .where(GroupMembership.group_id == group.id)
            .order_by(Person.last_name, Person.first_name, GroupMembership.start_date))).tuples().all()
        if not members:
            rows.append([*head, "", "", "", ""])
        for member, person in members:
            rows.append([*head, person.last_name, person.first_name,
                         classes.get(class_of.get(person.id, 0), ""), member.start_date.strftime("%d.%m.%Y")])
    return rows
