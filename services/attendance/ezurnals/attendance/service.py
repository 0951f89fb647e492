"""The attendance service as the runtime sees it (API routers, projections, worker jobs)."""

from ezurnals.attendance import api, jobs, projections
from ezurnals.shared.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="attendance",
    title="attendance — absences and excuses",
    routers=api.routers,
    projections=projections.all,
    jobs=(jobs.settle_pending, jobs.daily_reports()),
)
