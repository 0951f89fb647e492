"""Adapters to the outside: e-mail over SMTP and SMS through an HTTP gateway.

Configured from the environment: ``EZURNALS_SMTP_URL`` (``smtp://user:pass@host:port``,
``smtps://`` for implicit TLS), ``EZURNALS_SMTP_FROM``, ``EZURNALS_SMS_GATEWAY_URL`` and
``EZURNALS_SMS_GATEWAY_TOKEN``. A channel without its URL is not sent through (its notices wait).
"""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib
import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict


class ChannelSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EZURNALS_", extra="ignore", frozen=True)

    smtp_url: str | None = None
    smtp_from: str = "e-zurnals@localhost"
    sms_gateway_url: str | None = None
    sms_gateway_token: str | None = None


class DeliveryFailed(Exception):
    """The channel did not take the message; it is retried later."""


class Mailer:
    def __init__(self, url: str, sender: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender

    async def send(self, to: str, subject: str, body: str, key: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = f"<{key}@ezurnals>"
        message.set_content(body)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.tls,
                timeout=15,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"smtp: {exc}") from exc


class SmsGateway:
    """POSTs ``{"to", "text", "reference"}`` as JSON; any 2xx answer means accepted."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def send(self, to: str, subject: str, body: str, key: str) -> None:
        try:
            async with httpx.AsyncClient(timeout=15) as client:
                r = await client.post(
                    self.url,
                    json={"to": to, "text": body, "reference": key},
                    headers=self.headers,
                )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"sms gateway: {exc}") from exc
        if not r.is_success:
            raise DeliveryFailed(f"sms gateway answered {r.status_code}: {r.text[:200]}")


def from_environment() -> tuple[Mailer | None, SmsGateway | None]:
    s = ChannelSettings()
    mailer = Mailer(s.smtp_url, s.smtp_from) if s.smtp_url else None
    sms = SmsGateway(s.sms_gateway_url, s.sms_gateway_token) if s.sms_gateway_url else None
    return mailer, sms
