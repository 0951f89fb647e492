"""Signing access tokens: Ed25519 keys from PEM files, a JWKS, and rotation without downtime.

Every ``*.pem`` in the keys folder is published; the newest (by name, which starts with its
creation time) signs. Rotating is dropping a newer key in the folder: tokens signed with the old
key stay valid until they expire, and services refetch the JWKS when they meet the new ``kid``.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ezurnals.shared.auth.verifier import AUDIENCE, ISSUER, TokenVerifier


@dataclass(frozen=True)
class SigningKey:
    kid: str
    key: Ed25519PrivateKey

    def jwk(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.key.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": "EdDSA"}


def _kid(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_key(folder: Path) -> Path:
    """Write a new private key named after the moment it was made, readable by the owner only."""
    folder.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = folder / f"{time.time_ns()}-{_kid(key)}.pem"
    path.touch(mode=0o600)
    path.write_bytes(pem)
    return path


class SigningKeys:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.keys: list[SigningKey] = []
        self.reload()

    def reload(self) -> None:
        """Read every PEM (oldest first); make one if there is none."""
        files = sorted(self.folder.glob("*.pem")) if self.folder.exists() else []
        if not files:
            files = [generate_key(self.folder)]
        keys = []
        for path in files:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{path} is not an Ed25519 private key")
            keys.append(SigningKey(_kid(key), key))
        self.keys = keys

    @property
    def current(self) -> SigningKey:
        return self.keys[-1]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.jwk() for k in self.keys]}

    def sign(
        self,
        *,
        person_id: UUID,
        school_id: UUID,
        roles: list[str],
        session_id: UUID,
        issued_at: float,
        ttl_s: int,
        password_expired: bool,
    ) -> str:
        iat = int(issued_at)
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(person_id),
            "school": str(school_id),
            "roles": sorted(roles),
            "sid": str(session_id),
            "iat": iat,
            "exp": iat + ttl_s,
            "pwd_expired": password_expired,
        }
        key = self.current
        return jwt.encode(claims, key.key, algorithm="EdDSA", headers={"kid": key.kid})


class LocalVerifier(TokenVerifier):
    """Identity verifies its own tokens against its keys in memory, not over HTTP."""

    def __init__(self, keys: SigningKeys) -> None:
        super().__init__("local:", min_refetch_s=0.0)
        self.signing_keys = keys

    async def _load(self) -> dict[str, Any]:
        return self.signing_keys.jwks()
