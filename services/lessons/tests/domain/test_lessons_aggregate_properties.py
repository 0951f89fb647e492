"""Property, for every aggregate of the lessons service: whatever sequence of commands it is
given, the events it decides rebuild exactly its state and version when replayed (directly and
after a trip through JSON), and a command it refuses leaves it exactly as it was.

The state compared is the aggregate's whole ``vars()``, so a field folded differently on replay,
or touched by a refused (or not yet applied) decision, fails the property.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ezurnals.lessons.domain import (
    DEFAULT_SCHEDULE,
    AcknowledgeBriefing,
    Briefing,
    BriefingType,
    CancelLesson,
    ChangeTimetableSlot,
    ConductBriefing,
    Consultation,
    CorrectLessonRecord,
    DeadlinePolicy,
    DefineBriefingType,
    DefineSubject,
    DefineTimetableSlot,
    ImportTimetable,
    Lesson,
    OpenTimetable,
    RecordConsultation,
    RecordLesson,
    RemoveTimetableSlot,
    ScheduleLesson,
    SetEntryDeadlinePolicy,
    Subject,
    SubstituteTeacher,
    Timetable,
)
from ezurnals.shared.contracts.lessons import (
    AcknowledgedBy,
    ConsultationKind,
    GradeBandDeadline,
    Homework,
    WeeklySlot,
)
from ezurnals.shared.testing import replay
from ezurnals.shared.testing.replay import Call, Clock, calls, check_replay

PROPERTY = settings(max_examples=120, deadline=None)
RIGA = ZONE = ZoneInfo("Europe/Riga")
SCHOOL, OTHER_SCHOOL = UUID(int=1), UUID(int=2)
TEACHER, SUBSTITUTE, STRANGER, DEPUTY = UUID(int=11), UUID(int=12), UUID(int=13), UUID(int=14)
STUDENTS = (UUID(int=21), UUID(int=22), UUID(int=23))
OUTSIDER = UUID(int=29)
DAY = date(2026, 3, 26)  # a Thursday
START = datetime.combine(DAY, time(7, 0), tzinfo=RIGA).astimezone(UTC)

sequences = functools.partial(replay.sequences, start=START)


#: Days around the clock's first days (it runs for up to a week, mostly two or three days).
days = st.integers(-2, 4).map(lambda n: DAY + timedelta(days=n))


#: Mostly usable text, sometimes blank or too long.
texts = st.sampled_from(
    ["Matemātika", "  Ugunsdrošība  ", "Ģeogrāfija", "Šūna", "", "   ", "x" * 501]
)

# --- subjects ----------------------------------------------------------------------------------

SUBJECT = UUID(int=31)


subject_steps = calls(
    "define",
    st.builds(
        DefineSubject,
        subject_id=st.just(SUBJECT),
        school_id=st.sampled_from([SCHOOL, SCHOOL, OTHER_SCHOOL]),
        name_key=st.sampled_from(["matematika", "fizika"]),
        name=texts,
        curriculum_hours=st.dictionaries(
            st.integers(1, 12), st.sampled_from([0, 35, 70, 1400, 1401, -1]), max_size=3
        ),
    ),
)


@PROPERTY
@given(sequences(subject_steps))
def test_a_subjects_definitions_replay_to_the_same_subject(sequence: list[Call]) -> None:
    check_replay(Subject(f"subject-{SUBJECT}"), sequence)


# --- briefing types and briefings --------------------------------------------------------------

BRIEFING_TYPE, BRIEFING = UUID(int=41), UUID(int=42)


briefing_type_steps = calls(
    "define",
    st.builds(
        DefineBriefingType,
        briefing_type_id=st.just(BRIEFING_TYPE),
        school_id=st.sampled_from([SCHOOL, SCHOOL, OTHER_SCHOOL]),
        name_key=st.sampled_from(["ugunsdrosiba", "celu-satiksme"]),
        name=texts,
    ),
)


@PROPERTY
@given(sequences(briefing_type_steps))
def test_a_briefing_types_definitions_replay_to_the_same_type(sequence: list[Call]) -> None:
    check_replay(BriefingType(f"briefing-type-{BRIEFING_TYPE}"), sequence)


@st.composite
def acknowledgements(draw: st.DrawFn) -> AcknowledgeBriefing:
    student = draw(st.sampled_from([*STUDENTS, OUTSIDER]))
    return AcknowledgeBriefing(
        student_id=student,
        how=draw(st.sampled_from(AcknowledgedBy)),
        recorded_by=draw(st.sampled_from([student, student, TEACHER])),
    )


briefing_steps = st.one_of(
    calls(
        "conduct",
        st.builds(
            ConductBriefing,
            briefing_id=st.just(BRIEFING),
            school_id=st.just(SCHOOL),
            briefing_type_id=st.just(BRIEFING_TYPE),
            class_id=st.sampled_from([None, UUID(int=51)]),
            student_ids=st.lists(st.sampled_from(STUDENTS), max_size=4).map(tuple)
            | st.just(STUDENTS),
            conducted_on=days,
            conducted_by=st.just(TEACHER),
            topic=texts,
        ),
        Clock.NOW,
        RIGA,
    ),
    calls("acknowledge", acknowledgements()),
    calls("acknowledge", acknowledgements()),
)


CONDUCTED = Call(
    "conduct",
    (
        ConductBriefing(
            briefing_id=BRIEFING,
            school_id=SCHOOL,
            briefing_type_id=BRIEFING_TYPE,
            student_ids=STUDENTS,
            conducted_on=DAY,
            conducted_by=TEACHER,
            topic="Ugunsdrošība skolā",
        ),
        START,
        RIGA,
    ),
)


@PROPERTY
@given(conducted=st.booleans(), sequence=sequences(briefing_steps))
def test_a_briefing_and_its_acknowledgements_replay_to_the_same_briefing(
    conducted: bool, sequence: list[Call]
) -> None:
    live = Briefing(f"briefing-{BRIEFING}")
    check_replay(live, [CONDUCTED, *sequence] if conducted else sequence)
    # and only the briefed students have acknowledged it
    briefed = live.conducted.student_ids if live.conducted else ()
    assert set(live.acknowledged) <= set(briefed)


# --- consultations -----------------------------------------------------------------------------

CONSULTATION = UUID(int=61)


consultation_steps = calls(
    "record",
    st.builds(
        RecordConsultation,
        consultation_id=st.just(CONSULTATION),
        school_id=st.just(SCHOOL),
        kind=st.sampled_from(ConsultationKind),
        participant_ids=st.lists(st.sampled_from([*STUDENTS, TEACHER]), max_size=3).map(tuple)
        | st.just((STUDENTS[0], TEACHER)),
        summary=texts,
        held_on=days,
        recorded_by=st.sampled_from([TEACHER, DEPUTY]),
        override_reason=st.sampled_from([None, None, "Aizmirsu ievadīt", "  "]),
    ),
    Clock.NOW,
    DEFAULT_SCHEDULE,
    RIGA,
    deputy_director=st.booleans(),
)


@PROPERTY
@given(sequences(consultation_steps))
def test_a_consultation_note_replays_to_the_same_note(sequence: list[Call]) -> None:
    check_replay(Consultation(f"consultation-{CONSULTATION}"), sequence)


# --- the school's entry-deadline policy --------------------------------------------------------


def bands(*spans: tuple[int, int, int]) -> tuple[GradeBandDeadline, ...]:
    return tuple(
        GradeBandDeadline(first_grade=a, last_grade=b, deadline=time(h, 0)) for a, b, h in spans
    )


BAND_SETS = [
    bands((1, 6, 15), (7, 12, 16)),
    bands((1, 12, 16)),
    bands((1, 4, 14), (5, 12, 17)),
    bands((1, 6, 15)),  # grades 7–12 missing
    bands((1, 7, 15), (7, 12, 16)),  # grade 7 twice
    bands((6, 1, 15), (7, 12, 16)),  # a band backwards
]


deadline_policy_steps = calls(
    "set",
    st.builds(
        SetEntryDeadlinePolicy,
        school_id=st.just(SCHOOL),
        effective_from=days,
        deadlines=st.sampled_from(BAND_SETS),
        consultation_cutoff=st.sampled_from([time(20, 0), time(21, 30)]),
    ),
    Clock.TODAY,
)


@PROPERTY
@given(sequences(deadline_policy_steps))
def test_deadline_policy_versions_replay_to_the_same_schedule(sequence: list[Call]) -> None:
    live = DeadlinePolicy(f"deadline-policy-{SCHOOL}")
    check_replay(live, sequence)
    # and the seed rules stay the first version whatever the school set
    assert live.schedule.versions[0] == DEFAULT_SCHEDULE.versions[0]


# --- timetables --------------------------------------------------------------------------------

TIMETABLE = UUID(int=71)
SLOT_IDS = [UUID(int=72), UUID(int=73), UUID(int=74)]
SUBJECTS = [UUID(int=75), UUID(int=76)]
FROM_DAYS = [date(2025, 9, 1), date(2025, 10, 6), date(2026, 1, 5)]
OPENINGS = [
    OpenTimetable(
        timetable_id=TIMETABLE,
        school_id=SCHOOL,
        class_id=UUID(int=77),
        school_year="2025/2026",
        grade_level=grade,
    )
    for grade in (8, 8, 9)
]


@st.composite
def weekly_slots(draw: st.DrawFn) -> WeeklySlot:
    """Mostly the period's usual time; sometimes shifted into the next period, or backwards."""
    period = draw(st.integers(1, 3))
    starts = datetime.combine(DAY, time(8, 30)) + timedelta(minutes=50 * (period - 1))
    starts += timedelta(minutes=draw(st.sampled_from([0, 0, 0, 30])))
    length = timedelta(minutes=draw(st.sampled_from([40, 40, 80, -10])))
    return WeeklySlot(
        weekday=draw(st.integers(1, 2)),
        period=period,
        starts_at=starts.time(),
        ends_at=(starts + length).time(),
        subject_id=draw(st.sampled_from(SUBJECTS)),
        teacher_id=draw(st.sampled_from([TEACHER, SUBSTITUTE])),
        room=draw(st.sampled_from([None, "12"])),
    )


slot_ids = st.sampled_from(SLOT_IDS)
from_days = st.sampled_from(FROM_DAYS)
timetable_steps = st.one_of(
    calls("open", st.sampled_from(OPENINGS)),
    calls(
        "define_slot",
        st.builds(
            DefineTimetableSlot, slot_id=slot_ids, effective_from=from_days, slot=weekly_slots()
        ),
    ),
    calls(
        "change_slot",
        st.builds(
            ChangeTimetableSlot, slot_id=slot_ids, effective_from=from_days, slot=weekly_slots()
        ),
    ),
    calls(
        "remove_slot", st.builds(RemoveTimetableSlot, slot_id=slot_ids, effective_from=from_days)
    ),
    calls(
        "import_slots",
        st.builds(
            ImportTimetable,
            effective_from=from_days,
            slots=st.lists(weekly_slots(), max_size=4).map(tuple),
        ),
    ),
)


@PROPERTY
@given(sequences(timetable_steps, max_steps=14))
def test_a_timetable_replays_to_the_same_week_on_every_day(sequence: list[Call]) -> None:
    live = Timetable(f"timetable-{TIMETABLE}")
    check_replay(live, [Call("open", (OPENINGS[0],)), *sequence])
    # and on no day do two of its slots share a day's period
    for day in FROM_DAYS:
        week = live.slots_on(day).values()
        assert len({(s.weekday, s.period) for s in week}) == len(week)


# --- a lesson, including re-planning and cancellation ------------------------------------------

LESSON = UUID(int=81)
PLANS = [
    ScheduleLesson(
        lesson_id=LESSON,
        school_id=SCHOOL,
        timetable_id=TIMETABLE,
        slot_id=SLOT_IDS[0],
        class_id=UUID(int=77),
        subject_id=SUBJECTS[0],
        teacher_id=teacher,
        lesson_date=DAY,
        starts_at=time(10, 0),
        ends_at=time(10, 40),
        period=3,
        room=room,
        grade_level=8,
    )
    for teacher, room in ((TEACHER, None), (TEACHER, "12"), (SUBSTITUTE, None))
]
#: Half an hour before the lesson begins; its entry deadline (16:00) comes some steps later.
LESSON_START = datetime.combine(DAY, time(9, 30), tzinfo=RIGA).astimezone(UTC)
any_homework = st.builds(
    Homework,
    text=st.sampled_from(["Uzdevumi 5.–7.", " "]),
    links=st.sampled_from([(), ("https://e.lv/a",), ("e.lv",)]),
    due_date=st.sampled_from([DAY, DAY + timedelta(days=1), DAY + timedelta(days=7)]),
)
valid_homework = st.builds(
    Homework,
    text=st.just("Lasīt 3. nodaļu"),
    links=st.just(("https://e.lv/a",)),
    due_date=st.sampled_from([DAY + timedelta(days=1), DAY + timedelta(days=7)]),
)
#: (homework, no homework): mostly one of the two valid shapes, sometimes anything at all.
entries = st.one_of(
    st.just((None, True)),
    valid_homework.map(lambda h: (h, False)),
    st.tuples(st.one_of(st.none(), any_homework), st.booleans()),
)


people = st.sampled_from([TEACHER, TEACHER, TEACHER, SUBSTITUTE, STRANGER])
topics = st.sampled_from(["Daļskaitļi", "Šūna", " "])
records = st.builds(
    lambda topic, entry, person: RecordLesson(
        topic=topic, homework=entry[0], no_homework=entry[1], recorded_by=person
    ),
    topics,
    entries,
    people,
)
corrections = st.builds(
    lambda topic, entry, person, reason: CorrectLessonRecord(
        topic=topic, homework=entry[0], no_homework=entry[1], corrected_by=person, reason=reason
    ),
    topics,
    entries,
    people,
    st.sampled_from([None, "Drukas kļūda", ""]),
)
lesson_steps = st.one_of(
    calls("schedule", st.sampled_from(PLANS)),
    calls("substitute", st.builds(SubstituteTeacher, substitute_teacher_id=people)),
    calls("cancel", st.builds(CancelLesson, reason=st.sampled_from(["Ekskursija", " ", ""]))),
    *[calls("record", records, Clock.NOW, DEFAULT_SCHEDULE, RIGA)] * 3,
    *[calls("correct", corrections)] * 3,
    calls("overdue", Clock.NOW, DEFAULT_SCHEDULE, RIGA),
)


@PROPERTY
@given(sequences(lesson_steps, max_steps=14, max_minutes=90, start=LESSON_START))
def test_a_lesson_with_replanning_and_cancellation_replays_to_the_same_lesson(
    sequence: list[Call],
) -> None:
    live = Lesson(f"lesson-{LESSON}")
    history = check_replay(live, [Call("schedule", (PLANS[0],)), *sequence])
    # and a cancelled lesson was never recorded, nor a recorded one cancelled
    assert not (live.cancelled and live.recorded)
    assert sum(e.event_type == "LessonEntryOverdue" for e in history) <= 1
