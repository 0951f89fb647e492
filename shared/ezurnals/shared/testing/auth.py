"""Tokens for tests: an issuer with its own Ed25519 key and a JWKS file services can trust."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ezurnals.shared.auth.verifier import AUDIENCE, ISSUER


class TestIssuer:
    __test__ = False

    def __init__(self, folder: Path) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.kid = uuid.uuid4().hex[:12]
        jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "EdDSA"})
        folder.mkdir(parents=True, exist_ok=True)
        self.jwks_path = folder / "jwks.json"
        self.jwks_path.write_text(json.dumps({"keys": [jwk]}))

    @property
    def jwks_url(self) -> str:
        return self.jwks_path.resolve().as_uri()

    def token(
        self,
        person_id: uuid.UUID,
        school_id: uuid.UUID,
        roles: Iterable[str],
        *,
        session_id: uuid.UUID | None = None,
        password_expired: bool = False,
        ttl_s: int = 600,
        **extra: Any,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(person_id),
            "school": str(school_id),
            "roles": sorted(roles),
            "sid": str(session_id or uuid.uuid4()),
            "iat": now,
            "exp": now + ttl_s,
            "pwd_expired": password_expired,
            **extra,
        }
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers={"kid": self.kid})

    def headers(self, *args: Any, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(*args, **kwargs)}"}
