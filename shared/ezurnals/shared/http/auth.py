"""FastAPI dependencies that yield the calling Principal, or refuse with 401/403."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from ezurnals.shared.auth.principal import Principal
from ezurnals.shared.auth.revocations import Revocations
from ezurnals.shared.auth.verifier import TokenRefused, TokenVerifier
from ezurnals.shared.domain import Forbidden

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


class PasswordExpired(Forbidden):
    code = "password_expired"


async def authenticate(request: Request) -> Principal:
    """A valid, unrevoked token — even one whose staff password has expired."""
    verifier: TokenVerifier | None = getattr(request.app.state, "verifier", None)
    if verifier is None:
        raise HTTPException(503, "sign-in is not configured (no JWKS URL)")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "sign in first", headers=_CHALLENGE)
    try:
        principal = await verifier.verify(token.strip())
    except TokenRefused:
        raise HTTPException(401, "sign in again", headers=_CHALLENGE) from None
    revocations: Revocations = request.app.state.revocations
    if await revocations.is_revoked(principal.person_id, principal.session_id, principal.issued_at):
        raise HTTPException(401, "sign in again", headers=_CHALLENGE)
    request.state.principal = principal
    return principal


async def current_principal(
    principal: Annotated[Principal, Depends(authenticate)],
) -> Principal:
    """The caller, refused with 403 ``password_expired`` until an expired password is changed."""
    if principal.password_expired:
        raise PasswordExpired("your password has expired; change it to continue")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
PrincipalWithExpiredPassword = Annotated[Principal, Depends(authenticate)]
