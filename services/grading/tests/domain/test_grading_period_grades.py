"""Period grades (rule 6): suggested by the school's rule, confirmed or overridden, finalised,
locked, and unlocked only by a deputy director with a reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from uuid import UUID

import pytest

from ezurnals.grading.domain import (
    PERIOD_LOCKED,
    Caller,
    FinalizePeriod,
    GradeBook,
    GradeScale,
    PeriodGradeEntry,
    Role,
    SetPeriodGrades,
    SuggestionRule,
    UnlockPeriod,
)
from ezurnals.grading.domain.scales import (
    LEARNING_LEVELS,
    PASS_FAIL,
    PERCENT,
    TEN_POINT,
    GradeValue,
)
from ezurnals.shared.contracts.base import IntegrationEvent
from ezurnals.shared.contracts.grading import (
    GradeFinalized,
    GradeRecorded,
    PeriodFinalized,
    PeriodGradeSet,
    PeriodKind,
    PeriodUnlocked,
    ScaleKind,
    Term,
    YearGradeType,
)
from ezurnals.shared.domain import Conflict, Forbidden, Invalid

Students = tuple[UUID, UUID, UUID]
Record = Callable[..., list[GradeRecorded]]
Finalized = Callable[[GradeBook, PeriodKind, str], GradeBook]


def _set(
    book: GradeBook,
    roster: frozenset[UUID],
    period: PeriodKind,
    entries: dict[UUID, str | None],
    teacher: UUID,
    now: datetime,
    scale: GradeScale = TEN_POINT,
) -> list[PeriodGradeSet]:
    cmd = SetPeriodGrades(
        period=period,
        entries=tuple(PeriodGradeEntry(student_id=s, value=v) for s, v in entries.items()),
    )
    events = book.set_period_grades(
        cmd,
        roster=roster,
        scale=scale,
        by=teacher,
        now=now,
    )
    book.applied(events)
    return [e for e in events if isinstance(e, PeriodGradeSet)]


def _finalize(
    book: GradeBook, period: PeriodKind, roster: frozenset[UUID], teacher: UUID, now: datetime
) -> list[IntegrationEvent]:
    """When the teacher finalises the period."""
    return book.finalize(
        FinalizePeriod(period=period), roster=roster, scale=TEN_POINT, by=teacher, now=now
    )


def test_the_suggestion_is_the_half_up_mean_of_summative_grades(
    book: GradeBook, students: Students, record: Record
) -> None:
    # given Anna's summative 6 and 7 (mean 6.5), a formative 2 and an nv
    anna = students[0]
    record(book, {anna: "6"})
    record(book, {anna: "7"})
    record(book, {anna: "2"}, summative=False)
    record(book, {anna: "nv"})
    # when the semester grade is suggested
    suggestion = book.suggest(PeriodKind.SEMESTER1, anna, TEN_POINT)
    # then 6.5 rounds half up to 7, the formative work and nv not counted
    assert suggestion == GradeValue("7", 7)


def test_a_school_may_count_formative_work_too(
    book: GradeBook, students: Students, record: Record
) -> None:
    anna = students[0]
    record(book, {anna: "6"})
    record(book, {anna: "2"}, summative=False)
    rule = SuggestionRule(summative_only=False)
    assert book.suggest(PeriodKind.SEMESTER1, anna, TEN_POINT, rule) == GradeValue("4", 4)


def test_weights_count_in_the_suggestion_unless_the_school_ignores_them(
    book: GradeBook, students: Students, record: Record
) -> None:
    # given a 9 with weight 2 and two 6s with weight 1
    anna = students[0]
    record(book, {anna: "9"}, weight=Decimal(2))
    record(book, {anna: "6"})
    record(book, {anna: "6"})
    # then weighted (18 + 6 + 6) / 4 = 7.5 → 8, unweighted 21 / 3 = 7
    assert book.suggest(PeriodKind.SEMESTER1, anna, TEN_POINT) == GradeValue("8", 8)
    unweighted = SuggestionRule(weighted=False)
    assert book.suggest(PeriodKind.SEMESTER1, anna, TEN_POINT, unweighted) == GradeValue("7", 7)


def test_a_semester_is_suggested_from_its_own_grades_and_the_year_from_all(
    book: GradeBook, students: Students, record: Record
) -> None:
    anna = students[0]
    record(book, {anna: "4"}, term=Term.SEMESTER1)
    record(book, {anna: "8"}, term=Term.SEMESTER2)
    assert book.suggest(PeriodKind.SEMESTER1, anna, TEN_POINT) == GradeValue("4", 4)
    assert book.suggest(PeriodKind.SEMESTER2, anna, TEN_POINT) == GradeValue("8", 8)
    assert book.suggest(PeriodKind.ANNUAL, anna, TEN_POINT) == GradeValue("6", 6)
    assert book.suggest(PeriodKind.EXAM, anna, TEN_POINT) is None


def test_percent_grades_suggest_a_ten_point_period_grade(
    book: GradeBook, students: Students, record: Record
) -> None:
    anna = students[0]
    record(book, {anna: "85%"}, scale=PERCENT)
    record(book, {anna: "60%"}, scale=PERCENT)
    assert book.suggest(PeriodKind.SEMESTER1, anna, PERCENT) == GradeValue("7", 7)


def test_on_a_levels_scale_the_suggested_points_become_a_level(
    book: GradeBook, students: Students, record: Record
) -> None:
    anna = students[0]
    record(book, {anna: "9"})
    record(book, {anna: "10"})
    assert book.suggest(PeriodKind.SEMESTER1, anna, LEARNING_LEVELS) == GradeValue("P")


def test_confirming_the_suggestion_sets_it_not_overridden(
    book: GradeBook,
    students: Students,
    roster: frozenset[UUID],
    record: Record,
    teacher: UUID,
    now: datetime,
) -> None:
    anna = students[0]
    record(book, {anna: "6"})
    record(book, {anna: "7"})
    # when the teacher confirms without a value
    [event] = _set(book, roster, PeriodKind.SEMESTER1, {anna: None}, teacher, now)
    # then the suggested 7 is set
    assert (event.value, event.points, event.suggested_value, event.overridden) == (
        "7",
        7,
        "7",
        False,
    )
    assert (event.student_id, event.period, event.scale) == (
        anna,
        PeriodKind.SEMESTER1,
        ScaleKind.TEN_POINT,
    )
    assert (event.set_by, event.set_at) == (teacher, now)
    assert book.periods[PeriodKind.SEMESTER1].grades[anna].value == "7"


@pytest.mark.parametrize(("typed", "overridden"), [("8", True), ("6", False), ("nv", True)])
def test_a_value_other_than_the_suggestion_is_recorded_as_overridden(
    typed: str,
    overridden: bool,
    book: GradeBook,
    students: Students,
    roster: frozenset[UUID],
    record: Record,
    teacher: UUID,
    now: datetime,
) -> None:
    # given a suggested 6; when the teacher types a value
    anna = students[0]
    record(book, {anna: "6"})
    [event] = _set(book, roster, PeriodKind.SEMESTER1, {anna: typed}, teacher, now)
    # then it is an override unless it is the suggestion
    assert (event.value, event.suggested_value, event.overridden) == (typed, "6", overridden)


def test_without_grades_to_suggest_from_the_teacher_must_give_a_value(
    book: GradeBook,
    students: Students,
    roster: frozenset[UUID],
    teacher: UUID,
    now: datetime,
) -> None:
    anna = students[0]
    with pytest.raises(Invalid) as err:
        _set(book, roster, PeriodKind.EXAM, {anna: None}, teacher, now)
    assert err.value.field == "value"
    assert err.value.details == {"student_id": str(anna)}
    # and given a value, it is set with no suggestion and no override
    [event] = _set(book, roster, PeriodKind.EXAM, {anna: "9"}, teacher, now)
    assert (event.value, event.suggested_value, event.overridden) == ("9", None, False)


def test_nv_may_be_a_period_grade(
    book: GradeBook, students: Students, roster: frozenset[UUID], teacher: UUID, now: datetime
) -> None:
    [event] = _set(book, roster, PeriodKind.EXAM, {students[0]: "NV"}, teacher, now)
    assert (event.value, event.points) == ("nv", None)


def test_an_off_scale_period_grade_lists_the_allowed_values(
    book: GradeBook, students: Students, roster: frozenset[UUID], teacher: UUID, now: datetime
) -> None:
    with pytest.raises(Invalid) as err:
        _set(book, roster, PeriodKind.ANNUAL, {students[0]: "85%"}, teacher, now, scale=PERCENT)
    assert err.value.field == "value"
    assert err.value.details["allowed"] == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "nv"]


def test_a_period_grade_for_a_student_not_enrolled_is_refused(
    book: GradeBook, roster: frozenset[UUID], teacher: UUID, now: datetime
) -> None:
    stranger = UUID(int=999)
    with pytest.raises(Invalid) as err:
        _set(book, roster, PeriodKind.ANNUAL, {stranger: "7"}, teacher, now)
    assert err.value.details == {"students": [str(stranger)]}


def test_finalising_publishes_each_students_grade_and_locks(
    book: GradeBook,
    students: Students,
    roster: frozenset[UUID],
    teacher: UUID,
    now: datetime,
) -> None:
    # given annual grades for the whole class
    values = dict(zip(students, ["8", "nv", "4"], strict=True))
    _set(book, roster, PeriodKind.ANNUAL, dict(values), teacher, now)
    # when the period is finalised
    events = _finalize(book, PeriodKind.ANNUAL, roster, teacher, now)
    # then GradeFinalized per student says gada, then PeriodFinalized
    finals = [e for e in events if isinstance(e, GradeFinalized)]
    assert {(e.student_id, e.value) for e in finals} == set(values.items())
    assert all(
        e.year_grade_type is YearGradeType.GADA and e.period is PeriodKind.ANNUAL for e in finals
    )
    assert all(e.finalized_at == now for e in finals)
    last = events[-1]
    assert isinstance(last, PeriodFinalized)
    assert (last.period, frozenset(last.student_ids), last.finalized_by) == (
        PeriodKind.ANNUAL,
        roster,
        teacher,
    )
    assert len(events) == len(students) + 1
    # and the period is locked
    assert book.applied(events).periods[PeriodKind.ANNUAL].locked


@pytest.mark.parametrize(
    ("period", "kind"),
    [
        (PeriodKind.FINAL, YearGradeType.GALA),
        (PeriodKind.SEMESTER1, None),
        (PeriodKind.EXAM, None),
        (PeriodKind.REEXAM, None),
    ],
)
def test_only_annual_and_final_grades_say_gada_or_gala(
    period: PeriodKind,
    kind: YearGradeType | None,
    book: GradeBook,
    students: Students,
    roster: frozenset[UUID],
    teacher: UUID,
    now: datetime,
) -> None:
    if period is PeriodKind.REEXAM:
        _set(book, roster, PeriodKind.ANNUAL, dict.fromkeys(students, "3"), teacher, now)
    _set(book, roster, period, dict.fromkeys(students, "7"), teacher, now)
    events = _finalize(book, period, roster, teacher, now)
    assert {e.year_grade_type for e in events if isinstance(e, GradeFinalized)} == {kind}


def test_finalising_with_students_still_without_a_grade_lists_them(
    book: GradeBook,
    students: Students,
    roster: frozenset[UUID],
    teacher: UUID,
    now: datetime,
) -> None:
    _set(book, roster, PeriodKind.SEMESTER1, {students[0]: "7"}, teacher, now)
    with pytest.raises(Invalid) as err:
        _finalize(book, PeriodKind.SEMESTER1, roster, teacher, now)
    assert err.value.details == {"students": sorted([str(students[1]), str(students[2])])}
    assert err.value.status == 422


@pytest.mark.parametrize("change", ["set", "finalize"])
def test_after_the_lock_any_change_to_the_period_is_a_period_locked_conflict(
    change: str,
    book: GradeBook,
    students: Students,
    roster: frozenset[UUID],
    finalized: Finalized,
    teacher: UUID,
    now: datetime,
) -> None:
    finalized(book, PeriodKind.SEMESTER1, "7")
    with pytest.raises(Conflict) as err:
        if change == "set":
            _set(book, roster, PeriodKind.SEMESTER1, {students[0]: "8"}, teacher, now)
        else:
            _finalize(book, PeriodKind.SEMESTER1, roster, teacher, now)
    assert err.value.code == PERIOD_LOCKED


def test_a_deputy_director_unlocks_with_a_reason(
    book: GradeBook, finalized: Finalized, deputy: Caller, now: datetime
) -> None:
    finalized(book, PeriodKind.ANNUAL, "7")
    events = book.unlock(
        UnlockPeriod(period=PeriodKind.ANNUAL, reason=" Pēcpārbaudījums "), caller=deputy, now=now
    )
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, PeriodUnlocked)
    assert (event.period, event.reason, event.unlocked_by, event.unlocked_at) == (
        PeriodKind.ANNUAL,
        "Pēcpārbaudījums",
        deputy.person_id,
        now,
    )
    period = book.applied(events).periods[PeriodKind.ANNUAL]
    assert not period.locked
    assert [u.reason for u in period.unlocks] == ["Pēcpārbaudījums"]


def test_after_an_unlock_the_period_can_be_changed_and_finalised_again(
    book: GradeBook,
    students: Students,
    roster: frozenset[UUID],
    finalized: Finalized,
    deputy: Caller,
    teacher: UUID,
    now: datetime,
) -> None:
    finalized(book, PeriodKind.ANNUAL, "7")
    book.applied(
        book.unlock(UnlockPeriod(period=PeriodKind.ANNUAL, reason="x"), caller=deputy, now=now)
    )
    _set(book, roster, PeriodKind.ANNUAL, {students[0]: "8"}, teacher, now)
    events = _finalize(book, PeriodKind.ANNUAL, roster, teacher, now)
    finals = {e.student_id: e.value for e in events if isinstance(e, GradeFinalized)}
    assert finals == {students[0]: "8", students[1]: "7", students[2]: "7"}


@pytest.mark.parametrize("role", [Role.TEACHER, Role.SCHOOL_ADMIN, Role.GUARDIAN, Role.OPERATOR])
def test_nobody_but_a_deputy_director_unlocks(
    role: Role, book: GradeBook, finalized: Finalized, deputy: Caller, now: datetime
) -> None:
    finalized(book, PeriodKind.ANNUAL, "7")
    caller = Caller(person_id=UUID(int=77), school_id=deputy.school_id, role=role)
    with pytest.raises(Forbidden):
        book.unlock(UnlockPeriod(period=PeriodKind.ANNUAL, reason="x"), caller=caller, now=now)


def test_a_deputy_director_of_another_school_does_not_unlock(
    book: GradeBook, finalized: Finalized, now: datetime
) -> None:
    finalized(book, PeriodKind.ANNUAL, "7")
    other = Caller(person_id=UUID(int=77), school_id=UUID(int=999), role=Role.DEPUTY_DIRECTOR)
    with pytest.raises(Forbidden):
        book.unlock(UnlockPeriod(period=PeriodKind.ANNUAL, reason="x"), caller=other, now=now)


def test_an_unlock_without_a_reason_is_refused(
    book: GradeBook, finalized: Finalized, deputy: Caller, now: datetime
) -> None:
    finalized(book, PeriodKind.ANNUAL, "7")
    with pytest.raises(Invalid) as err:
        book.unlock(UnlockPeriod(period=PeriodKind.ANNUAL, reason="  "), caller=deputy, now=now)
    assert err.value.field == "reason"


def test_unlocking_an_open_period_is_a_conflict(
    book: GradeBook, deputy: Caller, now: datetime
) -> None:
    with pytest.raises(Conflict) as err:
        book.unlock(UnlockPeriod(period=PeriodKind.ANNUAL, reason="x"), caller=deputy, now=now)
    assert err.value.code == "period_not_locked"


def test_students_without_a_period_grade_are_known(
    book: GradeBook,
    students: Students,
    roster: frozenset[UUID],
    teacher: UUID,
    now: datetime,
) -> None:
    _set(book, roster, PeriodKind.SEMESTER2, {students[0]: "7"}, teacher, now)
    assert book.students_without_period_grade(PeriodKind.SEMESTER2, roster, TEN_POINT) == {
        students[1],
        students[2],
    }
    assert book.students_without_period_grade(PeriodKind.SEMESTER1, roster, TEN_POINT) == roster


def test_a_re_exam_grade_is_refused_for_a_student_who_passed_the_year(
    book: GradeBook, students: Students, roster: frozenset[UUID], teacher: UUID, now: datetime
) -> None:
    # given Anna passed the year with 4 and Berta has no annual grade yet
    anna, berta, _ = students
    _set(book, roster, PeriodKind.ANNUAL, {anna: "4"}, teacher, now)
    for student in (anna, berta):
        # when the teacher enters a re-exam grade for her
        with pytest.raises(Invalid) as err:
            _set(book, roster, PeriodKind.REEXAM, {student: "6"}, teacher, now)
        # then it is refused, naming the field and the student
        assert err.value.field == "student_id"
        assert err.value.code == "not_sitting"
        assert err.value.details == {"students": [str(student)]}
    assert book.periods[PeriodKind.REEXAM].grades == {}


def test_finalising_the_re_exam_asks_only_for_the_students_who_sit_it(
    book: GradeBook, students: Students, roster: frozenset[UUID], teacher: UUID, now: datetime
) -> None:
    # given Anna passed the year, Berta failed it with 3 and Cits has "nv"
    anna, berta, cits = students
    _set(book, roster, PeriodKind.ANNUAL, {anna: "7", berta: "3", cits: "nv"}, teacher, now)
    assert book.students_without_period_grade(PeriodKind.REEXAM, roster, TEN_POINT) == {
        berta,
        cits,
    }
    with pytest.raises(Invalid) as err:
        _finalize(book, PeriodKind.REEXAM, roster, teacher, now)
    assert err.value.details == {"students": sorted([str(berta), str(cits)])}
    _set(book, roster, PeriodKind.REEXAM, {berta: "5", cits: "4"}, teacher, now)
    # when the teacher finalises the re-exam without a grade for Anna
    events = _finalize(book, PeriodKind.REEXAM, roster, teacher, now)
    # then Berta's and Cits's re-exam grades are final and the period is locked
    finals = {e.student_id: e.value for e in events if isinstance(e, GradeFinalized)}
    assert finals == {berta: "5", cits: "4"}
    last = events[-1]
    assert isinstance(last, PeriodFinalized)
    assert frozenset(last.student_ids) == {berta, cits}
    assert book.applied(events).periods[PeriodKind.REEXAM].locked


def test_a_pass_fail_subject_sends_ni_to_the_re_exam(
    book: GradeBook, students: Students, roster: frozenset[UUID], teacher: UUID, now: datetime
) -> None:
    anna, berta, _ = students
    _set(book, roster, PeriodKind.ANNUAL, {anna: "i", berta: "ni"}, teacher, now, PASS_FAIL)
    assert book.sitters(PeriodKind.REEXAM, roster, PASS_FAIL) == {berta}
