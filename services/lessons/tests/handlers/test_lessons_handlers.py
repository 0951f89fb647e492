"""Given events → when a command → then the new events and the answer, for the lessons handlers
on the in-memory unit of work (the same handlers and pipeline the API and the job use)."""

from __future__ import annotations

from datetime import date, time
from uuid import UUID, uuid4

import pytest

from ezurnals.lessons import commands
from ezurnals.lessons.domain import (
    AcknowledgeBriefing,
    ConductBriefing,
    CorrectLessonRecord,
    DefineSubject,
    RecordLesson,
)
from ezurnals.lessons.queries import SchoolClass
from ezurnals.lessons.streams import (
    briefing_stream,
    lesson_stream,
    timetable_id_for,
    timetable_stream,
)
from ezurnals.shared.contracts.lessons import (
    AcknowledgedBy,
    BriefingAcknowledged,
    BriefingConducted,
    LessonCancelled,
    LessonEntryLate,
    LessonEntryOverdue,
    LessonRecordCorrected,
    LessonRecorded,
    LessonScheduled,
    LessonSubstituted,
    SubjectDefined,
    TimetableOpened,
)
from ezurnals.shared.domain import Conflict, NotFound

from .conftest import World, riga

DAY = date(2026, 3, 27)  # a Friday; grade 5 enters by 15:00 in Riga


def scheduled(world: World, *, teacher: UUID, grade: int = 5) -> LessonScheduled:
    lesson = LessonScheduled(
        lesson_id=uuid4(),
        school_id=world.facts.school_id,
        timetable_id=uuid4(),
        slot_id=uuid4(),
        class_id=uuid4(),
        subject_id=uuid4(),
        teacher_id=teacher,
        lesson_date=DAY,
        starts_at=time(10, 0),
        ends_at=time(10, 40),
        period=3,
        grade_level=grade,
    )
    world.streams.given(lesson_stream(lesson.lesson_id), lesson)
    return lesson


def record(lesson: LessonScheduled, by: UUID) -> commands.RecordLesson:
    return commands.RecordLesson(
        school_id=lesson.school_id,
        lesson_id=lesson.lesson_id,
        entry=RecordLesson(topic="Daļskaitļi", no_homework=True, recorded_by=by),
    )


async def test_a_lesson_recorded_in_time_is_recorded_and_not_late(world: World) -> None:
    teacher = uuid4()
    lesson = scheduled(world, teacher=teacher)
    view = await world.pipeline.handle(record(lesson, teacher), world.ctx(riga(DAY, 11)))
    [recorded] = world.streams.new_events()
    assert isinstance(recorded, LessonRecorded) and not recorded.late
    assert view.recorded and not view.late and view.record is not None
    assert view.record.topic == "Daļskaitļi" and view.lesson_id == lesson.lesson_id


async def test_a_lesson_recorded_after_the_deadline_is_kept_and_marked_late(world: World) -> None:
    teacher = uuid4()
    lesson = scheduled(world, teacher=teacher)
    view = await world.pipeline.handle(record(lesson, teacher), world.ctx(riga(DAY, 15, 30)))
    assert [type(e) for e in world.streams.new_events()] == [LessonRecorded, LessonEntryLate]
    assert view.late and view.minutes_late == 30


async def test_the_substitute_identity_assigns_becomes_the_lessons_substitute_on_recording(
    world: World,
) -> None:
    teacher, substitute = uuid4(), uuid4()
    lesson = scheduled(world, teacher=teacher)
    world.facts.teaching.add((lesson.class_id, substitute, lesson.subject_id, True))
    view = await world.pipeline.handle(record(lesson, substitute), world.ctx(riga(DAY, 11)))
    substituted, recorded = world.streams.new_events()
    assert isinstance(substituted, LessonSubstituted)
    assert substituted.substitute_teacher_id == substitute
    assert isinstance(recorded, LessonRecorded) and recorded.recorded_by == substitute
    assert view.substitute_teacher_id == substitute


async def test_another_schools_lesson_is_not_found_and_nothing_is_appended(world: World) -> None:
    teacher = uuid4()
    lesson = scheduled(world, teacher=teacher)
    elsewhere = record(lesson, teacher).model_copy(update={"school_id": uuid4()})
    with pytest.raises(NotFound) as refused:
        await world.pipeline.handle(elsewhere, world.ctx(riga(DAY, 11)))
    assert (refused.value.message, refused.value.field) == ("no such lesson", "lesson_id")
    assert world.streams.new_events() == []


async def test_a_repeated_record_gets_the_first_answer_though_a_second_is_refused(
    world: World,
) -> None:
    teacher = uuid4()
    lesson = scheduled(world, teacher=teacher)
    first = await world.pipeline.handle(record(lesson, teacher), world.ctx(riga(DAY, 11), key="k"))
    again = await world.pipeline.handle(record(lesson, teacher), world.ctx(riga(DAY, 12), key="k"))
    assert again == first
    with pytest.raises(Conflict) as refused:
        await world.pipeline.handle(record(lesson, teacher), world.ctx(riga(DAY, 12), key="k2"))
    assert refused.value.code == "already_recorded"
    assert len(world.streams.new_events()) == 1


async def test_a_correction_keeps_the_earlier_record_in_the_history(world: World) -> None:
    teacher = uuid4()
    lesson = scheduled(world, teacher=teacher)
    await world.pipeline.handle(record(lesson, teacher), world.ctx(riga(DAY, 11)))
    correction = commands.CorrectLessonRecord(
        school_id=lesson.school_id,
        lesson_id=lesson.lesson_id,
        correction=CorrectLessonRecord(
            topic="Decimāldaļas", no_homework=True, corrected_by=teacher, reason="pārrakstījos"
        ),
    )
    view = await world.pipeline.handle(correction, world.ctx(riga(DAY, 12)))
    assert isinstance(world.streams.new_events()[-1], LessonRecordCorrected)
    assert [r.topic for r in view.history] == ["Daļskaitļi", "Decimāldaļas"]
    assert view.record is not None and view.record.topic == "Decimāldaļas"


async def test_an_unrecorded_lesson_becomes_overdue_once_at_its_deadline(world: World) -> None:
    lesson = scheduled(world, teacher=uuid4())
    mark = commands.MarkLessonOverdue(school_id=lesson.school_id, lesson_id=lesson.lesson_id)
    early = await world.pipeline.handle(mark, world.ctx(riga(DAY, 14, 59)))
    due = await world.pipeline.handle(mark, world.ctx(riga(DAY, 15, 1)))
    again = await world.pipeline.handle(mark, world.ctx(riga(DAY, 16)))
    assert (early.raised, due.raised, again.raised) == (False, True, False)
    [overdue] = world.streams.new_events()
    assert isinstance(overdue, LessonEntryOverdue) and overdue.lesson_id == lesson.lesson_id


async def test_a_cancelled_lesson_answers_with_its_view(world: World) -> None:
    lesson = scheduled(world, teacher=uuid4())
    cancel = commands.CancelLesson(
        school_id=lesson.school_id, lesson_id=lesson.lesson_id, reason="ekskursija"
    )
    view = await world.pipeline.handle(cancel, world.ctx(riga(DAY, 8)))
    assert view.cancelled and isinstance(world.streams.new_events()[0], LessonCancelled)


async def test_a_name_key_another_subject_of_the_school_has_is_refused(world: World) -> None:
    school = world.facts.school_id
    world.facts.subject_rows.append({"subject_id": uuid4(), "name_key": "matematika"})
    subject = DefineSubject(
        subject_id=uuid4(), school_id=school, name_key="matematika", name="Matemātika"
    )
    with pytest.raises(Conflict) as refused:
        await world.pipeline.handle(
            commands.DefineSubject(subject=subject), world.ctx(riga(DAY, 8))
        )
    assert refused.value.field == "name_key"
    fresh = subject.model_copy(update={"name_key": "matematika-2"})
    answer = await world.pipeline.handle(
        commands.DefineSubject(subject=fresh), world.ctx(riga(DAY, 8))
    )
    assert answer == commands.SubjectAnswer(subject_id=subject.subject_id, changed=True)
    assert [type(e) for e in world.streams.new_events()] == [SubjectDefined]


async def test_scheduling_without_the_schools_calendar_is_refused(world: World) -> None:
    school, class_id = world.facts.school_id, uuid4()
    world.facts.classes[class_id] = SchoolClass(class_id, school, "2025/2026", 5, "5.a")
    opened = await world.pipeline.handle(
        commands.OpenTimetable(school_id=school, class_id=class_id), world.ctx(riga(DAY, 8))
    )
    assert opened.timetable_id == timetable_id_for(class_id, "2025/2026")
    assert isinstance(world.streams.new_events()[0], TimetableOpened)
    assert timetable_stream(opened.timetable_id) in world.streams.streams
    schedule = commands.ScheduleLessons(
        school_id=school,
        timetable_id=opened.timetable_id,
        first_day=date(2026, 3, 2),
        last_day=date(2026, 3, 27),
    )
    with pytest.raises(Conflict) as refused:
        await world.pipeline.handle(schedule, world.ctx(riga(DAY, 8)))
    assert refused.value.code == "calendar_unknown"


async def test_a_briefing_of_a_known_type_and_its_acknowledgement(world: World) -> None:
    school, teacher, student = world.facts.school_id, uuid4(), uuid4()
    type_id = uuid4()
    conduct = ConductBriefing(
        briefing_id=uuid4(),
        school_id=school,
        briefing_type_id=type_id,
        student_ids=(student,),
        conducted_on=DAY,
        conducted_by=teacher,
        topic="Evakuācija",
    )
    with pytest.raises(NotFound):
        await world.pipeline.handle(
            commands.ConductBriefing(briefing=conduct), world.ctx(riga(DAY, 9))
        )
    world.facts.briefing_type_rows.append({"briefing_type_id": type_id, "name_key": "ugunsdrosiba"})
    conducted = await world.pipeline.handle(
        commands.ConductBriefing(briefing=conduct), world.ctx(riga(DAY, 9))
    )
    assert conducted.student_ids == (student,)
    view = await world.pipeline.handle(
        commands.AcknowledgeBriefing(
            school_id=school,
            briefing_id=conduct.briefing_id,
            acknowledgement=AcknowledgeBriefing(
                student_id=student, how=AcknowledgedBy.PAPER, recorded_by=teacher
            ),
        ),
        world.ctx(riga(DAY, 10)),
    )
    assert view.acknowledged == {student: AcknowledgedBy.PAPER} and view.not_acknowledged == ()
    assert [type(e) for e in world.streams.new_events()] == [
        BriefingConducted,
        BriefingAcknowledged,
    ]
    assert len(world.streams.streams[briefing_stream(conduct.briefing_id)]) == 2
