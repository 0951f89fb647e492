"""The attendance contracts: registered, versioned, and readable back from an envelope."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from uuid import uuid4

import pytest
from pydantic import ValidationError

from ezurnals.shared.contracts import attendance
from ezurnals.shared.contracts.base import EventEnvelope, registry

if TYPE_CHECKING:
    from .conftest import School

EXPECTED = {
    "AbsenceCodesDefined",
    "AbsenceCorrected",
    "AbsenceExcused",
    "AbsenceRecorded",
    "AbsenceThresholdReached",
    "AttendanceTaken",
    "ExcuseAccepted",
    "ExcusePolicySet",
    "ExcuseRejected",
    "ExcuseSubmitted",
}


def test_every_attendance_event_is_a_registered_contract_of_the_service() -> None:
    ours = {m for m in registry if m.service == "attendance"}

    assert {m.event_type for m in ours} == EXPECTED
    assert all(issubclass(m, attendance.AttendanceEvent) for m in ours)
    assert all(registry.model(m.event_type) is m for m in ours)


def test_an_event_survives_the_envelope(school: School) -> None:
    lesson = school.lesson(dt.date(2025, 10, 6))
    taken = school.absent(lesson, school.anna)
    (recorded,) = school.absence_events(lesson, school.anna)
    event = attendance.AttendanceTaken(
        lesson_id=lesson.lesson_id,
        class_id=lesson.class_id,
        date=lesson.date,
        all_present=False,
        marks=tuple(taken.marks.values()),
        taken_by=school.teacher_id,
        late_entry=True,
        late_entry_minutes=12,
    )

    for original in (event, recorded):
        envelope = EventEnvelope(
            event_type=original.event_type,
            schema_version=original.schema_version,
            stream_id=f"lesson-attendance-{lesson.lesson_id}",
            stream_version=1,
            payload=original.model_dump(mode="json"),
        )
        assert EventEnvelope.model_validate_json(envelope.model_dump_json()).parse() == original


def test_a_correction_must_change_something() -> None:
    with pytest.raises(ValidationError):
        attendance.AbsenceCorrected(
            absence_id=uuid4(),
            student_id=uuid4(),
            lesson_id=uuid4(),
            class_id=uuid4(),
            date=dt.date(2025, 10, 6),
            old_code=None,
            new_code=None,
            corrected_by=uuid4(),
            revision=2,
        )


def test_a_threshold_month_is_a_calendar_month() -> None:
    fields = {"student_id": uuid4(), "unexcused_lessons": 10, "threshold": 10}

    assert attendance.AbsenceThresholdReached(month="2025-10", **fields).month == "2025-10"
    with pytest.raises(ValidationError):
        attendance.AbsenceThresholdReached(month="2025-13", **fields)


def test_a_rejection_without_a_reason_is_not_a_valid_event() -> None:
    with pytest.raises(ValidationError):
        attendance.ExcuseRejected(
            request_id=uuid4(), student_id=uuid4(), reason="", rejected_by=uuid4()
        )
