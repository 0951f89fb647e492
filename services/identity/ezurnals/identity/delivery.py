"""Sending activation codes where a contact exists: e-mail over SMTP, text messages through an
HTTP SMS gateway. Unconfigured channels are simply not used; the printed letter always works.

EZURNALS_SMTP_URL is ``smtp://[user:password@]host[:port]`` (STARTTLS when the server offers
it) or ``smtps://…`` (TLS from the start). EZURNALS_SMS_GATEWAY_URL receives a POST of JSON
``{"to": "+3712…", "text": "…"}`` (with ``Authorization: Bearer`` when a token is set) and
answers 2xx once it accepted the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib
import httpx
import structlog

from ezurnals.identity.config import IdentityConfig

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class CodeNotice:
    """One person's code, and where to send it."""

    name: str
    username: str
    code: str
    expires_on: str
    email: str | None = None
    phone: str | None = None

    def text(self) -> str:
        return (
            f"E-žurnāls: {self.name}, jūsu lietotājvārds ir {self.username}, vienreizējais "
            f"aktivizācijas kods {self.code} (derīgs līdz {self.expires_on}). "
            "Aktivizējiet kontu un izvēlieties paroli. Neizpaudiet kodu citiem."
        )


class Mailer:
    def __init__(self, url: str, sender: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("EZURNALS_SMTP_URL must look like smtp://host:port")
        self.host = parts.hostname
        self.port = parts.port
        self.tls = parts.scheme == "smtps"
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender

    async def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.tls,
            start_tls=False if self.tls else None,
            timeout=15,
        )


class SmsGateway:
    def __init__(self, url: str, token: str | None) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def send(self, to: str, text: str) -> None:
        async with httpx.AsyncClient(timeout=15) as client:
            answer = await client.post(
                self.url, json={"to": to, "text": text}, headers=self.headers
            )
            answer.raise_for_status()


@dataclass
class Courier:
    """Sends each notice by e-mail if the person has an address, else by SMS if they have a
    phone; says per person how (``email``, ``sms``), ``letter`` when neither, ``failed``."""

    mailer: Mailer | None
    sms: SmsGateway | None

    @classmethod
    def from_config(cls, config: IdentityConfig) -> Courier:
        mailer = Mailer(config.smtp_url, config.mail_from) if config.smtp_url else None
        sms = (
            SmsGateway(config.sms_gateway_url, config.sms_gateway_token)
            if config.sms_gateway_url
            else None
        )
        return cls(mailer, sms)

    async def deliver(self, notice: CodeNotice) -> str:
        try:
            if notice.email and self.mailer is not None:
                await self.mailer.send(notice.email, "Piekļuve e-žurnālam", notice.text())
                return "email"
            if notice.phone and self.sms is not None:
                await self.sms.send(notice.phone, notice.text())
                return "sms"
        except (OSError, aiosmtplib.SMTPException, httpx.HTTPError) as exc:
            log.warning("access_code.delivery_failed", username=notice.username, error=repr(exc))
            return "failed"
        return "letter"
