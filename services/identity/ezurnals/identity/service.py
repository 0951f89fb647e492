"""The identity service as the runtime sees it (API routers, projections, worker jobs).

Identity consumes no other service's events: its query tables follow its own events inside the
append's transaction (``projections``), and the worker relays what it publishes and runs the
coming-of-age job (``jobs``).
"""

from ezurnals.identity import api
from ezurnals.identity.jobs import ComingOfAgeJob
from ezurnals.shared.service import ServiceDefinition

SERVICE = ServiceDefinition(
    name="identity",
    title="identity — schools, people, access",
    routers=api.routers,
    jobs=(ComingOfAgeJob(),),
)
