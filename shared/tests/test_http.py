"""The HTTP side every service shares, through the probe service's API on the real stack."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac as hmac_lib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import jwt
import pytest

from ezurnals.shared.contracts.base import EventEnvelope
from ezurnals.shared.db import url_query
from ezurnals.shared.messaging import kafka
from ezurnals.shared.runtime.infra import free_port
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.auth import TestIssuer
from ezurnals.shared.testing.faults import TcpProxy
from ezurnals.shared.testing.probe import PROBE
from ezurnals.shared.testing.stack import TestStack, api_client, eventually, running_worker
from ezurnals.shared.worker import Worker, health_app

SCHOOL = uuid.uuid4()
TEACHER = uuid.uuid4()


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> TestIssuer:
    return TestIssuer(Path(tmp_path_factory.mktemp("keys")))


@pytest.fixture(scope="module")
async def settings(stack: TestStack, issuer: TestIssuer) -> Settings:
    return await stack.settings(PROBE, database="http", jwks_url=issuer.jwks_url)


@pytest.fixture
async def client(settings: Settings, issuer: TestIssuer) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(PROBE, settings, **issuer.headers(TEACHER, SCHOOL, ["teacher"])) as c:
        yield c


async def test_health_readiness_metrics_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok"}
    await client.post("/api/probe/streams/m-1/events", json={"expected_version": 0, "n": 1})
    metrics = (await client.get("/metrics")).text
    for name in (
        "ezurnals_http_request_seconds_bucket",
        "ezurnals_relay_lag_seconds",
        "ezurnals_relay_backlog_events",
        "ezurnals_dead_letters_stored",
    ):
        assert name in metrics
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/api/probe/streams/{stream_id}/events" in paths


async def test_bad_input_is_a_422_naming_the_field(client: httpx.AsyncClient) -> None:
    missing = await client.post("/api/probe/streams/b-1/events", json={"expected_version": 0})
    assert missing.status_code == 422
    assert missing.json()["field"] == "n"
    negative = await client.post(
        "/api/probe/streams/b-1/events", json={"expected_version": -1, "n": 1}
    )
    assert negative.status_code == 422 and negative.json()["field"] == "expected_version"
    broken = await client.post(
        "/api/probe/streams/b-1/events",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert broken.status_code == 422 and broken.json()["error"] == "invalid_request"
    extra = await client.post(
        "/api/probe/streams/b-1/events", json={"expected_version": 0, "n": 1, "who": "x"}
    )
    assert extra.status_code == 422 and extra.json()["field"] == "who"


async def test_stale_version_is_a_409_and_nothing_is_written(client: httpx.AsyncClient) -> None:
    ok = await client.post("/api/probe/streams/v-1/events", json={"expected_version": 0, "n": 1})
    assert ok.status_code == 201 and ok.json() == {"stream_id": "v-1", "version": 1}
    stale = await client.post("/api/probe/streams/v-1/events", json={"expected_version": 0, "n": 2})
    assert stale.status_code == 409 and stale.json()["error"] == "version_conflict"
    assert (await client.get("/api/probe/streams/v-1")).json() == [1]


async def test_a_retried_command_gets_the_first_answer_and_no_second_effect(
    client: httpx.AsyncClient,
) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"expected_version": 0, "n": 7}
    first, second = await asyncio.gather(
        client.post("/api/probe/streams/i-1/events", json=body, headers=key),
        client.post("/api/probe/streams/i-1/events", json=body, headers=key),
    )
    third = await client.post("/api/probe/streams/i-1/events", json=body, headers=key)
    assert first.status_code == second.status_code == third.status_code == 201
    assert first.json() == second.json() == third.json() == {"stream_id": "i-1", "version": 1}
    assert (await client.get("/api/probe/streams/i-1")).json() == [7]
    other = await client.post(
        "/api/probe/streams/i-1/events", json={"expected_version": 1, "n": 8}, headers=key
    )
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"


def hs256_with_public_key(issuer: TestIssuer) -> str:
    """The classic key-confusion forgery: HMAC-signed with the published public key."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "kid": issuer.kid}).encode())
    claims = b64(
        json.dumps(
            {
                "sub": str(TEACHER),
                "school": str(SCHOOL),
                "iat": 1,
                "exp": 2**40,
                "iss": "ezurnals-identity",
                "aud": "ezurnals",
            }
        ).encode()
    )
    secret = issuer.jwks_path.read_bytes()
    signature = hmac_lib.new(secret, f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64(signature)}"


async def test_tokens_that_must_be_refused(settings: Settings, issuer: TestIssuer) -> None:
    url = "/api/probe/streams/t-1"
    forged = TestIssuer(Path(issuer.jwks_path.parent / "other"))
    unsigned = jwt.encode({"sub": str(TEACHER), "school": str(SCHOOL)}, "", algorithm="none")
    hmac = hs256_with_public_key(issuer)
    cases = {
        "no token": {},
        "garbage": {"Authorization": "Bearer abc.def"},
        "alg none": {"Authorization": f"Bearer {unsigned}"},
        "hmac with the public key": {"Authorization": f"Bearer {hmac}"},
        "unknown key": forged.headers(TEACHER, SCHOOL, ["teacher"]),
        "expired": issuer.headers(TEACHER, SCHOOL, ["teacher"], ttl_s=-60),
    }
    async with api_client(PROBE, settings) as client:
        for name, headers in cases.items():
            response = await client.get(url, headers=headers)
            assert response.status_code == 401, name
            assert response.json()["message"] in {"sign in first", "sign in again"}, name
        expired_pw = issuer.headers(TEACHER, SCHOOL, ["teacher"], password_expired=True)
        refused = await client.get(url, headers=expired_pw)
        assert refused.status_code == 403 and refused.json()["error"] == "password_expired"
        assert (
            await client.get(url, headers=issuer.headers(TEACHER, SCHOOL, ["teacher"]))
        ).status_code == 200


async def test_a_revoked_session_is_refused_within_seconds(
    settings: Settings, issuer: TestIssuer
) -> None:
    session = uuid.uuid4()
    headers = issuer.headers(TEACHER, SCHOOL, ["teacher"], session_id=session)
    producer = kafka.producer(settings)
    await producer.start()
    async with running_worker(PROBE, settings), api_client(PROBE, settings) as client:
        assert (await client.get("/api/probe/streams/r-1", headers=headers)).status_code == 200
        revoked = EventEnvelope(
            event_type="SessionRevoked",
            schema_version=1,
            stream_id=f"account-{SCHOOL}-{TEACHER}",
            stream_version=9,
            school_id=SCHOOL,
            payload={
                "school_id": str(SCHOOL),
                "person_id": str(TEACHER),
                "session_id": str(session),
                "revoked_at": "2026-11-29T08:00:00Z",
                "reason": "signed_out",
            },
        )
        await producer.send_and_wait(
            settings.topic("identity"), value=revoked.model_dump_json().encode()
        )

        async def refused() -> bool:
            return (await client.get("/api/probe/streams/r-1", headers=headers)).status_code == 401

        await eventually(refused, timeout=10, what="revoked session refused")
        other = issuer.headers(TEACHER, SCHOOL, ["teacher"])
        assert (await client.get("/api/probe/streams/r-1", headers=other)).status_code == 200
    await producer.stop()


async def test_a_broker_outage_leaves_the_api_ready_and_the_worker_not(
    settings: Settings,
) -> None:
    """The API only writes to its outbox: Kafka away must not take it out of service. The
    worker, which publishes and consumes, says so in its readiness and its gauge."""
    nowhere = settings.model_copy(update={"kafka_bootstrap_servers": f"127.0.0.1:{free_port()}"})
    async with api_client(PROBE, nowhere) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok"}

    def gauge(metrics: str) -> float:
        line = next(
            m
            for m in metrics.splitlines()
            if m.startswith('ezurnals_broker_reachable{service="probe"}')
        )
        return float(line.rsplit(" ", 1)[1])

    for broker_settings, status, broker, reachable in (
        (nowhere, 503, "unavailable", 0.0),
        (settings, 200, "ok", 1.0),
    ):
        async with running_worker(PROBE, broker_settings) as worker:

            async def started(worker: Worker = worker) -> bool:
                return worker.runtime is not None

            await eventually(started, what="worker started")
            transport = httpx.ASGITransport(app=health_app(worker))
            async with httpx.AsyncClient(transport=transport, base_url="http://w") as probe:
                answer = await probe.get("/readyz")
                assert answer.status_code == status, answer.text
                assert answer.json()["checks"] == {"broker": broker, "database": "ok"}
                assert gauge((await probe.get("/metrics")).text) == reachable


async def test_database_outage_answers_503_and_recovers_with_nothing_half_written(
    stack: TestStack, settings: Settings, issuer: TestIssuer
) -> None:
    url = urlsplit(stack.infra.database_url)
    socket_dir = url_query(stack.infra.database_url).get("host")
    proxy = TcpProxy(
        free_port(),
        url.port or 5432,
        target_socket=f"{socket_dir}/.s.PGSQL.{url.port or 5432}" if socket_dir else None,
    )
    await proxy.start()
    proxied = settings.model_copy(
        update={
            "database_url": f"postgresql://{url.netloc.rpartition('@')[0] or 'postgres'}"
            f"@127.0.0.1:{proxy.listen_port}{urlsplit(settings.database_url).path}"
        }
    )
    headers = issuer.headers(TEACHER, SCHOOL, ["teacher"])
    async with api_client(PROBE, proxied, **headers) as client:
        ok = await client.post(
            "/api/probe/streams/d-1/events", json={"expected_version": 0, "n": 1}
        )
        assert ok.status_code == 201
        await proxy.cut()
        down = await client.post(
            "/api/probe/streams/d-1/events", json={"expected_version": 1, "n": 2}
        )
        assert down.status_code == 503 and down.json()["error"] == "unavailable"
        assert (await client.get("/readyz")).status_code == 503
        await proxy.start()

        async def ready() -> bool:
            return (await client.get("/readyz")).status_code == 200

        await eventually(ready, what="ready again")
        again = await client.post(
            "/api/probe/streams/d-1/events", json={"expected_version": 1, "n": 2}
        )
        assert again.status_code == 201, again.text
        assert (await client.get("/api/probe/streams/d-1")).json() == [1, 2]
    await proxy.cut()
