"""Property: whatever valid records and corrections a lesson goes through, replaying its events
(also after a trip through JSON) rebuilds the same state; refused commands change nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ezurnals.lessons.domain import (
    DEFAULT_SCHEDULE,
    CorrectLessonRecord,
    Lesson,
    RecordLesson,
    ScheduleLesson,
    SubstituteTeacher,
)
from ezurnals.shared.contracts import EventEnvelope
from ezurnals.shared.contracts.lessons import Homework, LessonsEvent
from ezurnals.shared.domain import DomainError

RIGA = ZoneInfo("Europe/Riga")
DAY = date(2026, 3, 27)
TEACHER, SUBSTITUTE, STRANGER = uuid4(), uuid4(), uuid4()
PLAN = ScheduleLesson(
    lesson_id=uuid4(),
    school_id=uuid4(),
    timetable_id=uuid4(),
    slot_id=uuid4(),
    class_id=uuid4(),
    subject_id=uuid4(),
    teacher_id=TEACHER,
    lesson_date=DAY,
    starts_at=time(10, 0),
    ends_at=time(10, 40),
    period=3,
    grade_level=8,
)
LESSON_START = datetime.combine(DAY, time(10, 0), tzinfo=RIGA).astimezone(UTC)

topics = st.one_of(st.sampled_from(["Daļskaitļi", "Ģeometrija", "Šūna"]), st.text(max_size=30))
valid_homework = st.builds(
    Homework,
    text=st.sampled_from(["Uzdevumi 5.–7.", "Lasīt 3. nodaļu"]),
    links=st.lists(st.sampled_from(["https://e.lv/a", "http://e.lv/b"]), max_size=2).map(tuple),
    due_date=st.sampled_from([DAY + timedelta(days=1), DAY + timedelta(days=7)]),
)
any_homework = st.builds(
    Homework,
    text=st.text(min_size=1, max_size=30),
    links=st.lists(st.sampled_from(["https://e.lv/a", "e.lv"]), max_size=2).map(tuple),
    due_date=st.sampled_from([DAY, DAY + timedelta(days=1)]),
)
#: (homework, no_homework): mostly one of the two valid shapes, sometimes anything at all.
entries = st.one_of(
    st.just((None, True)),
    valid_homework.map(lambda h: (h, False)),
    st.tuples(st.one_of(st.none(), any_homework), st.booleans()),
)
people = st.sampled_from([TEACHER, TEACHER, SUBSTITUTE, STRANGER])
content = st.tuples(topics, entries, people).map(lambda t: (t[0], t[1][0], t[1][1], t[2]))
# From an hour before the lesson to two days after it, by the minute.
moments = st.integers(min_value=-60, max_value=2 * 24 * 60).map(
    lambda minutes: LESSON_START + timedelta(minutes=minutes)
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("record"), content, moments),
        st.tuples(st.just("correct"), content, moments),
        st.tuples(st.just("overdue"), content, moments),
    ),
    max_size=12,
)


def snapshot(lesson: Lesson) -> tuple[object, ...]:
    return (
        lesson.version,
        lesson.plan,
        lesson.substitute_teacher_id,
        lesson.cancelled,
        tuple(lesson.history),
        lesson.late,
        lesson.minutes_late,
        lesson.overdue_raised,
    )


def over_the_wire(events: list[LessonsEvent]) -> list[LessonsEvent]:
    parsed = []
    for n, event in enumerate(events, 1):
        envelope = EventEnvelope(
            event_type=event.event_type,
            schema_version=event.schema_version,
            stream_id=str(PLAN.lesson_id),
            stream_version=n,
            payload=event.model_dump(mode="json"),
        )
        restored = EventEnvelope.model_validate_json(envelope.model_dump_json()).parse()
        assert isinstance(restored, LessonsEvent)
        parsed.append(restored)
    return parsed


def decide(
    lesson: Lesson, kind: str, args: tuple[str, Homework | None, bool, UUID], now: datetime
) -> list[LessonsEvent]:
    topic, homework, none, person = args
    if kind == "record":
        cmd = RecordLesson(topic=topic, homework=homework, no_homework=none, recorded_by=person)
        return lesson.record(cmd, now, DEFAULT_SCHEDULE, RIGA)
    if kind == "correct":
        fix = CorrectLessonRecord(
            topic=topic, homework=homework, no_homework=none, corrected_by=person
        )
        return lesson.correct(fix)
    return lesson.overdue(now, DEFAULT_SCHEDULE, RIGA)


@settings(max_examples=300, deadline=None)
@given(substituted=st.booleans(), steps=steps)
def test_replaying_a_lessons_events_rebuilds_its_state(
    substituted: bool, steps: list[tuple[str, tuple[str, Homework | None, bool, UUID], datetime]]
) -> None:
    # given a scheduled lesson, perhaps with a substitute
    live = Lesson(str(PLAN.lesson_id))
    events: list[LessonsEvent] = []

    def keep(new: list[LessonsEvent]) -> None:
        live.applied(new)
        events.extend(new)

    keep(live.schedule(PLAN))
    if substituted:
        keep(live.substitute(SubstituteTeacher(substitute_teacher_id=SUBSTITUTE)))
    # when any sequence of records, corrections and overdue checks is decided in turn
    for kind, args, now in steps:
        before = snapshot(live)
        try:
            new = decide(live, kind, args, now)
        except DomainError:
            # then a refused command leaves the lesson as it was
            assert snapshot(live) == before
            continue
        keep(new)
    # then replaying the stream — directly or after JSON — gives the same lesson
    assert snapshot(Lesson.rehydrate("x", events)) == snapshot(live)
    assert snapshot(Lesson.rehydrate("x", over_the_wire(events))) == snapshot(live)
    # and the history holds one version per record or correction
    assert len(live.history) == sum(
        type(e).__name__ in {"LessonRecorded", "LessonRecordCorrected"} for e in events
    )
    assert sum(type(e).__name__ == "LessonEntryOverdue" for e in events) <= 1
