"""A school's grading policy: the scale of each grade band or subject, period-grade deadlines, and
whether it gives semester grades.

One stream per school. Where the school has defined nothing, the defaults apply: learning levels
for grades 1–3 and the 10-point scale from grade 4 on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from pydantic import Field

from ezurnals.grading.domain.scales import (
    DEFAULT_LEVEL_BANDS,
    DEFAULT_PERCENT_TABLE,
    LEARNING_LEVELS,
    LOWEST_PASS,
    TEN_POINT,
    GradeScale,
    check_level_bands,
    check_percent_table,
)
from ezurnals.grading.domain.semester_grades import (
    DEFAULT_SEMESTER_GRADES_USED,
    SEMESTER_PERIODS,
    SemesterGradesUsageSet,
    SetSemesterGradesUsage,
)
from ezurnals.shared.contracts.base import IntegrationEvent
from ezurnals.shared.contracts.grading import (
    GradeBand,
    GradeScaleDefined,
    LevelBand,
    PercentBand,
    PeriodGradeDeadlineSet,
    PeriodKind,
    ScaleKind,
)
from ezurnals.shared.contracts.school_year import SchoolYearInput, year_span
from ezurnals.shared.domain import Aggregate, Command, Invalid

#: Scales a school uses until it defines its own: (band, scale).
DEFAULT_SCALES: tuple[tuple[GradeBand, GradeScale], ...] = (
    (GradeBand(first=1, last=3), LEARNING_LEVELS),
    (GradeBand(first=4, last=12), TEN_POINT),
)


_STREAM_PREFIX = "grading-policy:"


def policy_stream_id(school_id: UUID) -> str:
    return f"{_STREAM_PREFIX}{school_id}"


class DefineGradeScale(Command):
    scale_id: UUID
    kind: ScaleKind
    band: GradeBand
    subject_id: UUID | None = None
    lowest_pass: int = Field(default=LOWEST_PASS, ge=1, le=10)
    percent_table: tuple[PercentBand, ...] = DEFAULT_PERCENT_TABLE
    level_bands: tuple[LevelBand, ...] = DEFAULT_LEVEL_BANDS


class SetPeriodGradeDeadline(Command):
    school_year: SchoolYearInput
    period: PeriodKind
    due_on: date
    band: GradeBand | None = None


def scale_of(event: GradeScaleDefined) -> GradeScale:
    """The value object a definition describes; tables the kind does not use keep their defaults."""
    return GradeScale(
        event.kind,
        lowest_pass=event.lowest_pass,
        percent_table=event.percent_table or DEFAULT_PERCENT_TABLE,
        level_bands=event.level_bands or DEFAULT_LEVEL_BANDS,
    )


Deadlines = Mapping[tuple[str, PeriodKind, GradeBand | None], date]


@dataclass(frozen=True)
class GradingPolicy:
    """A school's policy in force: its scales by id (in the order first defined), its
    deadlines by school year, period and grade band, and whether it gives semester grades. The
    aggregate below decides changes to it; the grade views read it from the policy's views."""

    scales: Mapping[UUID, GradeScaleDefined] = field(default_factory=dict)
    deadlines: Deadlines = field(default_factory=dict)
    semester_grades_used: bool = DEFAULT_SEMESTER_GRADES_USED

    def gives(self, period: PeriodKind) -> bool:
        """Whether the school gives period grades for ``period`` at all."""
        return self.semester_grades_used or period not in SEMESTER_PERIODS

    def require_given(self, period: PeriodKind) -> None:
        if not self.gives(period):
            raise Invalid(
                f"this school gives no semester grades ({period.value})",
                field="period",
                details={"semester_grades_used": False},
            )

    def scale_for(self, grade_level: int, subject_id: UUID) -> GradeScale:
        """A subject's own scale beats the band's general one, which beats the defaults."""
        covering = [s for s in self.scales.values() if s.band.covers(grade_level)]
        for wanted in (subject_id, None):
            for definition in covering:
                if definition.subject_id == wanted:
                    return scale_of(definition)
        return next(scale for band, scale in DEFAULT_SCALES if band.covers(grade_level))

    def deadline_for(self, school_year: str, period: PeriodKind, grade_level: int) -> date | None:
        """A grade band's own deadline beats the school-wide one."""
        for (year, kind, band), due_on in self.deadlines.items():
            if (
                year == school_year
                and kind is period
                and band is not None
                and band.covers(grade_level)
            ):
                return due_on
        return self.deadlines.get((school_year, period, None))


class SchoolGradingPolicy(Aggregate[IntegrationEvent]):
    """One school's scales and deadlines; the school is read from the stream id."""

    def __init__(self, stream_id: str) -> None:
        if not stream_id.startswith(_STREAM_PREFIX):
            raise ValueError(f"not a grading-policy stream: {stream_id!r}")
        super().__init__(stream_id)
        self.school_id = UUID(stream_id.removeprefix(_STREAM_PREFIX))
        self.scales: dict[UUID, GradeScaleDefined] = {}
        self.deadlines: dict[tuple[str, PeriodKind, GradeBand | None], date] = {}
        self.semester_grades_used = DEFAULT_SEMESTER_GRADES_USED

    @classmethod
    def for_school(cls, school_id: UUID) -> SchoolGradingPolicy:
        return cls(policy_stream_id(school_id))

    def define_scale(
        self, cmd: DefineGradeScale, *, by: UUID, now: datetime
    ) -> list[IntegrationEvent]:
        """Define or redefine a scale; two scales may not claim the same grade and subject."""
        if cmd.kind is ScaleKind.PERCENT:
            check_percent_table(cmd.percent_table)
        if cmd.kind is ScaleKind.LEVELS:
            check_level_bands(cmd.level_bands)
        for other in self.scales.values():
            if (
                other.scale_id != cmd.scale_id
                and other.subject_id == cmd.subject_id
                and other.band.overlaps(cmd.band)
            ):
                raise Invalid(
                    f"grades {other.band.first}–{other.band.last} already have a scale",
                    field="band",
                    details={"scale_id": str(other.scale_id)},
                )
        return [
            GradeScaleDefined(
                scale_id=cmd.scale_id,
                school_id=self.school_id,
                kind=cmd.kind,
                band=cmd.band,
                subject_id=cmd.subject_id,
                lowest_pass=cmd.lowest_pass,
                percent_table=cmd.percent_table if cmd.kind is ScaleKind.PERCENT else (),
                level_bands=cmd.level_bands if cmd.kind is ScaleKind.LEVELS else (),
                defined_by=by,
                defined_at=now,
            )
        ]

    def set_deadline(
        self, cmd: SetPeriodGradeDeadline, *, by: UUID, now: datetime
    ) -> list[IntegrationEvent]:
        """Set or move a deadline; band-specific deadlines of one period may not overlap, and
        a deadline falls within its school year (1 July of its first year to 31 August after)."""
        try:
            first, last = year_span(cmd.school_year)
        except ValueError:
            raise Invalid(f"{cmd.school_year} is no school year", field="school_year") from None
        if not first <= cmd.due_on <= last:
            raise Invalid(
                f"due_on must lie within the school year {cmd.school_year}: "
                f"{first.isoformat()} to {last.isoformat()}",
                field="due_on",
                code="outside_school_year",
                details={"first_day": first.isoformat(), "last_day": last.isoformat()},
            )
        for year, period, band in self.deadlines:
            if (
                year == cmd.school_year
                and period is cmd.period
                and band is not None
                and cmd.band is not None
                and band != cmd.band
                and band.overlaps(cmd.band)
            ):
                raise Invalid(
                    f"grades {band.first}–{band.last} already have a deadline for this period",
                    field="band",
                )
        return [
            PeriodGradeDeadlineSet(
                school_id=self.school_id,
                school_year=cmd.school_year,
                period=cmd.period,
                due_on=cmd.due_on,
                band=cmd.band,
                set_by=by,
                set_at=now,
            )
        ]

    def set_semester_grades_usage(
        self, cmd: SetSemesterGradesUsage, *, by: UUID, now: datetime
    ) -> list[IntegrationEvent]:
        """Nothing to record when the school already has this setting."""
        if cmd.used is self.semester_grades_used:
            return []
        return [
            SemesterGradesUsageSet(school_id=self.school_id, used=cmd.used, set_by=by, set_at=now)
        ]

    @property
    def in_force(self) -> GradingPolicy:
        """The policy as its rules read it, for decisions and reads alike."""
        return GradingPolicy(self.scales, self.deadlines, self.semester_grades_used)

    def gives(self, period: PeriodKind) -> bool:
        return self.in_force.gives(period)

    def require_given(self, period: PeriodKind) -> None:
        self.in_force.require_given(period)

    def scale_for(self, grade_level: int, subject_id: UUID) -> GradeScale:
        return self.in_force.scale_for(grade_level, subject_id)

    def deadline_for(self, school_year: str, period: PeriodKind, grade_level: int) -> date | None:
        return self.in_force.deadline_for(school_year, period, grade_level)

    def when_GradeScaleDefined(self, event: GradeScaleDefined) -> None:
        self.scales[event.scale_id] = event

    def when_SemesterGradesUsageSet(self, event: SemesterGradesUsageSet) -> None:
        self.semester_grades_used = event.used

    def when_PeriodGradeDeadlineSet(self, event: PeriodGradeDeadlineSet) -> None:
        self.deadlines[(event.school_year, event.period, event.band)] = event.due_on
