"""The grading contracts: registered, JSON round trip through the envelope, field rules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from pydantic import ValidationError

from ezurnals.shared.contracts.base import EventEnvelope, registry
from ezurnals.shared.contracts.grading import (
    GradeBand,
    GradeCorrected,
    GradeFinalized,
    GradeRecorded,
    GradeScaleDefined,
    GradingEvent,
    PeriodFinalized,
    PeriodGradeDeadlineSet,
    PeriodGradeSet,
    PeriodKind,
    PeriodUnlocked,
    ScaleKind,
    Term,
    WorkKind,
)

AT = datetime(2025, 12, 15, 10, 0, tzinfo=UTC)
IDS = {
    "school_id": UUID(int=1),
    "class_id": UUID(int=2),
    "subject_id": UUID(int=3),
    "school_year": "2025/2026",
}


def _recorded(**changes: object) -> GradeRecorded:
    fields: dict[str, object] = {
        **IDS,
        "grade_id": UUID(int=10),
        "student_id": UUID(int=101),
        "term": Term.SEMESTER1,
        "given_on": date(2025, 10, 1),
        "work_title": "Diktāts",
        "work_kind": WorkKind.TEST,
        "summative": True,
        "weight": Decimal("1.5"),
        "scale": ScaleKind.TEN_POINT,
        "value": "7",
        "points": 7,
        "recorded_by": UUID(int=4),
        "recorded_at": AT,
    }
    return GradeRecorded.model_validate({**fields, **changes})


@pytest.mark.parametrize(
    "name",
    [
        "GradeScaleDefined",
        "GradeRecorded",
        "GradeCorrected",
        "PeriodGradeSet",
        "GradeFinalized",
        "PeriodFinalized",
        "PeriodUnlocked",
        "PeriodGradeDeadlineSet",
    ],
)
def test_every_grading_event_is_a_registered_contract_of_the_grading_service(name: str) -> None:
    model = registry.model(name)
    assert issubclass(model, GradingEvent)
    assert model.service == "grading"


def test_a_grade_survives_the_trip_through_the_envelope_unchanged() -> None:
    # given a recorded grade with a fractional weight
    event = _recorded()
    # when it is put in an envelope as JSON and read back
    envelope = EventEnvelope(
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id="grade-book:x",
        stream_version=1,
        payload=event.model_dump(mode="json"),
    )
    parsed = EventEnvelope.model_validate_json(envelope.model_dump_json()).parse()
    # then it is the same event, weight exact
    assert parsed == event
    assert isinstance(parsed, GradeRecorded) and parsed.weight == Decimal("1.5")


def test_every_other_grading_event_survives_the_json_trip() -> None:
    events = [
        GradeScaleDefined(
            scale_id=UUID(int=9),
            school_id=UUID(int=1),
            kind=ScaleKind.LEVELS,
            band=GradeBand(first=1, last=3),
            defined_at=AT,
        ),
        GradeCorrected(
            **IDS,
            grade_id=UUID(int=10),
            student_id=UUID(int=101),
            scale=ScaleKind.TEN_POINT,
            old_value="5",
            new_value="nv",
            old_points=5,
            reason="Pārrakstīšanās kļūda",
            corrected_by=UUID(int=4),
            corrected_at=AT,
        ),
        PeriodGradeSet(
            **IDS,
            student_id=UUID(int=101),
            period=PeriodKind.SEMESTER1,
            scale=ScaleKind.TEN_POINT,
            value="8",
            points=8,
            suggested_value="7",
            overridden=True,
            set_by=UUID(int=4),
            set_at=AT,
        ),
        GradeFinalized(
            **IDS,
            student_id=UUID(int=101),
            period=PeriodKind.ANNUAL,
            scale=ScaleKind.TEN_POINT,
            value="8",
            points=8,
            year_grade_type="gada",
            finalized_at=AT,
        ),
        PeriodFinalized(
            **IDS,
            period=PeriodKind.ANNUAL,
            student_ids=(UUID(int=101),),
            finalized_by=UUID(int=4),
            finalized_at=AT,
        ),
        PeriodUnlocked(
            **IDS,
            period=PeriodKind.ANNUAL,
            reason="Pēcpārbaudījums",
            unlocked_by=UUID(int=5),
            unlocked_at=AT,
        ),
        PeriodGradeDeadlineSet(
            school_id=UUID(int=1),
            school_year="2025/2026",
            period=PeriodKind.SEMESTER1,
            due_on=date(2025, 12, 19),
            set_at=AT,
        ),
    ]
    for event in events:
        payload = event.model_dump(mode="json")
        assert registry.parse(event.event_type, event.schema_version, payload) == event


@pytest.mark.parametrize(
    "bad",
    [
        {"school_year": "2025-26"},
        {"school_year": "2025/26"},
        {"school_year": "2025/2027"},
        {"points": 11},
        {"weight": Decimal(0)},
        {"work_title": ""},
        {"value": ""},
    ],
)
def test_a_grade_event_with_a_broken_field_does_not_validate(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        _recorded(**bad)


def test_a_v1_event_with_the_short_school_year_is_read_in_the_one_spelling() -> None:
    event = _recorded()
    # given a grade recorded before v2, its school year written "2025/26"
    old = {**event.model_dump(mode="json"), "school_year": "2025/26"}
    # when it is read today
    parsed = registry.parse("GradeRecorded", 1, old)
    # then it is the v2 event, the year spelled "2025/2026"
    assert parsed == event and event.schema_version == 2


@pytest.mark.parametrize(
    "name",
    [
        "GradeRecorded",
        "GradeCorrected",
        "PeriodGradeSet",
        "GradeFinalized",
        "PeriodFinalized",
        "PeriodUnlocked",
        "PeriodGradeDeadlineSet",
    ],
)
def test_every_grading_event_with_a_school_year_upcasts_v1(name: str) -> None:
    version, payload = registry.upcast(name, 1, {"school_year": "2026/27"})
    assert (version, payload) == (2, {"school_year": "2026/2027"})


def test_events_are_frozen() -> None:
    event = _recorded()
    with pytest.raises(ValidationError):
        event.value = "9"  # type: ignore[misc]


def test_a_grade_band_knows_what_it_covers_and_overlaps() -> None:
    low, high = GradeBand(first=1, last=3), GradeBand(first=4, last=12)
    assert low.covers(3) and not low.covers(4)
    assert not low.overlaps(high)
    assert GradeBand(first=3, last=5).overlaps(low)
