"""Grade scales and grade values: what a teacher may write, and what it counts as in an average.

The tables here (the %→points table, the 10-point → level mapping, the lowest pass) are the
defaults a school starts from; each school may define its own (GradeScaleDefined).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from ezurnals.shared.contracts.grading import LevelBand, PercentBand, ScaleKind
from ezurnals.shared.domain import Invalid

#: "nav vērtējuma": no grade (a required test was missed). Allowed on every scale, never a number.
NO_GRADE = "nv"
PASSED = "i"
NOT_PASSED = "ni"
LEVELS = ("S", "T", "A", "P")
TEN_POINT_VALUES = tuple(str(p) for p in range(1, 11))
LOWEST_PASS = 4

#: A %→points table common in Latvian schools (check: each school sets its own).
DEFAULT_PERCENT_TABLE: tuple[PercentBand, ...] = tuple(
    PercentBand(min_percent=pct, points=pts)
    for pct, pts in (
        (0, 1),
        (11, 2),
        (21, 3),
        (35, 4),
        (47, 5),
        (58, 6),
        (67, 7),
        (77, 8),
        (87, 9),
        (95, 10),
    )
)

#: 10-point bands → learning levels per the secondary standard (check: configurable per school).
DEFAULT_LEVEL_BANDS: tuple[LevelBand, ...] = (
    LevelBand(min_points=1, max_points=3, level="S"),
    LevelBand(min_points=4, max_points=5, level="T"),
    LevelBand(min_points=6, max_points=8, level="A"),
    LevelBand(min_points=9, max_points=10, level="P"),
)

_PERCENT = re.compile(r"^(\d{1,3})\s*%?$")


def check_percent_table(table: Sequence[PercentBand]) -> None:
    """A usable table starts at 0 % and rises, so every percent maps to exactly one result."""
    if not table:
        raise Invalid("a percent scale needs a %→points table", field="percent_table")
    if table[0].min_percent != 0:
        raise Invalid("the %→points table must start at 0 %", field="percent_table")
    for lower, upper in pairwise(table):
        if upper.min_percent <= lower.min_percent or upper.points <= lower.points:
            raise Invalid(
                "the %→points table must rise in both percent and points",
                field="percent_table",
                details={"rows": [lower.model_dump(), upper.model_dump()]},
            )


def check_level_bands(bands: Sequence[LevelBand]) -> None:
    """The mapping must cover 1–10 without gaps or overlaps, in the order S, T, A, P."""
    expected_start = 1
    for band in bands:
        if band.min_points != expected_start or band.max_points < band.min_points:
            raise Invalid(
                "level bands must cover 1–10 points without gaps or overlaps",
                field="level_bands",
                details={"band": band.model_dump()},
            )
        expected_start = band.max_points + 1
    if expected_start != 11 or tuple(b.level for b in bands) != LEVELS:
        raise Invalid(
            "level bands must cover 1–10 points with the levels S, T, A, P in order",
            field="level_bands",
        )


def level_for_points(points: int, bands: Sequence[LevelBand] = DEFAULT_LEVEL_BANDS) -> str:
    """The learning level a 10-point result corresponds to."""
    for band in bands:
        if band.min_points <= points <= band.max_points:
            return band.level
    raise Invalid(f"{points} is not on the 10-point scale", field="points")


def points_for_percent(percent: int, table: Sequence[PercentBand]) -> int:
    """The points a percentage earns: the row with the highest threshold not above it."""
    earned = [row.points for row in table if row.min_percent <= percent]
    if not earned:
        raise Invalid(f"the %→points table has no row for {percent} %", field="percent_table")
    return earned[-1]


@dataclass(frozen=True)
class GradeValue:
    """A value as written on its scale, with the points it counts as (None: never averaged)."""

    text: str
    points: int | None = None

    @property
    def is_no_grade(self) -> bool:
        return self.text == NO_GRADE

    @property
    def is_numeric(self) -> bool:
        return self.points is not None


@dataclass(frozen=True)
class GradeScale:
    """The scale a school uses for a grade band or subject, with its own tables."""

    kind: ScaleKind
    lowest_pass: int = LOWEST_PASS
    percent_table: tuple[PercentBand, ...] = DEFAULT_PERCENT_TABLE
    level_bands: tuple[LevelBand, ...] = DEFAULT_LEVEL_BANDS
    _allowed: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        allowed: dict[ScaleKind, tuple[str, ...]] = {
            ScaleKind.TEN_POINT: TEN_POINT_VALUES,
            ScaleKind.PASS_FAIL: (PASSED, NOT_PASSED),
            ScaleKind.LEVELS: LEVELS,
            ScaleKind.PERCENT: ("0%…100%",),
        }
        object.__setattr__(self, "_allowed", (*allowed[self.kind], NO_GRADE))

    @property
    def allowed_values(self) -> tuple[str, ...]:
        """What a teacher may write on this scale, for error messages and forms."""
        return self._allowed

    @property
    def period_scale(self) -> GradeScale:
        """Period grades on a percent scale are given in points: the table exists to convert."""
        if self.kind is ScaleKind.PERCENT:
            return GradeScale(ScaleKind.TEN_POINT, lowest_pass=self.lowest_pass)
        return self

    def parse(self, raw: str) -> GradeValue:
        """Read a value as typed ("7", "NV", " a ", "85 %"); refuse what is not on the scale."""
        text = raw.strip()
        if text.lower() == NO_GRADE:
            return GradeValue(NO_GRADE)
        value = self._parse_on_scale(text)
        if value is None:
            allowed = ", ".join(self.allowed_values)
            raise Invalid(
                f"{raw!r} is not a grade on the {self.kind.value} scale; allowed: {allowed}",
                field="value",
                details={"allowed": list(self.allowed_values), "scale": self.kind.value},
            )
        return value

    def _parse_on_scale(self, text: str) -> GradeValue | None:
        if self.kind is ScaleKind.TEN_POINT:
            return GradeValue(text, int(text)) if text in TEN_POINT_VALUES else None
        if self.kind is ScaleKind.PASS_FAIL:
            lowered = text.lower()
            return GradeValue(lowered) if lowered in (PASSED, NOT_PASSED) else None
        if self.kind is ScaleKind.LEVELS:
            upper = text.upper()
            return GradeValue(upper) if upper in LEVELS else None
        match = _PERCENT.match(text)
        if match is None or int(match.group(1)) > 100:
            return None
        percent = int(match.group(1))
        return GradeValue(f"{percent}%", points_for_percent(percent, self.percent_table))

    def is_pass(self, value: GradeValue) -> bool | None:
        """Whether a value passes: None where the scale does not say (nv, learning levels)."""
        if self.kind is ScaleKind.PASS_FAIL:
            return value.text == PASSED if not value.is_no_grade else None
        if value.points is None:
            return None
        return value.points >= self.lowest_pass

    def from_points(self, points: int) -> GradeValue | None:
        """How a computed number of points is written on this scale; None if it cannot be."""
        if self.kind is ScaleKind.LEVELS:
            return GradeValue(level_for_points(points, self.level_bands))
        if self.kind is ScaleKind.PASS_FAIL:
            return None
        return GradeValue(str(points), points)


TEN_POINT = GradeScale(ScaleKind.TEN_POINT)
PASS_FAIL = GradeScale(ScaleKind.PASS_FAIL)
LEARNING_LEVELS = GradeScale(ScaleKind.LEVELS)
PERCENT = GradeScale(ScaleKind.PERCENT)
