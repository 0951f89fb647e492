"""Every text field of every command of the five services refuses NUL and control characters with
a 4xx naming the field, and the server then answers the next request on the same connection.

The fields come from each service's OpenAPI document, so a new endpoint is covered without
touching this file: every string in a POST, PUT or PATCH body (JSON, nested objects and lists
too), every text field of a form (multipart or urlencoded), and a text body (CSV imports).
Each service runs behind a real uvicorn server: a 500 used to drop the keep-alive connection,
which an in-process transport would not show. ``uv run python tests/fuzz/test_fuzz_text.py``
prints the endpoints and fields covered.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
from hypothesis import strategies as st

from ezurnals.attendance.service import SERVICE as ATTENDANCE
from ezurnals.grading.service import SERVICE as GRADING
from ezurnals.identity.keys import SigningKeys
from ezurnals.identity.service import SERVICE as IDENTITY
from ezurnals.lessons.service import SERVICE as LESSONS
from ezurnals.reporting.service import SERVICE as REPORTING
from ezurnals.shared.domain import field_path
from ezurnals.shared.http.app import create_app
from ezurnals.shared.service import ServiceDefinition
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.auth import TestIssuer
from ezurnals.shared.testing.stack import TestStack
from ezurnals.shared.testing.stack import serving as served_over_tcp

DEFINITIONS = {d.name: d for d in (IDENTITY, LESSONS, ATTENDANCE, GRADING, REPORTING)}
COMMANDS = ("post", "put", "patch")
FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
#: C0 controls other than tab and line breaks, and DEL: what no text may hold.
REFUSED = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)]
#: Roles enough to pass most role checks, should the rule ever come after them.
ROLES = ["admin", "director", "deputy_director", "teacher", "class_teacher"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]


@dataclass(frozen=True)
class TextField:
    """One text field of one command: where it is sent and what the answer must name."""

    method: str
    path: str
    #: "json", "multipart/form-data", "application/x-www-form-urlencoded" or "text".
    kind: str
    #: Its place in the body: ("items", 0, "topic"); () for a text body.
    location: tuple[str | int, ...]

    @property
    def field(self) -> str:
        """As the error answer names it (see ezurnals.shared.http.errors)."""
        return field_path(self.location)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} {self.field} ({self.kind})"

    def request(self, text: str) -> dict[str, Any]:
        """httpx request arguments sending ``text`` in this field; the rest of the body is left
        out: the rule answers before the body's schema is checked."""
        url = self.path.format_map(_AnyId())
        if self.kind == "json":
            return {"method": self.method, "url": url, "json": _nest(self.location, text)}
        if self.kind == "multipart/form-data":
            # (None, value): a form field, not a file; a part forces multipart.
            files = {self.field: (None, text.encode())}
            return {"method": self.method, "url": url, "files": files}
        if self.kind in FORMS:
            return {"method": self.method, "url": url, "data": {self.field: text}}
        content = {"content": text.encode(), "headers": {"Content-Type": "text/csv"}}
        return {"method": self.method, "url": url, **content}


class _AnyId(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return str(uuid.uuid4())


def _nest(location: tuple[str | int, ...], text: str) -> Any:
    value: Any = text
    for part in reversed(location):
        value = [value] if isinstance(part, int) else {part: value}
    return value


def openapi(definition: ServiceDefinition) -> dict[str, Any]:
    """The service's OpenAPI document; building the app connects nothing."""
    return create_app(definition, Settings(service=definition.name)).openapi()


def text_fields(spec: dict[str, Any]) -> list[TextField]:
    """Every string a command's body may carry, in the document's order."""
    found: list[TextField] = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in COMMANDS:
                continue
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                schema = content.get("schema", {})
                if media == "application/json" or media.endswith("+json"):
                    locations = _strings(spec, schema, (), frozenset())
                    kind = "json"
                elif media in FORMS:
                    locations = [
                        (name,)
                        for name, field in _properties(spec, schema).items()
                        if _strings(spec, field, (), frozenset())
                    ]
                    kind = media
                elif media.startswith("text/"):
                    locations, kind = [()], "text"
                else:
                    continue
                found.extend(
                    TextField(method, path, kind, location) for location in dict.fromkeys(locations)
                )
    return found


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    ref = schema.get("$ref")
    if ref is None:
        return schema, None
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node, ref


def _properties(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    schema, _ = _resolve(spec, schema)
    return dict(schema.get("properties", {}))


def _file(schema: dict[str, Any]) -> bool:
    """An upload: bytes, not text (OpenAPI 3.0 and 3.1 spell it differently)."""
    return schema.get("format") == "binary" or "contentMediaType" in schema


def _strings(
    spec: dict[str, Any],
    schema: dict[str, Any],
    location: tuple[str | int, ...],
    seen: frozenset[str],
) -> list[tuple[str | int, ...]]:
    """Locations of the strings (not files) a value of ``schema`` may hold."""
    schema, ref = _resolve(spec, schema)
    if ref is not None:
        if ref in seen:  # a recursive schema: once is enough
            return []
        seen = seen | {ref}
    found: list[tuple[str | int, ...]] = []
    for branch in (*schema.get("anyOf", ()), *schema.get("oneOf", ()), *schema.get("allOf", ())):
        found.extend(_strings(spec, branch, location, seen))
    kind = schema.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if "string" in kinds and not _file(schema):
        found.append(location)
    if "array" in kinds and isinstance(schema.get("items"), dict):
        found.extend(_strings(spec, schema["items"], (*location, 0), seen))
    if "object" in kinds or "properties" in schema:
        for name, field in schema.get("properties", {}).items():
            found.extend(_strings(spec, field, (*location, name), seen))
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            found.extend(_strings(spec, extra, (*location, "x"), seen))
    return found


def covered() -> dict[str, list[TextField]]:
    """Service → its text fields; a service without any means the enumeration broke."""
    fields = {name: text_fields(openapi(definition)) for name, definition in DEFINITIONS.items()}
    empty = [name for name, found in fields.items() if not found]
    if empty:
        raise RuntimeError(f"no text field found in the OpenAPI document of {', '.join(empty)}")
    return fields


COVERED = covered()


# --- the services, each behind a real server ---


def hostile_text() -> st.SearchStrategy[str]:
    """Text with at least one character no text may hold, anywhere in it."""
    plain = st.text(st.characters(codec="utf-8"), max_size=12)
    return st.tuples(plain, st.sampled_from(REFUSED), plain).map("".join)


def connection(response: httpx.Response) -> Any:
    """The client side of the TCP connection that carried ``response``."""
    return response.extensions["network_stream"].get_extra_info("client_addr")


@dataclass
class Server:
    """A service's API on a real port, with one keep-alive connection to it."""

    client: httpx.Client
    headers: Callable[[], dict[str, str]]

    def refuses(self, text_field: TextField) -> None:
        """Hostile text (NUL first, then generated) in ``text_field``: each a 4xx naming the
        field, and the next request on the same connection answered."""

        @hypothesis.settings(
            max_examples=1,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            phases=(hypothesis.Phase.explicit, hypothesis.Phase.generate),
            print_blob=False,
        )
        @hypothesis.example(text="\x00")
        @hypothesis.given(text=hostile_text())
        def run(text: str) -> None:
            request = text_field.request(text)
            request["headers"] = {**request.get("headers", {}), **self.headers()}
            answer = self.client.request(**request)
            assert 400 <= answer.status_code < 500, f"{answer.status_code}: {answer.text}"
            body = answer.json()
            named = {body.get("field"), *(e.get("field") for e in body.get("errors") or ())}
            assert text_field.field in named, f"the answer names {named}: {body}"
            assert body["error"] == "control_character", body
            after = self.client.get("/healthz")
            assert after.status_code == 200, after.text
            assert connection(after) == connection(answer), "the connection was dropped"

        run()


@pytest.fixture(scope="module")
def identity_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = Path(tmp_path_factory.mktemp("text-identity-keys"))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("EZURNALS_SIGNING_KEYS_DIR", str(folder))
        env.delenv("EZURNALS_DATA_DIR", raising=False)
        yield folder


@pytest.fixture(scope="module")
async def server(
    request: pytest.FixtureRequest, stack: TestStack, issuer: TestIssuer, identity_keys: Path
) -> AsyncIterator[Server]:
    """``DEFINITIONS[param]`` on its own database, without its worker (nothing is projected),
    called with a valid token: identity signs its own, the others trust the test issuer."""
    definition = DEFINITIONS[request.param]
    school, person = uuid.uuid4(), uuid.uuid4()
    if definition is IDENTITY:
        keys = SigningKeys(identity_keys)
        overrides: dict[str, Any] = {}

        def headers() -> dict[str, str]:
            token = keys.sign(
                person_id=person,
                school_id=school,
                roles=ROLES,
                session_id=uuid.uuid4(),
                issued_at=time.time(),
                ttl_s=600,
                password_expired=False,
            )
            return {"Authorization": f"Bearer {token}"}
    else:
        overrides = {"jwks_url": issuer.jwks_url}

        def headers() -> dict[str, str]:
            return issuer.headers(person, school, ROLES)

    settings = await stack.settings(definition, database=f"text_{definition.name}", **overrides)
    app = create_app(definition, settings)
    async with app.router.lifespan_context(app), served_over_tcp(app, lifespan="off") as url:
        with httpx.Client(
            base_url=url, limits=httpx.Limits(max_connections=1), timeout=30
        ) as client:
            yield Server(client, headers)


# --- the tests ---


def test_every_service_has_text_fields_to_fuzz() -> None:
    """The enumeration finds the fields named in issue 16, so it reads the documents right."""
    labels = {str(f) for fields in COVERED.values() for f in fields}
    for expected in (
        "POST /api/identity/sign-in username (json)",
        "POST /api/attendance/excuse-requests reason (multipart/form-data)",
        "PUT /api/reporting/notifications/settings email (json)",
    ):
        assert expected in labels, sorted(labels)


@pytest.mark.parametrize(
    ("server", "text_field"),
    [
        pytest.param(name, text_field, id=f"{name}: {text_field}")
        for name, fields in COVERED.items()
        for text_field in fields
    ],
    indirect=["server"],
    scope="module",
)
async def test_a_control_character_is_refused_naming_the_field(
    server: Server, text_field: TextField
) -> None:
    await asyncio.to_thread(server.refuses, text_field)


def endpoint_list() -> str:
    """The endpoints covered, one line each with its text fields (for the issue's note)."""
    lines = []
    for name, fields in COVERED.items():
        endpoints: dict[str, list[str]] = {}
        for text_field in fields:
            label = f"{text_field.method.upper()} {text_field.path}"
            kind = "" if text_field.kind == "json" else f" ({text_field.kind})"
            endpoints.setdefault(label, []).append(f"{text_field.field}{kind}")
        lines.append(f"{name}: {len(endpoints)} endpoints, {len(fields)} fields")
        lines.extend(f"- {label}: {', '.join(names)}" for label, names in endpoints.items())
    return "\n".join(lines)


if __name__ == "__main__":
    print(endpoint_list())
