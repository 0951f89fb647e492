"""Fuzzing a service's HTTP API with schemathesis, in-process on the real stack.

A test module names ``SERVICES`` (or one ``SERVICE`` with its ``CALLERS``); a test taking
``caller`` and ``operation`` then runs once per caller and operation of each service's OpenAPI
document, with a ``target`` fixture per service.

The service runs the way production runs it: its app with the lifespan on this session's event
loop, its worker relaying and projecting, and a small school (identity's and lessons' facts) on
the topics, so generated ids sometimes name real students, classes and lessons instead of always
answering 404. Hypothesis runs in a thread and hands each request to the event loop, so the app,
the worker and the database pool all stay on the one loop they were made on.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import functools
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
)

from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts import lessons as les
from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.db import plain_url
from ezurnals.shared.http.app import create_app
from ezurnals.shared.messaging import kafka
from ezurnals.shared.service import ServiceDefinition
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.auth import TestIssuer
from ezurnals.shared.testing.stack import TestStack, eventually, running_worker

#: Examples per operation: enough to reach each operation's validation and its domain checks,
#: few enough that all services together stay within the CI budget.
EXAMPLES = 12
EXAMPLES_WITHOUT_TOKEN = 4
#: Statuses the spine answers besides the documented ones (docs/SPINE.md): refused token,
#: forbidden, not found (other schools' data too), conflict; and FastAPI's 400 for a body that
#: is not text at all. A 5xx is never one of them.
SPINE_ERRORS = frozenset({400, 401, 403, 404, 409, 422})
ERROR_KEYS = frozenset({"error", "message", "field"})
YEAR = "2025/2026"
SCHOOL_DAY = dt.date(2025, 10, 6)
NO_TOKEN = "no token"
_versions = itertools.count(1)


@functools.cache
def operations(definition: ServiceDefinition) -> list[str]:
    """``"METHOD /path"`` of every documented operation; building the app connects nothing."""
    spec = create_app(definition, Settings(service=definition.name)).openapi()
    return [f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``caller`` and ``operation`` run over the module's ``CALLERS`` and its ``SERVICE``'s
    operations; a module with ``SERVICES`` (name → (definition, callers)) runs over them all,
    callers and ``NO_TOKEN``, with ``target`` started once per service."""
    module, wanted = metafunc.module, metafunc.fixturenames
    services = getattr(module, "SERVICES", None)
    if services is None:
        if "caller" in wanted:
            metafunc.parametrize("caller", sorted(module.CALLERS))
        if "operation" in wanted:
            labels = operations(module.SERVICE)
            metafunc.parametrize("operation", [pytest.param(label, id=label) for label in labels])
        return
    if "operation" not in wanted:
        return
    params = [
        pytest.param(name, caller, label, id=f"{caller}-{label}")
        for name, (definition, callers) in services.items()
        for label in operations(definition)
        for caller in [*sorted(callers), NO_TOKEN]
    ]
    # scope: one target per service, not one per test
    metafunc.parametrize(
        ("target", "caller", "operation"), params, indirect=["target"], scope="module"
    )


# --- checks beyond schemathesis' own ---


def documented_or_spine_status(ctx: Any, response: Any, case: Any) -> None:
    """The status is one the operation documents or one of the spine's error answers."""
    documented = {int(code) for code in case.operation.definition.raw.get("responses", {})}
    assert response.status_code in documented | SPINE_ERRORS, (
        f"{response.status_code} is neither documented ({sorted(documented)}) "
        f"nor a spine error ({sorted(SPINE_ERRORS)})"
    )


def error_body_names_the_reason(ctx: Any, response: Any, case: Any) -> None:
    """Every 4xx is the spine's ``{"error", "message", "field", ...}`` JSON, with a message."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code} without a JSON body") from None
    assert isinstance(body, dict) and body.keys() >= ERROR_KEYS, f"not the error shape: {body}"
    assert isinstance(body["error"], str) and body["error"], body
    assert isinstance(body["message"], str) and body["message"], body


def signed_in(ctx: Any, response: Any, case: Any) -> None:
    """A valid, unrevoked token is never refused (else the fuzz would only see 401s)."""
    assert response.status_code != 401, f"a valid token was refused: {response.text}"


def must_be_signed_in(ctx: Any, response: Any, case: Any) -> None:
    """Without a token: 401 with a Bearer challenge. Only a body that is not JSON at all, or
    text the free-text rule refuses (ezurnals.shared.http.text), is refused first: FastAPI parses
    the body, and the rule reads it, before anyone asks who is calling; that answer names the
    body or the field and nothing else."""
    if response.status_code in (400, 422) and (
        _unparsable_body(response.json()) or _refused_text(response.json())
    ):
        return
    assert response.status_code == 401, f"{response.status_code} without a token"
    assert response.headers.get("www-authenticate") == ["Bearer"], response.headers


def _refused_text(body: Any) -> bool:
    return bool(body.get("error") == "control_character")


def _unparsable_body(body: Any) -> bool:
    if body.get("message") == "There was an error parsing the body":
        return True
    errors = body.get("errors") or []
    return bool(errors) and all(e.get("reason") == "JSON decode error" for e in errors)


CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
    negative_data_rejection,
    signed_in,
    documented_or_spine_status,
    error_body_names_the_reason,
]


# --- a school on the topics ---


@dataclass
class School:
    """One school as identity and lessons publish it, and the ids worth aiming the fuzzer at."""

    school_id: uuid.UUID = field(default_factory=uuid.uuid4)
    class_id: uuid.UUID = field(default_factory=uuid.uuid4)
    subject_id: uuid.UUID = field(default_factory=uuid.uuid4)
    students: tuple[uuid.UUID, ...] = field(default_factory=lambda: (uuid.uuid4(), uuid.uuid4()))
    guardian: uuid.UUID = field(default_factory=uuid.uuid4)
    teacher: uuid.UUID = field(default_factory=uuid.uuid4)
    deputy: uuid.UUID = field(default_factory=uuid.uuid4)
    lessons: tuple[uuid.UUID, ...] = field(default_factory=lambda: (uuid.uuid4(), uuid.uuid4()))
    timetable_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def known_values(self) -> dict[str, list[Any]]:
        """Parameter and body field names → values that exist in this school."""
        people = [*self.students, self.guardian, self.teacher, self.deputy]
        return {
            "school_id": [self.school_id],
            "class_id": [self.class_id],
            "subject_id": [self.subject_id],
            "student_id": list(self.students),
            "guardian_id": [self.guardian],
            "teacher_id": [self.teacher],
            "person_id": people,
            "lesson_id": list(self.lessons),
            "timetable_id": [self.timetable_id],
            "school_year": [YEAR, "2025/26", "0000/0001", "9999/10000"],
            # the school's month, week and day, and the calendar's edges
            "month": ["2025-10", "0000-01", "9999-12"],
            "week": ["2025-W41", "0000-W01", "9999-W52"],
            **{
                name: [SCHOOL_DAY.isoformat(), "0001-01-01", "9999-12-31"]
                for name in ("date", "on", "first_day", "last_day", "held_on", "effective_from")
            },
        }

    def facts(self) -> list[tuple[str, str, IntegrationEvent]]:
        """(topic's service, stream, event) of everything other services know about the school."""
        s = self.school_id
        semesters = (
            idn.Semester(number=1, first_day=dt.date(2025, 9, 1), last_day=dt.date(2025, 12, 19)),
            idn.Semester(number=2, first_day=dt.date(2026, 1, 5), last_day=dt.date(2026, 5, 29)),
        )
        identity: list[tuple[str, IntegrationEvent]] = [
            (f"school-{s}", idn.SchoolRegistered(school_id=s, name="Cēsu 2. pamatskola")),
            (
                f"school-{s}",
                idn.SchoolYearDefined(school_id=s, school_year=YEAR, semesters=semesters),
            ),
            (
                f"school-{s}",
                idn.ClassOpened(
                    school_id=s, class_id=self.class_id, school_year=YEAR, grade_level=7, label="a"
                ),
            ),
            *(
                (
                    f"roll-{s}",
                    idn.StudentEnrolled(
                        school_id=s,
                        student_id=student,
                        class_id=self.class_id,
                        school_year=YEAR,
                        enrolled_on=dt.date(2025, 9, 1),
                    ),
                )
                for student in self.students
            ),
            (
                f"guardianship-{self.students[0]}",
                idn.GuardianLinked(
                    school_id=s,
                    guardian_id=self.guardian,
                    student_id=self.students[0],
                    linked_on=dt.date(2025, 9, 1),
                ),
            ),
            (
                f"employment-{self.teacher}",
                idn.StaffMemberHired(
                    school_id=s,
                    person_id=self.teacher,
                    roles=(idn.Role.TEACHER, idn.Role.CLASS_TEACHER),
                    hired_on=dt.date(2025, 8, 25),
                ),
            ),
            (
                f"employment-{self.deputy}",
                idn.StaffMemberHired(
                    school_id=s,
                    person_id=self.deputy,
                    roles=(idn.Role.DEPUTY_DIRECTOR,),
                    hired_on=dt.date(2025, 8, 25),
                ),
            ),
            (
                f"class-staffing-{self.class_id}",
                idn.ClassTeacherAssigned(
                    school_id=s,
                    class_id=self.class_id,
                    teacher_id=self.teacher,
                    valid_from=dt.date(2025, 9, 1),
                ),
            ),
            (
                f"class-staffing-{self.class_id}",
                idn.TeachingAssigned(
                    school_id=s,
                    assignment_id=uuid.uuid4(),
                    class_id=self.class_id,
                    teacher_id=self.teacher,
                    subject_id=self.subject_id,
                    valid_from=dt.date(2025, 9, 1),
                ),
            ),
        ]
        lessons: list[tuple[str, IntegrationEvent]] = [
            (
                f"subject-{self.subject_id}",
                les.SubjectDefined(
                    subject_id=self.subject_id,
                    school_id=s,
                    name_key=f"s-{self.subject_id.hex[:12]}",
                    name="Matemātika",
                ),
            ),
            *(
                (
                    f"lesson-{lesson_id}",
                    les.LessonScheduled(
                        lesson_id=lesson_id,
                        school_id=s,
                        timetable_id=self.timetable_id,
                        slot_id=uuid.uuid4(),
                        class_id=self.class_id,
                        subject_id=self.subject_id,
                        teacher_id=self.teacher,
                        lesson_date=SCHOOL_DAY,
                        starts_at=dt.time(8 + period, 30),
                        ends_at=dt.time(9 + period, 10),
                        period=period,
                        grade_level=7,
                    ),
                )
                for period, lesson_id in enumerate(self.lessons, start=1)
            ),
        ]
        return [("identity", stream, e) for stream, e in identity] + [
            ("lessons", stream, e) for stream, e in lessons
        ]

    async def publish(self, settings: Settings) -> list[tuple[str, uuid.UUID]]:
        """Publish the facts; returns (service, event id) of each."""
        producer = kafka.producer(settings)
        await producer.start()
        sent = []
        try:
            for service, stream, event in self.facts():
                envelope = EventEnvelope(
                    event_type=event.event_type,
                    schema_version=event.schema_version,
                    stream_id=stream,
                    stream_version=next(_versions),
                    school_id=self.school_id,
                    payload=event.model_dump(mode="json"),
                )
                await producer.send_and_wait(
                    settings.topic(service),
                    key=stream.encode(),
                    value=envelope.model_dump_json().encode(),
                )
                sent.append((service, envelope.event_id))
        finally:
            await producer.stop()
        return sent


async def projected(settings: Settings, event_ids: list[uuid.UUID]) -> None:
    """Wait until the service's worker has applied every one of ``event_ids``."""
    conn = await asyncpg.connect(plain_url(settings.database_url))

    async def applied() -> bool:
        try:
            n = await conn.fetchval(
                f"SELECT count(DISTINCT event_id) FROM {settings.read_model_schema}"
                ".processed_events WHERE event_id = ANY($1::uuid[])",
                event_ids,
            )
        except asyncpg.UndefinedTableError:  # the worker has not installed its read models yet
            return False
        return bool(n == len(event_ids))

    try:
        await eventually(applied, timeout=60, what="the school projected")
    finally:
        await conn.close()


# --- the fuzzer ---


@st.composite
def cases(draw: st.DrawFn, operation: Any, known: Mapping[str, list[Any]]) -> Any:
    """Valid and invalid requests; valid ones sometimes carry ids that exist in the school."""
    mode = draw(st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE]))
    case = draw(operation.as_strategy(generation_mode=mode))
    if mode is GenerationMode.NEGATIVE:
        return case

    def aim(values: Any) -> Any:
        if isinstance(values, dict):
            return {
                k: str(draw(st.sampled_from(known[k])))
                if k in known and isinstance(v, str) and draw(st.booleans())
                else aim(v)
                for k, v in values.items()
            }
        if isinstance(values, list):
            return [aim(v) for v in values]
        return values

    if case.path_parameters:
        case.path_parameters = aim(case.path_parameters)
    if case.query:
        case.query = aim(case.query)
    if isinstance(case.body, dict | list):
        case.body = aim(case.body)
    return case


Headers = Callable[[], dict[str, str]]


@dataclass
class Target:
    """A running service, its schema, who may call it, and ids worth aiming at."""

    settings: Settings
    client: httpx.AsyncClient
    schema: Any
    #: Caller name → fresh headers per request, so a long run never outlives its token.
    callers: dict[str, Headers] = field(default_factory=dict)
    #: Parameter and body field names → values that exist in the service.
    known: dict[str, list[Any]] = field(default_factory=dict)
    #: Per operation, how often each status was answered (shown when a test fails).
    statuses: dict[str, collections.Counter[int]] = field(default_factory=dict)

    async def fuzz(
        self,
        label: str,
        caller: str | None,
        *,
        examples: int = EXAMPLES,
        checks: Sequence[Callable[..., Any]] = CHECKS,
        refusal_expected: bool = False,
    ) -> int:
        """Send ``examples`` generated requests to the operation as ``caller`` (``None``: no
        token) and check every answer; returns how many requests were sent. Without a token
        every request must be refused with 401 (see :meth:`fuzz_without_token`).

        ``refusal_expected``: the operation may end the caller's own sessions (signing out).
        """
        if caller == NO_TOKEN:
            return await self.fuzz_without_token(label)
        if refusal_expected:
            checks = [check for check in checks if check is not signed_in]
        method, path = label.split(" ", 1)
        operation = self.schema[path][method]
        headers = self.callers[caller] if caller is not None else dict
        loop = asyncio.get_running_loop()
        sent = itertools.count()

        def send(case: Any) -> httpx.Response:
            kwargs = case.as_transport_kwargs(base_url="http://test", headers=headers())
            prepared = requests.Request(
                **{k: v for k, v in kwargs.items() if k in REQUEST_FIELDS}
            ).prepare()
            request = self.client.request(
                prepared.method or method,
                prepared.url or path,
                headers={
                    k: v if isinstance(v, str) else v.decode("latin-1")
                    for k, v in prepared.headers.items()
                },
                content=prepared.body if isinstance(prepared.body, bytes | str) else None,
            )
            return asyncio.run_coroutine_threadsafe(request, loop).result(timeout=60)

        @hypothesis.settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            phases=(hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink),
            print_blob=False,
        )
        @hypothesis.given(case=cases(operation, self.known))
        def run(case: Any) -> None:
            next(sent)
            response = send(case)
            self.statuses.setdefault(label, collections.Counter())[response.status_code] += 1
            case.validate_response(response, checks=list(checks))

        try:
            await asyncio.to_thread(run)
        finally:
            print(label, "answered", dict(self.statuses.get(label, {})))
        return next(sent)

    async def fuzz_without_token(self, label: str, *, public: bool = False) -> int:
        """Without a token every request is refused with 401, except on ``public`` operations
        (signing in, the JWKS …), which must still answer without a 5xx."""
        checks = [not_a_server_error, documented_or_spine_status, error_body_names_the_reason]
        return await self.fuzz(
            label,
            None,
            examples=EXAMPLES_WITHOUT_TOKEN,
            checks=checks if public else [not_a_server_error, must_be_signed_in],
        )


REQUEST_FIELDS = ("method", "url", "headers", "params", "json", "data", "files", "cookies")
Serving = Callable[..., AbstractAsyncContextManager[Target]]


@pytest.fixture(scope="session")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> TestIssuer:
    return TestIssuer(Path(tmp_path_factory.mktemp("fuzz-keys")))


@pytest.fixture(scope="module")
def serving(stack: TestStack) -> Serving:
    """Opens a service for fuzzing: its own database, its worker running, its app started."""

    @asynccontextmanager
    async def serve(
        definition: ServiceDefinition,
        *,
        prepare: Callable[[Settings], Awaitable[None]] | None = None,
        worker: bool = True,
        **overrides: Any,
    ) -> AsyncIterator[Target]:
        # Topics (and so consumer groups) of its own: the session's shared topics carry what
        # every earlier test module published, and their groups' committed offsets and
        # departed members, which made the school's projection depend on the run's order.
        overrides.setdefault("topic_prefix", f"{stack.prefix}fuzz-{definition.name}.")
        settings = await stack.settings(definition, database=f"fuzz_{definition.name}", **overrides)
        async with AsyncExitStack() as running:
            if worker:
                await running.enter_async_context(running_worker(definition, settings))
            if prepare is not None:
                await prepare(settings)
            app = create_app(definition, settings)
            # A 500 must come back as the answer it is, not as the app's exception.
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=transport, base_url="http://test") as client,
            ):
                spec = (await client.get("/openapi.json")).json()
                yield Target(settings, client, schemathesis.openapi.from_dict(spec))

    return serve


@pytest.fixture(scope="module")
async def target(
    request: pytest.FixtureRequest, serving: Serving, issuer: TestIssuer
) -> AsyncIterator[Target]:
    """A service with a school projected by its worker: the module's ``SERVICES[param]`` or its
    ``SERVICE`` and ``CALLERS``; callers map a name to (the ``School`` attribute naming the
    person, the token's roles)."""
    module = request.module
    if hasattr(request, "param"):
        definition, callers = module.SERVICES[request.param]
    else:
        definition, callers = module.SERVICE, module.CALLERS
    school = School()

    async def publish_the_school(settings: Settings) -> None:
        sent = await school.publish(settings)
        sources = {
            p for projection in definition.all_projections(settings) for p in projection.sources
        }
        await projected(settings, [event_id for service, event_id in sent if service in sources])

    def caller(person: uuid.UUID, roles: tuple[str, ...]) -> Headers:
        return lambda: issuer.headers(person, school.school_id, roles)

    async with serving(definition, prepare=publish_the_school, jwks_url=issuer.jwks_url) as running:
        running.known = school.known_values()
        running.callers = {
            name: caller(getattr(school, person), roles)
            for name, (person, roles) in callers.items()
        }
        yield running
