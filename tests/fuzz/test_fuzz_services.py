"""No request to the API of attendance, grading, lessons or reporting gives a 5xx or an answer
that breaks its schema; without a token every request is refused.

Each service runs with its worker, a school projected from identity's and lessons' topics, and
callers whose tokens the shared TestIssuer signs (identity signs its own: test_fuzz_identity).
"""

from __future__ import annotations

from typing import Any

import pytest

from ezurnals.attendance.service import SERVICE as ATTENDANCE
from ezurnals.grading.service import SERVICE as GRADING
from ezurnals.lessons.service import SERVICE as LESSONS
from ezurnals.reporting.service import SERVICE as REPORTING

TEACHER = ("teacher", ("teacher", "class_teacher"))
DEPUTY = ("deputy", ("deputy_director",))
GUARDIAN = ("guardian", ("guardian",))
#: service → (its definition, caller → (the seeded person, the token's roles))
SERVICES = {
    "attendance": (ATTENDANCE, {"class teacher": TEACHER, "guardian": GUARDIAN}),
    "grading": (
        GRADING,
        {
            "subject teacher": ("teacher", ("teacher",)),
            "deputy director": DEPUTY,
            "guardian": GUARDIAN,
        },
    ),
    "lessons": (LESSONS, {"teacher": TEACHER, "deputy director": DEPUTY}),
    "reporting": (REPORTING, {"deputy director": DEPUTY, "guardian": GUARDIAN}),
}
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]


async def test_any_request_gets_a_documented_answer(
    target: Any, caller: str, operation: str
) -> None:
    """As each caller, and as "no token" (then every answer must be a 401)."""
    assert await target.fuzz(operation, caller) > 0
