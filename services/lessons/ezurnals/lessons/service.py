"""The lessons service as the runtime sees it (API routers, projections, worker jobs)."""

from ezurnals.lessons import api, projections, reactions
from ezurnals.lessons.jobs import overdue_job
from ezurnals.shared.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="lessons",
    title="lessons — timetable, lesson records, deadlines, briefings",
    routers=api.routers,
    projections=lambda settings: [
        *projections.projections(settings),
        *reactions.reactions(settings),
    ],
    jobs=(overdue_job,),
)
