"""The grading service as the runtime sees it (API routers, projections, worker jobs)."""

from ezurnals.shared.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="grading",
    title="grading — grades and period grades",
)
