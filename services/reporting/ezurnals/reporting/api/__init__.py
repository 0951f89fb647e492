"""HTTP ⇄ queries and commands of the reporting service (mounted under /api/reporting)."""

from __future__ import annotations

from fastapi import APIRouter

from ezurnals.reporting.api import diary, statements


def routers() -> list[APIRouter]:
    return [diary.router, statements.router]
