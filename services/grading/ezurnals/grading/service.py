"""The grading service as the runtime sees it (API routers, projections, worker jobs)."""

from ezurnals.grading import api, projections
from ezurnals.shared.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="grading",
    title="grading — grades and period grades",
    routers=api.routers,
    projections=projections.all,
)
