"""Hashing secrets: argon2id for passwords, a plain digest for high-entropy activation codes.

Activation codes carry 80 random bits, so a SHA-256 digest is safe to keep and lets the code be
found by its digest; passwords are low-entropy and get argon2id.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_DIGEST = "sha256:"
#: Verified against when the username is unknown, so both cases take the same time.
_DUMMY = _HASHER.hash("ezurnals-no-such-account")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify(secret: str, stored: str) -> bool:
    """``Verify`` for the domain: argon2 hashes and code digests alike."""
    if stored.startswith(_DIGEST):
        return hmac.compare_digest(code_digest(secret), stored)
    try:
        return _HASHER.verify(stored, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def waste_time(password: str) -> None:
    """Spend a verification's time on an unknown username (no account enumeration by timing)."""
    verify(password, _DUMMY)


def new_access_code() -> str:
    """16 characters (80 bits) without look-alikes, grouped for reading aloud: ABCD-EFGH-…"""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def code_digest(code: str) -> str:
    normal = "".join(code.split()).replace("-", "").upper()
    return _DIGEST + hashlib.sha256(normal.encode()).hexdigest()


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
