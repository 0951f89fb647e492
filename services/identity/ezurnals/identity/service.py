"""The identity service as the runtime sees it (API routers, projections, worker jobs)."""

from ezurnals.shared.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="identity",
    title="identity — schools, people, access",
)
