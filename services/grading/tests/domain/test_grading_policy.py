"""A school's grading policy: scales per grade band or subject, and period-grade deadlines."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import pytest
from pydantic import ValidationError

from ezurnals.grading.domain import (
    DEFAULT_PERCENT_TABLE,
    DefineGradeScale,
    SchoolGradingPolicy,
    SetPeriodGradeDeadline,
)
from ezurnals.shared.contracts.grading import (
    GradeBand,
    GradeScaleDefined,
    PercentBand,
    PeriodGradeDeadlineSet,
    PeriodKind,
    ScaleKind,
)
from ezurnals.shared.domain import Invalid

SCHOOL = UUID(int=1)
ADMIN = UUID(int=6)
MATHS = UUID(int=30)
SPORT = UUID(int=31)


def _policy(
    *commands: DefineGradeScale | SetPeriodGradeDeadline, now: datetime
) -> SchoolGradingPolicy:
    policy = SchoolGradingPolicy.for_school(SCHOOL)
    for cmd in commands:
        if isinstance(cmd, DefineGradeScale):
            policy.applied(policy.define_scale(cmd, by=ADMIN, now=now))
        else:
            policy.applied(policy.set_deadline(cmd, by=ADMIN, now=now))
    return policy


def test_without_definitions_grades_1_to_3_use_levels_and_later_grades_ten_points(
    now: datetime,
) -> None:
    policy = _policy(now=now)
    assert policy.scale_for(2, MATHS).kind is ScaleKind.LEVELS
    assert policy.scale_for(4, MATHS).kind is ScaleKind.TEN_POINT
    assert policy.scale_for(12, MATHS).kind is ScaleKind.TEN_POINT


def test_defining_a_scale_publishes_it_for_the_school(now: datetime) -> None:
    # given a school; when it defines a pass/fail scale for sport in grades 4–12
    policy = SchoolGradingPolicy.for_school(SCHOOL)
    cmd = DefineGradeScale(
        scale_id=UUID(int=7),
        kind=ScaleKind.PASS_FAIL,
        band=GradeBand(first=4, last=12),
        subject_id=SPORT,
    )
    events = policy.define_scale(cmd, by=ADMIN, now=now)
    # then GradeScaleDefined carries the scope, without tables a pass/fail scale does not use
    assert events == [
        GradeScaleDefined(
            scale_id=UUID(int=7),
            school_id=SCHOOL,
            kind=ScaleKind.PASS_FAIL,
            band=GradeBand(first=4, last=12),
            subject_id=SPORT,
            defined_by=ADMIN,
            defined_at=now,
        )
    ]


def test_a_subjects_own_scale_beats_the_bands_general_scale(now: datetime) -> None:
    # given percent for all of 10–12 and pass/fail for sport in 10–12
    policy = _policy(
        DefineGradeScale(
            scale_id=UUID(int=7), kind=ScaleKind.PERCENT, band=GradeBand(first=10, last=12)
        ),
        DefineGradeScale(
            scale_id=UUID(int=8),
            kind=ScaleKind.PASS_FAIL,
            band=GradeBand(first=10, last=12),
            subject_id=SPORT,
        ),
        now=now,
    )
    # then sport in grade 11 is pass/fail, maths percent, and grade 9 keeps the default
    assert policy.scale_for(11, SPORT).kind is ScaleKind.PASS_FAIL
    assert policy.scale_for(11, MATHS).kind is ScaleKind.PERCENT
    assert policy.scale_for(9, SPORT).kind is ScaleKind.TEN_POINT


def test_a_percent_scale_carries_the_schools_table(now: datetime) -> None:
    table = (PercentBand(min_percent=0, points=1), PercentBand(min_percent=40, points=4))
    policy = _policy(
        DefineGradeScale(
            scale_id=UUID(int=7),
            kind=ScaleKind.PERCENT,
            band=GradeBand(first=10, last=12),
            percent_table=table,
        ),
        now=now,
    )
    scale = policy.scale_for(12, MATHS)
    assert scale.percent_table == table
    assert scale.parse("40%").points == 4


def test_a_percent_scale_defined_without_a_table_gets_the_default_one(now: datetime) -> None:
    policy = _policy(
        DefineGradeScale(
            scale_id=UUID(int=7), kind=ScaleKind.PERCENT, band=GradeBand(first=10, last=12)
        ),
        now=now,
    )
    assert policy.scales[UUID(int=7)].percent_table == DEFAULT_PERCENT_TABLE


def test_a_broken_percent_table_is_refused(now: datetime) -> None:
    policy = SchoolGradingPolicy.for_school(SCHOOL)
    cmd = DefineGradeScale(
        scale_id=UUID(int=7),
        kind=ScaleKind.PERCENT,
        band=GradeBand(first=10, last=12),
        percent_table=(PercentBand(min_percent=5, points=1),),
    )
    with pytest.raises(Invalid) as err:
        policy.define_scale(cmd, by=ADMIN, now=now)
    assert err.value.field == "percent_table"


def test_two_scales_may_not_claim_the_same_grade_and_subject(now: datetime) -> None:
    # given a 10-point scale for grades 4–12
    policy = _policy(
        DefineGradeScale(
            scale_id=UUID(int=7), kind=ScaleKind.TEN_POINT, band=GradeBand(first=4, last=12)
        ),
        now=now,
    )
    # when another scale claims grades 1–4
    cmd = DefineGradeScale(
        scale_id=UUID(int=8), kind=ScaleKind.LEVELS, band=GradeBand(first=1, last=4)
    )
    with pytest.raises(Invalid) as err:
        policy.define_scale(cmd, by=ADMIN, now=now)
    # then it is refused, naming the scale in the way
    assert err.value.field == "band"
    assert err.value.details == {"scale_id": str(UUID(int=7))}


def test_redefining_a_scale_replaces_it(now: datetime) -> None:
    # given percent for 10–12; when the same scale is redefined as 10-point
    policy = _policy(
        DefineGradeScale(
            scale_id=UUID(int=7), kind=ScaleKind.PERCENT, band=GradeBand(first=10, last=12)
        ),
        DefineGradeScale(
            scale_id=UUID(int=7), kind=ScaleKind.TEN_POINT, band=GradeBand(first=10, last=12)
        ),
        now=now,
    )
    # then the new definition applies
    assert policy.scale_for(10, MATHS).kind is ScaleKind.TEN_POINT


def test_a_deadline_is_set_per_school_year_and_period(now: datetime) -> None:
    policy = SchoolGradingPolicy.for_school(SCHOOL)
    cmd = SetPeriodGradeDeadline(
        school_year="2025/2026", period=PeriodKind.SEMESTER1, due_on=date(2025, 12, 19)
    )
    events = policy.set_deadline(cmd, by=ADMIN, now=now)
    assert events == [
        PeriodGradeDeadlineSet(
            school_id=SCHOOL,
            school_year="2025/2026",
            period=PeriodKind.SEMESTER1,
            due_on=date(2025, 12, 19),
            set_by=ADMIN,
            set_at=now,
        )
    ]
    policy.applied(events)
    assert policy.deadline_for("2025/2026", PeriodKind.SEMESTER1, 7) == date(2025, 12, 19)
    assert policy.deadline_for("2025/2026", PeriodKind.SEMESTER2, 7) is None
    assert policy.deadline_for("2026/2027", PeriodKind.SEMESTER1, 7) is None


def test_a_grade_bands_deadline_beats_the_school_wide_one(now: datetime) -> None:
    # given annual grades due 29 May, but for grade 9 on 12 June
    policy = _policy(
        SetPeriodGradeDeadline(
            school_year="2025/2026", period=PeriodKind.ANNUAL, due_on=date(2026, 5, 29)
        ),
        SetPeriodGradeDeadline(
            school_year="2025/2026",
            period=PeriodKind.ANNUAL,
            due_on=date(2026, 6, 12),
            band=GradeBand(first=9, last=9),
        ),
        now=now,
    )
    assert policy.deadline_for("2025/2026", PeriodKind.ANNUAL, 9) == date(2026, 6, 12)
    assert policy.deadline_for("2025/2026", PeriodKind.ANNUAL, 8) == date(2026, 5, 29)


def test_overlapping_band_deadlines_for_one_period_are_refused(now: datetime) -> None:
    policy = _policy(
        SetPeriodGradeDeadline(
            school_year="2025/2026",
            period=PeriodKind.ANNUAL,
            due_on=date(2026, 6, 12),
            band=GradeBand(first=9, last=9),
        ),
        now=now,
    )
    cmd = SetPeriodGradeDeadline(
        school_year="2025/2026",
        period=PeriodKind.ANNUAL,
        due_on=date(2026, 6, 19),
        band=GradeBand(first=9, last=12),
    )
    with pytest.raises(Invalid) as err:
        policy.set_deadline(cmd, by=ADMIN, now=now)
    assert err.value.field == "band"


@pytest.mark.parametrize("due_on", [date(2031, 12, 19), date(2021, 12, 17)])
def test_a_deadline_outside_its_school_year_is_refused_naming_the_range(
    now: datetime, due_on: date
) -> None:
    cmd = SetPeriodGradeDeadline(school_year="2025/26", period=PeriodKind.SEMESTER1, due_on=due_on)
    with pytest.raises(Invalid) as err:
        SchoolGradingPolicy.for_school(SCHOOL).set_deadline(cmd, by=ADMIN, now=now)
    assert err.value.field == "due_on"
    assert "2025-07-01 to 2026-08-31" in err.value.message


@pytest.mark.parametrize("year", ["0000/01", "9999/00", "9999/10000"])
def test_a_deadline_of_a_year_beyond_the_calendar_names_the_school_year(year: str) -> None:
    """The command itself refuses it (the one school-year spelling), so the API answers 422."""
    with pytest.raises(ValidationError) as err:
        SetPeriodGradeDeadline(school_year=year, period=PeriodKind.EXAM, due_on=date(2000, 1, 1))
    assert err.value.errors()[0]["loc"] == ("school_year",)


def test_a_policy_stream_names_its_school() -> None:
    assert SchoolGradingPolicy.for_school(SCHOOL).school_id == SCHOOL
    with pytest.raises(ValueError):
        SchoolGradingPolicy("grade-book:whatever")
