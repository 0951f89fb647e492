"""HTTP ⇄ queries and commands of the reporting service (mounted under /api/reporting)."""

from __future__ import annotations

from fastapi import APIRouter

from ezurnals.reporting.api import (
    administration,
    diary,
    notifications,
    report_cards,
    statements,
    teaching,
)


def routers() -> list[APIRouter]:
    return [
        diary.router,
        statements.router,
        report_cards.router,
        administration.router,
        teaching.router,
        notifications.router,
    ]
