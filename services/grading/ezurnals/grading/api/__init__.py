"""HTTP routes of the grading service, mounted under /api/grading."""

from fastapi import APIRouter

from ezurnals.grading.api import grades, policy, views


def routers() -> list[APIRouter]:
    return [policy.router, grades.router, views.router]
