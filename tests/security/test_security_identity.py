"""Who may call what in identity: personal files, class lists, family access, the school's
structure and staff — every role of school A against its own school's data, and the same calls
aimed where they must not reach: another family's child, a restricted guardian's child, a class
the teacher does not teach or lead, school B's people and classes. What a caller may not see
looks exactly like what does not exist (404, the same body as for a made-up id); 403 is only for
a caller who sees the person or class but may not do this with it, or whose role may not make a
call that names nothing (docs/ARCHITECTURE.md, "Identity and access"). An ended employment and
an expired staff password are refused as well.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from ezurnals.identity.service import SERVICE as IDENTITY
from ezurnals.shared.http.app import create_app
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.stack import eventually

from .conftest import PASSWORD, IdentitySchool, IdentityWorld, school_year_of

ADMINISTRATION = frozenset({"admin", "director"})
FILE_KEEPERS = ADMINISTRATION | {"class_teacher"}
THE_CLASS = FILE_KEEPERS | {"teacher"}
#: Who sees the matrix's student (reads the personal file): refused otherwise with 403, not 404.
SEE_THE_STUDENT = THE_CLASS | {"guardian", "student"}
#: The school's staff see their colleagues.
STAFF = frozenset({"admin", "director", "class_teacher", "other_class_teacher", "teacher"}) | {
    "other_teacher"
}

#: Caller name → (the person in ``IdentitySchool.people``, or "admin"; the token's roles).
CALLERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "admin": ("admin", ("admin",)),
    "director": ("director", ("director",)),
    "class_teacher": ("class_teacher", ("teacher", "class_teacher")),
    "other_class_teacher": ("other_class_teacher", ("teacher", "class_teacher")),
    "teacher": ("teacher", ("teacher",)),
    "other_teacher": ("other_teacher", ("teacher",)),
    "guardian": ("guardian", ("guardian",)),
    "other_guardian": ("other_guardian", ("guardian",)),
    "restricted_guardian": ("restricted_guardian", ("guardian",)),
    "student": ("student", ("student",)),
}


@dataclass(frozen=True)
class Endpoint:
    """One call; ``{student}``, ``{class}``, ``{staff}`` name the target (the matrix's student
    of class "a", that class, a teacher); ``allowed`` are the callers who may make it, ``sees``
    those who see the target (refused with 403; anyone else gets 404), by default ``allowed``."""

    method: str
    path: str
    allowed: frozenset[str]
    body: str | None = None
    sees: frozenset[str] | None = None

    @property
    def seen_by(self) -> frozenset[str]:
        return self.allowed | (self.sees or frozenset())

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def target(self) -> str | None:
        text = self.path + (self.body or "")
        return next((n for n in ("student", "class", "staff") if f"{{{n}}}" in text), None)


def _new_person(first: str) -> str:
    return json.dumps({"first_name": first, "last_name": "Jaunā"})


ENDPOINTS = (
    Endpoint("GET", "/me", frozenset(CALLERS)),
    Endpoint(
        "GET",
        "/people/{student}",
        THE_CLASS | {"guardian", "student"},
    ),
    Endpoint("GET", "/people/{student}/export", ADMINISTRATION | {"student"}, sees=SEE_THE_STUDENT),
    Endpoint(
        "GET",
        "/people/{student}/access-log",
        ADMINISTRATION | {"guardian", "student"},
        sees=SEE_THE_STUDENT,
    ),
    Endpoint("GET", "/classes/{class}/students", THE_CLASS),
    Endpoint(
        "PATCH",
        "/people/{student}",
        FILE_KEEPERS,
        json.dumps({"last_name": "Kalniņa"}),
        sees=SEE_THE_STUDENT,
    ),
    Endpoint("POST", "/people/{student}/access-code", FILE_KEEPERS, sees=SEE_THE_STUDENT),
    Endpoint("POST", "/classes/{class}/access-codes", FILE_KEEPERS, sees=THE_CLASS),
    Endpoint("POST", "/classes/{class}/access-letters?deliver=false", FILE_KEEPERS, sees=THE_CLASS),
    Endpoint(
        "POST",
        "/students/{student}/guardians",
        FILE_KEEPERS,
        '{"person": ' + _new_person("Aija") + ', "linked_on": "{today}"}',
        sees=SEE_THE_STUDENT,
    ),
    Endpoint(
        "POST",
        "/staff",
        ADMINISTRATION,
        '{"person": ' + _new_person("Kārlis") + ', "roles": ["teacher"], "hired_on": "{today}"}',
    ),
    Endpoint(
        "POST",
        "/classes",
        ADMINISTRATION,
        json.dumps({"school_year": "{year}", "grade_level": 9, "label": "9.x"}),
    ),
    Endpoint("GET", "/staff/{staff}/accesses", frozenset({"director"}), sees=STAFF),
    Endpoint("GET", "/password-policies", STAFF),
)
BY_LABEL = {e.label: e for e in ENDPOINTS}


def targets_of(school: IdentitySchool, **chosen: uuid.UUID) -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {
        "student": str(chosen.get("student", school.student)),
        "class": str(chosen.get("class", school.classes["a"])),
        "staff": str(chosen.get("staff", school.teacher)),
        "today": today.isoformat(),
        "year": school_year_of(today),
    }


def fill(text: str, targets: dict[str, str]) -> str:
    for name, value in targets.items():
        text = text.replace(f"{{{name}}}", value)
    return text


async def send(
    world: IdentityWorld, endpoint: Endpoint, headers: dict[str, str], targets: dict[str, str]
) -> httpx.Response:
    body = json.loads(fill(endpoint.body, targets)) if endpoint.body else None
    return await world.call(endpoint.method, fill(endpoint.path, targets), headers, body)


def caller_headers(
    world: IdentityWorld, caller: str, school: IdentitySchool | None = None
) -> dict[str, str]:
    person, roles = CALLERS[caller]
    school = school or world.a
    who = school.admin if person == "admin" else school.people[person]
    return world.headers(who, *roles, school=school)


def everyone(world: IdentityWorld) -> set[str]:
    """Every id of both schools, as text."""
    ids: set[str] = set()
    for school in (world.a, world.b):
        ids |= {str(school.school_id), str(school.admin)}
        ids |= {str(v) for v in (*school.people.values(), *school.classes.values())}
    return ids


def assert_forbidden(endpoint: Endpoint, caller: str, answer: httpx.Response) -> None:
    """Refused though the caller sees the target (or the call names none): 403 forbidden."""
    assert answer.status_code == 403, (
        f"{caller} on {endpoint.label}: {answer.status_code} {answer.text}"
    )
    assert answer.json()["error"] in ("forbidden", "role_required"), answer.text


async def assert_looks_missing(
    world: IdentityWorld, endpoint: Endpoint, headers: dict[str, str], targets: dict[str, str]
) -> None:
    """The answer about the target equals the answer about a made-up one: same status, same
    body once the asked id is masked, and no other known id in it."""
    hidden = endpoint.target
    assert hidden is not None
    asked = await send(world, endpoint, headers, targets)
    ghost = dict(targets, **{hidden: str(uuid.uuid4())})
    missing = await send(world, endpoint, headers, ghost)
    assert missing.status_code == 404, f"a made-up {hidden}: {missing.status_code}"
    assert asked.status_code == missing.status_code, (
        f"{endpoint.label}: {asked.status_code} {asked.text} differs from a made-up "
        f"{hidden}'s {missing.status_code} {missing.text}"
    )
    assert asked.text.replace(targets[hidden], "<id>") == missing.text.replace(
        ghost[hidden], "<id>"
    ), (asked.text, missing.text)
    leaked = {i for i in everyone(world) if i in asked.text} - {targets[hidden]}
    assert not leaked, f"{endpoint.label} echoed {leaked}: {asked.text}"


# --- every role within its own school ---


@pytest.mark.parametrize(
    ("label", "caller"),
    [pytest.param(e.label, c, id=f"{e.label} as {c}") for e in ENDPOINTS for c in CALLERS],
)
async def test_each_role_may_do_only_what_it_must(
    identity_world: IdentityWorld, label: str, caller: str
) -> None:
    endpoint = BY_LABEL[label]
    world = identity_world
    answer = await send(world, endpoint, caller_headers(world, caller), targets_of(world.a))
    if caller in endpoint.allowed:
        assert answer.status_code < 300 or answer.status_code == 409, (
            f"{caller} refused on {label}: {answer.status_code} {answer.text}"
        )
    elif caller in endpoint.seen_by or endpoint.target is None:
        assert_forbidden(endpoint, caller, answer)
    else:
        await assert_looks_missing(
            world, endpoint, caller_headers(world, caller), targets_of(world.a)
        )


# --- what is not the caller's looks like what does not exist ---

ABOUT_A_STUDENT = [e.label for e in ENDPOINTS if e.target == "student"]


@pytest.mark.parametrize("label", ABOUT_A_STUDENT)
@pytest.mark.parametrize("caller", ["other_guardian", "restricted_guardian"])
async def test_another_familys_child_looks_like_no_child(
    identity_world: IdentityWorld, label: str, caller: str
) -> None:
    """A guardian of another family, and a guardian a court restricted, aim at the child."""
    world = identity_world
    await assert_looks_missing(
        world, BY_LABEL[label], caller_headers(world, caller), targets_of(world.a)
    )


@pytest.mark.parametrize("label", [e.label for e in ENDPOINTS if e.target == "student"])
async def test_a_student_of_the_same_class_looks_like_no_one(
    identity_world: IdentityWorld, label: str
) -> None:
    world = identity_world
    targets = targets_of(world.a, student=world.a.other_student)
    await assert_looks_missing(world, BY_LABEL[label], caller_headers(world, "student"), targets)


AIMED = [e.label for e in ENDPOINTS if e.target is not None]


@pytest.mark.parametrize("label", AIMED)
@pytest.mark.parametrize("caller", ["admin", "director", "class_teacher", "guardian"])
async def test_another_schools_data_looks_like_no_data(
    identity_world: IdentityWorld, label: str, caller: str
) -> None:
    """School B's administration, class teacher and family aim at school A's people and
    classes: the same answer as for ids that do not exist."""
    world = identity_world
    headers = caller_headers(world, caller, world.b)
    await assert_looks_missing(world, BY_LABEL[label], headers, targets_of(world.a))


FAMILY_ACCESS = [e.label for e in ENDPOINTS if "access-code" in e.path or "letters" in e.path]


@pytest.mark.parametrize("label", FAMILY_ACCESS)
async def test_a_class_teacher_issues_no_family_access_for_another_class(
    identity_world: IdentityWorld, label: str
) -> None:
    world = identity_world
    endpoint = BY_LABEL[label]
    await assert_looks_missing(
        world, endpoint, caller_headers(world, "other_class_teacher"), targets_of(world.a)
    )


@pytest.mark.parametrize(
    "label", [e.label for e in ENDPOINTS if e.target in ("student", "class") and e.method == "GET"]
)
async def test_a_teacher_reads_nothing_of_a_class_they_do_not_teach(
    identity_world: IdentityWorld, label: str
) -> None:
    world = identity_world
    await assert_looks_missing(
        world, BY_LABEL[label], caller_headers(world, "other_teacher"), targets_of(world.a)
    )


# --- an ended employment, an expired password ---


async def test_an_ended_employment_ends_access(identity_world: IdentityWorld) -> None:
    """The leaver reads the class's file until the administration ends the employment; then
    their token opens nothing in identity (once its worker has applied the end)."""
    world = identity_world
    leaver = world.a.leaver
    headers = world.headers(leaver, "teacher")
    read = await world.call("GET", f"/people/{world.a.student}", headers)
    assert read.status_code == 200, read.text
    today = datetime.now(UTC).date().isoformat()
    await world.ok(
        "POST",
        f"/staff/{leaver}/end-employment",
        caller_headers(world, "admin"),
        {"ended_on": today},
    )
    for endpoint in ENDPOINTS:

        async def refused(endpoint: Endpoint = endpoint) -> bool:
            answer = await send(world, endpoint, headers, targets_of(world.a))
            return answer.status_code == 401

        await eventually(refused, timeout=15, what=f"{endpoint.label} refuses the leaver")


#: What a signed-in user with an expired password may still do (besides the public calls).
WITH_AN_EXPIRED_PASSWORD = frozenset(
    {"POST /api/identity/password", "POST /api/identity/sign-out"}
    | {"POST /api/identity/sign-out-everywhere"}
)
PUBLIC = frozenset(
    {
        "POST /api/identity/schools",
        "GET /api/identity/.well-known/jwks.json",
        "POST /api/identity/sign-in",
        "POST /api/identity/refresh",
        "POST /api/identity/activate",
    }
)


def _operations(settings: Settings) -> list[tuple[str, str]]:
    spec = create_app(IDENTITY, settings).openapi()
    return [(method.upper(), path) for path, ops in spec["paths"].items() for method in ops]


async def test_an_expired_staff_password_opens_only_the_password_change(
    identity_world: IdentityWorld,
) -> None:
    """A teacher whose password was set 61 days ago signs in and gets a token that every
    operation refuses with 403 ``password_expired`` — except changing the password, which
    answers with tokens that work again."""
    world = identity_world
    admin = caller_headers(world, "admin")
    hired = await world.ok(
        "POST",
        "/staff",
        admin,
        {
            "person": {"first_name": "Rūta", "last_name": "Egle"},
            "roles": ["teacher"],
            "hired_on": datetime.now(UTC).date().isoformat(),
        },
    )
    issued = await world.ok("POST", f"/people/{hired['person_id']}/access-code", admin)
    world.clock.fixed = datetime.now(UTC) - timedelta(days=61)
    try:
        await world.ok(
            "POST", "/activate", {}, {"code": issued["codes"][0]["code"], "password": PASSWORD}
        )
    finally:
        world.clock.fixed = None
    signed = await world.ok(
        "POST", "/sign-in", {}, {"username": hired["username"], "password": PASSWORD}
    )
    token = signed["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["pwd_expired"] is True
    headers = {"Authorization": f"Bearer {token}"}
    checked = 0
    for method, path in _operations(world.settings):
        label = f"{method} {path}"
        if label in PUBLIC or label in WITH_AN_EXPIRED_PASSWORD:
            continue
        concrete = path.removeprefix("/api/identity")
        for name in ("person_id", "student_id", "class_id", "guardian_id", "assignment_id"):
            concrete = concrete.replace(f"{{{name}}}", str(world.a.student))
        answer = await world.client.request(
            method, f"/api/identity{concrete}", headers=headers, json={}
        )
        assert answer.status_code == 403, (label, answer.status_code, answer.text)
        assert answer.json()["error"] == "password_expired", (label, answer.text)
        checked += 1
    assert checked >= 30
    changed = await world.ok(
        "POST",
        "/password",
        headers,
        {"current_password": PASSWORD, "new_password": "jauna-gara-parole-rudenim-7"},
    )
    assert changed["password"]["status"] == "ok"
    fresh = {"Authorization": f"Bearer {changed['access_token']}"}
    assert (await world.call("GET", "/me", fresh)).status_code == 200


def _structure_writes(a: IdentitySchool, since: str) -> list[tuple[str, str, Any]]:
    """The administration's writes aimed at school A's class, student, guardian and teacher."""
    return [
        (
            "PUT",
            f"/classes/{a.classes['a']}/class-teacher",
            {"teacher_id": str(a.teacher), "valid_from": since},
        ),
        ("POST", f"/students/{a.student}/withdraw", {"withdrawn_on": since}),
        ("POST", f"/staff/{a.teacher}/end-employment", {"ended_on": since}),
        ("PUT", f"/staff/{a.teacher}/roles", {"roles": ["admin"], "changed_on": since}),
        ("POST", f"/people/{a.student}/erase", None),
        (
            "PUT",
            f"/students/{a.student}/guardians/{a.guardian}/restriction",
            {"restricted": True, "on": since},
        ),
        (
            "POST",
            f"/classes/{a.classes['a']}/teaching",
            {"teacher_id": str(a.teacher), "subject_id": str(uuid.uuid4()), "valid_from": since},
        ),
        ("POST", f"/staff/{a.teacher}/rehire", {"roles": ["teacher"], "hired_on": since}),
    ]


@pytest.mark.parametrize("caller", ["admin", "director", "class_teacher", "teacher", "guardian"])
async def test_school_b_changes_nothing_in_school_a(
    identity_world: IdentityWorld, caller: str
) -> None:
    """Writes aimed at school A from school B, by its administration and by roles that may not
    make them anyway: each the 404 of an id that is not there, nothing changed."""
    world = identity_world
    headers = caller_headers(world, caller, world.b)
    a, since = world.a, datetime.now(UTC).date().isoformat()
    for method, path, body in _structure_writes(a, since):
        answer = await world.call(method, path, headers, body)
        assert answer.status_code == 404, (method, path, answer.status_code, answer.text)
        assert answer.json()["error"] == "not_found", answer.text
    still = await world.call("GET", f"/people/{a.student}", caller_headers(world, "guardian"))
    assert still.status_code == 200, still.text
    assert still.json()["personal_data"]["first_name"] == "Līga"


async def test_within_the_school_who_sees_is_refused_and_who_does_not_is_told_nothing(
    identity_world: IdentityWorld,
) -> None:
    """The administration's writes by school A's own people: the teacher of the class sees
    its class and student (403), a guardian of another family sees neither (404), and the
    teacher of another class sees the school's teachers (403) but not this class (404)."""
    world = identity_world
    a, since = world.a, datetime.now(UTC).date().isoformat()
    writes = _structure_writes(a, since)
    for method, path, body in writes:
        about_staff = path.startswith(f"/staff/{a.teacher}")
        for caller, status in (
            ("teacher", 403),
            ("other_guardian", 404),
            ("other_teacher", 403 if about_staff else 404),
        ):
            answer = await world.call(method, path, caller_headers(world, caller), body)
            assert answer.status_code == status, (caller, method, path, answer.text)
