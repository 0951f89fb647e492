"""The lessons service as the runtime sees it (API routers, projections, worker jobs)."""

from ezurnals.shared.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="lessons",
    title="lessons — timetable, lesson records, deadlines, briefings",
)
