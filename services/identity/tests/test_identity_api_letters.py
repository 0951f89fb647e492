"""Family access letters: one Latvian PDF letter per family, and codes sent by e-mail (a real
SMTP server) and SMS (a local HTTP gateway) where a contact exists."""

from __future__ import annotations

import email
import email.policy
import io
import re
import socket
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import pypdf
import pytest
from aiohttp import web
from aiosmtpd.controller import Controller

from ezurnals.shared.settings import Settings

if TYPE_CHECKING:
    from .conftest import Api, Kit

CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Inbox:
    """An aiosmtpd handler that keeps every message it is handed."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture(scope="module")
async def texts() -> AsyncIterator[tuple[list[dict[str, Any]], int]]:
    """A local SMS gateway that accepts every message with a bearer token."""
    received: list[dict[str, Any]] = []

    async def accept(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer sms-secret"
        received.append(await request.json())
        return web.json_response({"accepted": True})

    app = web.Application()
    app.router.add_post("/sms", accept)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield received, port
    await runner.cleanup()


@pytest.fixture(scope="module")
async def api(
    settings: Settings, kit: type[Kit], inbox: tuple[Inbox, int], texts: tuple[list[Any], int]
) -> AsyncIterator[Any]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EZURNALS_SMTP_URL", f"smtp://127.0.0.1:{inbox[1]}")
        mp.setenv("EZURNALS_MAIL_FROM", "skola@example.lv")
        mp.setenv("EZURNALS_SMS_GATEWAY_URL", f"http://127.0.0.1:{texts[1]}/sms")
        mp.setenv("EZURNALS_SMS_GATEWAY_TOKEN", "sms-secret")
        async with kit.identity_api(settings) as running:
            yield running


async def test_letters_per_family_in_latvian_with_codes_sent_where_contacts_exist(
    api: Api, kit: type[Kit], inbox: tuple[Inbox, int], texts: tuple[list[dict[str, Any]], int]
) -> None:
    school = await kit.new_school(api, "Ķekavas vidusskola")
    ct, ct_token = await school.class_teacher("1.a", "Laura", "Strazdiņa")
    _, other_token = await school.staff("Edgars", "Dzenis", ["teacher"])
    klass = school.classes["1.a"]
    emils = await school.student("Emīls", "Pērkons", "1.a")
    zane = await school.student("Zane", "Bite", "1.a")
    await api.ok(
        "POST",
        f"/students/{emils}/guardians",
        school.admin_token,
        json={
            "person": kit.person("Ģirts", "Šķēle", email="girts@skele.lv"),
            "linked_on": f"{kit.YEAR_START}-09-01",
        },
    )
    await api.ok(
        "POST",
        f"/students/{emils}/guardians",
        school.admin_token,
        json={
            "person": kit.person("Inese", "Pērkone", phone="+371 26123456"),
            "linked_on": f"{kit.YEAR_START}-09-01",
        },
    )
    await school.guardian(zane, "Rūta", "Bite")
    await school.guardian(zane, "Valdis", "Bitis", restricted=True)

    path = f"/classes/{klass}/access-letters"
    assert (await api.call("POST", path, other_token)).status_code == 404  # not their class
    answer = await api.call("POST", path, ct_token)
    assert answer.status_code == 201, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["x-codes-email"] == "1" and answer.headers["x-codes-sms"] == "1"
    assert answer.headers["x-codes-letter"] == "3" and answer.headers["x-codes-failed"] == "0"

    reader = pypdf.PdfReader(io.BytesIO(answer.content))
    pages = [page.extract_text() for page in reader.pages]
    assert len(pages) == 2
    bite, perkons = pages  # sorted by the student's surname
    assert "Ģimenei: Zane Bite (1.a)" in bite and "Rūta Bite" in bite
    assert "Valdis" not in bite
    for name in ("Emīls Pērkons", "Ģirts Šķēle", "Inese Pērkone", "Laura Strazdiņa"):
        assert name in perkons, name
    assert "Piekļuve skolas e-žurnālam" in perkons
    codes = {page: CODE.findall(page) for page in pages}
    assert len(codes[bite]) == 2 and len(codes[perkons]) == 3
    assert len({c for found in codes.values() for c in found}) == 5

    mail = inbox[0].messages[-1]
    assert mail["To"] == "girts@skele.lv" and mail["From"] == "skola@example.lv"
    mailed = CODE.findall(mail.get_content())
    assert mailed and mailed[0] in codes[perkons] and "Ģirts Šķēle" in mail.get_content()
    sms = texts[0][-1]
    assert sms["to"] == "+371 26123456"
    texted = CODE.findall(sms["text"])
    assert texted and texted[0] in codes[perkons] and texted != mailed

    activated = await api.ok(
        "POST", "/activate", json={"code": mailed[0], "password": kit.PASSWORD}
    )
    assert activated["username"] == "girts.skele"
    log = await api.ok("GET", f"/people/{emils}/access-log", school.admin_token)
    assert any(e["what"] == "access_letters" and e["actor_id"] == ct for e in log)

    reissued = await api.call("POST", f"{path}?deliver=false", ct_token)
    assert reissued.status_code == 201 and reissued.headers["x-codes-letter"] == "4"
    old = await api.call("POST", "/activate", json={"code": texted[0], "password": kit.PASSWORD})
    assert old.status_code == 422 and old.json()["field"] == "code"
