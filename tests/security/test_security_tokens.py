"""Tokens that must open nothing, on every operation of all five services: expired, signed with
a key the service does not know (under a ``kid`` it does), and unsigned (``alg: none``). Each
is a 401 with a Bearer challenge that says nothing about what was asked."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ezurnals.attendance.service import SERVICE as ATTENDANCE
from ezurnals.grading.service import SERVICE as GRADING
from ezurnals.identity.service import SERVICE as IDENTITY
from ezurnals.lessons.service import SERVICE as LESSONS
from ezurnals.reporting.service import SERVICE as REPORTING
from ezurnals.shared.auth.verifier import AUDIENCE, ISSUER
from ezurnals.shared.http.app import create_app
from ezurnals.shared.service import ServiceDefinition
from ezurnals.shared.settings import Settings

from .conftest import IdentityWorld, World

DEFINITIONS: dict[str, ServiceDefinition] = {
    "identity": IDENTITY,
    "lessons": LESSONS,
    "attendance": ATTENDANCE,
    "grading": GRADING,
    "reporting": REPORTING,
}
#: Identity's operations that take no token at all (the operator's secret, keys, signing in).
PUBLIC = frozenset(
    {
        "POST /api/identity/schools",
        "GET /api/identity/.well-known/jwks.json",
        "POST /api/identity/sign-in",
        "POST /api/identity/refresh",
        "POST /api/identity/activate",
    }
)

#: A read the school's admin may make in each of the four services (identity: ``/me``).
PROBES = {
    "lessons": "/api/lessons/lessons/{lesson}",
    "attendance": "/api/attendance/lessons/{lesson}/attendance",
    "grading": "/api/grading/scales",
    "reporting": "/api/reporting/administration/compliance",
}


def operations(service: str) -> list[tuple[str, str]]:
    """Every documented operation but the public ones (building the app connects nothing)."""
    spec = create_app(DEFINITIONS[service], Settings(service=service)).openapi()
    found = [(m.upper(), path) for path, ops in spec["paths"].items() for m in ops]
    return [(m, p) for m, p in found if f"{m} {p}" not in PUBLIC]


def _claims(person: uuid.UUID, school: uuid.UUID, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(person),
        "school": str(school),
        "roles": ["admin"],
        "sid": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 600,
        "pwd_expired": False,
    }
    return claims | changes


def forge(
    how: str, person: uuid.UUID, school: uuid.UUID, kid: str, sign: Callable[..., str]
) -> str:
    """A token the service must refuse; ``sign`` makes one the service trusts, for "expired"."""
    if how == "expired":
        return sign(ttl_s=-120)
    claims = _claims(person, school)
    if how == "unknown key":
        return jwt.encode(
            claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid}
        )
    assert how == "alg none"
    header = jwt.utils.base64url_encode(
        json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode()
    )
    payload = jwt.utils.base64url_encode(json.dumps(claims).encode())
    return f"{header.decode()}.{payload.decode()}."


HOW = ["expired", "unknown key", "alg none"]


@pytest.mark.parametrize("how", HOW)
async def test_a_bad_token_opens_nothing_in_identity(
    identity_world: IdentityWorld, how: str
) -> None:
    """Identity verifies its own tokens against its own keys."""
    idw = identity_world

    def sign(**kw: Any) -> str:
        return idw.token(idw.a.admin, "admin", **kw)

    await assert_refused_everywhere(
        "identity", idw.client, "/api/identity/me", how, sign, idw.keys.current.kid, idw.a
    )


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("service", [s for s in DEFINITIONS if s != "identity"])
async def test_a_bad_token_opens_nothing_in_the_other_services(
    world: World, service: str, how: str
) -> None:
    """They verify tokens against identity's JWKS (here the test issuer's)."""

    def sign(**kw: Any) -> str:
        return world.token(world.a.admin, "admin", **kw)

    probe = PROBES[service].format(lesson=world.a.lesson_id)
    await assert_refused_everywhere(
        service, world.clients[service], probe, how, sign, world.issuer.kid, world.a
    )


async def assert_refused_everywhere(
    service: str,
    client: httpx.AsyncClient,
    probe: str,
    how: str,
    sign: Callable[..., str],
    kid: str,
    school: Any,
) -> None:
    """Every operation of ``service`` refuses the forged token with a bare 401; the same
    caller with a good token is let in on ``probe`` (only the forgery keeps them out)."""
    let_in = await client.get(probe, headers={"Authorization": f"Bearer {sign()}"})
    assert let_in.status_code == 200, let_in.text
    student, school_id = school.student, school.school_id
    headers = {"Authorization": f"Bearer {forge(how, school.admin, school_id, kid, sign)}"}
    refused = 0
    for method, path in operations(service):
        concrete = path
        for name in ("person_id", "student_id", "class_id", "lesson_id", "guardian_id"):
            concrete = concrete.replace(f"{{{name}}}", str(student))
        while "{" in concrete:
            start, end = concrete.index("{"), concrete.index("}")
            concrete = concrete[:start] + str(uuid.uuid4()) + concrete[end + 1 :]
        answer = await client.request(method, concrete, headers=headers, json={})
        assert answer.status_code == 401, (how, method, path, answer.status_code, answer.text)
        assert answer.headers.get("www-authenticate") == "Bearer", answer.headers
        assert str(student) not in answer.text and str(school_id) not in answer.text, answer.text
        refused += 1
    assert refused >= 10, f"only {refused} operations of {service}"
