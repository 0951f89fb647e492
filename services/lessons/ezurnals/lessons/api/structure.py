"""School structure, the administration's: subjects, the deadline policy, timetables."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from ezurnals.lessons import commands
from ezurnals.lessons.access import require_administration, require_staff
from ezurnals.lessons.api.common import carry_out, reader_of
from ezurnals.lessons.api.models import (
    DeadlinePolicyIn,
    NewSlotIn,
    NewSubjectIn,
    ScheduleIn,
    SlotIn,
    SlotRemovalIn,
    SubjectIn,
    TimetableIn,
)
from ezurnals.lessons.domain import (
    ChangeTimetableSlot,
    DefineSubject,
    DefineTimetableSlot,
    RemoveTimetableSlot,
    SetEntryDeadlinePolicy,
)
from ezurnals.lessons.queries import timetable_report
from ezurnals.shared.domain import Invalid
from ezurnals.shared.http.auth import CurrentPrincipal

router = APIRouter(tags=["school structure"])

MAX_CSV_BYTES = 512 * 1024


@router.get("/subjects", operation_id="list_subjects")
async def list_subjects(request: Request, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    require_staff(principal)
    return await reader_of(request).subjects(principal.school_id)


@router.post("/subjects", status_code=201, operation_id="define_subject")
async def define_subject(body: NewSubjectIn, request: Request, principal: CurrentPrincipal) -> Any:
    return await _define_subject(body.subject_id, body, request, principal)


@router.put("/subjects/{subject_id}", status_code=201, operation_id="redefine_subject")
async def redefine_subject(
    subject_id: UUID, body: SubjectIn, request: Request, principal: CurrentPrincipal
) -> Any:
    return await _define_subject(subject_id, body, request, principal)


async def _define_subject(
    subject_id: UUID, body: SubjectIn, request: Request, principal: CurrentPrincipal
) -> Any:
    require_administration(principal)
    subject = DefineSubject(
        subject_id=subject_id,
        school_id=principal.school_id,
        name_key=body.name_key,
        name=body.name,
        curriculum_hours=body.curriculum_hours,
    )
    return await carry_out(request, principal, commands.DefineSubject(subject=subject))


@router.get("/deadline-policy", operation_id="get_deadline_policy")
async def get_deadline_policy(request: Request, principal: CurrentPrincipal) -> Any:
    require_staff(principal)
    schedule = await reader_of(request).deadline_schedule(principal.school_id)
    return commands.PolicyVersions(versions=schedule.versions)


@router.post("/deadline-policy", status_code=201, operation_id="set_deadline_policy")
async def set_deadline_policy(
    body: DeadlinePolicyIn, request: Request, principal: CurrentPrincipal
) -> Any:
    require_administration(principal)
    policy = SetEntryDeadlinePolicy(school_id=principal.school_id, **body.model_dump())
    return await carry_out(request, principal, commands.SetEntryDeadlinePolicy(policy=policy))


@router.post("/timetables", status_code=201, operation_id="open_timetable")
async def open_timetable(body: TimetableIn, request: Request, principal: CurrentPrincipal) -> Any:
    require_administration(principal)
    cmd = commands.OpenTimetable(school_id=principal.school_id, class_id=body.class_id)
    return await carry_out(request, principal, cmd)


@router.get("/timetables/{timetable_id}", operation_id="get_timetable")
async def get_timetable(
    timetable_id: UUID, on: date, request: Request, principal: CurrentPrincipal
) -> dict[str, Any]:
    """The week as it stands on ``on``."""
    require_staff(principal)
    timetable = await reader_of(request).timetable_of_school(principal.school_id, timetable_id)
    assert timetable.opened is not None
    week = sorted(timetable.slots_on(on).items(), key=lambda s: (s[1].weekday, s[1].period))
    return {
        **timetable.opened.model_dump(mode="json"),
        "on": on.isoformat(),
        "slots": [{"slot_id": str(i), **s.model_dump(mode="json")} for i, s in week],
    }


@router.post("/timetables/{timetable_id}/slots", status_code=201, operation_id="define_slot")
async def define_slot(
    timetable_id: UUID, body: NewSlotIn, request: Request, principal: CurrentPrincipal
) -> Any:
    require_administration(principal)
    cmd = commands.DefineSlot(
        school_id=principal.school_id,
        timetable_id=timetable_id,
        slot=DefineTimetableSlot(**body.model_dump()),
    )
    return await carry_out(request, principal, cmd)


@router.put(
    "/timetables/{timetable_id}/slots/{slot_id}", status_code=201, operation_id="change_slot"
)
async def change_slot(
    timetable_id: UUID,
    slot_id: UUID,
    body: SlotIn,
    request: Request,
    principal: CurrentPrincipal,
) -> Any:
    """From ``effective_from`` on the slot is as given; earlier lessons keep the old version."""
    require_administration(principal)
    cmd = commands.ChangeSlot(
        school_id=principal.school_id,
        timetable_id=timetable_id,
        change=ChangeTimetableSlot(slot_id=slot_id, **body.model_dump()),
    )
    return await carry_out(request, principal, cmd)


@router.post(
    "/timetables/{timetable_id}/slots/{slot_id}/removal",
    status_code=201,
    operation_id="remove_slot",
)
async def remove_slot(
    timetable_id: UUID,
    slot_id: UUID,
    body: SlotRemovalIn,
    request: Request,
    principal: CurrentPrincipal,
) -> Any:
    require_administration(principal)
    cmd = commands.RemoveSlot(
        school_id=principal.school_id,
        timetable_id=timetable_id,
        removal=RemoveTimetableSlot(slot_id=slot_id, effective_from=body.effective_from),
    )
    return await carry_out(request, principal, cmd)


@router.post(
    "/timetables/{timetable_id}/import",
    status_code=201,
    operation_id="import_timetable",
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def import_timetable(
    timetable_id: UUID,
    effective_from: date,
    request: Request,
    principal: CurrentPrincipal,
    response: Response,
    dry_run: Annotated[bool, Query()] = True,
) -> Any:
    """A CSV file (columns day, period, start, end, subject, teacher, room; Latvian headers too).
    ``subject`` is the subject's name key, ``teacher`` the teacher's person id. Every bad row is
    answered at once with 422; a dry run (the default) reports the slots and changes nothing."""
    require_administration(principal)
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise Invalid("the file is larger than 512 KiB", field="file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("the file is not UTF-8 text", field="file") from None
    if dry_run:
        reader = reader_of(request)
        await reader.timetable_of_school(principal.school_id, timetable_id)
        report = await timetable_report(reader, principal.school_id, text)
        report.command(effective_from)
        response.status_code = 200
        return {
            "dry_run": True,
            "slots": [{"row": s.row, **s.slot.model_dump(mode="json")} for s in report.slots],
            "errors": [],
        }
    cmd = commands.ImportTimetable(
        school_id=principal.school_id,
        timetable_id=timetable_id,
        text=text,
        effective_from=effective_from,
    )
    return await carry_out(request, principal, cmd)


@router.post(
    "/timetables/{timetable_id}/schedule", status_code=201, operation_id="schedule_lessons"
)
async def schedule_lessons(
    timetable_id: UUID,
    body: ScheduleIn,
    request: Request,
    principal: CurrentPrincipal,
) -> Any:
    """Put the timetable's lessons on the school days between two days (none on holidays)."""
    require_administration(principal)
    cmd = commands.ScheduleLessons(
        school_id=principal.school_id,
        timetable_id=timetable_id,
        first_day=body.first_day,
        last_day=body.last_day,
    )
    return await carry_out(request, principal, cmd)
