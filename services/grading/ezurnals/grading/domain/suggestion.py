"""The school's rule for the suggested period grade: by default the mean of summative grades.

Rounding is half up in Decimal (6.5 → 7), never Python's round(), which rounds halves to even.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class CountedGrade:
    """What the rule needs to know of one grade."""

    points: int | None
    summative: bool
    weight: Decimal = Decimal(1)


@dataclass(frozen=True)
class SuggestionRule:
    """A school's rule; the defaults are the mean of summative grades, weights applied, half up."""

    summative_only: bool = True
    weighted: bool = True

    def counted(self, grade: CountedGrade) -> bool:
        """nv, i/ni and levels have no points and never count; formative work only if chosen."""
        return grade.points is not None and (grade.summative or not self.summative_only)

    def mean(self, grades: Iterable[CountedGrade]) -> Decimal | None:
        """The exact mean of the counted grades, or None if none counts."""
        total = Decimal(0)
        weights = Decimal(0)
        for grade in grades:
            if grade.points is None or not self.counted(grade):
                continue
            weight = grade.weight if self.weighted else Decimal(1)
            total += grade.points * weight
            weights += weight
        return total / weights if weights else None

    def suggest(self, grades: Iterable[CountedGrade]) -> int | None:
        """The suggested points, rounded half up, or None if no grade counts."""
        mean = self.mean(grades)
        if mean is None:
            return None
        return int(mean.quantize(Decimal(1), rounding=ROUND_HALF_UP))


DEFAULT_RULE = SuggestionRule()
