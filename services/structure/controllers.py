"""Structure API under /api/v1/schools/{school}: classes, people, groups, teaching load, movement.

Reads of personal data need `people.read`; every write needs `structure.manage`. Thin handlers: the rules are
in `services.structure.service`, the queries in `services.structure.repository`.
"""

from __future__ import annotations

from datetime import date

from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.policy import PUBLIC, needs
from services.structure import repository, service
from services.structure.models import ClassUnit, GroupMembership, Movement, Person, StudyGroup, TeachingLoad
from services.structure.schemas import (
    ArrivalIn,
    ClassDetailOut,
    ClassUnitIn,
    ClassUnitOut,
    EnrollmentOut,
    GroupIn,
    GroupMemberIn,
    GroupMemberOut,
    GroupOut,
    GuardianshipIn,
    GuardianshipOut,
    MovementOut,
    PersonIn,
    PersonOut,
    SchoolCard,
    SubjectIn,
    SubjectOut,
    TeachingLoadIn,
    TeachingLoadOut,
    TransferIn,
    WithdrawalIn,
)
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

# The URL segment of each kind of person.
PEOPLE_PATHS = {"staff": "staff", "students": "student", "guardians": "guardian"}




def _out(unit: ClassUnit, students: int) -> ClassUnitOut:
    return ClassUnitOut(id=unit.id, name=unit.name, grade=unit.grade, letter=unit.letter, students=students)


def _class(unit: ClassUnit) -> ClassDetailOut:
    return ClassDetailOut(unit.id, unit.name, unit.grade, unit.letter, unit.class_teacher_id)


def _person(p: Person) -> PersonOut:
    return PersonOut(p.id, p.kind, p.last_name, p.first_name, p.middle_name, p.birth_date)


def _group(g: StudyGroup) -> GroupOut:
    return GroupOut(g.id, g.kind, g.name, g.class_unit_id, g.subject_id)


def _member(m: GroupMembership) -> GroupMemberOut:
    return GroupMemberOut(m.id, m.group_id, m.student_id, m.start_date, m.end_date)


def _load(t: TeachingLoad) -> TeachingLoadOut:
    return TeachingLoadOut(t.id, t.academic_year_id, t.teacher_id, t.subject_id, t.class_unit_id, t.group_id,
                           t.hours_per_week)


def _movement(m: Movement) -> MovementOut:
    return MovementOut(m.id, m.student_id, m.kind, m.on_date, m.from_class_id, m.to_class_id, m.reason, m.document)


def _kind(segment: str) -> str:
    kind = PEOPLE_PATHS.get(segment)
    if kind is None:
        raise NotFoundException("Такого списка людей нет: staff, students или guardians.")
    return kind



class StructureController(Controller):
    path = "/api/v1/schools/{school_slug:str}"
    tags = ["structure"]
    dependencies = SCHOOL_DEPENDENCIES

    @get("/", summary="The school's card", opt=PUBLIC)
    async def card(self, school: NamedDependency[SchoolRecord]) -> SchoolCard:
        return SchoolCard(slug=school.slug, name=school.name, time_zone=school.time_zone, status=school.status)

    # --- classes ----------------------------------------------------------------------------------------------

    @get("/classes", summary="Classes with today's number of students", opt=needs("structure.read"))
    async def classes(
        self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession]
    ) -> list[ClassUnitOut]:
        rows = await repository.classes_with_counts(session, school.today())
        return [_out(unit, n) for unit, n in rows]

    @get("/classes/{class_id:int}", summary="One class", opt=needs("structure.read"))
    async def class_unit(
        self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession], class_id: FromPath[int]
    ) -> ClassUnitOut:
        found = await repository.class_with_count(session, class_id, school.today())
        if found is None:
            raise NotFoundException("Класс не найден.")
        return _out(*found)

    @post("/classes", summary="Create a class", opt=needs("structure.manage"))
    async def create_class(self, session: NamedDependency[AsyncSession], data: JSONBody[ClassUnitIn]) -> ClassDetailOut:
        unit = await service.create_class(session, grade=data.grade, letter=data.letter,
                                          class_teacher_id=data.class_teacher_id)
        return _class(unit)

    @put("/classes/{class_id:int}", summary="Rename a class or change its class teacher",
         opt=needs("structure.manage"))
    async def update_class(self, session: NamedDependency[AsyncSession], class_id: FromPath[int],
                           data: JSONBody[ClassUnitIn]) -> ClassDetailOut:
        unit = await service.update_class(session, class_id, grade=data.grade, letter=data.letter,
                                          class_teacher_id=data.class_teacher_id)
        return _class(unit)

    @get("/classes/{class_id:int}/students", summary="Students of a class on a date (default today)",
         opt=needs("people.read"))
    async def class_students(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                             class_id: FromPath[int], on: FromQuery[date | None] = None) -> list[EnrollmentOut]:
        if await repository.get_class(session, class_id) is None:
            raise NotFoundException("Класс не найден.")
        day = on or school.today()
        return [EnrollmentOut(b.student.id, b.student.last_name, b.student.first_name, b.student.middle_name,
                              b.start_date, b.end_date)
                for b in await repository.enrolled_between(session, class_id, day, day)]

    @get("/classes/{class_id:int}/load", summary="Teaching load of a class and its subgroups",
         opt=needs("structure.read"))
    async def class_load(self, session: NamedDependency[AsyncSession], class_id: FromPath[int],
                         academic_year_id: FromQuery[int | None] = None) -> list[TeachingLoadOut]:
        if await repository.get_class(session, class_id) is None:
            raise NotFoundException("Класс не найден.")
        return [_load(t) for t in await repository.loads(session, academic_year_id=academic_year_id,
                                                         class_unit_id=class_id)]

    # --- people -----------------------------------------------------------------------------------------------

    @get("/people/{kind:str}", summary="Staff, students or guardians", opt=needs("people.read"))
    async def people(self, session: NamedDependency[AsyncSession], kind: FromPath[str]) -> list[PersonOut]:
        return [_person(p) for p in await repository.people(session, _kind(kind))]

    @post("/people/{kind:str}", summary="Add a staff member, student or guardian", opt=needs("structure.manage"))
    async def add_person(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                         kind: FromPath[str], data: JSONBody[PersonIn]) -> PersonOut:
        person = await service.add_person(session, _kind(kind), last_name=data.last_name,
                                          first_name=data.first_name, middle_name=data.middle_name,
                                          birth_date=data.birth_date, today=school.today())
        return _person(person)

    @get("/people/{kind:str}/{person_id:int}", summary="One person", opt=needs("people.read"))
    async def person(self, session: NamedDependency[AsyncSession], kind: FromPath[str],
                     person_id: FromPath[int]) -> PersonOut:
        return _person(await service.person_of_kind(session, person_id, _kind(kind)))

    @put("/people/{kind:str}/{person_id:int}", summary="Correct a person's name or birth date",
         opt=needs("structure.manage"))
    async def update_person(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                            kind: FromPath[str], person_id: FromPath[int], data: JSONBody[PersonIn]) -> PersonOut:
        person = await service.update_person(session, person_id, _kind(kind), last_name=data.last_name,
                                             first_name=data.first_name, middle_name=data.middle_name,
                                             birth_date=data.birth_date, today=school.today())
        return _person(person)

    @delete("/people/{kind:str}/{person_id:int}", summary="Delete a person entered by mistake (no history yet)",
            opt=needs("structure.manage"))
    async def remove_person(self, session: NamedDependency[AsyncSession], kind: FromPath[str],
                            person_id: FromPath[int]) -> None:
        await service.remove_person(session, person_id, _kind(kind))

    @get("/students/{student_id:int}/guardians", summary="A student's guardians", opt=needs("people.read"))
    async def guardians_of(self, session: NamedDependency[AsyncSession],
                           student_id: FromPath[int]) -> list[GuardianshipOut]:
        return [GuardianshipOut(g.guardian_id, g.student_id, g.relation)
                for g in await repository.guardianships_of_student(session, student_id)]

    @post("/students/{student_id:int}/guardians", summary="Link a guardian to a student",
          opt=needs("structure.manage"))
    async def link_guardian(self, session: NamedDependency[AsyncSession], student_id: FromPath[int],
                            data: JSONBody[GuardianshipIn]) -> GuardianshipOut:
        link = await service.link_guardian(session, guardian_id=data.guardian_id, student_id=student_id,
                                           relation=data.relation)
        return GuardianshipOut(link.guardian_id, link.student_id, link.relation)

    @delete("/students/{student_id:int}/guardians/{guardian_id:int}", summary="Unlink a guardian",
            opt=needs("structure.manage"))
    async def unlink_guardian(self, session: NamedDependency[AsyncSession], student_id: FromPath[int],
                              guardian_id: FromPath[int]) -> None:
        await service.unlink_guardian(session, guardian_id=guardian_id, student_id=student_id)

    @get("/students/{student_id:int}/movements", summary="A student's movement history in date order",
         opt=needs("people.read"))
    async def movements(self, session: NamedDependency[AsyncSession],
                        student_id: FromPath[int]) -> list[MovementOut]:
        await service.person_of_kind(session, student_id, "student")
        return [_movement(m) for m in await repository.movements_of(session, student_id)]

    # --- movement ---------------------------------------------------------------------------------------------

    @post("/movements/arrival", summary="Прибытие: enrol a student in a class from a date",
          opt=needs("structure.manage"))
    async def arrival(self, session: NamedDependency[AsyncSession], data: JSONBody[ArrivalIn]) -> MovementOut:
        moved = await service.arrival(session, student_id=data.student_id, class_unit_id=data.class_unit_id,
                                      on_date=data.on_date, reason=data.reason, document=data.document)
        return _movement(moved)

    @post("/movements/transfer", summary="Перевод: move a student to another class from a date",
          opt=needs("structure.manage"))
    async def transfer(self, session: NamedDependency[AsyncSession], data: JSONBody[TransferIn]) -> MovementOut:
        moved = await service.transfer(session, student_id=data.student_id, to_class_id=data.to_class_id,
                                       on_date=data.on_date, reason=data.reason, document=data.document)
        return _movement(moved)

    @post("/movements/withdrawal", summary="Выбытие: the student's last day in the school",
          opt=needs("structure.manage"))
    async def withdrawal(self, session: NamedDependency[AsyncSession], data: JSONBody[WithdrawalIn]) -> MovementOut:
        moved = await service.withdrawal(session, student_id=data.student_id, on_date=data.on_date,
                                         reason=data.reason, document=data.document)
        return _movement(moved)

    # --- subjects and groups ----------------------------------------------------------------------------------

    @get("/subjects", summary="Subjects", opt=needs("structure.read"))
    async def subjects(self, session: NamedDependency[AsyncSession]) -> list[SubjectOut]:
        return [SubjectOut(s.id, s.name, s.short_name) for s in await repository.subjects(session)]

    @post("/subjects", summary="Add a subject", opt=needs("structure.manage"))
    async def add_subject(self, session: NamedDependency[AsyncSession], data: JSONBody[SubjectIn]) -> SubjectOut:
        subject = await service.add_subject(session, data.name, data.short_name)
        return SubjectOut(subject.id, subject.name, subject.short_name)

    @get("/groups", summary="Groups, optionally of one class", opt=needs("structure.read"))
    async def groups(self, session: NamedDependency[AsyncSession],
                     class_id: FromQuery[int | None] = None) -> list[GroupOut]:
        return [_group(g) for g in await repository.groups(session, class_id)]

    @post("/groups", summary="Create a subgroup, cross-class group or individual group",
          opt=needs("structure.manage"))
    async def create_group(self, session: NamedDependency[AsyncSession], data: JSONBody[GroupIn]) -> GroupOut:
        group = await service.create_group(session, kind=data.kind, name=data.name,
                                           class_unit_id=data.class_unit_id, subject_id=data.subject_id)
        return _group(group)

    @get("/groups/{group_id:int}/members", summary="Members of a group with their dates", opt=needs("people.read"))
    async def group_members(self, session: NamedDependency[AsyncSession],
                            group_id: FromPath[int]) -> list[GroupMemberOut]:
        await service.existing_group(session, group_id)
        return [_member(m) for m in await repository.group_members(session, group_id)]

    @post("/groups/{group_id:int}/members", summary="Add a student to a group from a date",
          opt=needs("structure.manage"))
    async def add_group_member(self, session: NamedDependency[AsyncSession], group_id: FromPath[int],
                               data: JSONBody[GroupMemberIn]) -> GroupMemberOut:
        member = await service.add_group_member(session, group_id, student_id=data.student_id,
                                                start_date=data.start_date, end_date=data.end_date)
        return _member(member)

    # --- teaching load ----------------------------------------------------------------------------------------

    @get("/load", summary="Teaching load, by teacher and/or class", opt=needs("structure.read"))
    async def load(self, session: NamedDependency[AsyncSession], academic_year_id: FromQuery[int | None] = None,
                   teacher_id: FromQuery[int | None] = None,
                   class_id: FromQuery[int | None] = None) -> list[TeachingLoadOut]:
        return [_load(t) for t in await repository.loads(session, academic_year_id=academic_year_id,
                                                         teacher_id=teacher_id, class_unit_id=class_id)]

    @post("/load", summary="Add a teaching load item", opt=needs("structure.manage"))
    async def add_load(self, session: NamedDependency[AsyncSession], data: JSONBody[TeachingLoadIn]) -> TeachingLoadOut:
        item = await service.add_load(session, academic_year_id=data.academic_year_id, teacher_id=data.teacher_id,
                                      subject_id=data.subject_id, hours_per_week=data.hours_per_week,
                                      class_unit_id=data.class_unit_id, group_id=data.group_id)
        return _load(item)

    @delete("/load/{load_id:int}", summary="Remove a teaching load item", opt=needs("structure.manage"))
    async def remove_load(self, session: NamedDependency[AsyncSession], load_id: FromPath[int]) -> None:
        await service.remove_load(session, load_id)
