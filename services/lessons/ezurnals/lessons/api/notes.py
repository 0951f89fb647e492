"""Consultation and parent-conversation notes (rule 2): same day until the cut-off (20:00), later
only with a deputy director's reasoned override."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request

from ezurnals.lessons import commands
from ezurnals.lessons.access import require_staff
from ezurnals.lessons.api.common import carry_out, reader_of
from ezurnals.lessons.api.models import ConsultationIn
from ezurnals.lessons.domain import RecordConsultation
from ezurnals.shared.auth.principal import Role
from ezurnals.shared.http.audit import AuditedRoute, record_read
from ezurnals.shared.http.auth import CurrentPrincipal

router = APIRouter(tags=["consultations"], route_class=AuditedRoute)


@router.post("/consultations", status_code=201, operation_id="record_consultation")
async def record_consultation(
    body: ConsultationIn, request: Request, principal: CurrentPrincipal
) -> Any:
    require_staff(principal)
    note = RecordConsultation(
        **body.model_dump(), school_id=principal.school_id, recorded_by=principal.person_id
    )
    cmd = commands.RecordConsultation(
        note=note, deputy_director=principal.has(Role.DEPUTY_DIRECTOR)
    )
    return await carry_out(request, principal, cmd)


@router.get("/consultations", operation_id="list_consultations")
async def list_consultations(
    held_on: date, request: Request, principal: CurrentPrincipal
) -> list[dict[str, Any]]:
    """The administration sees the school's notes of the day; a teacher their own."""
    require_staff(principal)
    mine = None if principal.is_administration else principal.person_id
    notes = await reader_of(request).consultations(principal.school_id, held_on, mine)
    participants = dict.fromkeys(p for note in notes for p in note["participant_ids"])
    record_read(request, participants, "consultation_notes")
    return notes
