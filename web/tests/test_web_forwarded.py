"""Sign-in throttling per browser address behind proxies: Ingress → web app → identity, each
uvicorn started as in production (shared/http/server.py), on real PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from ezurnals.identity.service import SERVICE
from ezurnals.shared.http.app import create_app
from ezurnals.shared.runtime.infra import free_port
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.stack import TestStack, serving
from ezurnals.web import create_app as create_web_app

BOOTSTRAP = "forwarded-operator-secret"
PASSWORD = "kalnu-ezers-rudens-2026"
#: The test's client plays the Ingress controller; the web app and identity run on this address.
HERE = "127.0.0.1"


@dataclass
class Identity:
    app: FastAPI
    url: str
    username: str


@pytest.fixture(scope="module")
async def identity(
    stack: TestStack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Identity]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("EZURNALS_SIGNING_KEYS_DIR", str(tmp_path_factory.mktemp("signing-keys")))
        env.setenv("EZURNALS_BOOTSTRAP_TOKEN", BOOTSTRAP)
        env.delenv("EZURNALS_DATA_DIR", raising=False)
        settings = await stack.settings(SERVICE, database="web_forwarded")
        app = create_app(SERVICE, settings)
        # Identity trusts the web app's address, as FORWARDED_ALLOW_IPS tells it to in production.
        async with serving(app, free_port(), forwarded_allow_ips=HERE) as url:
            async with httpx.AsyncClient(base_url=f"{url}/api/identity") as api:
                registered = (
                    await api.post(
                        "/schools",
                        json={
                            "name": "Starpnieku skola",
                            "admin": {"first_name": "Ilze", "last_name": "Ozola"},
                        },
                        headers={"X-Bootstrap-Token": BOOTSTRAP},
                    )
                ).json()
                admin = registered["admin"]
                activated = await api.post(
                    "/activate", json={"code": admin["access_code"], "password": PASSWORD}
                )
                assert activated.status_code < 300, activated.text
            state = app.state.identity
            app.state.identity = dataclasses.replace(
                state, config=state.config.model_copy(update={"address_failure_limit": 3})
            )
            yield Identity(app, url, admin["username"])


def web_app(identity: Identity) -> FastAPI:
    elsewhere = "http://127.0.0.1:9"  # sign-in needs only identity
    return create_web_app(
        {
            "identity": identity.url,
            "lessons": elsewhere,
            "attendance": elsewhere,
            "reporting": elsewhere,
        }
    )


async def sign_in(web: httpx.AsyncClient, username: str, password: str, client: str) -> int:
    response = await web.post(
        "/sign-in",
        data={"username": username, "password": password},
        headers={"X-Forwarded-For": client},
    )
    return response.status_code


async def failures_by_address(identity: Identity) -> dict[str, int]:
    async with identity.app.state.runtime.db.raw() as conn:
        rows = await conn.fetch(
            "SELECT address, count(*) AS n FROM sign_in_failures GROUP BY address"
        )
    return {r["address"]: r["n"] for r in rows}


async def test_behind_a_trusted_ingress_each_browser_is_throttled_on_its_own(
    identity: Identity,
) -> None:
    async with (
        serving(web_app(identity), free_port(), forwarded_allow_ips=HERE) as url,
        httpx.AsyncClient(base_url=url) as web,
    ):
        for _ in range(3):
            assert await sign_in(web, identity.username, "nepareiza-parole", "203.0.113.7") == 401
        assert await sign_in(web, identity.username, PASSWORD, "203.0.113.7") == 401
        assert await sign_in(web, identity.username, PASSWORD, "198.51.100.9") == 303
    found = await failures_by_address(identity)
    assert found.get("203.0.113.7") == 3 and HERE not in found


async def test_an_untrusted_peer_cannot_choose_the_address_it_is_throttled_under(
    identity: Identity,
) -> None:
    async with (
        serving(web_app(identity), free_port(), forwarded_allow_ips="192.0.2.1") as url,
        httpx.AsyncClient(base_url=url) as web,
    ):
        for n in range(3):
            refused = await sign_in(web, identity.username, "nepareiza-parole", f"203.0.113.2{n}")
            assert refused == 401
        assert await sign_in(web, identity.username, PASSWORD, "198.51.100.30") == 401
    found = await failures_by_address(identity)
    assert found.get(HERE) == 3
    assert not any(address.startswith("203.0.113.2") for address in found)


def test_the_trusted_proxies_are_uvicorns_own_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.42.0.0/16")
    assert Settings().forwarded_allow_ips == "10.42.0.0/16"
