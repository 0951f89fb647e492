"""The lessons service's pure domain: subjects, timetables, lessons and their records, entry
deadlines, consultation notes and safety briefings. No I/O; time is always passed in."""

from ezurnals.lessons.domain.briefing import (
    AcknowledgeBriefing,
    Briefing,
    BriefingType,
    ConductBriefing,
    DefineBriefingType,
    check_briefing_day,
    students_not_briefed,
)
from ezurnals.lessons.domain.calendar import (
    DateRange,
    Holiday,
    SchoolCalendar,
    current_calendar,
)
from ezurnals.lessons.domain.consultation import Consultation, RecordConsultation
from ezurnals.lessons.domain.deadlines import (
    DEFAULT_DEADLINE_RULES,
    DEFAULT_SCHEDULE,
    DeadlineRules,
    DeadlineSchedule,
    consultation_cutoff,
    entry_deadline,
    local_instant,
    minutes_late,
)
from ezurnals.lessons.domain.lesson import (
    CancelLesson,
    CorrectLessonRecord,
    Lesson,
    LessonRecord,
    RecordLesson,
    ScheduleLesson,
    SubstituteTeacher,
)
from ezurnals.lessons.domain.policy import DeadlinePolicy, SetEntryDeadlinePolicy
from ezurnals.lessons.domain.subject import DefineSubject, Subject
from ezurnals.lessons.domain.timetable import (
    ChangeTimetableSlot,
    DefineTimetableSlot,
    ImportTimetable,
    OpenTimetable,
    RemoveTimetableSlot,
    Timetable,
    lesson_id_for,
)
from ezurnals.lessons.domain.timetable_csv import (
    RowError,
    TimetableImportReport,
    read_timetable_csv,
)

__all__ = [
    "DEFAULT_DEADLINE_RULES",
    "DEFAULT_SCHEDULE",
    "AcknowledgeBriefing",
    "Briefing",
    "BriefingType",
    "CancelLesson",
    "ChangeTimetableSlot",
    "ConductBriefing",
    "Consultation",
    "CorrectLessonRecord",
    "DateRange",
    "DeadlinePolicy",
    "DeadlineRules",
    "DeadlineSchedule",
    "DefineBriefingType",
    "DefineSubject",
    "DefineTimetableSlot",
    "Holiday",
    "ImportTimetable",
    "Lesson",
    "LessonRecord",
    "OpenTimetable",
    "RecordConsultation",
    "RecordLesson",
    "RemoveTimetableSlot",
    "RowError",
    "ScheduleLesson",
    "SchoolCalendar",
    "SetEntryDeadlinePolicy",
    "Subject",
    "SubstituteTeacher",
    "Timetable",
    "TimetableImportReport",
    "check_briefing_day",
    "consultation_cutoff",
    "current_calendar",
    "entry_deadline",
    "lesson_id_for",
    "local_instant",
    "minutes_late",
    "read_timetable_csv",
    "students_not_briefed",
]
