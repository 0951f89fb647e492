"""The attendance service as the runtime sees it (API routers, projections, worker jobs)."""

from ezurnals.shared.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="attendance",
    title="attendance — absences and excuses",
)
