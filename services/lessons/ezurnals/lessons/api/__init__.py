"""The lessons service's HTTP API: routers that translate requests into commands and queries."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from ezurnals.lessons.api import briefings, lessons, notes, structure


def routers() -> Sequence[APIRouter]:
    return [structure.router, lessons.router, notes.router, briefings.router]
