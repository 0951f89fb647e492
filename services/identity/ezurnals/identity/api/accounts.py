"""Accounts API: family access codes, activation, sign-in, refresh, sign-out, passwords, JWKS."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ezurnals.identity import queries
from ezurnals.identity.api import deps
from ezurnals.identity.domain.passwords import MAX_PASSWORD_LENGTH
from ezurnals.identity.handlers import accounts as handle
from ezurnals.shared.auth.principal import ADMINISTRATION, Principal
from ezurnals.shared.contracts.identity import STAFF_ROLES
from ezurnals.shared.domain import Forbidden, NotFound, require_seen
from ezurnals.shared.http.auth import CurrentPrincipal, PrincipalWithExpiredPassword

_PASSWORD = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


_TOTP_CODE = Field(default=None, pattern=r"^\d{6}$")
# ≥ 160 bits (RFC 4226), in whole 8-character base32 groups: other lengths (33, 35, 38 …) do
# not decode, and were a 500 where they must be a 422.
_TOTP_SECRET = r"^(?:[A-Z2-7]{8}){4,8}$"


class SignInIn(_In):
    username: str = Field(min_length=1, max_length=200)
    password: str = _PASSWORD
    #: Required once TOTP is enabled: the app's current code.
    totp_code: str | None = _TOTP_CODE
    #: Only to enrol while signing in, where the school requires TOTP (see the 403 answer).
    totp_secret: str | None = Field(default=None, pattern=_TOTP_SECRET)


class TotpIn(_In):
    secret: str = Field(pattern=_TOTP_SECRET)
    code: str = Field(pattern=r"^\d{6}$")


class RefreshIn(_In):
    refresh_token: str = Field(min_length=1, max_length=200)


class ActivateIn(_In):
    code: str = Field(min_length=1, max_length=40)
    password: str = _PASSWORD


class ChangePasswordIn(_In):
    current_password: str = _PASSWORD
    new_password: str = _PASSWORD


async def may_issue_for_class(request: Request, principal: Principal, class_id: UUID) -> None:
    """The class's own class teacher (rule 1), or the school's administration; 403 for others
    who see the class, and the 404 of a class that is not there for anyone else."""
    today = await deps.today(request, principal.school_id)
    async with deps.runtime(request).db.raw() as conn:
        await queries.class_row(conn, principal.school_id, class_id)
        held = await queries.staff_roles(conn, principal.school_id, principal.person_id)
        teacher = await queries.class_teacher_on(conn, class_id, today)
        if held & principal.roles & ADMINISTRATION:
            return
        if held and teacher == principal.person_id:
            return
        seen = await queries.may_read_class(conn, principal, class_id, today)
    require_seen(seen, "class", "class_id")
    raise Forbidden("only the class teacher of this class issues its family access")


def router() -> APIRouter:
    r = APIRouter(tags=["accounts"])

    @r.get("/.well-known/jwks.json")
    async def jwks(request: Request) -> dict[str, Any]:
        return deps.state(request).keys.jwks()

    @r.post("/sign-in")
    async def sign_in(body: SignInIn, request: Request) -> Any:
        ctx = await deps.context(request, role="anonymous", idempotent=False)
        address = request.client.host if request.client else "unknown"
        result = await handle.sign_in(
            deps.runtime(request),
            deps.state(request),
            ctx,
            body.username,
            body.password,
            address,
            totp_code=body.totp_code,
            totp_secret=body.totp_secret,
        )
        return result.body

    @r.post("/totp/secret")
    async def totp_secret(request: Request, principal: CurrentPrincipal) -> Any:
        """A fresh secret for a staff member's authenticator app (kept nowhere until enabled)."""
        await deps.require_role(request, principal, STAFF_ROLES, "use one-time codes")
        async with deps.runtime(request).db.raw() as conn:
            username = await queries.username_of(conn, principal.person_id)
        return handle.new_totp_secret(username or str(principal.person_id))

    @r.post("/totp", status_code=201)
    async def enable_totp(
        body: TotpIn, request: Request, principal: CurrentPrincipal, response: Response
    ) -> Any:
        """Turn on TOTP with the secret and a current code from the app; from then on signing
        in needs a code too."""
        await deps.require_role(request, principal, STAFF_ROLES, "use one-time codes")
        ctx = await deps.context(request, principal, idempotent=False)
        result = await handle.enable_totp(
            deps.runtime(request),
            ctx,
            principal.school_id,
            principal.person_id,
            body.secret,
            body.code,
        )
        response.status_code = result.status
        return result.body

    @r.post("/refresh")
    async def refresh(body: RefreshIn, request: Request) -> Any:
        return await handle.refresh(
            deps.runtime(request), deps.state(request), body.refresh_token, deps.now(request)
        )

    @r.post("/sign-out")
    async def sign_out(request: Request, principal: PrincipalWithExpiredPassword) -> Any:
        if principal.session_id is None:
            raise NotFound("the token has no session", field="session_id")
        ctx = await deps.context(request, principal)
        result = await handle.sign_out(
            deps.runtime(request),
            ctx,
            principal.school_id,
            principal.person_id,
            principal.session_id,
        )
        return result.body

    @r.post("/sign-out-everywhere")
    async def sign_out_everywhere(request: Request, principal: PrincipalWithExpiredPassword) -> Any:
        ctx = await deps.context(request, principal)
        result = await handle.sign_out(
            deps.runtime(request), ctx, principal.school_id, principal.person_id, None
        )
        return result.body

    @r.post("/password")
    async def change_password(
        body: ChangePasswordIn, request: Request, principal: PrincipalWithExpiredPassword
    ) -> Any:
        """The one thing a user with an expired password may do; answers with fresh tokens."""
        ctx = await deps.context(request, principal, idempotent=False)
        result = await handle.change_password(
            deps.runtime(request),
            deps.state(request),
            ctx,
            principal.school_id,
            principal.person_id,
            principal.session_id,
            body.current_password,
            body.new_password,
        )
        return result.body

    @r.post("/classes/{class_id}/access-codes", status_code=201)
    async def issue_class_codes(
        class_id: UUID, request: Request, principal: CurrentPrincipal, response: Response
    ) -> Any:
        """Codes for every student of the class and every unrestricted guardian of theirs who
        has no account yet. Codes are secrets, so a retry issues new ones (voiding the first)."""
        await may_issue_for_class(request, principal, class_id)
        async with deps.runtime(request).db.raw() as conn:
            families = await queries.families_waiting(conn, class_id)
        waiting = list(dict.fromkeys(p for people in families.values() for p in people))
        ctx = await deps.context(request, principal, idempotent=False)
        result = await handle.issue_access_codes(
            deps.runtime(request), ctx, principal.school_id, waiting
        )
        response.status_code = result.status
        return result.body

    @r.post("/people/{person_id}/access-code", status_code=201)
    async def issue_code(
        person_id: UUID, request: Request, principal: CurrentPrincipal, response: Response
    ) -> Any:
        """One person's code: the administration for anyone (staff too); a class teacher for
        the students of their class and those students' guardians."""
        async with deps.runtime(request).db.raw() as conn:
            await queries.person_school(conn, principal.school_id, person_id)
            held = await queries.staff_roles(conn, principal.school_id, principal.person_id)
            classes = {
                await queries.current_class(conn, s)
                for s in [
                    person_id,
                    *(
                        r["student_id"]
                        for r in await conn.fetch(
                            "SELECT student_id FROM guardians WHERE guardian_id = $1 "
                            "AND NOT restricted",
                            person_id,
                        )
                    ),
                ]
            } - {None}
        if not held & principal.roles & ADMINISTRATION:
            today = await deps.today(request, principal.school_id)
            async with deps.runtime(request).db.raw() as conn:
                teachers = {await queries.class_teacher_on(conn, c, today) for c in classes if c}
            if not held or principal.person_id not in teachers:
                # Someone who may not even read the person gets the stranger's 404: a 403
                # would tell another family that this child exists.
                async with deps.runtime(request).db.raw() as conn:
                    readable = await queries.may_read_person(conn, principal, person_id, today)
                require_seen(readable, "person", "person_id")
                raise Forbidden("only the class teacher or the administration issues this access")
        ctx = await deps.context(request, principal, idempotent=False)
        result = await handle.issue_access_codes(
            deps.runtime(request), ctx, principal.school_id, [person_id]
        )
        response.status_code = result.status
        return result.body

    @r.post("/activate")
    async def activate(body: ActivateIn, request: Request) -> Any:
        ctx = await deps.context(request, role="anonymous")
        result = await handle.activate(deps.runtime(request), ctx, body.code, body.password)
        return result.body

    return r
