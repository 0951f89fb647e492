"""The school's grading policy: grade scales per grade band or subject, period-grade deadlines,
and whether the school gives semester grades."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ezurnals.grading import handlers, queries
from ezurnals.grading.access import Access
from ezurnals.grading.api.common import respond, runtime_of
from ezurnals.grading.domain import (
    DEFAULT_LEVEL_BANDS,
    DEFAULT_PERCENT_TABLE,
    DEFAULT_SCALES,
    DefineGradeScale,
    GradingPolicy,
    SetPeriodGradeDeadline,
    SetSemesterGradesUsage,
)
from ezurnals.grading.domain.policy import scale_of
from ezurnals.grading.domain.scales import LOWEST_PASS
from ezurnals.shared.auth import Principal
from ezurnals.shared.contracts.grading import GradeBand, LevelBand, PercentBand, ScaleKind
from ezurnals.shared.domain import Forbidden
from ezurnals.shared.http.auth import CurrentPrincipal

router = APIRouter(tags=["grading policy"])


class ScaleIn(BaseModel):
    """A scale for a grade band, optionally for one subject only."""

    model_config = ConfigDict(extra="forbid")

    kind: ScaleKind
    band: GradeBand
    subject_id: UUID | None = None
    lowest_pass: Annotated[int, Field(ge=1, le=10)] = LOWEST_PASS
    percent_table: Annotated[tuple[PercentBand, ...], Field(max_length=101)] = DEFAULT_PERCENT_TABLE
    level_bands: Annotated[tuple[LevelBand, ...], Field(max_length=10)] = DEFAULT_LEVEL_BANDS


async def _policy_for_staff(request: Request, principal: Principal) -> GradingPolicy:
    """The school's grading policy as its views hold it, for its staff only; one connection."""
    runtime = runtime_of(request)
    async with runtime.db.raw() as conn:
        staff = await queries.staff_roles(conn, principal.school_id, principal.person_id)
        if not Access.of(principal, staff).is_staff:
            raise Forbidden("only staff read the grading policy")
        return await queries.school_policy(conn, principal.school_id)


@router.put("/scales/{scale_id}")
async def define_scale(
    scale_id: UUID, body: ScaleIn, request: Request, principal: CurrentPrincipal, response: Response
) -> Any:
    """Define or redefine a scale (school admin, deputy director, director)."""
    cmd = DefineGradeScale(scale_id=scale_id, **body.model_dump())
    return await respond(request, principal, response, handlers.define_scale, cmd)


@router.get("/scales")
async def list_scales(request: Request, principal: CurrentPrincipal) -> Any:
    """The school's scales and the defaults that apply where it has defined none (staff)."""
    policy = await _policy_for_staff(request, principal)
    defined = [
        {
            **event.model_dump(mode="json", include={"scale_id", "kind", "band", "subject_id"}),
            "allowed": list(scale_of(event).allowed_values),
            "lowest_pass": event.lowest_pass,
            "percent_table": [row.model_dump() for row in event.percent_table],
        }
        for event in policy.scales.values()
    ]
    defaults = [
        {"band": band.model_dump(), "kind": scale.kind.value, "allowed": list(scale.allowed_values)}
        for band, scale in DEFAULT_SCALES
    ]
    return {"scales": defined, "defaults": defaults}


@router.put("/deadlines")
async def set_deadline(
    body: SetPeriodGradeDeadline, request: Request, principal: CurrentPrincipal, response: Response
) -> Any:
    """The date by which a period's grades must be entered (school admin, deputy, director)."""
    return await respond(request, principal, response, handlers.set_deadline, body)


@router.get("/deadlines")
async def list_deadlines(request: Request, principal: CurrentPrincipal) -> Any:
    """Every period-grade deadline of the school (staff)."""
    policy = await _policy_for_staff(request, principal)
    return [
        {
            "school_year": year,
            "period": period.value,
            "band": band.model_dump() if band else None,
            "due_on": due_on.isoformat(),
        }
        for (year, period, band), due_on in sorted(
            policy.deadlines.items(), key=lambda item: (item[0][0], item[0][1].value, item[1])
        )
    ]


@router.put("/settings/semester-grades")
async def set_semester_grades_usage(
    body: SetSemesterGradesUsage, request: Request, principal: CurrentPrincipal, response: Response
) -> Any:
    """Whether the school gives semester period grades (school admin, deputy, director); when it
    does not, semester1 and semester2 grades are refused and never listed as missing."""
    return await respond(request, principal, response, handlers.set_semester_grades_usage, body)


@router.get("/settings")
async def read_settings(request: Request, principal: CurrentPrincipal) -> Any:
    """The school's grading settings (staff)."""
    policy = await _policy_for_staff(request, principal)
    return {"semester_grades_used": policy.semester_grades_used}
