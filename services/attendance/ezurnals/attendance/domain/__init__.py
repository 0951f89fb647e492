"""The attendance domain, pure: lesson attendance, excuse requests, a student's absences, the
school's code table and excuse policy, who may do what, attachment checks and views.

No I/O and no clock: handlers pass in ``now``, the lesson's context, the relationships snapshot
and the policy in force.
"""

from ezurnals.attendance.domain.access import Relationships
from ezurnals.attendance.domain.attachments import MAX_ATTACHMENT_BYTES, check_attachment
from ezurnals.attendance.domain.daily_report import (
    DEFAULT_DAILY_REPORT_AT,
    DailyReportScheduled,
    ScheduleDailyReport,
    report_is_due,
)
from ezurnals.attendance.domain.excuses import (
    AcceptExcuse,
    Coverage,
    ExcuseRequest,
    RejectExcuse,
    SubmitExcuse,
)
from ezurnals.attendance.domain.lesson_attendance import (
    CorrectMark,
    LessonAttendance,
    LessonContext,
    MarkEntry,
    TakeAttendance,
    absence_id_for,
)
from ezurnals.attendance.domain.policy import (
    DEFAULT_CODES,
    DEFAULT_EXCUSE_POLICY,
    AbsenceCodeTable,
    AttendanceSettings,
    DefineAbsenceCodes,
    ExcusePolicy,
    SetExcusePolicy,
)
from ezurnals.attendance.domain.student_absences import (
    Absence,
    ExcuseAbsences,
    StudentAbsences,
)
from ezurnals.attendance.domain.views import (
    ClassOfDay,
    DailyAttendanceRow,
    ExcuseRecord,
    MonthlyAbsences,
    UnexcusedAbsence,
    daily_attendance,
    daily_attendance_csv,
    monthly_absences,
    unexcused_absences,
)

__all__ = [
    "DEFAULT_CODES",
    "DEFAULT_DAILY_REPORT_AT",
    "DEFAULT_EXCUSE_POLICY",
    "MAX_ATTACHMENT_BYTES",
    "Absence",
    "AbsenceCodeTable",
    "AcceptExcuse",
    "AttendanceSettings",
    "ClassOfDay",
    "CorrectMark",
    "Coverage",
    "DailyAttendanceRow",
    "DailyReportScheduled",
    "DefineAbsenceCodes",
    "ExcuseAbsences",
    "ExcusePolicy",
    "ExcuseRecord",
    "ExcuseRequest",
    "LessonAttendance",
    "LessonContext",
    "MarkEntry",
    "MonthlyAbsences",
    "RejectExcuse",
    "Relationships",
    "ScheduleDailyReport",
    "SetExcusePolicy",
    "StudentAbsences",
    "SubmitExcuse",
    "TakeAttendance",
    "UnexcusedAbsence",
    "absence_id_for",
    "check_attachment",
    "daily_attendance",
    "daily_attendance_csv",
    "monthly_absences",
    "report_is_due",
    "unexcused_absences",
]
