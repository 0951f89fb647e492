"""An error no handler knew: a 500 in the one error shape, on a connection that stays open."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from ezurnals.shared.http.errors import install_error_handlers
from ezurnals.shared.testing.stack import serving


def _client_address(response: httpx.Response) -> Any:
    return response.extensions["network_stream"].get_extra_info("client_addr")


async def test_an_unexpected_error_answers_500_and_the_next_request_uses_the_same_connection() -> (
    None
):
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    @app.get("/fine")
    async def fine() -> dict[str, str]:
        return {"status": "ok"}

    async with (
        serving(app) as url,
        httpx.AsyncClient(base_url=url, limits=httpx.Limits(max_connections=1)) as client,
    ):
        failed = await client.get("/broken")
        assert failed.status_code == 500
        assert failed.json() == {"error": "internal", "message": "internal error", "field": None}
        after = await client.get("/fine")
        assert after.status_code == 200
        assert _client_address(after) == _client_address(failed), "the connection was dropped"
