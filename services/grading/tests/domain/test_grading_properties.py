"""Properties: replay gives the same state, nv never moves an average, the mean rounds half up."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from random import Random
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from ezurnals.grading.domain import (
    Caller,
    CorrectGrade,
    CountedGrade,
    FinalizePeriod,
    GradeBook,
    GradeBookKey,
    Mark,
    PeriodGradeEntry,
    RecordGrades,
    Role,
    SetPeriodGrades,
    SuggestionRule,
    UnlockPeriod,
    Work,
)
from ezurnals.grading.domain.scales import PERCENT, TEN_POINT, GradeScale
from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.contracts.grading import PeriodKind, Term, WorkKind
from ezurnals.shared.domain import DomainError

KEY = GradeBookKey(UUID(int=1), UUID(int=2), UUID(int=3), "2025/2026")
STUDENTS = (UUID(int=101), UUID(int=102), UUID(int=103))
ROSTER = frozenset(STUDENTS)
TEACHER = UUID(int=4)
DEPUTY = Caller(person_id=UUID(int=5), school_id=KEY.school_id, role=Role.DEPUTY_DIRECTOR)
START = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)

ten_point_values = st.sampled_from(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "nv"])
weights = st.sampled_from([Decimal(1), Decimal(2), Decimal(3), Decimal("0.5"), Decimal("1.5")])


@dataclass(frozen=True)
class Record:
    student: int
    value: str
    term: Term
    summative: bool
    weight: Decimal


@dataclass(frozen=True)
class Correct:
    grade: int
    value: str
    reason: str


@dataclass(frozen=True)
class Finalize:
    value: str


@dataclass(frozen=True)
class Unlock:
    reason: str


Step = Record | Correct | Finalize | Unlock

steps = st.one_of(
    st.builds(
        Record,
        student=st.integers(0, len(STUDENTS) - 1),
        value=ten_point_values,
        term=st.sampled_from(Term),
        summative=st.booleans(),
        weight=weights,
    ),
    st.builds(
        Correct,
        grade=st.integers(0, 50),
        value=ten_point_values,
        reason=st.text(min_size=1, max_size=20),
    ),
    st.builds(Finalize, value=ten_point_values),
    st.builds(Unlock, reason=st.text(min_size=1, max_size=20)),
)


def _decide(book: GradeBook, step: Step, n: int, now: datetime) -> list[IntegrationEvent]:
    """Run one step against the book, applying what it decides; returns the new events."""
    if isinstance(step, Record):
        work = Work(
            title=f"Darbs {n}",
            kind=WorkKind.TEST,
            summative=step.summative,
            weight=step.weight,
            given_on=date(2025, 10, 1),
            term=step.term,
        )
        mark = Mark(
            grade_id=UUID(int=10_000 + n), student_id=STUDENTS[step.student], value=step.value
        )
        cmd = RecordGrades(work=work, marks=(mark,))
        return _apply(book, book.record(cmd, roster=ROSTER, scale=TEN_POINT, by=TEACHER, now=now))
    if isinstance(step, Correct):
        grade_ids = list(book.grades)
        if not grade_ids:
            return []
        fix = CorrectGrade(
            grade_id=grade_ids[step.grade % len(grade_ids)], value=step.value, reason=step.reason
        )
        return _apply(book, book.correct(fix, scale=TEN_POINT, by=TEACHER, now=now))
    if isinstance(step, Finalize):
        entries = tuple(PeriodGradeEntry(student_id=s, value=step.value) for s in STUDENTS)
        grades = SetPeriodGrades(period=PeriodKind.SEMESTER1, entries=entries)
        set_events = _apply(
            book,
            book.set_period_grades(grades, roster=ROSTER, scale=TEN_POINT, by=TEACHER, now=now),
        )
        finalize = FinalizePeriod(period=PeriodKind.SEMESTER1)
        return [
            *set_events,
            *_apply(
                book, book.finalize(finalize, roster=ROSTER, scale=TEN_POINT, by=TEACHER, now=now)
            ),
        ]
    unlock = UnlockPeriod(period=PeriodKind.SEMESTER1, reason=step.reason)
    return _apply(book, book.unlock(unlock, caller=DEPUTY, now=now))


def _apply(book: GradeBook, events: list[IntegrationEvent]) -> list[IntegrationEvent]:
    book.applied(events)
    return events


def _state(book: GradeBook) -> tuple[object, ...]:
    return (book.version, book.grades, book.periods)


@given(st.lists(steps, max_size=40))
def test_any_valid_sequence_of_grades_and_corrections_replays_to_the_same_state(
    sequence: list[Step],
) -> None:
    # given a grade book that lived through a sequence of commands (refused ones change nothing)
    live = GradeBook.for_key(KEY)
    history: list[IntegrationEvent] = []
    for n, step in enumerate(sequence):
        before = _state(live)
        try:
            history.extend(_decide(live, step, n, START + timedelta(minutes=n)))
        except DomainError:
            assert _state(live) == before
    # when its events are replayed, directly and through JSON envelopes
    replayed = GradeBook.rehydrate(KEY.stream_id, history)
    from_json = GradeBook.rehydrate(
        KEY.stream_id,
        [
            EventEnvelope.model_validate_json(
                EventEnvelope(
                    event_type=e.event_type,
                    schema_version=e.schema_version,
                    stream_id=KEY.stream_id,
                    stream_version=i + 1,
                    payload=e.model_dump(mode="json"),
                ).model_dump_json()
            ).parse()
            for i, e in enumerate(history)
        ],
    )
    # then both are in the same state as the live book
    assert _state(replayed) == _state(live)
    assert _state(from_json) == _state(live)
    # and every grade's value is the end of its own history
    for grade in live.grades.values():
        assert all(
            a.new_value == b.old_value
            for a, b in zip(grade.history, grade.history[1:], strict=False)
        )
        if grade.history:
            assert grade.history[-1].new_value == grade.value


numeric_grades = st.lists(
    st.tuples(st.integers(1, 10), st.booleans(), weights), min_size=0, max_size=15
)


@given(
    numeric_grades,
    st.lists(st.tuples(st.booleans(), weights), min_size=1, max_size=10),
    st.sampled_from([TEN_POINT, PERCENT]),
)
def test_adding_nv_grades_never_changes_the_suggested_grade(
    numeric: list[tuple[int, bool, Decimal]],
    nvs: list[tuple[bool, Decimal]],
    scale: GradeScale,
) -> None:
    # given a student's numeric grades
    book = GradeBook.for_key(KEY)
    anna = STUDENTS[0]

    def record(value: str, summative: bool, weight: Decimal, n: int) -> None:
        work = Work(
            title="Darbs",
            kind=WorkKind.ORAL,
            summative=summative,
            weight=weight,
            given_on=date(2025, 10, 1),
            term=Term.SEMESTER1,
        )
        cmd = RecordGrades(
            work=work, marks=(Mark(grade_id=UUID(int=n + 1), student_id=anna, value=value),)
        )
        book.applied(book.record(cmd, roster=ROSTER, scale=scale, by=TEACHER, now=START))

    for n, (points, summative, weight) in enumerate(numeric):
        record(str(points) if scale is TEN_POINT else f"{points * 10}%", summative, weight, n)
    before = book.suggest(PeriodKind.SEMESTER1, anna, scale)
    # when nv grades are added, summative or not, of any weight
    for n, (summative, weight) in enumerate(nvs):
        record("nv", summative, weight, 1000 + n)
    # then the suggestion is what it was
    assert book.suggest(PeriodKind.SEMESTER1, anna, scale) == before


@given(st.lists(st.integers(1, 10), min_size=1, max_size=30))
def test_the_mean_rounds_half_up(points: list[int]) -> None:
    expected = math.floor(Fraction(sum(points), len(points)) + Fraction(1, 2))
    suggested = SuggestionRule().suggest(CountedGrade(p, summative=True) for p in points)
    assert suggested == expected


@given(st.lists(st.tuples(st.integers(1, 10), weights), min_size=1, max_size=30))
def test_the_weighted_mean_rounds_half_up(graded: list[tuple[int, Decimal]]) -> None:
    total = sum(Fraction(p) * Fraction(w) for p, w in graded)
    expected = math.floor(total / sum(Fraction(w) for _, w in graded) + Fraction(1, 2))
    suggested = SuggestionRule().suggest(
        CountedGrade(p, summative=True, weight=w) for p, w in graded
    )
    assert suggested == expected


@given(st.integers(1, 9), st.integers(1, 10), st.randoms())
def test_a_mean_exactly_halfway_always_rounds_up(low: int, pairs: int, rnd: Random) -> None:
    # given as many grades of k as of k + 1, in any order: the mean is k + ½
    points = [low] * pairs + [low + 1] * pairs
    rnd.shuffle(points)
    # then the suggestion is k + 1, for even and odd k alike
    assert SuggestionRule().suggest(CountedGrade(p, summative=True) for p in points) == low + 1


def test_a_half_rounds_up_where_pythons_round_would_go_to_even() -> None:
    # 6 and 7: 6.5 → 7 (round() says 6); 8 and 9: 8.5 → 9 (round() says 8)
    rule = SuggestionRule()
    assert rule.suggest([CountedGrade(6, True), CountedGrade(7, True)]) == 7
    assert rule.suggest([CountedGrade(8, True), CountedGrade(9, True)]) == 9


def test_with_nothing_counted_there_is_no_suggestion() -> None:
    rule = SuggestionRule()
    assert rule.suggest([]) is None
    assert rule.suggest([CountedGrade(None, True), CountedGrade(8, False)]) is None
