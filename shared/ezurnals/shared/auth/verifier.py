"""Verifying access tokens against identity's JWKS (cached; refetched on an unknown ``kid``).

Only asymmetric algorithms are accepted, so ``alg: none`` and HMAC tokens forged with a public key
are refused. ``jwks_url`` may be ``http(s)://`` (identity's endpoint) or ``file://`` (a mounted
file, as in tests and static deployments).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from uuid import UUID

import httpx
import jwt

from ezurnals.shared.auth.principal import Principal

ALGORITHMS = ["EdDSA", "ES256", "RS256"]
ISSUER = "ezurnals-identity"
AUDIENCE = "ezurnals"


class TokenRefused(Exception):
    """The token is missing, malformed, expired, or not signed by a key identity published."""


class TokenVerifier:
    """Verifies tokens, remembering the ones already verified until they expire.

    A family's phone or a teacher's browser sends the same token with every request; checking
    its signature once instead of every time saves most of what authentication costs. Only the
    exact token text is remembered, so nothing can be forged into the cache, and revocation is
    checked per request elsewhere (``RevocationCache``).
    """

    def __init__(
        self,
        jwks_url: str,
        *,
        min_refetch_s: float = 5.0,
        leeway_s: float = 5.0,
        cache_size: int = 10_000,
    ) -> None:
        self.jwks_url = jwks_url
        self.min_refetch_s = min_refetch_s
        self.leeway_s = leeway_s
        self.cache_size = cache_size
        self._verified: dict[str, tuple[float, Principal]] = {}
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _load(self) -> dict[str, Any]:
        parsed = urlparse(self.jwks_url)
        if parsed.scheme == "file":
            text = await asyncio.to_thread(Path(parsed.path).read_text)
            return dict(json.loads(text))
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.get(self.jwks_url)
            response.raise_for_status()
            return dict(response.json())

    async def _key(self, kid: str) -> jwt.PyJWK:
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at > self.min_refetch_s:
                try:
                    document = await self._load()
                except (OSError, httpx.HTTPError, ValueError) as exc:
                    raise TokenRefused("signing keys are unavailable") from exc
                self._keys = {
                    k["kid"]: jwt.PyJWK(k) for k in document.get("keys", []) if "kid" in k
                }
                self._fetched_at = time.monotonic()
        try:
            return self._keys[kid]
        except KeyError:
            raise TokenRefused("token signed with an unknown key") from None

    async def verify(self, token: str) -> Principal:
        remembered = self._verified.get(token)
        if remembered is not None:
            expires_at, principal = remembered
            if time.time() < expires_at + self.leeway_s:
                return principal
            del self._verified[token]
        principal, expires_at = await self._verify(token)
        if len(self._verified) >= self.cache_size:
            self._verified.clear()  # a burst of distinct tokens: start over rather than grow
        self._verified[token] = (expires_at, principal)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenRefused("malformed token") from exc
        if header.get("alg") not in ALGORITHMS or not header.get("kid"):
            raise TokenRefused("token algorithm or key id not accepted")
        key = await self._key(str(header["kid"]))
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=self.leeway_s,
                options={"require": ["exp", "iat", "sub", "school"]},
            )
            principal = Principal(
                person_id=UUID(claims["sub"]),
                school_id=UUID(claims["school"]),
                roles=frozenset(claims.get("roles", [])),
                session_id=UUID(claims["sid"]) if claims.get("sid") else None,
                password_expired=bool(claims.get("pwd_expired", False)),
                issued_at=float(claims["iat"]),
            )
            return principal, float(claims["exp"])
        except (jwt.PyJWTError, ValueError, KeyError) as exc:
            raise TokenRefused("invalid token") from exc
