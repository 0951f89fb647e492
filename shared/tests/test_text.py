"""The free-text rule: what it refuses, how it names the field, and the API edge that applies it
(a route of its own for forms, the probe service on a real connection for the rest)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Form
from hypothesis import given
from hypothesis import strategies as st

from ezurnals.shared.http.app import create_app
from ezurnals.shared.http.errors import install_error_handlers
from ezurnals.shared.http.text import refuse_control_characters
from ezurnals.shared.testing.auth import TestIssuer
from ezurnals.shared.testing.probe import PROBE
from ezurnals.shared.testing.stack import TestStack, serving
from ezurnals.shared.text import reason, refused_character, refused_fields

REFUSED = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)]
SCHOOL, TEACHER = uuid.uuid4(), uuid.uuid4()

# --- the rule ---


@pytest.mark.parametrize("character", REFUSED, ids=lambda c: f"U+{ord(c):04X}")
def test_controls_other_than_tab_and_line_breaks_are_refused(character: str) -> None:
    assert refused_character(f"Daļskaitļi{character}") == character


def test_tab_and_line_breaks_are_text_but_not_in_a_line() -> None:
    homework = "1. uzdevums\r\n2. uzdevums\tlpp. 12\n"
    assert refused_character(homework) is None
    assert refused_character(homework, one_line=True) == "\r"
    assert refused_character("Bērziņa-Kalniņa", one_line=True) is None


def test_a_lone_surrogate_is_refused_as_not_a_character() -> None:
    assert refused_character("a\ud800") == "\ud800"
    assert "lone surrogate" in reason("\ud800")
    assert reason("\x00") == "holds the control character U+0000, which text may not contain"


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40))
def test_text_without_controls_is_accepted(text: str) -> None:
    assert refused_character(text) is None


def test_nested_fields_are_named_by_their_path() -> None:
    body = {
        "topic": "Daļskaitļi",
        "items": [{"topic": "ok"}, {"topic": "ok"}, {"topic": "zvans\x07"}],
        "names": {"a\x00b": "Līga"},
        "homework": "\x1b[31m",
        "count": 3,
    }
    assert [path for path, _ in refused_fields(body)] == [
        ("items", 2, "topic"),
        ("names", "a\\u0000b"),
        ("homework",),
    ]


# --- the API edge, for a form (multipart and urlencoded) ---


@pytest.fixture
async def form_client() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI(dependencies=[Depends(refuse_control_characters)])
    install_error_handlers(app)

    @app.post("/excuses")
    async def excuse(
        reason: Annotated[str, Form()], lesson_ids: Annotated[list[str], Form()]
    ) -> dict[str, Any]:
        return {"reason": reason, "lesson_ids": lesson_ids}

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_a_form_field_with_a_control_is_refused(form_client: httpx.AsyncClient) -> None:
    multipart = await form_client.post(
        "/excuses",
        data={"reason": "slims\x00", "lesson_ids": ["a", "b\x1b"]},
        files={"attachment": ("zime.pdf", b"%PDF\x00\x01", "application/pdf")},
    )
    assert multipart.status_code == 422, multipart.text
    assert multipart.json()["field"] == "reason"
    assert [e["field"] for e in multipart.json()["errors"]] == ["reason", "lesson_ids[1]"]
    urlencoded = await form_client.post("/excuses", data={"reason": "\x07", "lesson_ids": "a"})
    assert urlencoded.status_code == 422 and urlencoded.json()["field"] == "reason"
    # a file's bytes are not text: only the form's text fields are read
    fine = await form_client.post(
        "/excuses",
        data={"reason": "slims\r\nārsta zīme", "lesson_ids": ["a"]},
        files={"attachment": ("zime.pdf", b"%PDF\x00\x01", "application/pdf")},
    )
    assert fine.status_code == 200, fine.text


async def test_a_form_that_is_not_utf8_is_refused_not_failed(
    form_client: httpx.AsyncClient,
) -> None:
    answer = await form_client.post(
        "/excuses",
        content=b"--b\r\nContent-Disposition: form-data; name=reason\r\n\r\n\xff\xfe\r\n--b--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert 400 <= answer.status_code < 500, answer.text
    urlencoded = await form_client.post(
        "/excuses",
        content=b"reason=%FF%FE&lesson_ids=a",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert urlencoded.status_code < 500, urlencoded.text


# --- the API edge on a service, over a real connection ---


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> TestIssuer:
    return TestIssuer(Path(tmp_path_factory.mktemp("text-keys")))


@pytest.fixture(scope="module")
async def probe_url(stack: TestStack, issuer: TestIssuer) -> AsyncIterator[str]:
    settings = await stack.settings(PROBE, database="text", jwks_url=issuer.jwks_url)
    app = create_app(PROBE, settings)
    async with app.router.lifespan_context(app), serving(app, lifespan="off") as url:
        yield url


@pytest.fixture
async def probe(probe_url: str, issuer: TestIssuer) -> AsyncIterator[httpx.AsyncClient]:
    """One connection for all requests, so a dropped one shows."""
    async with httpx.AsyncClient(
        base_url=probe_url,
        headers=issuer.headers(TEACHER, SCHOOL, ["teacher"]),
        limits=httpx.Limits(max_connections=1),
    ) as client:
        yield client


def connection(response: httpx.Response) -> Any:
    return response.extensions["network_stream"].get_extra_info("client_addr")


async def test_nul_in_a_body_is_refused_and_the_connection_stays(
    probe: httpx.AsyncClient,
) -> None:
    stream = f"text-{uuid.uuid4()}"
    refused = await probe.post(
        f"/api/probe/streams/{stream}/events",
        json={"expected_version": 0, "n": 1, "text": "Daļskaitļi\x00"},
    )
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["error"] == "control_character"
    assert body["field"] == "text"
    assert body["errors"] == [{"field": "text", "reason": reason("\x00")}]
    stored = await probe.post(
        f"/api/probe/streams/{stream}/events",
        json={"expected_version": 0, "n": 1, "text": "Daļskaitļi\r\n\tlpp. 12"},
    )
    assert stored.status_code == 201, stored.text
    assert connection(stored) == connection(refused)
    assert (await probe.get(f"/api/probe/streams/{stream}")).json() == [1]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/probe/streams/a%00b", "path.stream_id"),
        ("/api/probe/streams/a%09b", "path.stream_id"),  # one line: no tab in an id
        ("/api/probe/streams/a?x=%1B", "query.x"),
        ("/api/probe/streams/a?%07=1", "query.\\u0007"),
    ],
)
async def test_path_and_query_parameters_are_text_too(
    probe: httpx.AsyncClient, url: str, field: str
) -> None:
    refused = await probe.get(url)
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == field
    after = await probe.get("/api/probe/streams/a")
    assert after.status_code == 200 and connection(after) == connection(refused)


@pytest.mark.parametrize(
    "content",
    [
        b'{"expected_version": 0, "n": 1, "text": "\\ud800"}',  # a lone surrogate
        b'{"expected_version": 0, "n": 1, "text": "\xff\xfe"}',  # not UTF-8
        b'{"expected_version": 0, "n": 1, "text": "a\x00b"}',  # a raw NUL: not JSON
        b'{"expected_version": 0, "n": ',  # cut off
    ],
    ids=["lone surrogate", "not utf-8", "raw nul", "cut off"],
)
async def test_a_body_that_is_not_text_is_refused_and_the_connection_stays(
    probe: httpx.AsyncClient, content: bytes
) -> None:
    stream = f"text-{uuid.uuid4()}"
    refused = await probe.post(
        f"/api/probe/streams/{stream}/events",
        content=content,
        headers={"Content-Type": "application/json"},
    )
    assert 400 <= refused.status_code < 500, refused.text
    assert refused.json()["error"] in {"control_character", "invalid_request", "http_error"}
    after = await probe.get(f"/api/probe/streams/{stream}")
    assert after.status_code == 200 and connection(after) == connection(refused)
