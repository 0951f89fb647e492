"""Properties of a student's absences: the order of facts does not matter, redelivery changes
nothing, and replaying the log rebuilds the same state."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from ezurnals.attendance.domain import ExcusePolicy, StudentAbsences, absence_id_for
from ezurnals.attendance.domain.student_absences import stream_id_for
from ezurnals.shared.contracts.attendance import (
    AbsenceRecorded,
    AbsenceThresholdReached,
    AttendanceEvent,
    ExcuseAccepted,
)

STUDENT = uuid4()
CLASS = uuid4()
TEACHER = uuid4()
FIRST_DAY = dt.date(2025, 9, 25)
POLICY = ExcusePolicy(unexcused_thresholds=(2, 4))
CODES = {"n": (True, False), "ns": (True, True)}

Fact = AbsenceRecorded | ExcuseAccepted
Logged = Fact | AttendanceEvent

days = st.integers(min_value=0, max_value=14).map(lambda n: FIRST_DAY + dt.timedelta(days=n))


@st.composite
def absences(draw: st.DrawFn) -> AbsenceRecorded:
    lesson_id = UUID(int=draw(st.integers(min_value=1, max_value=2**64)))
    code = draw(st.sampled_from(sorted(CODES)))
    counts, excused = CODES[code]
    return AbsenceRecorded(
        absence_id=absence_id_for(lesson_id, STUDENT),
        student_id=STUDENT,
        lesson_id=lesson_id,
        class_id=CLASS,
        date=draw(days),
        code=code,
        counts_as_absence=counts,
        is_late=False,
        excused_by_code=excused,
        recorded_by=TEACHER,
        revision=1,
    )


@st.composite
def excuses(draw: st.DrawFn) -> ExcuseAccepted:
    first = draw(days)
    return ExcuseAccepted(
        request_id=UUID(int=draw(st.integers(min_value=1, max_value=2**64))),
        student_id=STUDENT,
        document_type=draw(st.sampled_from(["parent_note", "doctor_certificate"])),
        accepted_by=TEACHER,
        covers_from=first,
        covers_to=first + dt.timedelta(days=draw(st.integers(min_value=0, max_value=4))),
    )


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Fact], list[Fact], list[Fact]]:
    """Facts, then two orders of delivering them, each with some facts delivered twice."""
    recorded = draw(st.lists(absences(), max_size=12, unique_by=lambda a: a.absence_id))
    accepted = draw(st.lists(excuses(), max_size=4, unique_by=lambda e: e.request_id))
    facts: list[Fact] = [*recorded, *accepted]
    orders = []
    for _ in range(2):
        order = draw(st.permutations(facts))
        again = draw(st.lists(st.sampled_from(facts), max_size=3)) if facts else []
        orders.append([*order, *again])
    return facts, orders[0], orders[1]


def deliver(facts: list[Fact]) -> tuple[StudentAbsences, list[Logged]]:
    """Deliver facts one by one, settling after each as the handler does; returns the state and
    the log of every event in the order the store would hold them."""
    student = StudentAbsences(stream_id_for(STUDENT))
    log: list[Logged] = []
    for fact in facts:
        student.apply(fact)
        decided = student.settle(lambda _day: POLICY)
        student.applied(decided)
        log += [fact, *decided]
    return student, log


def expected_excused(facts: list[Fact]) -> set[UUID]:
    recorded = [f for f in facts if isinstance(f, AbsenceRecorded) and not f.excused_by_code]
    periods = [
        (f.covers_from, f.covers_to)
        for f in facts
        if isinstance(f, ExcuseAccepted) and f.covers_from and f.covers_to
    ]
    return {a.absence_id for a in recorded if any(lo <= a.date <= hi for lo, hi in periods)}


def unexcused_per_month(student: StudentAbsences) -> Counter[str]:
    return Counter(f"{a.date:%Y-%m}" for a in student.absences if student.is_unexcused_absence(a))


@settings(max_examples=200, deadline=None)
@given(histories())
def test_any_order_of_absences_and_excuses_ends_with_the_same_excused_set(
    history: tuple[list[Fact], list[Fact], list[Fact]],
) -> None:
    facts, one_order, another_order = history

    first, _ = deliver(one_order)
    second, _ = deliver(another_order)

    assert set(first.excuses) == set(second.excuses) == expected_excused(facts)
    assert first.absences == second.absences
    assert unexcused_per_month(first) == unexcused_per_month(second)


@settings(max_examples=200, deadline=None)
@given(histories())
def test_replaying_the_log_gives_the_same_state(
    history: tuple[list[Fact], list[Fact], list[Fact]],
) -> None:
    _, order, _ = history
    live, log = deliver(order)

    replayed = StudentAbsences.rehydrate(stream_id_for(STUDENT), log)

    assert replayed.absences == live.absences
    assert replayed.accepted_excuses == live.accepted_excuses
    assert replayed.excuses == live.excuses
    assert replayed.reported == live.reported
    assert replayed.version == live.version
    assert replayed.settle(lambda _day: POLICY) == []


@settings(max_examples=200, deadline=None)
@given(histories())
def test_each_threshold_is_reported_once_a_month_and_never_missed(
    history: tuple[list[Fact], list[Fact], list[Fact]],
) -> None:
    _, order, _ = history

    student, log = deliver(order)

    reported = [(e.month, e.threshold) for e in log if isinstance(e, AbsenceThresholdReached)]
    assert len(reported) == len(set(reported))
    for month, count in unexcused_per_month(student).items():
        for threshold in POLICY.unexcused_thresholds:
            if count >= threshold:
                assert (month, threshold) in student.reported
