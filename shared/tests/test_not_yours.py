"""The one answer for "not yours" (docs/ARCHITECTURE.md): what the caller does not see is
answered exactly like what does not exist, and only what they see can be a 403."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI

from ezurnals.shared.domain import Forbidden, NotFound, missing, require_permitted, require_seen
from ezurnals.shared.http.errors import install_error_handlers


def _answers() -> httpx.AsyncClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/missing")
    def not_there() -> None:
        raise missing("student", "student_id")

    @app.get("/unseen")
    def not_seen() -> None:
        require_seen(False, "student", "student_id")

    @app.get("/refused")
    def refused() -> None:
        require_seen(True, "student", "student_id")
        require_permitted(False, "only the class teacher excuses absences")

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_an_unseen_resource_reads_byte_for_byte_like_a_missing_one() -> None:
    async with _answers() as client:
        unseen, gone = await client.get("/unseen"), await client.get("/missing")
    assert (unseen.status_code, unseen.content) == (gone.status_code, gone.content)
    assert json.loads(gone.content) == {
        "error": "not_found",
        "message": "no such student",
        "field": "student_id",
        "details": {},
    }


async def test_only_a_seen_resource_is_refused_with_403() -> None:
    async with _answers() as client:
        answer = await client.get("/refused")
    assert answer.status_code == 403 and answer.json()["error"] == "forbidden"
    with pytest.raises(NotFound):
        require_seen(False, "lesson", "lesson_id")
    with pytest.raises(Forbidden):
        require_permitted(False, "no")
    require_permitted(True, "no")
