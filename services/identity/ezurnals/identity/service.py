"""The identity service as the runtime sees it (API routers, projections, worker jobs).

Identity's query tables follow its own events inside the append's transaction (``projections``);
the only other services' events it consumes are their reads of personal data, for the access logs
(``access_log``). The worker also relays what identity publishes and runs the coming-of-age job.
"""

from ezurnals.identity import access_log, api
from ezurnals.identity.jobs import ComingOfAgeJob
from ezurnals.shared.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="identity",
    title="identity — schools, people, access",
    routers=api.routers,
    projections=access_log.projections,
    jobs=(ComingOfAgeJob(),),
    issues_tokens=True,
)
