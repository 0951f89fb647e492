"""The reporting service as the runtime sees it (API routers, projections, worker jobs)."""

from ezurnals.reporting import api, projections
from ezurnals.reporting.diary_cache import diary_cache
from ezurnals.reporting.jobs import MonthlyStatementsJob, NotificationJob
from ezurnals.shared.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="reporting",
    title="reporting — diary, statements, report cards",
    routers=api.routers,
    projections=projections.all_projections,
    jobs=(MonthlyStatementsJob(), NotificationJob()),
    api_parts=diary_cache,
)
