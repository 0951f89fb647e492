"""The school's absence-code table, excuse policy and daily-report time, set by the
administration."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ezurnals.attendance import handlers, queries
from ezurnals.attendance.api.common import answer, now, runtime_of
from ezurnals.attendance.domain import DefineAbsenceCodes, ScheduleDailyReport, SetExcusePolicy
from ezurnals.shared.contracts.attendance import AbsenceCodeEntry
from ezurnals.shared.http.auth import CurrentPrincipal

router = APIRouter(tags=["school settings"])


class CodesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    codes: list[AbsenceCodeEntry] = Field(min_length=1, max_length=30)
    default_absent_code: str
    default_late_code: str


class ExcusePolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parent_note_max_days: int = Field(ge=1, le=60)
    unexcused_thresholds: list[int] = Field(min_length=1, max_length=10)
    effective_from: dt.date


class DailyReportIn(BaseModel):
    """The school time at which each school day's attendance report is made."""

    model_config = ConfigDict(extra="forbid")
    at: dt.time
    effective_from: dt.date


@router.get("/settings")
async def read_settings(request: Request, principal: CurrentPrincipal) -> dict[str, Any]:
    """Anyone at the school: the codes a teacher may mark and the policy in force today."""
    runtime = runtime_of(request)
    async with handlers.reading(runtime) as conn:
        today = await queries.today_in_school(conn, principal.school_id, now(request))
    settings = await queries.attendance_settings(runtime.store, principal.school_id)
    policy = settings.policy_on(today)
    return {
        "codes": settings.codes.model_dump(mode="json"),
        "policy": policy.model_dump(),
        "daily_report_at": settings.daily_report_at(today).strftime("%H:%M"),
    }


@router.put("/settings/absence-codes")
async def define_codes(
    body: CodesIn, request: Request, principal: CurrentPrincipal, response: Response
) -> Any:
    cmd = DefineAbsenceCodes(
        school_id=principal.school_id,
        codes=tuple(body.codes),
        default_absent_code=body.default_absent_code,
        default_late_code=body.default_late_code,
    )
    return await answer(request, principal, response, "admin", handlers.define_codes, cmd)


@router.put("/settings/excuse-policy")
async def set_excuse_policy(
    body: ExcusePolicyIn, request: Request, principal: CurrentPrincipal, response: Response
) -> Any:
    cmd = SetExcusePolicy(
        school_id=principal.school_id,
        parent_note_max_days=body.parent_note_max_days,
        unexcused_thresholds=tuple(body.unexcused_thresholds),
        effective_from=body.effective_from,
    )
    return await answer(request, principal, response, "admin", handlers.set_excuse_policy, cmd)


@router.put("/settings/daily-report")
async def schedule_daily_report(
    body: DailyReportIn, request: Request, principal: CurrentPrincipal, response: Response
) -> Any:
    """The administration; from ``effective_from`` the worker makes the report at ``at``."""
    cmd = ScheduleDailyReport(
        school_id=principal.school_id, at=body.at, effective_from=body.effective_from
    )
    return await answer(request, principal, response, "admin", handlers.schedule_daily_report, cmd)
