"""The lessons contracts: registered, tagged with the service, and read back unchanged."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from uuid import uuid4

import pytest

from ezurnals.shared.contracts import EventEnvelope, registry
from ezurnals.shared.contracts import lessons as contracts
from ezurnals.shared.contracts.lessons import (
    AcknowledgedBy,
    ConsultationKind,
    GradeBandDeadline,
    Homework,
    LessonsEvent,
    WeeklySlot,
)

DAY = date(2026, 3, 30)
HOMEWORK = Homework(text="Lasīt 5. nodaļu", links=("https://example.lv/a",), due_date=DAY)
WEEKLY = WeeklySlot(
    weekday=1,
    period=0,
    starts_at=time(8, 0),
    ends_at=time(8, 40),
    subject_id=uuid4(),
    teacher_id=uuid4(),
)

SAMPLES: list[LessonsEvent] = [
    contracts.SubjectDefined(
        subject_id=uuid4(),
        school_id=uuid4(),
        name_key="matematika",
        name="Matemātika",
        curriculum_hours={1: 140, 12: 175},
    ),
    contracts.TimetableOpened(
        timetable_id=uuid4(),
        school_id=uuid4(),
        class_id=uuid4(),
        school_year="2025/2026",
        grade_level=7,
    ),
    contracts.TimetableSlotDefined(
        timetable_id=uuid4(), slot_id=uuid4(), effective_from=DAY, slot=WEEKLY
    ),
    contracts.TimetableSlotChanged(
        timetable_id=uuid4(), slot_id=uuid4(), effective_from=DAY, slot=WEEKLY
    ),
    contracts.TimetableSlotRemoved(timetable_id=uuid4(), slot_id=uuid4(), effective_from=DAY),
    contracts.LessonScheduled(
        lesson_id=uuid4(),
        school_id=uuid4(),
        timetable_id=uuid4(),
        slot_id=uuid4(),
        class_id=uuid4(),
        subject_id=uuid4(),
        teacher_id=uuid4(),
        lesson_date=DAY,
        starts_at=time(8, 0),
        ends_at=time(8, 40),
        period=1,
        room="12a",
        grade_level=3,
    ),
    contracts.LessonSubstituted(
        lesson_id=uuid4(),
        lesson_date=DAY,
        substitute_teacher_id=uuid4(),
        replaced_teacher_id=uuid4(),
    ),
    contracts.LessonCancelled(lesson_id=uuid4(), lesson_date=DAY, reason="Ekskursija"),
    contracts.LessonRecorded(
        lesson_id=uuid4(),
        topic="Tēma",
        homework=HOMEWORK,
        recorded_by=uuid4(),
        late=True,
        minutes_late=3,
    ),
    contracts.LessonRecordCorrected(
        lesson_id=uuid4(), topic="Tēma", no_homework=True, corrected_by=uuid4(), reason="kļūda"
    ),
    contracts.LessonEntryLate(
        lesson_id=uuid4(),
        class_id=uuid4(),
        subject_id=uuid4(),
        teacher_id=uuid4(),
        recorded_by=uuid4(),
        lesson_date=DAY,
        deadline=datetime(2026, 3, 30, 12, 0, tzinfo=UTC),
        minutes_late=61,
    ),
    contracts.LessonEntryOverdue(
        lesson_id=uuid4(),
        class_id=uuid4(),
        subject_id=uuid4(),
        teacher_id=uuid4(),
        lesson_date=DAY,
        deadline=datetime(2026, 3, 30, 13, 0, tzinfo=UTC),
    ),
    contracts.HomeworkAssigned(
        lesson_id=uuid4(), class_id=uuid4(), subject_id=uuid4(), lesson_date=DAY, homework=HOMEWORK
    ),
    contracts.ConsultationRecorded(
        consultation_id=uuid4(),
        school_id=uuid4(),
        kind=ConsultationKind.CONSULTATION,
        participant_ids=(uuid4(),),
        summary="Konsultācija par ķīmiju",
        held_on=DAY,
        recorded_by=uuid4(),
        override_reason="Vēla saruna",
    ),
    contracts.BriefingTypeDefined(
        briefing_type_id=uuid4(), school_id=uuid4(), name_key="celu-satiksme", name="Ceļu satiksme"
    ),
    contracts.BriefingConducted(
        briefing_id=uuid4(),
        school_id=uuid4(),
        briefing_type_id=uuid4(),
        class_id=uuid4(),
        student_ids=(uuid4(), uuid4()),
        conducted_on=DAY,
        conducted_by=uuid4(),
        topic="Ugunsdrošība",
    ),
    contracts.BriefingAcknowledged(
        briefing_id=uuid4(), student_id=uuid4(), how=AcknowledgedBy.APP, recorded_by=uuid4()
    ),
    contracts.EntryDeadlinePolicySet(
        school_id=uuid4(),
        effective_from=DAY,
        deadlines=(GradeBandDeadline(first_grade=1, last_grade=12, deadline=time(15, 30)),),
        consultation_cutoff=time(20, 0),
    ),
]


def test_every_lessons_contract_has_a_sample() -> None:
    # given the registry after importing the lessons contracts
    registered = {m.event_type for m in registry if m.service == "lessons"}
    # when compared with the samples here
    # then every contract is exercised, and each is a LessonsEvent
    assert registered == {type(e).event_type for e in SAMPLES}
    assert all(issubclass(registry.model(t), LessonsEvent) for t in registered)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).event_type)
def test_a_contract_survives_the_wire(event: LessonsEvent) -> None:
    # given an event put into an envelope as the event store would
    envelope = EventEnvelope(
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id="s",
        stream_version=1,
        payload=event.model_dump(mode="json"),
    )
    # when it travels as JSON and is parsed back
    parsed = EventEnvelope.model_validate_json(envelope.model_dump_json()).parse()
    # then it is the same event
    assert parsed == event


@pytest.mark.parametrize(
    ("model", "bad"),
    [
        (contracts.SubjectDefined, {"name_key": "Matemātika"}),
        (contracts.TimetableOpened, {"school_year": "2025-2026"}),
        (contracts.TimetableOpened, {"grade_level": 13}),
    ],
)
def test_contract_fields_keep_their_shape(
    model: type[LessonsEvent], bad: dict[str, object]
) -> None:
    # given a valid sample of the contract
    sample = next(e for e in SAMPLES if isinstance(e, model))
    # when a field is given a value of the wrong shape
    # then the payload is refused
    with pytest.raises(ValueError):
        model.model_validate(sample.model_dump() | bad)


@pytest.mark.parametrize("written", ["2025/26", "2025/2026"])
def test_a_v1_timetable_is_read_with_the_school_year_in_its_one_spelling(written: str) -> None:
    # given a timetable opened before v2, its year written either way
    opened = contracts.TimetableOpened(
        timetable_id=uuid4(), school_id=uuid4(), class_id=uuid4(), school_year="2025/2026",
        grade_level=7,
    )  # fmt: skip
    old = {**opened.model_dump(mode="json"), "school_year": written}
    # when it is read today, then it is the v2 event spelled "2025/2026"
    assert registry.parse("TimetableOpened", 1, old) == opened
    # and v2 itself takes only the one spelling
    with pytest.raises(ValueError):
        contracts.TimetableOpened.model_validate({**old, "school_year": "2025/26"})
