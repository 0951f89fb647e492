"""Property, for the grading aggregate not yet covered by ``test_grading_properties`` (the grade
book is): whatever sequence of commands a school's grading policy is given, the events it decides
rebuild exactly its state and version when replayed (directly and after a trip through JSON), and
a command it refuses leaves it exactly as it was.

The state compared is the aggregate's whole ``vars()``, so a field folded differently on replay,
or touched by a refused (or not yet applied) decision, fails the property.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from uuid import UUID
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ezurnals.grading.domain import (
    DEFAULT_LEVEL_BANDS,
    DEFAULT_PERCENT_TABLE,
    DefineGradeScale,
    SchoolGradingPolicy,
    SetPeriodGradeDeadline,
    SetSemesterGradesUsage,
)
from ezurnals.shared.contracts.grading import (
    GradeBand,
    LevelBand,
    PercentBand,
    PeriodKind,
    ScaleKind,
)
from ezurnals.shared.testing import replay
from ezurnals.shared.testing.replay import Call, Clock, calls, check_replay

PROPERTY = settings(max_examples=150, deadline=None)
ZONE = ZoneInfo("Europe/Riga")
SCHOOL = UUID(int=1)
DEPUTY = UUID(int=5)
START = datetime.combine(date(2025, 9, 1), time(8, 0), tzinfo=ZONE).astimezone(UTC)

sequences = functools.partial(replay.sequences, start=START)


# --- a school's grading policy -----------------------------------------------------------------

SCALE_IDS = [UUID(int=11), UUID(int=12), UUID(int=13)]
SUBJECT = UUID(int=21)
BANDS = [
    GradeBand(first=1, last=3),
    GradeBand(first=4, last=12),
    GradeBand(first=4, last=9),
    GradeBand(first=10, last=12),
    GradeBand(first=1, last=12),
]
PERCENT_TABLES = [
    DEFAULT_PERCENT_TABLE,
    DEFAULT_PERCENT_TABLE,
    (PercentBand(min_percent=0, points=1), PercentBand(min_percent=50, points=6)),
    (PercentBand(min_percent=5, points=1),),  # does not start at 0 %
    (PercentBand(min_percent=0, points=4), PercentBand(min_percent=50, points=3)),  # falls
    (),
]
LEVEL_TABLES = [
    DEFAULT_LEVEL_BANDS,
    DEFAULT_LEVEL_BANDS,
    DEFAULT_LEVEL_BANDS[:3],  # stops at 8 points
    (DEFAULT_LEVEL_BANDS[1], DEFAULT_LEVEL_BANDS[0], *DEFAULT_LEVEL_BANDS[2:]),  # out of order
    (LevelBand(min_points=1, max_points=10, level="S"),),
]
policy_steps = st.one_of(
    calls(
        "define_scale",
        st.builds(
            DefineGradeScale,
            scale_id=st.sampled_from(SCALE_IDS),
            kind=st.sampled_from(ScaleKind),
            band=st.sampled_from(BANDS),
            subject_id=st.sampled_from([None, SUBJECT]),
            lowest_pass=st.sampled_from([4, 5]),
            percent_table=st.sampled_from(PERCENT_TABLES),
            level_bands=st.sampled_from(LEVEL_TABLES),
        ),
        by=DEPUTY,
        now=Clock.NOW,
    ),
    calls(
        "set_deadline",
        st.builds(
            SetPeriodGradeDeadline,
            school_year=st.sampled_from(["2025/2026", "2026/2027"]),
            period=st.sampled_from([PeriodKind.SEMESTER1, PeriodKind.ANNUAL]),
            due_on=st.integers(0, 120).map(lambda n: date(2025, 12, 1) + timedelta(days=n)),
            band=st.sampled_from([None, None, *BANDS]),
        ),
        by=DEPUTY,
        now=Clock.NOW,
    ),
    calls(
        "set_semester_grades_usage",
        st.builds(SetSemesterGradesUsage, used=st.booleans()),
        by=DEPUTY,
        now=Clock.NOW,
    ),
)


@PROPERTY
@given(sequences(policy_steps, max_steps=14))
def test_a_schools_grading_policy_replays_to_the_same_policy(sequence: list[Call]) -> None:
    live = SchoolGradingPolicy.for_school(SCHOOL)
    check_replay(live, sequence)
    # and no two scales claim the same grade and subject
    for one, other in combinations(live.scales.values(), 2):
        assert one.subject_id != other.subject_id or not one.band.overlaps(other.band)
    # nor two different bands' deadlines the same grade in one period
    for (year, period, band), (year2, period2, band2) in combinations(live.deadlines, 2):
        if (year, period) == (year2, period2) and band is not None and band2 is not None:
            assert not band.overlaps(band2)
