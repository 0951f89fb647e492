"""Report card and entry-deadline rules, pure."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

import pytest

from ezurnals.lessons.domain.policy import seed_rules_set
from ezurnals.reporting.domain.calendar import day_span, report_period_days, year_days
from ezurnals.reporting.domain.compliance import (
    DeadlineBand,
    DeadlinePolicy,
    EntryState,
    entry_deadline,
    entry_state,
)
from ezurnals.reporting.domain.report_cards import (
    Absences,
    ClassFacts,
    FinalGrade,
    Subject,
    assemble_report_cards,
)
from ezurnals.shared.contracts.grading import PeriodKind, YearGradeType
from ezurnals.shared.contracts.reporting import ReportPeriod
from ezurnals.shared.domain import Invalid

ANNA, BERTA = uuid.uuid4(), uuid.uuid4()
MATH = Subject(subject_id=uuid.uuid4(), name="Matemātika", hours={7: 175})
ART = Subject(subject_id=uuid.uuid4(), name="Vizuālā māksla", hours={})


def facts(*grades: FinalGrade) -> ClassFacts:
    return ClassFacts(
        class_id=uuid.uuid4(),
        school_year="2025/2026",
        grade_level=7,
        class_label="7.a",
        first_day=date(2025, 9, 1),
        last_day=date(2026, 8, 31),
        students=(ANNA, BERTA),
        subjects=(MATH, ART),
        grades=grades,
        absences={ANNA: Absences(excused=3, unexcused=1)},
        class_teacher_id=None,
        director_id=None,
    )


def final(student: uuid.UUID, subject: Subject, period: PeriodKind, value: str) -> FinalGrade:
    return FinalGrade(student_id=student, subject_id=subject.subject_id, period=period, value=value)


def test_a_missing_grade_blocks_every_card_and_names_itself() -> None:
    cards, missing = assemble_report_cards(
        facts(
            final(ANNA, MATH, PeriodKind.ANNUAL, "7"),
            final(ANNA, ART, PeriodKind.ANNUAL, "i"),
            final(BERTA, MATH, PeriodKind.ANNUAL, "9"),
            final(BERTA, ART, PeriodKind.SEMESTER2, "i"),
        ),
        ReportPeriod.YEAR,
    )
    assert cards == []
    assert [(m.student_id, m.subject) for m in missing] == [(BERTA, "Vizuālā māksla")]


def test_a_year_card_prefers_the_final_grade_and_says_gada_or_gala() -> None:
    cards, missing = assemble_report_cards(
        facts(
            final(ANNA, MATH, PeriodKind.ANNUAL, "7"),
            final(ANNA, MATH, PeriodKind.FINAL, "8"),
            final(ANNA, ART, PeriodKind.ANNUAL, "i"),
            final(BERTA, MATH, PeriodKind.ANNUAL, "nv"),
            final(BERTA, ART, PeriodKind.ANNUAL, "ni"),
        ),
        ReportPeriod.YEAR,
    )
    assert missing == []
    anna, berta = cards
    math, art = anna.subjects
    assert (math.grade, math.grade_type, math.hours) == ("8", YearGradeType.GALA, 175)
    assert (art.grade, art.grade_type, art.hours) == ("i", YearGradeType.GADA, None)
    assert (anna.absences_excused, anna.absences_unexcused) == (3, 1)
    assert (berta.absences_excused, berta.subjects[0].grade) == (0, "nv")
    assert anna.content_sha256 != berta.content_sha256


def test_semesters_come_from_the_school_year_or_fall_back_to_the_calendar() -> None:
    defined = [{"number": 1, "first_day": "2025-09-01", "last_day": "2025-12-19"}]
    assert report_period_days("semester1", "2025/2026", defined) == (
        date(2025, 9, 1),
        date(2025, 12, 19),
    )
    assert report_period_days("semester2", "2025/2026", defined) == (
        date(2026, 1, 1),
        date(2026, 8, 31),
    )
    assert report_period_days("year", "2025/2026", []) == (date(2025, 9, 1), date(2026, 8, 31))


def seed_policy() -> DeadlinePolicy:
    """The seed rules as lessons publishes them when a school is registered."""
    seed = seed_rules_set(uuid.uuid4())
    bands = tuple(DeadlineBand(b.first_grade, b.last_grade, b.deadline) for b in seed.deadlines)
    return DeadlinePolicy(seed.effective_from, bands)


def test_entry_deadlines_follow_the_grade_band_and_the_schools_policy() -> None:
    riga = "Europe/Riga"
    day = date(2025, 10, 6)  # summer time in Riga: UTC+3
    seed = seed_policy()
    assert entry_deadline(day, 4, [seed], riga) == datetime(2025, 10, 6, 12, 0, tzinfo=UTC)
    assert entry_deadline(day, 9, [seed], riga) == datetime(2025, 10, 6, 13, 0, tzinfo=UTC)
    policy = DeadlinePolicy(date(2025, 10, 6), (DeadlineBand(1, 12, time(17, 30)),))
    assert entry_deadline(day, 9, [seed, policy], riga) == datetime(2025, 10, 6, 14, 30, tzinfo=UTC)
    later = entry_deadline(date(2025, 10, 3), 9, [seed, policy], riga)
    assert later is not None and later.hour == 13
    # Before lessons' first version arrives reporting knows no deadline and invents none.
    assert entry_deadline(day, 9, [], riga) is None
    deadline = datetime(2025, 10, 6, 13, 0, tzinfo=UTC)
    before, after = datetime(2025, 10, 6, 12, 0, tzinfo=UTC), datetime(2025, 10, 7, tzinfo=UTC)

    def state(recorded: bool, late: bool, overdue: bool, now: datetime) -> EntryState:
        return entry_state(
            recorded=recorded,
            flagged_late=late,
            flagged_overdue=overdue,
            deadline=deadline,
            now=now,
        )

    assert state(True, False, False, after) is EntryState.ON_TIME
    assert state(True, True, False, after) is EntryState.LATE
    assert state(True, False, True, after) is EntryState.LATE
    assert state(False, False, False, before) is EntryState.OPEN
    assert state(False, False, False, after) is EntryState.OVERDUE
    assert state(False, False, True, before) is EntryState.OVERDUE


def test_a_span_of_days_is_bounded_and_never_leaves_the_calendar() -> None:
    last = date(2025, 10, 31)
    assert day_span(None, last, default_first=None, max_days=92)[0] == date(2025, 8, 1)
    assert day_span(None, date(1, 1, 5), default_first=None, max_days=92)[0] == date.min
    for first, field in ((date(2025, 11, 1), "from"), (date(2025, 1, 1), "to")):
        with pytest.raises(Invalid) as err:
            day_span(first, last, default_first=None, max_days=92)
        assert err.value.field == field
    with pytest.raises(Invalid) as err:
        year_days("9999/00")
    assert err.value.field == "school_year"
