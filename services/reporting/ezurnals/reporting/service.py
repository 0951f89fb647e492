"""The reporting service as the runtime sees it (API routers, projections, worker jobs)."""

from ezurnals.shared.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="reporting",
    title="reporting — diary, statements, report cards",
)
