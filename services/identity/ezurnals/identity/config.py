"""Identity's own settings (environment, prefix ``EZURNALS_``), beside the spine's Settings."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

BOOTSTRAP_TOKEN_FILE = "identity-bootstrap-token"


class IdentityConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EZURNALS_", extra="ignore", frozen=True)

    #: PEM files of Ed25519 signing keys; the newest signs, all are published in the JWKS.
    signing_keys_dir: Path | None = None
    data_dir: Path | None = None
    #: The operator's secret that allows registering a school without a token (see bootstrap).
    bootstrap_token: str | None = None
    access_token_ttl_s: int = 900
    refresh_token_ttl_days: int = 30
    #: Failed sign-ins from one client address within 15 minutes before it must wait.
    address_failure_limit: int = 50
    #: Where activation codes are e-mailed from (see ``delivery``); unset: no e-mail.
    smtp_url: str | None = None
    mail_from: str = "e-zurnals@localhost"
    #: The HTTP SMS gateway for activation codes; unset: no text messages.
    sms_gateway_url: str | None = None
    sms_gateway_token: str | None = None

    def keys_dir(self) -> Path:
        """Where signing keys live: the configured folder, else the data dir, else a temp dir."""
        if self.signing_keys_dir is not None:
            return self.signing_keys_dir
        if self.data_dir is not None:
            return self.data_dir / "signing-keys"
        return Path(tempfile.mkdtemp(prefix="ezurnals-signing-keys-"))

    def operator_secret(self) -> str | None:
        """The bootstrap secret: configured, or generated once into the data dir (mode 0600)."""
        if self.bootstrap_token:
            return self.bootstrap_token
        if self.data_dir is None:
            return None
        path = self.data_dir / BOOTSTRAP_TOKEN_FILE
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process (the API or the demo seeder) made it
                pass
            else:
                with os.fdopen(fd, "w") as out:
                    out.write(secrets.token_urlsafe(32))
        return path.read_text().strip() or None
