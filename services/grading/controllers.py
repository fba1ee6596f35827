"""Grading API under /api/v1/schools/{school}/grading: systems, values, conversions, subject × grade choice,
kinds of work (R-STR-2)."""

from __future__ import annotations

from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from services.grading import repository, service
from services.grading.models import GradeValue, WorkKind
from services.grading.schemas import (
    ConversionIn,
    ConversionOut,
    ConvertOut,
    GradeValueIn,
    GradeValueOut,
    SubjectGradingIn,
    SubjectGradingOut,
    SystemIn,
    SystemNameIn,
    SystemOut,
    WorkKindIn,
    WorkKindOut,
)
from services.identity.policy import needs, provide_principal
from tenants.routing import SCHOOL_DEPENDENCIES

READ, MANAGE = needs("structure.read"), needs("structure.manage")




def value_out(v: GradeValue) -> GradeValueOut:
    return GradeValueOut(v.id, v.value, v.label, v.numeric_value, v.is_passing, v.is_special, v.ordering)


def kind_out(k: WorkKind) -> WorkKindOut:
    return WorkKindOut(k.id, k.name, k.short_name, k.weight, k.is_written, k.active)


def value_draft(v: GradeValueIn) -> service.ValueDraft:
    return service.ValueDraft(v.value, v.label, v.numeric_value, v.is_passing, v.is_special, v.ordering)


async def _systems(session: AsyncSession) -> list[SystemOut]:
    return [SystemOut(s.id, s.code, s.name, [value_out(v) for v in values])
            for s, values in await service.systems_with_values(session)]


class GradingController(Controller):
    path = "/api/v1/schools/{school_slug:str}/grading"
    tags = ["grading"]
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/systems", opt=READ, summary="Grading systems with their values")
    async def systems(self, session: NamedDependency[AsyncSession]) -> list[SystemOut]:
        return await _systems(session)

    @post("/systems", opt=MANAGE, summary="Add a grading system with its values")
    async def create_system(self, data: JSONBody[SystemIn], session: NamedDependency[AsyncSession]) -> SystemOut:
        created = await service.create_system(session, data.code, data.name,
                                              [value_draft(v) for v in data.values])
        return SystemOut(created.id, created.code, created.name,
                         [value_out(v) for v in await repository.values(session, created.id)])

    @put("/systems/{system_id:int}", opt=MANAGE, summary="Rename a grading system")
    async def rename_system(self, system_id: FromPath[int], data: JSONBody[SystemNameIn],
                            session: NamedDependency[AsyncSession]) -> SystemOut:
        changed = await service.rename_system(session, system_id, data.name)
        return SystemOut(changed.id, changed.code, changed.name,
                         [value_out(v) for v in await repository.values(session, changed.id)])

    @post("/systems/{system_id:int}/values", opt=MANAGE, summary="Add a value to a grading system")
    async def add_value(self, system_id: FromPath[int], data: JSONBody[GradeValueIn],
                        session: NamedDependency[AsyncSession]) -> GradeValueOut:
        return value_out(await service.add_value(session, system_id, value_draft(data)))

    @put("/values/{value_id:int}", opt=MANAGE, summary="Change a value's label, number, passing flag or order")
    async def update_value(self, value_id: FromPath[int], data: JSONBody[GradeValueIn],
                           session: NamedDependency[AsyncSession]) -> GradeValueOut:
        return value_out(await service.update_value(session, value_id, value_draft(data)))

    @get("/conversions", opt=READ, summary="The conversion table between systems")
    async def conversions(self, session: NamedDependency[AsyncSession]) -> list[ConversionOut]:
        return [ConversionOut(*row) for row in await repository.conversions(session)]

    @put("/conversions", opt=MANAGE, status_code=204, summary="Set or remove one conversion")
    async def set_conversion(self, data: JSONBody[ConversionIn], session: NamedDependency[AsyncSession]) -> None:
        await service.set_conversion(session, data.from_system, data.value, data.to_system, data.to_value)

    @get("/convert", opt=READ, summary="A mark of one system in another, by the conversion table")
    async def convert(self, value: FromQuery[str], from_system: FromQuery[str], to_system: FromQuery[str],
                      session: NamedDependency[AsyncSession]) -> ConvertOut:
        result = await service.convert(session, value, from_system, to_system)
        return ConvertOut(value, from_system, to_system, result)

    @get("/subjects", opt=READ, summary="The school's explicit choices of system per subject and grade")
    async def subject_gradings(self, session: NamedDependency[AsyncSession]) -> list[SubjectGradingOut]:
        codes = {s.id: s.code for s in await repository.systems(session)}
        return [SubjectGradingOut(r.subject_id, r.grade, codes.get(r.grading_system_id or 0),
                                  r.marks_allowed and r.grading_system_id is not None, True)
                for r in await repository.subject_gradings(session)]

    @put("/subjects", opt=MANAGE, summary="Choose the system of a subject in a grade (null: no marks)")
    async def set_subject_grading(self, data: JSONBody[SubjectGradingIn],
                                  session: NamedDependency[AsyncSession]) -> SubjectGradingOut:
        await service.set_subject_grading(session, data.subject_id, data.grade, data.system)
        effective = await service.effective_grading(session, data.subject_id, data.grade)
        return SubjectGradingOut(data.subject_id, data.grade, effective.system.code if effective.system else None,
                                 effective.marks_allowed, effective.explicit)

    @get("/allowed-marks", opt=READ, summary="The values a mark may take in a subject in a grade")
    async def allowed_marks(self, subject_id: FromQuery[int], grade: FromQuery[int],
                            session: NamedDependency[AsyncSession]) -> list[GradeValueOut]:
        return [value_out(v) for v in await service.allowed_marks(session, subject_id, grade)]

    @get("/work-kinds", opt=READ, summary="Kinds of work with their weights")
    async def work_kinds(self, session: NamedDependency[AsyncSession]) -> list[WorkKindOut]:
        return [kind_out(k) for k in await repository.work_kinds(session)]

    @post("/work-kinds", opt=MANAGE, summary="Add a kind of work")
    async def create_work_kind(self, data: JSONBody[WorkKindIn], session: NamedDependency[AsyncSession]) -> WorkKindOut:
        return kind_out(await service.create_work_kind(session, data.name, data.short_name, data.weight,
                                                       data.is_written))

    @put("/work-kinds/{kind_id:int}", opt=MANAGE, summary="Change a kind of work or its weight")
    async def update_work_kind(self, kind_id: FromPath[int], data: JSONBody[WorkKindIn],
                               session: NamedDependency[AsyncSession]) -> WorkKindOut:
        return kind_out(await service.update_work_kind(session, kind_id, data.name, data.short_name,
                                                       data.weight, is_written=data.is_written,
                                                       active=data.active))

    @delete("/work-kinds/{kind_id:int}", opt=MANAGE, status_code=200,
            summary="Delete a kind of work, or deactivate it when marks use it")
    async def remove_work_kind(self, kind_id: FromPath[int], session: NamedDependency[AsyncSession]
                               ) -> dict[str, bool]:
        return {"deleted": await service.remove_work_kind(session, kind_id)}
