"""Recording a lesson (rule 2): topic, homework or "no homework", who may, and when."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from ezurnals.lessons.domain import (
    DEFAULT_SCHEDULE,
    CancelLesson,
    CorrectLessonRecord,
    Lesson,
    RecordLesson,
    ScheduleLesson,
    SubstituteTeacher,
)
from ezurnals.shared.contracts.lessons import (
    Homework,
    HomeworkAssigned,
    LessonCancelled,
    LessonEntryLate,
    LessonEntryOverdue,
    LessonRecordCorrected,
    LessonRecorded,
    LessonScheduled,
    LessonSubstituted,
)
from ezurnals.shared.domain import Conflict, Forbidden, Invalid, NotFound

Clock = Callable[..., datetime]
FRIDAY = date(2026, 3, 27)
HOMEWORK = Homework(text="Uzdevumi 12.–15. lpp.", due_date=date(2026, 3, 30))


def no_homework(teacher: UUID, topic: str = "Daļskaitļu saskaitīšana") -> RecordLesson:
    return RecordLesson(topic=topic, no_homework=True, recorded_by=teacher)


def test_a_record_with_topic_and_homework_assigns_the_homework(
    scheduled: Callable[..., Lesson], teacher_id: UUID, riga: ZoneInfo, at_riga: Clock
) -> None:
    # given a lesson of grade 5 on Friday
    lesson = scheduled(FRIDAY, 5)
    cmd = RecordLesson(topic="  Daļskaitļi  ", homework=HOMEWORK, recorded_by=teacher_id)
    # when its teacher records it right after it
    events = lesson.record(cmd, at_riga(FRIDAY, 10, 45), DEFAULT_SCHEDULE, riga)
    # then it is recorded on time and the homework goes to the diary
    assert [type(e) for e in events] == [LessonRecorded, HomeworkAssigned]
    recorded = events[0]
    assert isinstance(recorded, LessonRecorded)
    assert (recorded.topic, recorded.homework, recorded.late) == ("Daļskaitļi", HOMEWORK, False)
    lesson.applied(events)
    assert lesson.current is not None and lesson.current.topic == "Daļskaitļi"


def test_no_homework_is_an_explicit_entry(
    scheduled: Callable[..., Lesson], teacher_id: UUID, riga: ZoneInfo, at_riga: Clock
) -> None:
    # given a scheduled lesson
    lesson = scheduled(FRIDAY, 5)
    # when its teacher records it with "no homework"
    events = lesson.record(no_homework(teacher_id), at_riga(FRIDAY, 11), DEFAULT_SCHEDULE, riga)
    # then the record says so and no homework is assigned
    assert len(events) == 1
    assert isinstance(events[0], LessonRecorded)
    assert events[0].no_homework is True
    assert events[0].homework is None


@pytest.mark.parametrize("topic", ["", "   ", "\n\t"])
def test_an_empty_topic_is_refused(
    scheduled: Callable[..., Lesson], teacher_id: UUID, riga: ZoneInfo, at_riga: Clock, topic: str
) -> None:
    # given a scheduled lesson
    lesson = scheduled(FRIDAY, 5)
    # when it is recorded without a topic
    with pytest.raises(Invalid) as err:
        lesson.record(no_homework(teacher_id, topic), at_riga(FRIDAY, 11), DEFAULT_SCHEDULE, riga)
    # then the refusal names the topic
    assert err.value.field == "topic"


@pytest.mark.parametrize(
    ("homework", "none", "code"),
    [(None, False, "homework_or_none_required"), (HOMEWORK, True, "homework_and_none")],
)
def test_exactly_one_of_homework_or_no_homework_is_required(
    scheduled: Callable[..., Lesson],
    teacher_id: UUID,
    riga: ZoneInfo,
    at_riga: Clock,
    homework: Homework | None,
    none: bool,
    code: str,
) -> None:
    # given a scheduled lesson
    lesson = scheduled(FRIDAY, 5)
    cmd = RecordLesson(
        topic="Daļskaitļi", homework=homework, no_homework=none, recorded_by=teacher_id
    )
    # when it is recorded with neither, or with both
    with pytest.raises(Invalid) as err:
        lesson.record(cmd, at_riga(FRIDAY, 11), DEFAULT_SCHEDULE, riga)
    # then the refusal names the homework
    assert (err.value.field, err.value.code) == ("homework", code)


@pytest.mark.parametrize(
    ("homework", "field"),
    [
        (Homework(text="   ", due_date=date(2026, 3, 30)), "homework.text"),
        (Homework(text="Lasīt", links=("ftp://x",), due_date=date(2026, 3, 30)), "homework.links"),
        (Homework(text="Lasīt", due_date=FRIDAY), "homework.due_date"),
        (Homework(text="Lasīt", due_date=date(2031, 3, 28)), "homework.due_date"),
    ],
)
def test_homework_needs_text_web_links_and_a_later_due_date(
    scheduled: Callable[..., Lesson],
    teacher_id: UUID,
    riga: ZoneInfo,
    at_riga: Clock,
    homework: Homework,
    field: str,
) -> None:
    # given a scheduled lesson
    lesson = scheduled(FRIDAY, 5)
    cmd = RecordLesson(topic="Daļskaitļi", homework=homework, recorded_by=teacher_id)
    # when the homework is blank, links elsewhere than the web, or is due on the lesson day
    with pytest.raises(Invalid) as err:
        lesson.record(cmd, at_riga(FRIDAY, 11), DEFAULT_SCHEDULE, riga)
    # then the refusal names the part at fault
    assert err.value.field == field


def test_another_teacher_may_not_record(
    scheduled: Callable[..., Lesson], riga: ZoneInfo, at_riga: Clock
) -> None:
    # given a scheduled lesson
    lesson = scheduled(FRIDAY, 5)
    # when a teacher who is not assigned records it
    with pytest.raises(Forbidden):
        lesson.record(no_homework(uuid4()), at_riga(FRIDAY, 11), DEFAULT_SCHEDULE, riga)
    # then nothing is recorded
    assert lesson.current is None


def test_the_substitute_may_record_and_the_teacher_still_may(
    scheduled: Callable[..., Lesson], teacher_id: UUID, riga: ZoneInfo, at_riga: Clock
) -> None:
    # given a lesson with a substitute for its day
    substitute = uuid4()
    lesson = scheduled(FRIDAY, 5)
    lesson.applied(lesson.substitute(SubstituteTeacher(substitute_teacher_id=substitute)))
    # when the substitute records it
    events = lesson.record(no_homework(substitute), at_riga(FRIDAY, 11), DEFAULT_SCHEDULE, riga)
    # then the record is theirs; the assigned teacher would have been allowed as well
    assert isinstance(events[0], LessonRecorded)
    assert events[0].recorded_by == substitute
    assert lesson.may_record(teacher_id)
    assert not lesson.may_record(uuid4())


def test_a_lesson_that_has_not_started_cannot_be_recorded(
    scheduled: Callable[..., Lesson], teacher_id: UUID, riga: ZoneInfo, at_riga: Clock
) -> None:
    # given a lesson at 10:00 on Friday
    lesson = scheduled(FRIDAY, 5)
    # when its teacher records it at 09:59 — or on Thursday
    for now in (at_riga(FRIDAY, 9, 59), at_riga(date(2026, 3, 26), 12)):
        with pytest.raises(Invalid) as err:
            lesson.record(no_homework(teacher_id), now, DEFAULT_SCHEDULE, riga)
        # then it is refused as a lesson in the future
        assert err.value.code == "lesson_in_future"
    # and from its start it can be recorded
    assert lesson.record(no_homework(teacher_id), at_riga(FRIDAY, 10), DEFAULT_SCHEDULE, riga)


#: Both sides of the spring 2026 and autumn 2025 daylight-saving changes in Riga.
DST_DAYS = [date(2026, 3, 27), date(2026, 3, 30), date(2025, 10, 24), date(2025, 10, 27)]


@pytest.mark.parametrize("day", DST_DAYS)
@pytest.mark.parametrize(
    ("grade_level", "hour", "minute", "late_by"),
    [
        (1, 14, 59, 0),
        (6, 15, 0, 0),
        (6, 15, 1, 1),
        (7, 15, 1, 0),  # 15:01 is on time for the upper band
        (7, 15, 59, 0),
        (9, 16, 0, 0),
        (12, 16, 1, 1),
        (4, 16, 1, 61),
    ],
)
def test_recording_after_the_deadline_is_allowed_and_marked_late(
    scheduled: Callable[..., Lesson],
    teacher_id: UUID,
    riga: ZoneInfo,
    at_riga: Clock,
    day: date,
    grade_level: int,
    hour: int,
    minute: int,
    late_by: int,
) -> None:
    # given a lesson on either side of a daylight-saving change
    lesson = scheduled(day, grade_level)
    # when its teacher records it at a local time around the band's deadline
    events = lesson.record(
        no_homework(teacher_id), at_riga(day, hour, minute), DEFAULT_SCHEDULE, riga
    )
    # then the entry is on time up to the deadline and late by whole minutes after it
    recorded = events[0]
    assert isinstance(recorded, LessonRecorded)
    assert (recorded.late, recorded.minutes_late) == (late_by > 0, late_by)
    late = [e for e in events if isinstance(e, LessonEntryLate)]
    if late_by:
        assert len(late) == 1
        assert late[0].minutes_late == late_by
        expected = time(15, 0) if grade_level <= 6 else time(16, 0)
        assert late[0].deadline.astimezone(riga).time() == expected
        assert late[0].deadline.astimezone(riga).date() == day
    else:
        assert late == []


def test_a_recorded_lesson_is_corrected_not_recorded_twice(
    recorded_lesson: Callable[..., Lesson], teacher_id: UUID, riga: ZoneInfo, at_riga: Clock
) -> None:
    # given a recorded lesson with no homework
    lesson = recorded_lesson()
    # when it is recorded again
    with pytest.raises(Conflict) as err:
        lesson.record(no_homework(teacher_id), at_riga(FRIDAY, 12), DEFAULT_SCHEDULE, riga)
    # then it is refused: corrections go through correct()
    assert err.value.code == "already_recorded"


def test_a_correction_keeps_the_history_and_assigns_new_homework(
    recorded_lesson: Callable[..., Lesson], teacher_id: UUID
) -> None:
    # given a lesson recorded with "no homework"
    lesson = recorded_lesson("Daļskaitļi")
    # when the teacher corrects it to a new topic with homework
    events = lesson.correct(
        CorrectLessonRecord(
            topic="Daļskaitļu saīsināšana",
            homework=HOMEWORK,
            corrected_by=teacher_id,
            reason="nepareiza tēma",
        )
    )
    lesson.applied(events)
    # then both versions are kept and the new homework is assigned
    assert [type(e) for e in events] == [LessonRecordCorrected, HomeworkAssigned]
    assert [r.topic for r in lesson.history] == ["Daļskaitļi", "Daļskaitļu saīsināšana"]
    assert lesson.history[0].no_homework and lesson.history[1].homework == HOMEWORK
    assert lesson.history[1].correction_reason == "nepareiza tēma"


def test_a_correction_that_changes_nothing_is_no_event(
    recorded_lesson: Callable[..., Lesson], teacher_id: UUID
) -> None:
    # given a recorded lesson
    lesson = recorded_lesson("Daļskaitļi")
    # when the same content is sent as a correction
    events = lesson.correct(
        CorrectLessonRecord(topic=" Daļskaitļi ", no_homework=True, corrected_by=teacher_id)
    )
    # then nothing happens
    assert events == []


def test_a_correction_follows_the_same_rules(
    scheduled: Callable[..., Lesson], recorded_lesson: Callable[..., Lesson], teacher_id: UUID
) -> None:
    # given a recorded lesson, and one not yet recorded
    recorded = recorded_lesson()
    unrecorded = scheduled(FRIDAY, 5)
    blank = CorrectLessonRecord(topic="", no_homework=True, corrected_by=teacher_id)
    valid = CorrectLessonRecord(topic="Jauna", no_homework=True, corrected_by=teacher_id)
    # when corrections break the rules
    # then each is refused for its own reason
    with pytest.raises(Invalid) as err:
        recorded.correct(blank)
    assert err.value.field == "topic"
    with pytest.raises(Forbidden):
        recorded.correct(valid.model_copy(update={"corrected_by": uuid4()}))
    with pytest.raises(Conflict):
        unrecorded.correct(valid)


def test_overdue_is_raised_once_at_the_deadline(
    scheduled: Callable[..., Lesson], riga: ZoneInfo, at_riga: Clock
) -> None:
    # given an unrecorded lesson of grade 8 (deadline 16:00) on the Monday after the clocks moved
    monday = date(2026, 3, 30)
    lesson = scheduled(monday, 8)
    # when the overdue job asks before the deadline
    assert lesson.overdue(at_riga(monday, 15, 59), DEFAULT_SCHEDULE, riga) == []
    # and at the deadline, twice
    first = lesson.overdue(at_riga(monday, 16, 0), DEFAULT_SCHEDULE, riga)
    lesson.applied(first)
    second = lesson.overdue(at_riga(monday, 16, 5), DEFAULT_SCHEDULE, riga)
    # then exactly one overdue event is raised, naming the deadline
    assert len(first) == 1 and isinstance(first[0], LessonEntryOverdue)
    assert first[0].deadline == at_riga(monday, 16, 0)
    assert second == []


def test_overdue_is_not_raised_for_recorded_or_cancelled_lessons(
    scheduled: Callable[..., Lesson],
    recorded_lesson: Callable[..., Lesson],
    riga: ZoneInfo,
    at_riga: Clock,
) -> None:
    # given a recorded lesson and a cancelled one
    recorded = recorded_lesson()
    cancelled = scheduled(FRIDAY, 5)
    cancelled.applied(cancelled.cancel(CancelLesson(reason="Ekskursija")))
    # when the overdue job runs after the deadline
    # then neither is overdue
    for lesson in (recorded, cancelled):
        assert lesson.overdue(at_riga(FRIDAY, 18), DEFAULT_SCHEDULE, riga) == []


def test_a_late_record_after_overdue_is_still_accepted(
    scheduled: Callable[..., Lesson], teacher_id: UUID, riga: ZoneInfo, at_riga: Clock
) -> None:
    # given a lesson already reported overdue
    lesson = scheduled(FRIDAY, 5)
    lesson.applied(lesson.overdue(at_riga(FRIDAY, 15), DEFAULT_SCHEDULE, riga))
    assert lesson.overdue_raised
    # when the teacher records it in the evening
    events = lesson.record(no_homework(teacher_id), at_riga(FRIDAY, 19), DEFAULT_SCHEDULE, riga)
    # then it is recorded and marked 240 minutes late
    lesson.applied(events)
    assert lesson.recorded and lesson.late and lesson.minutes_late == 240


def test_a_cancelled_lesson_cannot_be_recorded_or_substituted(
    scheduled: Callable[..., Lesson], teacher_id: UUID, riga: ZoneInfo, at_riga: Clock
) -> None:
    # given a cancelled lesson
    lesson = scheduled(FRIDAY, 5)
    events = lesson.cancel(CancelLesson(reason=" Skolotājs slims "))
    lesson.applied(events)
    assert isinstance(events[0], LessonCancelled) and events[0].reason == "Skolotājs slims"
    # when it is recorded, substituted or cancelled again
    with pytest.raises(Conflict):
        lesson.record(no_homework(teacher_id), at_riga(FRIDAY, 11), DEFAULT_SCHEDULE, riga)
    with pytest.raises(Conflict):
        lesson.substitute(SubstituteTeacher(substitute_teacher_id=uuid4()))
    # then only the repeated cancellation is quietly accepted
    assert lesson.cancel(CancelLesson(reason="vēlreiz")) == []


def test_a_recorded_lesson_cannot_be_cancelled(recorded_lesson: Callable[..., Lesson]) -> None:
    # given a recorded lesson
    lesson = recorded_lesson()
    # when it is cancelled, or a substitute is named
    # then both are refused
    with pytest.raises(Conflict):
        lesson.cancel(CancelLesson(reason="Ekskursija"))
    with pytest.raises(Conflict):
        lesson.substitute(SubstituteTeacher(substitute_teacher_id=uuid4()))


def test_a_substitution_names_both_teachers_and_is_not_repeated(
    scheduled: Callable[..., Lesson], teacher_id: UUID
) -> None:
    # given a scheduled lesson
    lesson = scheduled(FRIDAY, 5)
    substitute = uuid4()
    # when a substitute is named, then named again, then the own teacher is named
    events = lesson.substitute(SubstituteTeacher(substitute_teacher_id=substitute))
    lesson.applied(events)
    again = lesson.substitute(SubstituteTeacher(substitute_teacher_id=substitute))
    with pytest.raises(Invalid) as err:
        lesson.substitute(SubstituteTeacher(substitute_teacher_id=teacher_id))
    # then one event records who replaces whom on that day
    assert isinstance(events[0], LessonSubstituted)
    assert (events[0].substitute_teacher_id, events[0].replaced_teacher_id) == (
        substitute,
        teacher_id,
    )
    assert events[0].lesson_date == FRIDAY
    assert again == []
    assert err.value.field == "substitute_teacher_id"


def test_a_lesson_not_in_the_timetable_is_not_found(riga: ZoneInfo, at_riga: Clock) -> None:
    # given no scheduled lesson
    lesson = Lesson("nothing")
    # when it is recorded
    with pytest.raises(NotFound):
        lesson.record(no_homework(uuid4()), at_riga(FRIDAY, 11), DEFAULT_SCHEDULE, riga)
    # then nothing exists
    assert not lesson.exists


def test_scheduling_is_idempotent_and_replans_only_open_lessons(
    plan_lesson: Callable[..., ScheduleLesson], teacher_id: UUID, riga: ZoneInfo, at_riga: Clock
) -> None:
    # given a lesson scheduled from the timetable
    plan = plan_lesson(FRIDAY, 5)
    lesson = Lesson(str(plan.lesson_id))
    first = lesson.schedule(plan)
    lesson.applied(first)
    assert [type(e) for e in first] == [LessonScheduled]
    # when the same plan comes again, and then a plan with another room
    same = lesson.schedule(plan)
    moved = plan.model_copy(update={"room": "301"})
    replanned = lesson.schedule(moved)
    # then only the change is an event
    assert same == []
    assert isinstance(replanned[0], LessonScheduled) and replanned[0].room == "301"
    # and once recorded the lesson's plan is fixed
    lesson.applied(replanned)
    lesson.applied(
        lesson.record(no_homework(teacher_id), at_riga(FRIDAY, 11), DEFAULT_SCHEDULE, riga)
    )
    with pytest.raises(Conflict):
        lesson.schedule(plan)


def test_homework_due_years_later_is_refused_naming_the_range(
    scheduled: Callable[..., Lesson], teacher_id: UUID, riga: ZoneInfo, at_riga: Clock
) -> None:
    # given a Friday lesson
    lesson = scheduled(FRIDAY, 5)
    far = Homework(text="Lasīt", due_date=date(2031, 3, 28))
    # when its homework is due in 2031
    with pytest.raises(Invalid) as err:
        lesson.record(
            RecordLesson(topic="Daļskaitļi", homework=far, recorded_by=teacher_id),
            at_riga(FRIDAY, 11),
            DEFAULT_SCHEDULE,
            riga,
        )
    # then the allowed days are named
    assert err.value.field == "homework.due_date"
    assert "2026-03-28 to 2026-07-25" in err.value.message
