"""Personal data sealed with a key per person (AES-256-GCM); erasing the key shreds the data.

The sealed text is ``v1.<base64url(nonce || ciphertext)>`` with the person's id as associated
data, so a blob copied onto another person does not open.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any
from uuid import UUID

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = "v1."


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, person_id: UUID, data: dict[str, Any]) -> str:
    nonce = os.urandom(12)
    plain = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
    sealed = AESGCM(key).encrypt(nonce, plain, person_id.bytes)
    return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(key: bytes, person_id: UUID, sealed: str) -> dict[str, Any]:
    if not sealed.startswith(_PREFIX):
        raise ValueError("unknown sealing format")
    raw = base64.urlsafe_b64decode(sealed[len(_PREFIX) :])
    try:
        plain = AESGCM(key).decrypt(raw[:12], raw[12:], person_id.bytes)
    except InvalidTag:
        raise ValueError("the personal data does not open with this person's key") from None
    data: dict[str, Any] = json.loads(plain)
    return data


async def store_key(conn: asyncpg.Connection, school_id: UUID, person_id: UUID, key: bytes) -> None:
    await conn.execute(
        "INSERT INTO person_keys (person_id, school_id, key) VALUES ($1, $2, $3)",
        person_id,
        school_id,
        key,
    )


async def key_of(conn: asyncpg.Connection, person_id: UUID) -> bytes | None:
    key: bytes | None = await conn.fetchval(
        "SELECT key FROM person_keys WHERE person_id = $1", person_id
    )
    return key


async def shred(conn: asyncpg.Connection, person_id: UUID) -> None:
    await conn.execute("DELETE FROM person_keys WHERE person_id = $1", person_id)
