"""The school roll: enrolment, moves, withdrawals and the year-end promotion."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ezurnals.identity.domain.roll import (
    ClassPromotion,
    EnrolStudent,
    KeepBack,
    MoveStudent,
    PromoteStudents,
    SchoolRoll,
    WithdrawStudent,
)
from ezurnals.identity.domain.school import SchoolClass
from ezurnals.shared.contracts.base import registry
from ezurnals.shared.contracts.identity import (
    IdentityEvent,
    Promotion,
    StudentEnrolled,
    StudentMoved,
    StudentWithdrawn,
    WithdrawalReason,
)
from ezurnals.shared.domain import Conflict, DomainError, Invalid, NotFound

SCHOOL = UUID("00000000-0000-7000-8000-000000000001")
YEAR, NEXT = "2025/2026", "2026/2027"
C7A = SchoolClass(UUID(int=71), YEAR, 7, "7.a")
C7B = SchoolClass(UUID(int=72), YEAR, 7, "7.b")
C12A = SchoolClass(UUID(int=121), YEAR, 12, "12.a")
N8A = SchoolClass(UUID(int=81), NEXT, 8, "8.a")
N7A = SchoolClass(UUID(int=701), NEXT, 7, "7.a")
CLASSES = {c.class_id: c for c in (C7A, C7B, C12A, N8A, N7A)}
ANNA, JANIS, LIGA = UUID(int=1), UUID(int=2), UUID(int=3)
SEP1 = date(2025, 9, 1)


def roll(year: str = YEAR) -> SchoolRoll:
    return SchoolRoll(SchoolRoll.stream(SCHOOL, year))


def enrolled(*pairs: tuple[UUID, SchoolClass]) -> SchoolRoll:
    r = roll()
    for student, klass in pairs:
        r.applied(
            r.enrol(
                EnrolStudent(student_id=student, class_id=klass.class_id, enrolled_on=SEP1), klass
            )
        )
    return r


def test_a_student_is_enrolled_in_a_class_of_the_year() -> None:
    events = roll().enrol(
        EnrolStudent(student_id=ANNA, class_id=C7A.class_id, enrolled_on=SEP1), C7A
    )
    assert events == [
        StudentEnrolled(
            school_id=SCHOOL,
            student_id=ANNA,
            class_id=C7A.class_id,
            school_year=YEAR,
            enrolled_on=SEP1,
        )
    ]


def test_the_roll_knows_its_school_and_year_from_its_stream() -> None:
    r = roll()
    assert (r.school_id, r.school_year) == (SCHOOL, YEAR)
    with pytest.raises(ValueError):
        SchoolRoll("roll-nonsense")


def test_a_student_cannot_be_in_two_classes() -> None:
    with pytest.raises(Conflict):
        enrolled((ANNA, C7A)).enrol(
            EnrolStudent(student_id=ANNA, class_id=C7B.class_id, enrolled_on=SEP1), C7B
        )


def test_a_class_of_another_year_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        roll().enrol(EnrolStudent(student_id=ANNA, class_id=N8A.class_id, enrolled_on=SEP1), N8A)
    assert err.value.field == "class_id"


def test_a_date_outside_the_school_year_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        roll().enrol(
            EnrolStudent(student_id=ANNA, class_id=C7A.class_id, enrolled_on=date(2026, 9, 1)), C7A
        )
    assert err.value.field == "enrolled_on"
    assert err.value.code == "outside_school_year"
    assert "2025-07-01 to 2026-08-31" in str(err.value), "the answer names the allowed range"


def test_a_move_records_both_classes_and_history() -> None:
    r = enrolled((ANNA, C7A))
    moved_on = date(2025, 11, 3)
    events = r.move(MoveStudent(student_id=ANNA, to_class_id=C7B.class_id, moved_on=moved_on), C7B)
    assert events == [
        StudentMoved(
            school_id=SCHOOL,
            student_id=ANNA,
            from_class_id=C7A.class_id,
            to_class_id=C7B.class_id,
            school_year=YEAR,
            moved_on=moved_on,
        )
    ]
    r.applied(events)
    assert r.class_of(ANNA) == C7B.class_id
    assert r.class_on(ANNA, moved_on - timedelta(days=1)) == C7A.class_id
    assert r.class_on(ANNA, moved_on) == C7B.class_id
    assert r.students_in(C7A.class_id) == []


def test_moving_into_the_same_class_is_a_conflict() -> None:
    with pytest.raises(Conflict):
        enrolled((ANNA, C7A)).move(
            MoveStudent(student_id=ANNA, to_class_id=C7A.class_id, moved_on=date(2025, 10, 1)), C7A
        )


def test_a_student_not_enrolled_cannot_be_moved_or_withdrawn() -> None:
    with pytest.raises(NotFound):
        roll().move(MoveStudent(student_id=ANNA, to_class_id=C7B.class_id, moved_on=SEP1), C7B)
    with pytest.raises(NotFound):
        roll().withdraw(WithdrawStudent(student_id=ANNA, withdrawn_on=SEP1))


def test_a_withdrawn_student_leaves_the_class_and_may_return_later() -> None:
    r = enrolled((ANNA, C7A))
    left = date(2025, 12, 1)
    events = r.withdraw(
        WithdrawStudent(student_id=ANNA, withdrawn_on=left, reason=WithdrawalReason.TRANSFERRED)
    )
    assert events == [
        StudentWithdrawn(
            school_id=SCHOOL,
            student_id=ANNA,
            class_id=C7A.class_id,
            school_year=YEAR,
            withdrawn_on=left,
            reason=WithdrawalReason.TRANSFERRED,
        )
    ]
    r.applied(events)
    assert r.class_of(ANNA) is None
    assert r.class_on(ANNA, left - timedelta(days=1)) == C7A.class_id
    with pytest.raises(Invalid):
        r.enrol(
            EnrolStudent(
                student_id=ANNA, class_id=C7B.class_id, enrolled_on=left - timedelta(days=3)
            ),
            C7B,
        )
    r.enrol(EnrolStudent(student_id=ANNA, class_id=C7B.class_id, enrolled_on=left), C7B)


def test_a_withdrawal_before_joining_is_refused() -> None:
    with pytest.raises(Invalid):
        enrolled((ANNA, C7A)).withdraw(WithdrawStudent(student_id=ANNA, withdrawn_on=SEP1))


def promote(new: SchoolRoll, old: SchoolRoll, **kwargs: object) -> list[IdentityEvent]:
    cmd = PromoteStudents.model_validate({"promoted_on": date(2026, 9, 1), **kwargs})
    return new.promote(cmd, old, CLASSES)


def test_promotion_moves_classes_up_a_grade_and_grade_12_graduates() -> None:
    old = enrolled((ANNA, C7A), (JANIS, C12A))
    new = roll(NEXT)
    events = promote(
        new,
        old,
        classes=[
            ClassPromotion(from_class_id=C7A.class_id, to_class_id=N8A.class_id),
            ClassPromotion(from_class_id=C12A.class_id, to_class_id=None),
        ],
    )
    assert events[0].promotions == (  # type: ignore[attr-defined]
        Promotion(student_id=ANNA, from_class_id=C7A.class_id, to_class_id=N8A.class_id),
        Promotion(student_id=JANIS, from_class_id=C12A.class_id, to_class_id=None),
    )
    new.applied(events)
    assert new.placements() == {ANNA: N8A.class_id}
    assert new.graduates == {JANIS}
    with pytest.raises(Conflict):
        promote(
            new, old, classes=[ClassPromotion(from_class_id=C7A.class_id, to_class_id=N8A.class_id)]
        )


def test_a_kept_back_student_repeats_the_grade() -> None:
    old = enrolled((ANNA, C7A), (LIGA, C7A))
    events = promote(
        roll(NEXT),
        old,
        classes=[ClassPromotion(from_class_id=C7A.class_id, to_class_id=N8A.class_id)],
        kept_back=[KeepBack(student_id=LIGA, to_class_id=N7A.class_id)],
    )
    targets = {p.student_id: p.to_class_id for p in events[0].promotions}  # type: ignore[attr-defined]
    assert targets == {ANNA: N8A.class_id, LIGA: N7A.class_id}


@pytest.mark.parametrize(
    "mapping",
    [
        [],
        [ClassPromotion(from_class_id=C7A.class_id, to_class_id=N7A.class_id)],
        [ClassPromotion(from_class_id=C7A.class_id, to_class_id=None)],
        [ClassPromotion(from_class_id=C7A.class_id, to_class_id=C7B.class_id)],
    ],
)
def test_every_enrolled_student_needs_a_class_one_grade_up(mapping: list[ClassPromotion]) -> None:
    with pytest.raises(DomainError):
        promote(roll(NEXT), enrolled((ANNA, C7A)), classes=mapping)


def test_promotion_skips_no_year() -> None:
    with pytest.raises(Invalid):
        promote(roll("2027/2028"), enrolled((ANNA, C7A)), classes=[])


# --- property: replaying what was decided gives the same roll ------------------------------------

STUDENTS = [UUID(int=i) for i in range(1, 5)]
YEAR_CLASSES = [C7A, C7B]


@st.composite
def roll_histories(
    draw: st.DrawFn,
) -> tuple[SchoolRoll, list[IdentityEvent], dict[UUID, UUID | None]]:
    """Drive a roll with random commands, keeping only those it accepts, beside a plain model."""
    r = roll()
    events: list[IdentityEvent] = []
    expected: dict[UUID, UUID | None] = {}
    day = SEP1
    for _ in range(draw(st.integers(0, 25))):
        day += timedelta(days=draw(st.integers(0, 10)))
        student = draw(st.sampled_from(STUDENTS))
        klass = draw(st.sampled_from(YEAR_CLASSES))
        action = draw(st.sampled_from(["enrol", "move", "withdraw"]))
        try:
            if action == "enrol":
                new = r.enrol(
                    EnrolStudent(student_id=student, class_id=klass.class_id, enrolled_on=day),
                    klass,
                )
                expected[student] = klass.class_id
            elif action == "move":
                new = r.move(
                    MoveStudent(student_id=student, to_class_id=klass.class_id, moved_on=day), klass
                )
                expected[student] = klass.class_id
            else:
                new = r.withdraw(WithdrawStudent(student_id=student, withdrawn_on=day))
                expected[student] = None
        except DomainError:
            continue
        r.applied(new)
        events.extend(new)
    return r, events, expected


@given(roll_histories())
def test_any_valid_sequence_replays_to_the_same_roll(
    history: tuple[SchoolRoll, list[IdentityEvent], dict[UUID, UUID | None]],
) -> None:
    live, events, expected = history
    stored = [
        registry.parse(e.event_type, e.schema_version, e.model_dump(mode="json")) for e in events
    ]
    replayed = SchoolRoll.rehydrate(live.stream_id, stored)
    assert replayed.state() == live.state()
    assert replayed.version == len(events)
    assert {s: c for s, c in expected.items() if c is not None} == replayed.placements()
