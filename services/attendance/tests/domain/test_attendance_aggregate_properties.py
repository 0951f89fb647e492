"""Property, for every aggregate of the attendance service: whatever sequence of commands it is
given, the events it decides rebuild exactly its state and version when replayed (directly and
after a trip through JSON), and a command it refuses leaves it exactly as it was.

The state compared is the aggregate's whole ``vars()``, so a field folded differently on replay,
or touched by a refused (or not yet applied) decision, fails the property. A student's absences
also fold facts from lesson and request streams; those are delivered between the decisions, as
the worker does, and replayed in the same order.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ezurnals.attendance.domain import (
    DEFAULT_CODES,
    AcceptExcuse,
    AttendanceSettings,
    CorrectMark,
    DefineAbsenceCodes,
    ExcuseAbsences,
    ExcusePolicy,
    ExcuseRequest,
    LessonAttendance,
    LessonContext,
    MarkEntry,
    RejectExcuse,
    Relationships,
    ScheduleDailyReport,
    SetExcusePolicy,
    StudentAbsences,
    SubmitExcuse,
    TakeAttendance,
    absence_id_for,
    excuses,
    lesson_attendance,
    student_absences,
)
from ezurnals.attendance.domain.policy import AbsenceCodeTable
from ezurnals.shared.contracts.attendance import (
    AbsenceCodeEntry,
    AbsenceCorrected,
    AbsenceExcused,
    AbsenceRecorded,
    AbsenceThresholdReached,
    ExcuseAccepted,
)
from ezurnals.shared.contracts.base import IntegrationEvent
from ezurnals.shared.domain import Aggregate
from ezurnals.shared.testing import replay
from ezurnals.shared.testing.replay import Call, Clock, calls, check_replay

PROPERTY = settings(max_examples=120, deadline=None)
ZONE = ZoneInfo("Europe/Riga")
SCHOOL = UUID(int=1)
ANNA, BERZS, CIRULIS, OUTSIDER = UUID(int=21), UUID(int=22), UUID(int=23), UUID(int=29)
ROSTER = frozenset({ANNA, BERZS, CIRULIS})
CLASS_ID = UUID(int=31)
DAY = date(2025, 10, 6)  # a Monday
START = datetime.combine(DAY, time(8, 0), tzinfo=ZONE).astimezone(UTC)

TEACHER = Relationships(person_id=UUID(int=11), taught_lessons=frozenset({UUID(int=41)}))
CLASS_TEACHER = Relationships(
    person_id=UUID(int=12), homeroom_classes=frozenset({CLASS_ID}), homeroom_students=ROSTER
)
GUARDIAN = Relationships(person_id=UUID(int=13), children=frozenset({ANNA}))
RESTRICTED = Relationships(
    person_id=UUID(int=14), children=frozenset({ANNA}), restricted_children=frozenset({ANNA})
)
ADMINISTRATION = Relationships(person_id=UUID(int=15), administration=True)
STRANGER = Relationships(person_id=UUID(int=16))
ANNA_OF_AGE = Relationships(person_id=ANNA, birth_date=date(2007, 10, 8))  # 18 on 8 October

sequences = functools.partial(replay.sequences, start=START)


#: Mostly usable text, sometimes blank or too long for a reason.
texts = st.sampled_from(["Slimība", "  Ģimenes apstākļi  ", "Ārsta apmeklējums", "", "   "])
#: Days the clock passes through (it runs a few days from DAY).
days = st.integers(-2, 6).map(lambda n: DAY + timedelta(days=n))

# --- excuse requests ---------------------------------------------------------------------------

REQUEST = UUID(int=51)
LESSON, SECOND_LESSON, UNKNOWN_LESSON = UUID(int=41), UUID(int=42), UUID(int=49)
LESSON_DATES = {LESSON: DAY, SECOND_LESSON: DAY + timedelta(days=1)}
POLICY = ExcusePolicy(parent_note_max_days=3, unexcused_thresholds=(2, 4))
#: (from, to, lessons): mostly a period or some lessons, sometimes neither, both or nonsense.
coverages = st.sampled_from(
    [
        (DAY, DAY, ()),
        (DAY, DAY + timedelta(days=2), ()),
        (DAY, DAY + timedelta(days=5), ()),
        (None, None, (LESSON,)),
        (None, None, (LESSON, SECOND_LESSON)),
        (DAY + timedelta(days=1), DAY, ()),
        (DAY, None, ()),
        (None, None, ()),
        (DAY, DAY, (LESSON,)),
        (None, None, (UNKNOWN_LESSON,)),
    ]
)
submissions = st.builds(
    lambda coverage, student, document, reason: SubmitExcuse(
        request_id=REQUEST,
        student_id=student,
        covers_from=coverage[0],
        covers_to=coverage[1],
        lesson_ids=coverage[2],
        reason=reason,
        document_type=document,
    ),
    coverages,
    st.sampled_from([ANNA, ANNA, BERZS]),
    st.sampled_from(["parent_note", "doctor_certificate", "other"]),
    texts,
)
deciders = st.sampled_from([CLASS_TEACHER, CLASS_TEACHER, TEACHER, GUARDIAN])
excuse_request_steps = st.one_of(
    calls(
        "submit",
        submissions,
        by=st.sampled_from([GUARDIAN, GUARDIAN, RESTRICTED, ANNA_OF_AGE, STRANGER]),
        policy=POLICY,
        today=Clock.TODAY,
        lesson_dates=LESSON_DATES,
    ),
    calls("accept", AcceptExcuse(request_id=REQUEST), by=deciders),
    calls(
        "reject", st.builds(RejectExcuse, request_id=st.just(REQUEST), reason=texts), by=deciders
    ),
)


SUBMITTED = Call(
    "submit",
    (
        SubmitExcuse(
            request_id=REQUEST,
            student_id=ANNA,
            covers_from=DAY,
            covers_to=DAY,
            reason="Slimība",
            document_type="parent_note",
        ),
    ),
    {"by": GUARDIAN, "policy": POLICY, "today": DAY},
)


@PROPERTY
@given(submitted=st.booleans(), sequence=sequences(excuse_request_steps))
def test_an_excuse_request_replays_to_the_same_request(
    submitted: bool, sequence: list[Call]
) -> None:
    live = ExcuseRequest(excuses.stream_id_for(REQUEST))
    history = check_replay(live, [SUBMITTED, *sequence] if submitted else sequence)
    # and it is decided at most once, after it was submitted
    kinds = [e.event_type for e in history]
    assert kinds in (
        [],
        ["ExcuseSubmitted"],
        ["ExcuseSubmitted", "ExcuseAccepted"],
        ["ExcuseSubmitted", "ExcuseRejected"],
    )


# --- a lesson's attendance ---------------------------------------------------------------------

LESSON_CONTEXT = LessonContext(
    lesson_id=LESSON,
    class_id=CLASS_ID,
    date=DAY,
    starts_at=datetime.combine(DAY, time(8, 30), tzinfo=ZONE).astimezone(UTC),
    entry_deadline=datetime.combine(DAY, time(16, 0), tzinfo=ZONE).astimezone(UTC),
    roster=ROSTER,
)
#: A school's own table: no illness code, a late code of its own.
OWN_CODES = AbsenceCodeTable(
    codes=(
        AbsenceCodeEntry(code="n", meaning="nav ieradies", counts_as_absence=True),
        AbsenceCodeEntry(code="nc", meaning="cits iemesls", counts_as_absence=True, excused=True),
        AbsenceCodeEntry(code="k", meaning="kavējums", counts_as_absence=False, is_late=True),
    ),
    default_absent_code="n",
    default_late_code="k",
)
code_tables = st.sampled_from([DEFAULT_CODES, DEFAULT_CODES, OWN_CODES])
students = st.sampled_from([ANNA, BERZS, CIRULIS, OUTSIDER])
codes = st.sampled_from([None, None, "n", "ns", "nk", "k", "zz"])
minutes_late = st.sampled_from([None, None, 5, 0])
lesson_ids = st.sampled_from([LESSON] * 5 + [SECOND_LESSON])
takers = st.sampled_from([TEACHER] * 4 + [STRANGER])
lesson_attendance_steps = st.one_of(
    calls(
        "take",
        st.builds(
            TakeAttendance,
            lesson_id=lesson_ids,
            all_present=st.booleans(),
            marks=st.lists(
                st.builds(MarkEntry, student_id=students, code=codes, minutes_late=minutes_late),
                max_size=3,
            ).map(tuple),
        ),
        lesson=LESSON_CONTEXT,
        codes=code_tables,
        by=takers,
        now=Clock.NOW,
    ),
    *[
        calls(
            "correct",
            st.builds(
                CorrectMark,
                lesson_id=lesson_ids,
                student_id=students,
                present=st.booleans(),
                code=codes,
                minutes_late=minutes_late,
                reason=st.sampled_from([None, "Kļūda"]),
            ),
            lesson=LESSON_CONTEXT,
            codes=code_tables,
            by=takers,
        )
    ]
    * 2,
)


TAKEN = Call(
    "take",
    (TakeAttendance(lesson_id=LESSON, marks=(MarkEntry(student_id=ANNA),)),),
    {
        "lesson": LESSON_CONTEXT,
        "codes": DEFAULT_CODES,
        "by": TEACHER,
        "now": LESSON_CONTEXT.starts_at,
    },
)


@PROPERTY
@given(taken=st.booleans(), sequence=sequences(lesson_attendance_steps, max_minutes=4 * 60))
def test_a_lessons_attendance_and_corrections_replay_to_the_same_marks(
    taken: bool, sequence: list[Call]
) -> None:
    live = LessonAttendance(lesson_attendance.stream_id_for(LESSON))
    check_replay(live, [TAKEN, *sequence] if taken else sequence)
    # and every correction is one revision further, of the lesson's own students only
    assert live.revision == (1 + len(live.corrections) if live.taken else 0)
    assert set(live.marks) <= ROSTER


# --- the school's attendance settings ----------------------------------------------------------


def table(default_absent: str, default_late: str, *rows: tuple[str, bool, bool]) -> dict[str, Any]:
    return {
        "codes": tuple(
            AbsenceCodeEntry(code=c, meaning=c.upper(), counts_as_absence=absent, is_late=late)
            for c, absent, late in rows
        ),
        "default_absent_code": default_absent,
        "default_late_code": default_late,
    }


TABLES = [
    table("n", "nk", ("n", True, False), ("ns", True, False), ("nk", False, True)),
    table("a", "l", ("a", True, False), ("l", False, True)),
    table("n", "nk", ("n", True, False), ("n", True, False), ("nk", False, True)),  # n twice
    table("n", "nk", ("n", True, False), ("nk", True, True)),  # a late absence
    table("nk", "nk", ("n", True, False), ("nk", False, True)),  # absent by a late code
    table("n", "x", ("n", True, False), ("nk", False, True)),  # no such late code
]
administrators = st.sampled_from([ADMINISTRATION, ADMINISTRATION, TEACHER])
settings_steps = st.one_of(
    calls(
        "define_codes",
        st.sampled_from(TABLES).map(lambda t: DefineAbsenceCodes(school_id=SCHOOL, **t)),
        by=administrators,
    ),
    calls(
        "set_excuse_policy",
        st.builds(
            SetExcusePolicy,
            school_id=st.just(SCHOOL),
            parent_note_max_days=st.sampled_from([0, 1, 3, 5]),
            unexcused_thresholds=st.sampled_from([(10, 20), (5,), (), (20, 10), (0, 5), (3, 3)]),
            effective_from=days,
        ),
        by=administrators,
        today=st.just(DAY),
    ),
    calls(
        "schedule_daily_report",
        st.builds(
            ScheduleDailyReport,
            school_id=st.just(SCHOOL),
            at=st.sampled_from([time(9, 30), time(10, 15, 42), time(8, 0, tzinfo=UTC)]),
            effective_from=days,
        ),
        by=administrators,
        today=st.just(DAY),
    ),
)


@PROPERTY
@given(sequences(settings_steps))
def test_a_schools_attendance_settings_replay_to_the_same_settings(sequence: list[Call]) -> None:
    live = AttendanceSettings(f"attendance-settings-{SCHOOL}")
    check_replay(live, sequence)
    # and whatever was defined, a bare "absent" or "late" mark still means one
    assert live.codes.default_absent.counts_as_absence
    assert live.codes.default_late.is_late


# --- a student's absences ----------------------------------------------------------------------


@dataclass(frozen=True)
class Fact(Call):
    """A fact from another stream (a lesson's mark, an accepted request), delivered as it is."""

    event: IntegrationEvent | None = None

    def __call__(self, aggregate: Aggregate[Any]) -> list[IntegrationEvent]:
        assert self.event is not None
        return [self.event]

    def at(self, now: datetime) -> Call:
        return self


#: Four lessons of hers, the last in the next month, and one of another student.
MARKED = [(LESSON, ANNA, DAY), (SECOND_LESSON, ANNA, DAY + timedelta(days=1))]
MARKED += [(UUID(int=43), ANNA, DAY + timedelta(days=1)), (UUID(int=44), ANNA, date(2025, 11, 3))]
MARKED += [(LESSON, BERZS, DAY)]
ABSENCE_CODES = {"n": (True, False, False), "ns": (True, False, True), "nk": (False, True, False)}


def mark(lesson: tuple[UUID, UUID, dt.date], code: str | None, revision: int) -> IntegrationEvent:
    lesson_id, student_id, day = lesson
    absent, late, excused = ABSENCE_CODES.get(code or "", (False, False, False))
    facts: dict[str, Any] = {
        "absence_id": absence_id_for(lesson_id, student_id),
        "student_id": student_id,
        "lesson_id": lesson_id,
        "class_id": CLASS_ID,
        "date": day,
        "counts_as_absence": absent,
        "is_late": late,
        "excused_by_code": excused,
        "minutes_late": 5 if late else None,
        "revision": revision,
    }
    if revision == 1:
        assert code is not None
        return AbsenceRecorded(**facts, code=code, recorded_by=TEACHER.person_id)
    return AbsenceCorrected(
        **facts, old_code="n", new_code=code, corrected_by=TEACHER.person_id, reason=None
    )


def accepted(request: int, coverage: tuple[Any, ...]) -> IntegrationEvent:
    return ExcuseAccepted(
        request_id=UUID(int=request),
        student_id=ANNA,
        document_type="doctor_certificate",
        accepted_by=CLASS_TEACHER.person_id,
        covers_from=coverage[0],
        covers_to=coverage[1],
        lesson_ids=coverage[2],
    )


def policy_on(day: dt.date) -> ExcusePolicy:
    """November is judged more strictly than October (a month by the policy of its first day)."""
    return ExcusePolicy(unexcused_thresholds=(1, 3) if day.month == 11 else (2, 3))


recorded = st.builds(
    mark, st.sampled_from(MARKED), st.sampled_from(["n", "n", "ns", "nk"]), st.just(1)
)
facts = st.one_of(
    recorded,
    recorded,
    st.builds(mark, st.sampled_from(MARKED), st.sampled_from([None, "n", "ns"]), st.integers(2, 3)),
    st.builds(
        accepted,
        st.integers(60, 62),
        st.sampled_from(
            [(DAY, DAY, ()), (None, None, (SECOND_LESSON,)), (DAY, DAY + timedelta(7), ())]
        ),
    ),
).map(lambda event: Fact("deliver", event=event))
absence_ids = st.sampled_from([absence_id_for(lesson, student) for lesson, student, _ in MARKED])
student_absences_steps = st.one_of(
    facts,
    facts,
    calls("settle", policy_on),
    calls("settle", policy_on),
    calls(
        "excuse_directly",
        st.builds(
            ExcuseAbsences,
            excuse_id=st.just(UUID(int=70)),
            student_id=st.sampled_from([ANNA] * 4 + [BERZS]),
            absence_ids=st.lists(absence_ids, min_size=1, max_size=2).map(tuple),
            document_type=st.sampled_from(["parent_note", "other"]),
            reference=st.sampled_from(["Izziņa Nr. 7", "  Vēstule  ", " "]),
        ),
        by=st.sampled_from([CLASS_TEACHER] * 4 + [TEACHER]),
    ),
)


def own(event: IntegrationEvent) -> bool:
    """Her stream's own decisions, the only events that advance its version."""
    return isinstance(event, AbsenceExcused | AbsenceThresholdReached) and event.student_id == ANNA


@PROPERTY
@given(sequences(student_absences_steps, max_steps=16))
def test_a_students_absences_replay_to_the_same_state_from_facts_and_decisions(
    sequence: list[Call],
) -> None:
    live = StudentAbsences(student_absences.stream_id_for(ANNA))
    history = check_replay(live, sequence, counts=own)
    # and no absence is excused twice, nor a month's threshold reported twice
    excused = [e.absence_id for e in history if isinstance(e, AbsenceExcused)]
    assert len(excused) == len(set(excused))
    reported = [(e.month, e.threshold) for e in history if isinstance(e, AbsenceThresholdReached)]
    assert len(reported) == len(set(reported))
