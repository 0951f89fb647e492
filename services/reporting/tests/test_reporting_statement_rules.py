"""Monthly statement rules, pure: what a month holds and when it has closed."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from ezurnals.reporting.domain.calendar import (
    closed_month,
    month_days,
    require_issuable_month,
    school_year,
)
from ezurnals.reporting.domain.statements import AbsenceEntry, GradeEntry, assemble_statement
from ezurnals.shared.domain import Invalid

MATH, LATVIAN = uuid.uuid4(), uuid.uuid4()
NAMES = {MATH: "Matemātika", LATVIAN: "Latviešu valoda"}


def grade(subject: uuid.UUID, day: date, value: int, *earlier: str) -> GradeEntry:
    return GradeEntry(
        subject_id=subject, given_on=day, value=str(value), points=value, earlier_values=earlier
    )


def absence(
    subject: uuid.UUID | None, day: date, *, excused: bool, late: bool = False
) -> AbsenceEntry:
    return AbsenceEntry(
        subject_id=subject,
        day=day,
        code="k" if late else "n",
        counts_as_absence=not late,
        is_late=late,
        excused=excused,
    )


def test_a_month_counts_grades_and_excused_and_unexcused_absences_per_subject() -> None:
    statement = assemble_statement(
        student_id=uuid.uuid4(),
        class_id=uuid.uuid4(),
        month="2025-10",
        grades=[
            grade(MATH, date(2025, 10, 6), 7, "5"),
            grade(MATH, date(2025, 10, 20), 8),
            grade(LATVIAN, date(2025, 10, 1), 6),
            grade(MATH, date(2025, 11, 3), 2),
        ],
        absences=[
            absence(MATH, date(2025, 10, 7), excused=True),
            absence(MATH, date(2025, 10, 8), excused=False),
            absence(LATVIAN, date(2025, 10, 8), excused=False),
            absence(LATVIAN, date(2025, 10, 9), excused=False, late=True),
            absence(MATH, date(2025, 9, 30), excused=False),
        ],
        subject_names=NAMES,
    )
    latvian, math = statement.subjects
    assert math.subject == "Matemātika" and math.grades == ("5|7", "8") and math.average == "7.5"
    assert (math.absences_excused, math.absences_unexcused, math.lates) == (1, 1, 0)
    assert (latvian.absences_excused, latvian.absences_unexcused, latvian.lates) == (0, 1, 1)
    assert (statement.grades, statement.absences_excused, statement.absences_unexcused) == (3, 1, 2)


def test_the_same_facts_give_the_same_hash_and_a_correction_changes_it() -> None:
    student, klass = uuid.uuid4(), uuid.uuid4()

    def hashed(*grades: GradeEntry) -> str:
        return assemble_statement(
            student_id=student,
            class_id=klass,
            month="2025-10",
            grades=grades,
            absences=[],
            subject_names=NAMES,
        ).content_sha256

    first = hashed(grade(MATH, date(2025, 10, 6), 5), grade(LATVIAN, date(2025, 10, 6), 6))
    again = hashed(grade(LATVIAN, date(2025, 10, 6), 6), grade(MATH, date(2025, 10, 6), 5))
    assert first == again
    assert (
        hashed(grade(MATH, date(2025, 10, 6), 7, "5"), grade(LATVIAN, date(2025, 10, 6), 6))
        != first
    )


def test_an_empty_month_is_a_statement_with_nothing_in_it() -> None:
    statement = assemble_statement(
        student_id=uuid.uuid4(),
        class_id=uuid.uuid4(),
        month="2025-12",
        grades=[],
        absences=[],
        subject_names={},
    )
    assert statement.subjects == () and statement.grades == 0


@pytest.mark.parametrize(
    ("now", "month"),
    [
        (datetime(2025, 10, 31, 21, 59, tzinfo=UTC), "2025-09"),  # 23:59 in Riga, 31 Oct
        (datetime(2025, 10, 31, 22, 0, tzinfo=UTC), "2025-10"),  # midnight in Riga, 1 Nov
        (datetime(2026, 1, 1, 6, 0, tzinfo=UTC), "2025-12"),
    ],
)
def test_a_month_closes_at_midnight_in_the_schools_time_zone(now: datetime, month: str) -> None:
    assert closed_month(now, "Europe/Riga") == month


def test_months_and_school_years_are_read_strictly() -> None:
    assert month_days("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert school_year("2025/26") == school_year("2025/2026") == "2025/2026"
    for bad in ("2025-13", "2025-1", "oct"):
        with pytest.raises(Invalid) as err:
            month_days(bad)
        assert err.value.field == "month"
    with pytest.raises(Invalid):
        school_year("2025/2027")


#: 14 November 2025, noon in Riga: October is the latest month that has ended.
MID_NOVEMBER = datetime(2025, 11, 14, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("month", "words"),
    [("2025-11", "from 2025-09 to 2025-10"), ("2031-03", "2025-10"), ("2021-10", "2025-09")],
)
def test_statements_are_not_issued_for_a_month_that_has_not_ended_or_before_the_school(
    month: str, words: str
) -> None:
    with pytest.raises(Invalid) as err:
        require_issuable_month(month, MID_NOVEMBER, "Europe/Riga", date(2025, 9, 1))
    assert err.value.field == "month"
    assert words in err.value.message


def test_statements_are_issued_for_every_month_that_has_ended_since_the_school_began() -> None:
    for month in ("2025-09", "2025-10"):
        require_issuable_month(month, MID_NOVEMBER, "Europe/Riga", date(2025, 9, 1))
    require_issuable_month("2019-05", MID_NOVEMBER, "Europe/Riga", None)
