"""A school's attendance settings: its absence-code table, its excuse policy and the time of
its daily attendance report.

Both are per-school data with defaults (the only place the defaults live). The excuse policy is
versioned by effective date (seed rules 11–12), so a past month is judged by the policy then in
force; the code table is replaced whole, and marks keep a snapshot of what their code meant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ezurnals.attendance.domain.access import Relationships, require_administration
from ezurnals.attendance.domain.daily_report import (
    DEFAULT_DAILY_REPORT_AT,
    DailyReportScheduled,
    ScheduleDailyReport,
)
from ezurnals.shared.contracts.attendance import (
    AbsenceCodeEntry,
    AbsenceCodesDefined,
    AttendanceEvent,
    ExcusePolicySet,
)
from ezurnals.shared.domain import Aggregate, Command, Invalid, require_policy_start

T = TypeVar("T")

#: A threshold counts a month's unexcused lessons; a month has at most some 23 school days of up
#: to 9 lessons, so a higher threshold could never be reached.
MAX_UNEXCUSED_THRESHOLD = 200


class AbsenceCodeTable(BaseModel):
    """The codes a teacher may mark, and which ones a bare "absent" or "late" mark means."""

    model_config = ConfigDict(frozen=True)

    codes: tuple[AbsenceCodeEntry, ...]
    default_absent_code: str
    default_late_code: str

    def entry(self, code: str) -> AbsenceCodeEntry | None:
        return next((e for e in self.codes if e.code == code), None)

    @property
    def default_absent(self) -> AbsenceCodeEntry:
        entry = self.entry(self.default_absent_code)
        assert entry is not None, "checked when the table was defined"
        return entry

    @property
    def default_late(self) -> AbsenceCodeEntry:
        entry = self.entry(self.default_late_code)
        assert entry is not None, "checked when the table was defined"
        return entry


DEFAULT_CODES = AbsenceCodeTable(
    codes=(
        AbsenceCodeEntry(code="n", meaning="nav ieradies (nav attaisnots)", counts_as_absence=True),
        AbsenceCodeEntry(
            code="ns", meaning="slimības dēļ (attaisnots)", counts_as_absence=True, excused=True
        ),
        AbsenceCodeEntry(
            code="nc", meaning="cita iemesla dēļ (attaisnots)", counts_as_absence=True, excused=True
        ),
        AbsenceCodeEntry(code="nk", meaning="nokavējās", counts_as_absence=False, is_late=True),
    ),
    default_absent_code="n",
    default_late_code="nk",
)


class ExcusePolicy(BaseModel):
    """How long a parent's note may cover, and at which monthly counts of unexcused lessons the
    class teacher and guardians are told."""

    model_config = ConfigDict(frozen=True)

    parent_note_max_days: int = Field(default=3, ge=1)
    unexcused_thresholds: tuple[int, ...] = (10, 20)


DEFAULT_EXCUSE_POLICY = ExcusePolicy()


class DefineAbsenceCodes(Command):
    school_id: UUID
    codes: tuple[AbsenceCodeEntry, ...]
    default_absent_code: str
    default_late_code: str


class SetExcusePolicy(Command):
    school_id: UUID
    parent_note_max_days: int
    unexcused_thresholds: tuple[int, ...]
    effective_from: dt.date


def check_code_table(cmd: DefineAbsenceCodes) -> AbsenceCodeTable:
    """The table as given, or Invalid naming what is wrong with it."""
    seen: set[str] = set()
    for i, entry in enumerate(cmd.codes):
        if entry.code in seen:
            raise Invalid(f"code {entry.code!r} appears twice", field=f"codes[{i}].code")
        if entry.is_late and entry.counts_as_absence:
            raise Invalid(
                f"code {entry.code!r}: a late arrival is not an absence", field=f"codes[{i}]"
            )
        seen.add(entry.code)
    table = AbsenceCodeTable(
        codes=cmd.codes,
        default_absent_code=cmd.default_absent_code,
        default_late_code=cmd.default_late_code,
    )
    absent = table.entry(cmd.default_absent_code)
    if absent is None or not absent.counts_as_absence:
        raise Invalid(
            "the default absent code must be an absence code in the table",
            field="default_absent_code",
        )
    late = table.entry(cmd.default_late_code)
    if late is None or not late.is_late:
        raise Invalid(
            "the default late code must be a late code in the table", field="default_late_code"
        )
    return table


def check_thresholds(thresholds: Sequence[int]) -> None:
    if not thresholds:
        raise Invalid("at least one threshold is needed", field="unexcused_thresholds")
    for i, threshold in enumerate(thresholds):
        if not 1 <= threshold <= MAX_UNEXCUSED_THRESHOLD:
            raise Invalid(
                f"a threshold must be between 1 and {MAX_UNEXCUSED_THRESHOLD} unexcused lessons "
                "a month",
                field=f"unexcused_thresholds[{i}]",
                code="out_of_range",
                details={"min": 1, "max": MAX_UNEXCUSED_THRESHOLD},
            )
    if list(thresholds) != sorted(set(thresholds)):
        raise Invalid("thresholds must be distinct and ascending", field="unexcused_thresholds")


class AttendanceSettings(Aggregate[AttendanceEvent]):
    """One per school: the code table, the excuse policy's versions and the daily report's
    times."""

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.codes = DEFAULT_CODES
        self._policies: dict[dt.date, ExcusePolicy] = {}
        self._report_times: dict[dt.date, dt.time] = {}

    def define_codes(self, cmd: DefineAbsenceCodes, *, by: Relationships) -> list[AttendanceEvent]:
        require_administration(by)
        table = check_code_table(cmd)
        return [
            AbsenceCodesDefined(
                school_id=cmd.school_id,
                codes=table.codes,
                default_absent_code=table.default_absent_code,
                default_late_code=table.default_late_code,
            )
        ]

    def set_excuse_policy(
        self, cmd: SetExcusePolicy, *, by: Relationships, today: dt.date
    ) -> list[AttendanceEvent]:
        """A version may start on an earlier day (the school's own records say when it did),
        never more than a year ahead."""
        require_administration(by)
        require_policy_start(cmd.effective_from, today, backdating=True)
        if cmd.parent_note_max_days < 1:
            raise Invalid(
                "a parent's note must cover at least one day", field="parent_note_max_days"
            )
        check_thresholds(cmd.unexcused_thresholds)
        return [
            ExcusePolicySet(
                school_id=cmd.school_id,
                parent_note_max_days=cmd.parent_note_max_days,
                unexcused_thresholds=cmd.unexcused_thresholds,
                effective_from=cmd.effective_from,
            )
        ]

    def schedule_daily_report(
        self, cmd: ScheduleDailyReport, *, by: Relationships, today: dt.date
    ) -> list[AttendanceEvent]:
        require_administration(by)
        require_policy_start(cmd.effective_from, today, backdating=True)
        return [
            DailyReportScheduled(
                school_id=cmd.school_id,
                at=cmd.at.replace(tzinfo=None, second=0, microsecond=0),
                effective_from=cmd.effective_from,
            )
        ]

    def policy_on(self, day: dt.date) -> ExcusePolicy:
        """The policy in force on ``day``: the newest version that took effect by then."""
        return _in_force(self._policies, day, DEFAULT_EXCUSE_POLICY)

    def daily_report_at(self, day: dt.date) -> dt.time:
        """The school time at which ``day``'s daily report is made."""
        return _in_force(self._report_times, day, DEFAULT_DAILY_REPORT_AT)

    def when_AbsenceCodesDefined(self, event: AbsenceCodesDefined) -> None:
        self.codes = AbsenceCodeTable(
            codes=event.codes,
            default_absent_code=event.default_absent_code,
            default_late_code=event.default_late_code,
        )

    def when_DailyReportScheduled(self, event: DailyReportScheduled) -> None:
        self._report_times[event.effective_from] = event.at

    def when_ExcusePolicySet(self, event: ExcusePolicySet) -> None:
        self._policies[event.effective_from] = ExcusePolicy(
            parent_note_max_days=event.parent_note_max_days,
            unexcused_thresholds=event.unexcused_thresholds,
        )


def _in_force(versions: dict[dt.date, T], day: dt.date, default: T) -> T:
    """The newest version that took effect by ``day``, else ``default``."""
    started = [d for d in versions if d <= day]
    return versions[max(started)] if started else default
