"""Who may call what, in lessons, attendance, grading and reporting: every role against a
representative set of reads and writes, and the same calls aimed at data that is not the
caller's — another family's child, another school's class, a class the teacher does not teach,
a restricted guardian's child. The one rule (docs/ARCHITECTURE.md, "Identity and access"): what
a caller does not see looks exactly like what does not exist (404, the body of a made-up id);
403 only for a caller who sees the target but may not do this, or whose role may not make a call
that names nothing.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ezurnals.shared.auth.verifier import AUDIENCE, ISSUER
from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.testing.stack import eventually

from .conftest import WEEK, School, World, publish

ADMINISTRATION = frozenset({"deputy", "director", "admin"})
SUBJECT_TEACHERS = frozenset({"teacher", "class_teacher"}) | ADMINISTRATION
CLASS_LEADERS = frozenset({"class_teacher"}) | ADMINISTRATION
FAMILY = frozenset({"guardian", "student"})
EVERYONE_ABOUT_THE_STUDENT = SUBJECT_TEACHERS | FAMILY
#: Grading's school admin sets policies but reads no grades (grading's domain/authorization.py).
GRADE_READERS = SUBJECT_TEACHERS - {"admin"}

#: Caller name → (School attribute naming the person, the token's roles).
CALLERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "teacher": ("teacher", ("teacher",)),
    "class_teacher": ("class_teacher", ("teacher", "class_teacher")),
    "deputy": ("deputy", ("deputy_director",)),
    "director": ("director", ("director",)),
    "admin": ("admin", ("admin",)),
    "guardian": ("guardian", ("guardian",)),
    "student": ("student", ("student",)),
}


@dataclass(frozen=True)
class Endpoint:
    """One call; ``{student}``, ``{class}``, ``{lesson}``, ``{subject}`` in the path and body
    name the matrix's target; ``allowed`` are the callers who may make it about their own,
    ``sees`` those who see the target in this service (by its read rule) and so are refused with
    403; anyone else is answered 404. By default only the allowed see it."""

    service: str
    method: str
    path: str
    allowed: frozenset[str]
    body: str | None = None
    sees: frozenset[str] = frozenset()
    #: An id in the body that names what the call creates: no target, so refusals are 403.
    creates: str | None = None

    @property
    def seen_by(self) -> frozenset[str]:
        return self.allowed | self.sees

    @property
    def label(self) -> str:
        return f"{self.service} {self.method} {self.path}"

    @property
    def targets(self) -> set[str]:
        text = self.path + (self.body or "")
        named = {n for n in ("student", "class", "lesson", "subject") if f"{{{n}}}" in text}
        return named - {self.creates}


GRADES_BODY = json.dumps(
    {
        "work": {"title": "Kontroldarbs", "kind": "test", "given_on": WEEK[0].isoformat()},
        "marks": [{"student_id": "{student}", "value": "7"}],
    }
)
WEEK_QUERY = f"first_day={WEEK[0]}&last_day={WEEK[1]}"
EXCUSE_BODY = json.dumps(
    {
        "absence_ids": ["{absence}"],
        "document_type": "doctor_certificate",
        "reference": "izziņa 112/2026",
    }
)

ENDPOINTS = (
    Endpoint("lessons", "GET", "/lessons/{lesson}", SUBJECT_TEACHERS),
    Endpoint("lessons", "GET", "/lessons?class_id={class}&" + WEEK_QUERY, SUBJECT_TEACHERS),
    Endpoint(
        "lessons",
        "POST",
        "/lessons/{lesson}/record",
        frozenset({"teacher"}),
        json.dumps({"topic": "Daļskaitļi", "no_homework": True}),
        sees=SUBJECT_TEACHERS,
    ),
    Endpoint(
        "lessons",
        "POST",
        "/subjects",
        ADMINISTRATION,
        json.dumps({"subject_id": "{subject}", "name_key": "fizika", "name": "Fizika"}),
        creates="subject",
    ),
    Endpoint("attendance", "GET", "/lessons/{lesson}/attendance", SUBJECT_TEACHERS),
    Endpoint(
        "attendance",
        "POST",
        "/lessons/{lesson}/attendance",
        frozenset({"teacher"}),
        json.dumps({"all_present": True}),
        sees=SUBJECT_TEACHERS,
    ),
    Endpoint("attendance", "GET", "/students/{student}/absences", CLASS_LEADERS | FAMILY),
    Endpoint("attendance", "GET", "/excuse-requests?student_id={student}", CLASS_LEADERS | FAMILY),
    # rule 4: the class teacher or the administration; the family sees the absences but asks
    Endpoint(
        "attendance",
        "POST",
        "/students/{student}/excuses",
        CLASS_LEADERS,
        EXCUSE_BODY,
        sees=CLASS_LEADERS | FAMILY,
    ),
    Endpoint("attendance", "GET", "/classes/{class}/unexcused-absences", CLASS_LEADERS),
    Endpoint("grading", "GET", "/students/{student}/grades", GRADE_READERS | FAMILY),
    Endpoint("grading", "GET", "/classes/{class}/subjects/{subject}/sheet", GRADE_READERS),
    Endpoint(
        "grading",
        "POST",
        "/classes/{class}/subjects/{subject}/grades",
        frozenset({"teacher"}),
        GRADES_BODY,
        sees=GRADE_READERS,
    ),
    Endpoint("reporting", "GET", "/students/{student}/diary", EVERYONE_ABOUT_THE_STUDENT),
    Endpoint("reporting", "GET", "/students/{student}/report-cards", EVERYONE_ABOUT_THE_STUDENT),
    Endpoint("reporting", "GET", "/students/{student}/statements", EVERYONE_ABOUT_THE_STUDENT),
    Endpoint("reporting", "GET", "/classes/{class}/overview", CLASS_LEADERS),
    Endpoint("reporting", "GET", "/classes/{class}/summary-journal", CLASS_LEADERS),
    Endpoint("reporting", "GET", "/administration/compliance", ADMINISTRATION),
)
BY_LABEL = {e.label: e for e in ENDPOINTS}


def _case(label: str, caller: str) -> Any:
    return pytest.param(label, caller, id=f"{label} as {caller}")


def targets_of(school: School, *, student: uuid.UUID | None = None) -> dict[str, uuid.UUID]:
    assert school.lesson_id is not None and school.absence_id is not None
    return {
        "student": student or school.student,
        "class": school.class_id,
        "lesson": school.lesson_id,
        "subject": school.subject_id,
        "absence": school.absence_id,
    }


def fill(text: str, targets: dict[str, uuid.UUID]) -> str:
    for name, value in targets.items():
        text = text.replace(f"{{{name}}}", str(value))
    return text


async def send(
    world: World, endpoint: Endpoint, headers: dict[str, str], targets: dict[str, uuid.UUID]
) -> httpx.Response:
    body = json.loads(fill(endpoint.body, targets)) if endpoint.body else None
    return await world.call(
        endpoint.service, endpoint.method, fill(endpoint.path, targets), headers, body
    )


def caller_headers(world: World, caller: str, school: School | None = None) -> dict[str, str]:
    attribute, roles = CALLERS[caller]
    school = school or world.a
    return world.headers(getattr(school, attribute), *roles, school=school)


def everyone(world: World) -> set[str]:
    """Every id of both schools, as text: none may show up where the caller may not look."""
    ids: set[str] = set()
    for school in (world.a, world.b):
        ids |= {str(v) for v in vars(school).values() if isinstance(v, uuid.UUID)}
    return ids


async def assert_looks_missing(
    world: World,
    endpoint: Endpoint,
    headers: dict[str, str],
    targets: dict[str, uuid.UUID],
    hidden: str,
) -> None:
    """The answer about ``targets`` equals the answer about a ``hidden`` target that does not
    exist: same status, same body once the asked id is masked, no other known id echoed."""
    asked = await send(world, endpoint, headers, targets)
    ghost = dict(targets, **{hidden: uuid.uuid4()})
    missing = await send(world, endpoint, headers, ghost)
    assert missing.status_code == 404, f"a made-up {hidden}: {missing.status_code}"
    assert asked.status_code == missing.status_code, (
        f"{endpoint.label}: {asked.status_code} {asked.text} differs from a made-up "
        f"{hidden}'s {missing.status_code} {missing.text}"
    )
    assert asked.text.replace(str(targets[hidden]), "<id>") == missing.text.replace(
        str(ghost[hidden]), "<id>"
    ), (asked.text, missing.text)
    leaked = {i for i in everyone(world) if i in asked.text} - {str(targets[hidden])}
    assert not leaked, f"{endpoint.label} echoed {leaked}: {asked.text}"


def assert_forbidden(endpoint: Endpoint, caller: str, answer: httpx.Response) -> None:
    """Refused though the caller sees the target (or the call names none): 403 forbidden."""
    assert answer.status_code == 403, (
        f"{caller} on {endpoint.label}: {answer.status_code} {answer.text}"
    )
    assert answer.json()["error"] == "forbidden", answer.text


# --- the roles within their own school ---


@pytest.mark.parametrize(
    ("label", "caller"), [_case(e.label, c) for e in ENDPOINTS for c in CALLERS]
)
async def test_each_role_may_do_only_what_it_must(world: World, label: str, caller: str) -> None:
    endpoint = BY_LABEL[label]
    headers = caller_headers(world, caller)
    answer = await send(world, endpoint, headers, targets_of(world.a))
    if caller in endpoint.allowed:
        assert answer.status_code not in (401, 403, 404), (
            f"{caller} refused on {label}: {answer.status_code} {answer.text}"
        )
        assert answer.status_code < 500, answer.text
    elif caller in endpoint.seen_by or not endpoint.targets:
        assert_forbidden(endpoint, caller, answer)
    else:
        await assert_looks_missing(
            world, endpoint, headers, targets_of(world.a), _first_target(endpoint)
        )


# --- data that is not the caller's looks like data that does not exist ---

ABOUT_A_STUDENT = [e.label for e in ENDPOINTS if e.targets == {"student"}]


@pytest.mark.parametrize("label", ABOUT_A_STUDENT)
@pytest.mark.parametrize("caller", ["guardian", "student"])
async def test_another_familys_child_looks_like_no_child(
    world: World, label: str, caller: str
) -> None:
    targets = targets_of(world.a, student=world.a.other_student)
    await assert_looks_missing(
        world, BY_LABEL[label], caller_headers(world, caller), targets, "student"
    )


@pytest.mark.parametrize("label", ABOUT_A_STUDENT)
async def test_a_restricted_guardian_sees_no_child(world: World, label: str) -> None:
    headers = world.headers(world.a.restricted_guardian, "guardian")
    await assert_looks_missing(world, BY_LABEL[label], headers, targets_of(world.a), "student")


def _first_target(endpoint: Endpoint) -> str:
    """The id that names what is asked about (a lesson before its class, a class before its
    subject)."""
    for name in ("student", "lesson", "class", "subject"):
        if name in endpoint.targets:
            return name
    raise AssertionError(endpoint.label)


AIMED = [e.label for e in ENDPOINTS if e.targets]


@pytest.mark.parametrize("label", AIMED)
@pytest.mark.parametrize("caller", list(CALLERS))
async def test_another_schools_data_looks_like_no_data(
    world: World, label: str, caller: str
) -> None:
    """Every role of school B aims at school A's student, lesson, class: reads and commands."""
    endpoint = BY_LABEL[label]
    headers = caller_headers(world, caller, world.b)
    await assert_looks_missing(
        world, endpoint, headers, targets_of(world.a), _first_target(endpoint)
    )


async def test_an_id_another_school_uses_is_taken_and_nothing_more(world: World) -> None:
    """Ids are chosen by the client and unique in the system: school B defining a subject with
    school A's subject id learns only that the id is taken, not whose it is."""
    define = BY_LABEL[next(e.label for e in ENDPOINTS if e.creates == "subject")]
    answer = await send(world, define, caller_headers(world, "admin", world.b), targets_of(world.a))
    assert answer.status_code == 409, answer.text
    assert (answer.json()["error"], answer.json()["field"]) == ("id_in_use", "subject_id")
    assert "school" not in answer.json()["message"], answer.text
    subject = str(targets_of(world.a)["subject"])
    assert not {i for i in everyone(world) if i in answer.text} - {subject}, answer.text


async def test_school_wide_views_show_only_the_callers_school(world: World) -> None:
    for endpoint in (e for e in ENDPOINTS if not e.targets and e.method == "GET"):
        answer = await send(world, endpoint, caller_headers(world, "admin", world.b), {})
        assert answer.status_code == 200, answer.text
        school_a = {str(v) for v in vars(world.a).values() if isinstance(v, uuid.UUID)}
        assert not {i for i in school_a if i in answer.text}, answer.text


@pytest.mark.parametrize("label", AIMED)
async def test_a_teacher_reaches_no_class_they_do_not_teach(world: World, label: str) -> None:
    """The teacher of the school's other class sees nothing of this class: its lessons, its
    students and its grade book read like ones that are not there, for reads and commands."""
    endpoint = BY_LABEL[label]
    headers = world.headers(world.a.other_teacher, "teacher")
    await assert_looks_missing(
        world, endpoint, headers, targets_of(world.a), _first_target(endpoint)
    )


# --- tokens that must not open anything ---


def _forged(world: World, how: str) -> str:
    a = world.a
    if how == "expired":
        return world.token(a.admin, "admin", ttl_s=-120)
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(a.admin),
        "school": str(a.school_id),
        "roles": ["admin"],
        "sid": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 600,
        "pwd_expired": False,
    }
    if how == "unknown key":
        return jwt.encode(
            claims,
            Ed25519PrivateKey.generate(),
            algorithm="EdDSA",
            headers={"kid": world.issuer.kid},
        )
    header = jwt.utils.base64url_encode(
        json.dumps({"alg": "none", "typ": "JWT", "kid": world.issuer.kid}).encode()
    )
    payload = jwt.utils.base64url_encode(json.dumps(claims).encode())
    return f"{header.decode()}.{payload.decode()}."


@pytest.mark.parametrize("how", ["expired", "unknown key", "alg none"])
async def test_tokens_that_are_not_good_are_refused_everywhere(world: World, how: str) -> None:
    headers = {"Authorization": f"Bearer {_forged(world, how)}"}
    for endpoint in ENDPOINTS:
        answer = await send(world, endpoint, headers, targets_of(world.a))
        assert answer.status_code == 401, (how, endpoint.label, answer.status_code, answer.text)
        assert str(world.a.student) not in answer.text


async def test_an_expired_staff_password_opens_nothing(world: World) -> None:
    for caller in ("teacher", "class_teacher", "admin"):
        attribute, roles = CALLERS[caller]
        headers = world.headers(getattr(world.a, attribute), *roles, password_expired=True)
        for endpoint in ENDPOINTS:
            answer = await send(world, endpoint, headers, targets_of(world.a))
            assert answer.status_code == 403, (caller, endpoint.label, answer.text)
            assert answer.json()["error"] == "password_expired", answer.text


async def test_an_ended_employment_ends_access_within_seconds(world: World) -> None:
    """The leaver's token works, identity says the employment ended, and every service refuses
    it within seconds, once its worker has applied that (the shared ``AccessRevocations``)."""
    leaver = world.a.leaver
    headers = world.headers(leaver, "teacher")
    reads = [e for e in ENDPOINTS if e.method == "GET" and "teacher" in e.allowed]
    for endpoint in reads:
        answer = await send(world, endpoint, headers, targets_of(world.a))
        assert answer.status_code != 401, (endpoint.label, answer.text)
    ended = idn.EmploymentEnded(school_id=world.a.school_id, person_id=leaver, ended_on=WEEK[1])
    await publish(world.settings["lessons"], "identity", [(f"employment-{leaver}", ended)])
    for endpoint in ENDPOINTS:

        async def refused(endpoint: Endpoint = endpoint) -> bool:
            answer = await send(world, endpoint, headers, targets_of(world.a))
            return answer.status_code == 401

        await eventually(refused, timeout=10, what=f"{endpoint.label} refuses the leaver")
