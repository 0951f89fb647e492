"""No request to identity's API (schools, people, accounts) gives a 5xx or breaks its schema.

Identity signs and verifies its own tokens, so the school here is built through its API
(the operator's bootstrap, then the admin) and callers carry tokens signed with its own key.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ezurnals.identity.keys import SigningKeys
from ezurnals.identity.service import SERVICE as SERVICE
from ezurnals.shared.http import audit
from ezurnals.shared.testing.stack import api_client, eventually, running_worker

BOOTSTRAP = "fuzz-operator-secret"
YEAR = "2025/2026"
CALLERS = ("admin", "teacher")
#: Reachable without a token: registering a school (operator's secret), keys, signing in.
PUBLIC = frozenset(
    {
        "POST /api/identity/schools",
        "GET /api/identity/.well-known/jwks.json",
        "POST /api/identity/sign-in",
        "POST /api/identity/refresh",
        "POST /api/identity/activate",
    }
)
#: These end the caller's sessions, so the run's later requests are rightly refused.
SIGNING_OUT = frozenset({"POST /api/identity/sign-out", "POST /api/identity/sign-out-everywhere"})

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = Path(tmp_path_factory.mktemp("identity-signing-keys"))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("EZURNALS_SIGNING_KEYS_DIR", str(folder))
        env.setenv("EZURNALS_BOOTSTRAP_TOKEN", BOOTSTRAP)
        env.delenv("EZURNALS_DATA_DIR", raising=False)
        yield folder


@pytest.fixture(scope="module")
async def target(serving: Any, keys_dir: Path) -> AsyncIterator[Any]:
    # Without its worker: with the worker's relay leading, audited reads hang (see the last test).
    async with serving(SERVICE, worker=False) as running:
        keys = SigningKeys(keys_dir)

        async def ok(method: str, path: str, who: dict[str, str], **kw: Any) -> Any:
            answer = await running.client.request(method, f"/api/identity{path}", headers=who, **kw)
            assert answer.status_code < 300, (path, answer.status_code, answer.text)
            return answer.json()

        registered = await ok(
            "POST",
            "/schools",
            {"X-Bootstrap-Token": BOOTSTRAP},
            json={"name": "Valmieras 3. vsk.", "admin": person("Anna", "Bērziņa")},
        )
        school = uuid.UUID(registered["school_id"])

        def signed(person_id: uuid.UUID, *roles: str) -> Any:
            def headers() -> dict[str, str]:
                token = keys.sign(
                    person_id=person_id,
                    school_id=school,
                    roles=list(roles),
                    session_id=uuid.uuid4(),
                    issued_at=time.time(),
                    ttl_s=600,
                    password_expired=False,
                )
                return {"Authorization": f"Bearer {token}"}

            return headers

        admin = signed(uuid.UUID(registered["admin"]["person_id"]), "admin")
        await ok(
            "POST",
            "/school-years",
            admin(),
            json={
                "school_year": YEAR,
                "semesters": [
                    {"number": 1, "first_day": "2025-09-01", "last_day": "2025-12-19"},
                    {"number": 2, "first_day": "2026-01-05", "last_day": "2026-05-29"},
                ],
            },
        )
        class_id = (
            await ok(
                "POST",
                "/classes",
                admin(),
                json={"school_year": YEAR, "grade_level": 7, "label": "7.a"},
            )
        )["class_id"]
        staff = {
            name: (
                await ok(
                    "POST",
                    "/staff",
                    admin(),
                    json={
                        "person": person(*name.split()),
                        "roles": roles,
                        "hired_on": "2025-08-25",
                    },
                )
            )["person_id"]
            for name, roles in (
                ("Pēteris Zariņš", ["teacher", "class_teacher"]),
                ("Maija Liepa", ["admin"]),
                ("Ilze Vītola", ["teacher"]),
                ("Jānis Ozols", ["teacher"]),
            )
        }
        student = (
            await ok(
                "POST",
                "/students",
                admin(),
                json={
                    "person": person("Līga", "Kalniņa"),
                    "class_id": class_id,
                    "enrolled_on": "2025-09-01",
                },
            )
        )["person_id"]
        guardian = (
            await ok(
                "POST",
                f"/students/{student}/guardians",
                admin(),
                json={"person": person("Gita", "Kalniņa"), "linked_on": "2025-09-01"},
            )
        )["guardian_id"]
        teacher, leaving_admin, leaving_teacher, other = (uuid.UUID(p) for p in staff.values())
        running.callers = {
            "admin": admin,
            "teacher": signed(teacher, "teacher", "class_teacher"),
            "admin signing out": signed(leaving_admin, "admin"),
            "teacher signing out": signed(leaving_teacher, "teacher"),
        }
        # The callers' own ids stay out of the pool: ending the admin's employment mid-run
        # would make every later request a rightful 401.
        running.known = {
            "school_id": [registered["school_id"]],
            "class_id": [class_id],
            "student_id": [student],
            "guardian_id": [guardian],
            "teacher_id": [str(other)],
            "person_id": [student, guardian, str(other)],
            "school_year": [YEAR, "0000/0001"],
        }
        yield running


def person(first: str, last: str) -> dict[str, str]:
    return {"first_name": first, "last_name": last}


async def test_any_request_gets_a_documented_answer(
    target: Any, caller: str, operation: str
) -> None:
    if operation in SIGNING_OUT:
        # Someone else in the same role: their sessions end, and later answers are 401s.
        caller = f"{caller} signing out"
    # Signing in with a wrong password and signing out are rightful 401s, token or not.
    refusal = operation in SIGNING_OUT or operation in PUBLIC
    assert await target.fuzz(operation, caller, refusal_expected=refusal) > 0


async def test_without_a_token_every_request_is_refused(target: Any, operation: str) -> None:
    assert await target.fuzz_without_token(operation, public=operation in PUBLIC) > 0


async def test_an_audited_read_answers_while_the_worker_relays(target: Any) -> None:
    """Found by this fuzz: the audit lock once shared its key with the relay's leader lock, so
    with the worker running the first audited read of an API process waited forever."""
    student = target.known["student_id"][0]
    async with (
        running_worker(SERVICE, target.settings) as worker,
        api_client(SERVICE, target.settings, **target.callers["admin"]()) as client,
    ):
        await eventually(lambda: _leading(worker), what="the relay leads")
        # As in a freshly started API process, which has not yet made sure of its audit table
        # (the module remembers that per Database object, and earlier apps were already served).
        audit._ready.clear()
        read = await asyncio.wait_for(client.get(f"/api/identity/people/{student}"), 30)
        assert read.status_code == 200, read.text


async def _leading(worker: Any) -> bool:
    return bool(worker.relay and worker.relay.is_leader)
