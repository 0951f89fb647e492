"""Entry deadlines in the school's zone, on both sides of the daylight-saving changes (rule 2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from ezurnals.lessons.domain import (
    DEFAULT_DEADLINE_RULES,
    DEFAULT_SCHEDULE,
    DeadlineRules,
    DeadlineSchedule,
    consultation_cutoff,
    entry_deadline,
    minutes_late,
)
from ezurnals.shared.contracts.lessons import GradeBandDeadline
from ezurnals.shared.domain import Invalid

RIGA = ZoneInfo("Europe/Riga")


@pytest.mark.parametrize(
    ("lesson_date", "grade_level", "expected_utc"),
    [
        # Riga is UTC+2 in winter and UTC+3 in summer; the wall-clock deadline never moves.
        (date(2026, 3, 27), 3, datetime(2026, 3, 27, 13, 0, tzinfo=UTC)),  # before spring change
        (date(2026, 3, 30), 3, datetime(2026, 3, 30, 12, 0, tzinfo=UTC)),  # after it
        (date(2026, 3, 27), 9, datetime(2026, 3, 27, 14, 0, tzinfo=UTC)),
        (date(2026, 3, 30), 9, datetime(2026, 3, 30, 13, 0, tzinfo=UTC)),
        (date(2025, 10, 24), 6, datetime(2025, 10, 24, 12, 0, tzinfo=UTC)),  # before autumn change
        (date(2025, 10, 27), 6, datetime(2025, 10, 27, 13, 0, tzinfo=UTC)),  # after it
        (date(2025, 10, 24), 7, datetime(2025, 10, 24, 13, 0, tzinfo=UTC)),
        (date(2025, 10, 27), 12, datetime(2025, 10, 27, 14, 0, tzinfo=UTC)),
    ],
)
def test_entry_deadline_is_15_or_16_local_on_the_lesson_day(
    lesson_date: date, grade_level: int, expected_utc: datetime
) -> None:
    # given the seed policy and a school in Riga
    # when the deadline of a lesson is asked
    deadline = entry_deadline(lesson_date, grade_level, DEFAULT_SCHEDULE, RIGA)
    # then it is the band's local time on that day, as a UTC instant
    assert deadline == expected_utc
    assert deadline.tzinfo is UTC
    expected_local = time(15, 0) if grade_level <= 6 else time(16, 0)
    assert deadline.astimezone(RIGA).time() == expected_local


def test_the_policy_in_force_on_the_lesson_day_is_used() -> None:
    # given a school that moved the deadline of grades 1–6 to 14:00 from 1 March 2026
    stricter = DeadlineRules(
        effective_from=date(2026, 3, 1),
        deadlines=(
            GradeBandDeadline(first_grade=1, last_grade=6, deadline=time(14, 0)),
            GradeBandDeadline(first_grade=7, last_grade=12, deadline=time(16, 0)),
        ),
        consultation_cutoff=time(19, 0),
    )
    policy = DeadlineSchedule.of([stricter, DEFAULT_DEADLINE_RULES])
    # when deadlines on both sides of that date are asked
    before = entry_deadline(date(2026, 2, 27), 4, policy, RIGA)
    after = entry_deadline(date(2026, 3, 2), 4, policy, RIGA)
    # then each lesson is judged by the version in force on its own day (rules 11–12)
    assert before.astimezone(RIGA).time() == time(15, 0)
    assert after.astimezone(RIGA).time() == time(14, 0)
    assert consultation_cutoff(date(2026, 2, 27), policy, RIGA).astimezone(RIGA).hour == 20
    assert consultation_cutoff(date(2026, 3, 2), policy, RIGA).astimezone(RIGA).hour == 19


def test_a_version_with_the_same_effective_date_replaces_the_earlier_one() -> None:
    # given two versions with the same effective date, the later one at 13:00 for all grades
    later = DeadlineRules(
        effective_from=DEFAULT_DEADLINE_RULES.effective_from,
        deadlines=(GradeBandDeadline(first_grade=1, last_grade=12, deadline=time(13, 0)),),
        consultation_cutoff=time(20, 0),
    )
    # when they make one schedule
    policy = DeadlineSchedule.of([DEFAULT_DEADLINE_RULES, later])
    # then only the later one counts
    assert policy.versions == (later,)
    assert entry_deadline(date(2026, 1, 5), 10, policy, RIGA).astimezone(RIGA).hour == 13


def test_no_policy_before_the_first_version_is_refused() -> None:
    # given the seed policy, in force from 17.09.2020
    # when a lesson from before that day asks for its deadline
    with pytest.raises(Invalid) as err:
        entry_deadline(date(2020, 9, 16), 5, DEFAULT_SCHEDULE, RIGA)
    # then no rules applied then
    assert err.value.code == "no_policy_in_force"


@pytest.mark.parametrize(
    "bands",
    [
        ((1, 6), (8, 12)),  # grade 7 missing
        ((1, 7), (7, 12)),  # grade 7 twice
        ((6, 1), (7, 12)),  # reversed band
    ],
)
def test_grade_bands_must_cover_every_grade_once(bands: tuple[tuple[int, int], ...]) -> None:
    # given bands that leave a gap, overlap or run backwards
    # when a policy version is made of them
    # then it is refused
    with pytest.raises(ValidationError):
        DeadlineRules(
            effective_from=date(2026, 1, 1),
            deadlines=tuple(
                GradeBandDeadline(first_grade=a, last_grade=b, deadline=time(15, 0))
                for a, b in bands
            ),
            consultation_cutoff=time(20, 0),
        )


@pytest.mark.parametrize(
    ("seconds_after", "expected"),
    [(-60, 0), (0, 0), (1, 1), (59, 1), (60, 1), (61, 2), (3600, 60)],
)
def test_minutes_late_round_up(seconds_after: int, expected: int) -> None:
    # given a deadline at 15:00 UTC
    deadline = datetime(2026, 3, 27, 15, 0, tzinfo=UTC)
    # when an entry comes some seconds later
    at = datetime.fromtimestamp(deadline.timestamp() + seconds_after, tz=UTC)
    # then a started minute counts as a minute late, and on time is 0
    assert minutes_late(deadline, at) == expected
