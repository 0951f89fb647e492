"""The pages, one module per kind of user."""

from __future__ import annotations

from fastapi import APIRouter

from ezurnals.web.pages import admin, auth, classes, excuses, family, teacher


def routers() -> list[APIRouter]:
    return [
        auth.router,
        teacher.router,
        family.router,
        excuses.router,
        classes.router,
        admin.router,
    ]
