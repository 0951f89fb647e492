"""attendance's HTTP API, mounted under /api/attendance."""

from __future__ import annotations

from fastapi import APIRouter

from ezurnals.attendance.api import excuses, lessons, settings, views


def routers() -> list[APIRouter]:
    return [lessons.router, excuses.router, views.router, settings.router]
