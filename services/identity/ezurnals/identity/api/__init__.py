"""Identity's HTTP API, mounted under /api/identity."""

from __future__ import annotations

from fastapi import APIRouter

from ezurnals.identity.api import accounts, directory, families, privacy
from ezurnals.identity.api.deps import lifespan


def routers() -> list[APIRouter]:
    wiring = APIRouter(lifespan=lifespan)
    return [
        wiring,
        directory.router(),
        directory.import_router(),
        accounts.router(),
        privacy.router(),
        families.router(),
    ]
