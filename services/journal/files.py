"""Files of a lesson's homework (R-JRN-1): the bytes in S3-compatible storage, the row in the school's schema.
Who may download one: staff who may read the journal, and a student or parent whose child the homework is for."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.files.storage import FileStorage, check_upload, new_key, safe_filename
from services.identity.policy import Principal, may_read_journal, may_read_student
from services.journal.models import HomeworkFile
from services.journal.scope import JournalError, JournalNotFound, Writer, check_may_write, lesson_scope, saved
from services.journal.scope import student_grade as check_enrolled
from services.structure.models import Enrollment, GroupMembership, Guardianship, TeachingLoad
from services.timetable.models import Lesson

MAX_FILES_PER_LESSON = 20


async def attach(session: AsyncSession, writer: Writer, storage: FileStorage, *, lesson_id: int,
                 student_id: int | None, filename: str, data: bytes, content_type: str,
                 max_bytes: int) -> HomeworkFile:
    """Store the file and record it on the lesson (for the class, or for one student)."""
    scope = await lesson_scope(session, lesson_id)
    await check_may_write(session, writer, scope)
    if scope.lesson.status == "cancelled":
        raise JournalError("Урок отменён: задание к нему не прикладывают.")
    if student_id is not None:
        await check_enrolled(session, scope, student_id)
    name = safe_filename(filename)
    if problems := check_upload(name, data, content_type, max_bytes):
        raise JournalError(*problems)
    count = len((await session.execute(select(HomeworkFile.id).where(HomeworkFile.lesson_id == lesson_id))).all())
    if count >= MAX_FILES_PER_LESSON:
        raise JournalError(f"К уроку можно приложить не больше {MAX_FILES_PER_LESSON} файлов.")
    key = new_key(writer.school.id, "homework", name)
    await storage.put(key, data, content_type)
    row = HomeworkFile(lesson_id=lesson_id, student_id=student_id, storage_key=key, filename=name,
                       content_type=content_type, size=len(data), author_id=writer.person_id)
    session.add(row)
    await session.flush()
    await saved(session, writer, "homework", lesson_id=lesson_id, student_id=student_id)
    return row


async def detach(session: AsyncSession, writer: Writer, storage: FileStorage, file_id: int) -> None:
    row = await session.get(HomeworkFile, file_id)
    if row is None:
        raise JournalNotFound("Файл не найден.")
    await check_may_write(session, writer, await lesson_scope(session, row.lesson_id))
    await session.delete(row)
    await session.flush()
    await storage.delete(row.storage_key)
    await saved(session, writer, "homework", lesson_id=row.lesson_id, student_id=row.student_id)


async def _family_students(principal: Principal, session: AsyncSession, lesson: Lesson, load: TeachingLoad,
                           only: int | None) -> bool:
    """Whether a student the principal may see (themself, their child) is the file's student, or was in the
    lesson's class or group that day."""
    if only is not None:
        return await may_read_student(principal, session, only)
    mine: set[int] = set()
    if principal.person_id is not None and principal.can("diary.read_own"):
        if "student" in principal.roles:
            mine.add(principal.person_id)
        if "parent" in principal.roles:
            mine.update((await session.execute(select(Guardianship.student_id).where(
                Guardianship.guardian_id == principal.person_id))).scalars())
    if not mine:
        return False
    day = lesson.on_date
    if load.class_unit_id is not None:
        query = select(Enrollment.student_id).where(
            Enrollment.class_unit_id == load.class_unit_id, Enrollment.student_id.in_(mine),
            Enrollment.start_date <= day, (Enrollment.end_date.is_(None)) | (Enrollment.end_date >= day))
    else:
        query = select(GroupMembership.student_id).where(
            GroupMembership.group_id == load.group_id, GroupMembership.student_id.in_(mine),
            GroupMembership.start_date <= day, (GroupMembership.end_date.is_(None)) | (GroupMembership.end_date >= day))
    return (await session.scalar(query.limit(1))) is not None


async def readable_file(principal: Principal, session: AsyncSession, file_id: int) -> HomeworkFile | None:
    """The file if the principal may download it; None when it exists but is not theirs to see."""
    row = await session.get(HomeworkFile, file_id)
    if row is None:
        raise JournalNotFound("Файл не найден.")
    lesson = await session.get(Lesson, row.lesson_id)
    assert lesson is not None
    load = await session.get(TeachingLoad, lesson.teaching_load_id)
    assert load is not None
    if not principal.is_family_only:
        return row if await may_read_journal(principal, session, load=load) else None
    return row if await _family_students(principal, session, lesson, load, row.student_id) else None
