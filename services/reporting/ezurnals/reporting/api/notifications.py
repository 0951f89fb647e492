"""A guardian's own notification settings (rule 1): channels, events, delivery, quiet hours.

Contacts are personal data the guardian enters here for notifications only; they are kept in a
plain table (never in events, which cannot be erased) and dropped on PersonalDataErased.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Self

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ezurnals.reporting.api.common import WallClock
from ezurnals.reporting.domain.notifications import Delivery, Kind
from ezurnals.shared.auth.principal import Principal, Role
from ezurnals.shared.contracts.base import utcnow
from ezurnals.shared.contracts.reporting import Channel
from ezurnals.shared.domain import Forbidden, Invalid
from ezurnals.shared.http.auth import CurrentPrincipal
from ezurnals.shared.service import Runtime

router = APIRouter(tags=["notifications"])

Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9]{8,15}$")]


class NotificationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email | None = None
    phone: Phone | None = None
    channels: list[Channel] = Field(default_factory=list, max_length=2)
    events: list[Kind] = Field(default_factory=list, max_length=5)
    absence_threshold: int | None = Field(default=None, ge=1, le=200)
    delivery: Delivery = Delivery.IMMEDIATE
    digest_at: WallClock = time(18, 0)
    quiet_from: WallClock | None = None
    quiet_to: WallClock | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if Channel.EMAIL in self.channels and not self.email:
            raise Invalid("e-mail notifications need an e-mail address", field="email")
        if Channel.SMS in self.channels and not self.phone:
            raise Invalid("SMS notifications need a phone number", field="phone")
        if Kind.ABSENCE_THRESHOLD in self.events and self.absence_threshold is None:
            raise Invalid(
                "absence threshold notifications need a threshold", field="absence_threshold"
            )
        if (self.quiet_from is None) != (self.quiet_to is None):
            raise Invalid("quiet hours need both a start and an end", field="quiet_to")
        return self


def _guardian(principal: Principal) -> None:
    if Role.GUARDIAN not in principal.roles:
        raise Forbidden("only guardians have notification settings", field="role")


@router.get("/notifications/settings", response_model=NotificationSettings)
async def get_settings(request: Request, principal: CurrentPrincipal) -> NotificationSettings:
    """The caller's own settings (nothing is sent until they are saved)."""
    _guardian(principal)
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.raw() as conn:
        row = await conn.fetchrow(
            """SELECT email, phone, channels, events, absence_threshold, delivery, digest_at,
                      quiet_from, quiet_to FROM notification_preferences
               WHERE guardian_id = $1 AND school_id = $2""",
            principal.person_id,
            principal.school_id,
        )
    return NotificationSettings.model_validate(dict(row)) if row else NotificationSettings()


@router.put("/notifications/settings", response_model=NotificationSettings)
async def put_settings(
    body: NotificationSettings, request: Request, principal: CurrentPrincipal
) -> NotificationSettings:
    _guardian(principal)
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.raw() as conn:
        await conn.execute(
            """INSERT INTO notification_preferences (guardian_id, school_id, email, phone,
                   channels, events, absence_threshold, delivery, digest_at, quiet_from, quiet_to,
                   updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
               ON CONFLICT (guardian_id, school_id) DO UPDATE SET email = excluded.email,
                   phone = excluded.phone, channels = excluded.channels, events = excluded.events,
                   absence_threshold = excluded.absence_threshold, delivery = excluded.delivery,
                   digest_at = excluded.digest_at, quiet_from = excluded.quiet_from,
                   quiet_to = excluded.quiet_to, updated_at = excluded.updated_at""",
            principal.person_id,
            principal.school_id,
            body.email,
            body.phone,
            sorted({str(c) for c in body.channels}),
            sorted({str(k) for k in body.events}),
            body.absence_threshold,
            str(body.delivery),
            body.digest_at,
            body.quiet_from,
            body.quiet_to,
            utcnow(),
        )
    return body


@router.delete("/notifications/settings", status_code=204)
async def delete_settings(request: Request, principal: CurrentPrincipal) -> Response:
    """Stop notifications and forget the contacts; what is still queued is not sent."""
    _guardian(principal)
    runtime: Runtime = request.app.state.runtime
    async with runtime.db.raw() as conn, conn.transaction():
        args = (principal.person_id, principal.school_id)
        await conn.execute(
            "DELETE FROM notification_preferences WHERE guardian_id = $1 AND school_id = $2", *args
        )
        await conn.execute(
            "DELETE FROM notification_queue WHERE guardian_id = $1 AND school_id = $2 "
            "AND state = 'pending'",
            *args,
        )
    return Response(status_code=204)
