"""Excuse requests from families and the class teacher's decision (seed rules 1 and 4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import pytest

from ezurnals.attendance.domain import (
    AcceptExcuse,
    ExcusePolicy,
    ExcuseRequest,
    RejectExcuse,
    Relationships,
    SubmitExcuse,
)
from ezurnals.shared.contracts.attendance import (
    AttendanceEvent,
    ExcuseAccepted,
    ExcuseAttachment,
    ExcuseRejected,
    ExcuseSubmitted,
)
from ezurnals.shared.domain import Conflict, Forbidden, Invalid, NotFound

if TYPE_CHECKING:
    from .conftest import School

TODAY = dt.date(2025, 10, 8)
POLICY = ExcusePolicy()


def submit(
    school: School,
    *,
    by: Relationships | None = None,
    policy: ExcusePolicy = POLICY,
    lesson_dates: Mapping[UUID, dt.date] | None = None,
    today: dt.date = TODAY,
    **fields: Any,
) -> tuple[ExcuseRequest, list[AttendanceEvent]]:
    request_id = fields.pop("request_id", uuid4())
    request = ExcuseRequest(f"excuse-request-{request_id}")
    cmd = SubmitExcuse(
        request_id=request_id,
        student_id=fields.pop("student_id", school.anna),
        reason=fields.pop("reason", "saaukstējusies"),
        document_type=fields.pop("document_type", "parent_note"),
        **fields,
    )
    events = request.submit(
        cmd, by=by or school.guardian, policy=policy, today=today, lesson_dates=lesson_dates
    )
    return request, events


def submitted(school: School, **fields: Any) -> ExcuseRequest:
    request, events = submit(school, **fields)
    return request.applied(events)


def test_a_guardian_submits_a_parents_note_for_their_child(school: School) -> None:
    attachment = ExcuseAttachment(
        attachment_id=uuid4(), sha256="a" * 64, content_type="image/jpeg", size_bytes=1200
    )

    _, events = submit(
        school,
        covers_from=dt.date(2025, 10, 6),
        covers_to=dt.date(2025, 10, 8),
        attachment=attachment,
    )

    (event,) = events
    assert isinstance(event, ExcuseSubmitted)
    assert (event.student_id, event.submitted_by, event.submitted_as) == (
        school.anna,
        school.guardian_id,
        "guardian",
    )
    assert (event.covers_from, event.covers_to, event.lesson_ids) == (
        dt.date(2025, 10, 6),
        dt.date(2025, 10, 8),
        (),
    )
    assert event.document_type == "parent_note" and event.attachment == attachment


def test_a_parents_note_longer_than_the_policy_asks_for_a_doctors_certificate(
    school: School,
) -> None:
    with pytest.raises(Invalid) as err:
        submit(school, covers_from=dt.date(2025, 10, 6), covers_to=dt.date(2025, 10, 9))

    assert err.value.field == "document_type"
    assert "doctor" in err.value.message
    assert err.value.details == {"max_days": 3, "days": 4}


def test_the_schools_policy_sets_how_long_a_parents_note_may_be(school: School) -> None:
    _, events = submit(
        school,
        policy=ExcusePolicy(parent_note_max_days=5),
        covers_from=dt.date(2025, 10, 6),
        covers_to=dt.date(2025, 10, 10),
    )

    assert isinstance(events[0], ExcuseSubmitted)


def test_a_doctors_certificate_may_cover_a_long_period(school: School) -> None:
    _, events = submit(
        school,
        document_type="doctor_certificate",
        covers_from=dt.date(2025, 10, 1),
        covers_to=dt.date(2025, 10, 20),
    )

    assert isinstance(events[0], ExcuseSubmitted)


def test_a_request_for_lessons_counts_the_days_those_lessons_fall_on(school: School) -> None:
    days = [dt.date(2025, 10, d) for d in (6, 6, 7, 8, 9)]
    lessons = [uuid4() for _ in days]
    dates = dict(zip(lessons, days, strict=True))

    _, events = submit(school, lesson_ids=tuple(lessons[:4]), lesson_dates=dates)
    with pytest.raises(Invalid) as err:
        submit(school, lesson_ids=tuple(lessons), lesson_dates=dates)

    assert isinstance(events[0], ExcuseSubmitted)
    assert set(events[0].lesson_ids) == set(lessons[:4])
    assert err.value.details == {"max_days": 3, "days": 4}


def test_a_request_for_an_unknown_lesson_is_refused(school: School) -> None:
    known, unknown = uuid4(), uuid4()

    with pytest.raises(Invalid) as err:
        submit(school, lesson_ids=(known, unknown), lesson_dates={known: TODAY})

    assert err.value.field == "lesson_ids"
    assert err.value.details == {"lesson_ids": [str(unknown)]}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "covers_from"),
        ({"covers_from": TODAY, "lesson_ids": (uuid4(),)}, "covers_from"),
        ({"covers_to": TODAY}, "covers_from"),
        ({"covers_from": TODAY}, "covers_to"),
        ({"covers_from": TODAY, "covers_to": TODAY - dt.timedelta(days=1)}, "covers_to"),
        ({"covers_from": TODAY, "covers_to": TODAY, "reason": "  "}, "reason"),
    ],
)
def test_a_request_without_a_clear_period_or_reason_is_refused(
    school: School, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as err:
        submit(school, **fields)

    assert err.value.field == field


def test_a_guardian_cannot_submit_for_another_familys_child(school: School) -> None:
    with pytest.raises(NotFound) as err:
        submit(school, student_id=school.berzs, covers_from=TODAY, covers_to=TODAY)

    assert str(school.berzs) not in err.value.message


def test_a_restricted_guardian_cannot_submit(school: School) -> None:
    restricted = school.guardian.model_copy(
        update={"restricted_children": frozenset({school.anna})}
    )

    with pytest.raises(NotFound):
        submit(school, by=restricted, covers_from=TODAY, covers_to=TODAY)


def test_a_student_of_18_submits_for_themself(school: School) -> None:
    adult = Relationships(person_id=school.anna, birth_date=dt.date(2007, 10, 8))

    _, events = submit(school, by=adult, covers_from=TODAY, covers_to=TODAY)

    assert isinstance(events[0], ExcuseSubmitted)
    assert events[0].submitted_as == "student"
    assert events[0].submitted_by == school.anna


def test_a_student_under_18_cannot_submit(school: School) -> None:
    minor = Relationships(person_id=school.anna, birth_date=dt.date(2007, 10, 9))

    with pytest.raises(NotFound):
        submit(school, by=minor, covers_from=TODAY, covers_to=TODAY)


def test_a_request_is_submitted_once(school: School) -> None:
    request = submitted(school, covers_from=TODAY, covers_to=TODAY)

    with pytest.raises(Conflict):
        request.submit(
            SubmitExcuse(
                request_id=request.request_id,
                student_id=school.anna,
                reason="vēlreiz",
                document_type="other",
                covers_from=TODAY,
                covers_to=TODAY,
            ),
            by=school.guardian,
            policy=POLICY,
            today=TODAY,
        )


def test_the_class_teacher_accepts_a_request_with_its_coverage(school: School) -> None:
    request = submitted(school, covers_from=TODAY, covers_to=TODAY)

    events = request.accept(AcceptExcuse(request_id=request.request_id), by=school.class_teacher)

    (event,) = events
    assert isinstance(event, ExcuseAccepted)
    assert (event.request_id, event.student_id, event.accepted_by) == (
        request.request_id,
        school.anna,
        school.class_teacher_id,
    )
    assert (event.covers_from, event.covers_to, event.document_type) == (
        TODAY,
        TODAY,
        "parent_note",
    )
    assert request.applied(events).status == "accepted"


def test_a_rejection_needs_a_reason(school: School) -> None:
    request = submitted(school, covers_from=TODAY, covers_to=TODAY)

    with pytest.raises(Invalid) as err:
        request.reject(RejectExcuse(request_id=request.request_id), by=school.class_teacher)
    events = request.reject(
        RejectExcuse(request_id=request.request_id, reason="zīme nav parakstīta"),
        by=school.class_teacher,
    )

    assert err.value.field == "reason"
    (event,) = events
    assert isinstance(event, ExcuseRejected)
    assert (event.reason, event.rejected_by) == ("zīme nav parakstīta", school.class_teacher_id)


@pytest.mark.parametrize("first", ["accept", "reject"])
def test_deciding_a_decided_request_is_a_conflict(school: School, first: str) -> None:
    request = submitted(school, covers_from=TODAY, covers_to=TODAY)
    decide = {
        "accept": lambda: request.accept(
            AcceptExcuse(request_id=request.request_id), by=school.class_teacher
        ),
        "reject": lambda: request.reject(
            RejectExcuse(request_id=request.request_id, reason="nav pamatots"),
            by=school.class_teacher,
        ),
    }
    request.applied(decide[first]())

    with pytest.raises(Conflict):
        decide["accept"]()
    with pytest.raises(Conflict):
        decide["reject"]()


def test_only_the_class_teacher_decides(school: School) -> None:
    request = submitted(school, covers_from=TODAY, covers_to=TODAY)
    other_class_teacher = Relationships(
        person_id=uuid4(), homeroom_classes=frozenset({school.other_class_id})
    )

    # who does not see the student is told the request does not exist; the guardian, who sees
    # the child, is refused
    for someone, refusal in (
        (school.teacher_of(school.lesson(TODAY)), NotFound),
        (other_class_teacher, NotFound),
        (school.guardian, Forbidden),
    ):
        with pytest.raises(refusal) as refused:
            request.accept(AcceptExcuse(request_id=request.request_id), by=someone)
        with pytest.raises(refusal):
            request.reject(RejectExcuse(request_id=request.request_id, reason="x"), by=someone)
        if refusal is NotFound:
            assert (refused.value.message, refused.value.field) == (
                "no such excuse request",
                "request_id",
            )


def test_deciding_an_unknown_request_is_not_found(school: School) -> None:
    request = ExcuseRequest("excuse-request-unknown")

    with pytest.raises(NotFound):
        request.accept(AcceptExcuse(request_id=uuid4()), by=school.class_teacher)
