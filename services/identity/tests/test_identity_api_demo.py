"""The demo seed runs against identity's real HTTP API and prints how to sign in as each role."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import httpx
import uvicorn
from rich.console import Console

from ezurnals.identity.demo import DEMO_PASSWORD, seed
from ezurnals.identity.service import SERVICE
from ezurnals.shared.http.app import create_app
from ezurnals.shared.runtime.infra import free_port


async def test_demo_school_is_seeded_and_every_printed_login_works(settings: Any) -> None:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(SERVICE, settings), host="127.0.0.1", port=port, log_level="error"
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        out = io.StringIO()
        await seed({"identity": url}, Console(file=out, width=200))
        printed = out.getvalue()
        for role in (
            "school admin",
            "director",
            "deputy director",
            "class teacher",
            "student",
            "guardian",
            "subject teacher",
        ):
            assert role in printed
        async with httpx.AsyncClient(base_url=url) as client:
            usernames = [
                line.split("│")[3].strip() for line in printed.splitlines() if DEMO_PASSWORD in line
            ]
            assert len(usernames) == 7
            for username in usernames:
                signed = await client.post(
                    "/api/identity/sign-in", json={"username": username, "password": DEMO_PASSWORD}
                )
                assert signed.status_code == 200, username
            admin = (
                await client.post(
                    "/api/identity/sign-in",
                    json={"username": usernames[0], "password": DEMO_PASSWORD},
                )
            ).json()["access_token"]
            classes = (
                await client.get(
                    "/api/identity/classes", headers={"Authorization": f"Bearer {admin}"}
                )
            ).json()
            assert [c["grade_level"] for c in classes] == list(range(1, 13))
    finally:
        server.should_exit = True
        await task
