"""Family notifications against a real SMTP server (aiosmtpd) and a local HTTP SMS sink."""

from __future__ import annotations

import dataclasses
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.policy import default as email_policy
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiosmtpd.controller import Controller

from ezurnals.reporting.channels import Mailer, SmsGateway
from ezurnals.reporting.jobs import NotificationJob
from ezurnals.reporting.queries import Reads
from ezurnals.reporting.service import SERVICE
from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts.reporting import Channel
from ezurnals.shared.service import Runtime
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.auth import TestIssuer
from ezurnals.shared.testing.stack import TestStack, api_client, eventually, running_worker

from .conftest import RIGA, Bus, School

#: The worker without its jobs: the tests run the notification job themselves, with a clock.
QUIET_WORKER = dataclasses.replace(SERVICE, jobs=())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=email_policy))
        return "250 OK"


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, str]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, f"smtp://127.0.0.1:{port}"
    controller.stop()


@dataclasses.dataclass
class Sink:
    received: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    failures: int = 0
    url: str = ""


@pytest.fixture(scope="module")
async def sms() -> AsyncIterator[Sink]:
    sink = Sink()

    async def receive(request: web.Request) -> web.Response:
        if sink.failures:
            sink.failures -= 1
            return web.Response(status=503)
        assert request.headers["Authorization"] == "Bearer secret"
        sink.received.append(await request.json())
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/sms", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    sink.url = f"http://127.0.0.1:{port}/sms"
    yield sink
    await runner.cleanup()


@pytest.fixture(scope="module")
async def settings(stack: TestStack, issuer: TestIssuer) -> Settings:
    return await stack.settings(
        SERVICE,
        database="reporting_notifications",
        jwks_url=issuer.jwks_url,
        topic_prefix=f"{stack.prefix}notify.",
    )


@pytest.fixture(scope="module")
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    rt = Runtime.create(settings)
    yield rt
    await rt.close()


@pytest.fixture(scope="module")
async def worker(settings: Settings) -> AsyncIterator[None]:
    async with running_worker(QUIET_WORKER, settings):
        yield


@pytest.fixture
async def school(
    settings: Settings, producer: AIOKafkaProducer, worker: None, runtime: Runtime
) -> School:
    """A registered school whose guardianships the worker has applied.

    Identity's topic is not ordered with attendance's or grading's, and a notice goes to the
    guardians linked when its event is applied, so the tests wait for the links first.
    """
    s = School(Bus(settings, producer))
    await s.register()

    async def linked() -> bool:
        async with runtime.db.raw() as conn:
            try:
                rows = await Reads(conn, settings.read_model_schema).fetch(
                    "SELECT 1 FROM rm.guardianships WHERE school_id = $1", s.school_id
                )
            except asyncpg.UndefinedTableError:  # the worker has not installed its tables yet
                return False
        return len(rows) == 3

    await eventually(linked, timeout=30, what="the school's guardianships are applied")
    return s


def job(smtp: tuple[Inbox, str], sms: Sink, at: datetime) -> NotificationJob:
    senders = {
        Channel.EMAIL: Mailer(smtp[1], "skola@example.lv"),
        Channel.SMS: SmsGateway(sms.url, "secret"),
    }
    return NotificationJob(clock=lambda: at, senders=senders)  # type: ignore[arg-type]


def tomorrow(hour: int, minute: int = 0) -> datetime:
    """A local time on the next day, after anything a test publishes now."""
    day = datetime.now(ZoneInfo(RIGA)).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(RIGA))


async def choose(
    settings: Settings, issuer: TestIssuer, s: School, guardian: uuid.UUID, **body: Any
) -> Any:
    async with api_client(
        SERVICE, settings, **issuer.headers(guardian, s.school_id, ["guardian"])
    ) as c:
        r = await c.put("/api/reporting/notifications/settings", json=body)
        return r


async def queued(runtime: Runtime, guardian: uuid.UUID, n: int) -> None:
    async def probe() -> bool:
        async with runtime.db.raw() as conn:
            count = await conn.fetchval(
                "SELECT count(*) FROM notification_queue WHERE guardian_id = $1", guardian
            )
        return int(count or 0) >= n

    await eventually(probe, timeout=30, what=f"{n} notice(s) queued")


async def test_settings_are_the_guardians_own(
    settings: Settings, issuer: TestIssuer, school: School
) -> None:
    s = school
    r = await choose(settings, issuer, s, s.annas_mother, channels=["email"])
    assert r.status_code == 422 and r.json()["field"] == "email"
    r = await choose(
        settings,
        issuer,
        s,
        s.annas_mother,
        channels=["sms"],
        phone="+37120000000",
        quiet_from="22:00",
    )
    assert r.status_code == 422 and r.json()["field"] == "quiet_to"
    body = {"email": "mama@example.lv", "channels": ["email"], "events": ["grade_recorded"]}
    assert (await choose(settings, issuer, s, s.annas_mother, **body)).status_code == 200
    async with api_client(
        SERVICE, settings, **issuer.headers(s.annas_mother, s.school_id, ["guardian"])
    ) as c:
        got = (await c.get("/api/reporting/notifications/settings")).json()
    assert got["email"] == "mama@example.lv" and got["events"] == ["grade_recorded"]
    async with api_client(
        SERVICE, settings, **issuer.headers(s.teacher, s.school_id, ["teacher"])
    ) as c:
        assert (await c.get("/api/reporting/notifications/settings")).status_code == 403


async def test_an_absence_goes_out_once_by_email_and_sms_with_retry(
    settings: Settings,
    issuer: TestIssuer,
    school: School,
    runtime: Runtime,
    smtp: tuple[Inbox, str],
    sms: Sink,
) -> None:
    s = school
    body = {
        "email": "mama@example.lv",
        "phone": "+37120000001",
        "channels": ["email", "sms"],
        "events": ["absence_recorded", "absence_threshold"],
        "absence_threshold": 2,
    }
    assert (await choose(settings, issuer, s, s.annas_mother, **body)).status_code == 200
    assert (await choose(settings, issuer, s, s.restricted_father, **body)).status_code == 200
    first = await s.lesson(date(2025, 10, 6), 1, topic="Daļskaitļi", no_homework=True)
    second = await s.lesson(date(2025, 10, 6), 2, topic="Procenti", no_homework=True)
    await s.absence(s.anna, first, date(2025, 10, 6))
    await s.absence(s.anna, second, date(2025, 10, 6))
    await queued(runtime, s.annas_mother, 6)
    mails, texts = len(smtp[0].messages), len(sms.received)
    sms.failures = 1
    now = tomorrow(12)
    assert await job(smtp, sms, now).run_once(runtime) == 5
    mine = [m for m in smtp[0].messages[mails:] if m["To"] == "mama@example.lv"]
    assert len(mine) == 3
    assert any("2025-10-06: reģistrēts kavējums (n)" in m.get_content() for m in mine)
    assert any("sasniedza 2" in m.get_content() for m in mine)
    assert len(sms.received) - texts == 2  # one failed at the gateway, waiting for its retry
    assert await job(smtp, sms, now).run_once(runtime) == 0
    later = now + timedelta(minutes=5)
    assert await job(smtp, sms, later).run_once(runtime) == 1
    assert await job(smtp, sms, later + timedelta(hours=1)).run_once(runtime) == 0
    assert len(sms.received) - texts == 3
    assert all(t["to"] == "+37120000001" for t in sms.received[texts:])
    async with runtime.db.raw() as conn:
        keys = await conn.fetchval(
            "SELECT count(*) FROM notification_deliveries WHERE guardian_id = $1", s.annas_mother
        )
        events = await conn.fetchval(
            "SELECT count(*) FROM events WHERE event_type = 'NotificationSent'"
        )
        restricted = await conn.fetchval(
            "SELECT count(*) FROM notification_queue WHERE guardian_id = $1", s.restricted_father
        )
    assert keys == 6 and events >= 6 and restricted == 0


async def test_quiet_hours_defer_and_a_digest_goes_once_a_day(
    settings: Settings,
    issuer: TestIssuer,
    school: School,
    runtime: Runtime,
    smtp: tuple[Inbox, str],
    sms: Sink,
) -> None:
    s = school
    quiet = {
        "email": "tetis@example.lv",
        "channels": ["email"],
        "events": ["grade_recorded"],
        "quiet_from": "22:00",
        "quiet_to": "07:00",
    }
    assert (await choose(settings, issuer, s, s.bertas_father, **quiet)).status_code == 200
    digest = {
        "email": "mama2@example.lv",
        "channels": ["email"],
        "events": ["grade_recorded"],
        "delivery": "digest",
        "digest_at": "07:00",
    }
    assert (await choose(settings, issuer, s, s.annas_mother, **digest)).status_code == 200
    await s.grade(s.berta, date(2025, 10, 7), 9, title="Ieskaite")
    await s.grade(s.anna, date(2025, 10, 7), 6, title="Diktāts")
    await s.grade(s.anna, date(2025, 10, 8), 8, title="Tests")
    await queued(runtime, s.bertas_father, 1)
    await queued(runtime, s.annas_mother, 2)
    inbox = smtp[0].messages

    def to(address: str) -> list[Any]:
        return [m for m in inbox if m["To"] == address]

    assert await job(smtp, sms, tomorrow(0, 30)).run_once(runtime) == 0
    assert await job(smtp, sms, tomorrow(6, 30)).run_once(runtime) == 0
    assert await job(smtp, sms, tomorrow(7, 5)).run_once(runtime) == 2
    assert len(to("tetis@example.lv")) == 1
    assert "jauns vērtējums 9 – Ieskaite" in to("tetis@example.lv")[0].get_content()
    (summary,) = to("mama2@example.lv")
    text = summary.get_content()
    assert "dienas kopsavilkums" in text and "Diktāts" in text and "Tests" in text
    assert await job(smtp, sms, tomorrow(20)).run_once(runtime) == 0


async def test_erasure_drops_contacts_and_pending_notices(
    settings: Settings, issuer: TestIssuer, school: School, runtime: Runtime
) -> None:
    s = school
    body = {"phone": "+37120000009", "channels": ["sms"], "events": ["grade_recorded"]}
    assert (await choose(settings, issuer, s, s.bertas_father, **body)).status_code == 200
    await s.grade(s.berta, date(2025, 10, 9), 7)
    await queued(runtime, s.bertas_father, 1)
    await s.identity(
        idn.PersonalDataErased(
            school_id=s.school_id, person_id=s.bertas_father, erased_at=datetime.now(UTC)
        ),
        f"person-{s.bertas_father}",
    )

    async def gone() -> bool:
        async with runtime.db.raw() as conn:
            return not await conn.fetchval(
                "SELECT count(*) FROM notification_preferences WHERE guardian_id = $1",
                s.bertas_father,
            ) and not await conn.fetchval(
                "SELECT count(*) FROM notification_queue WHERE guardian_id = $1 "
                "AND state = 'pending'",
                s.bertas_father,
            )

    await eventually(gone, timeout=30, what="the guardian's contacts are dropped")
