"""The app's words in Latvian (the default) and English, and dates as each language writes them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, tzinfo

LANGUAGES = ("lv", "en")
DEFAULT_LANGUAGE = "lv"
LANGUAGE_COOKIE = "ez_lang"

MESSAGES: dict[str, dict[str, str]] = {
    "lv": {
        "app": "e-žurnāls",
        "skip": "Pāriet uz saturu",
        "sign_in": "Pieteikties",
        "sign_out": "Iziet",
        "username": "Lietotājvārds",
        "password": "Parole",
        "sign_in_failed": "Nepareizs lietotājvārds vai parole.",
        "other_language": "English",
        "nav": "Galvenā izvēlne",
        "my_lessons": "Manas stundas",
        "diary": "Dienasgrāmata",
        "excuses": "Attaisnojumi",
        "lessons_of": "Stundas",
        "previous_day": "Iepriekšējā diena",
        "next_day": "Nākamā diena",
        "today": "Šodien",
        "no_lessons": "Šajā dienā stundu nav.",
        "open_lessons": "Neaizpildītās stundas",
        "no_open_lessons": "Visas stundas ir aizpildītas.",
        "period": "Stunda",
        "time": "Laiks",
        "class": "Klase",
        "subject": "Priekšmets",
        "topic": "Tēma",
        "homework": "Mājasdarbs",
        "no_homework": "Nav mājasdarba",
        "due_date": "Līdz",
        "deadline": "Ierakstīšanas termiņš",
        "recorded": "Ierakstīta",
        "recorded_late": "Ierakstīta ar nokavējumu",
        "minutes_late": "min nokavētas",
        "not_recorded": "Nav ierakstīta",
        "overdue": "Termiņš ir pagājis",
        "in_time": "Termiņš vēl nav pagājis",
        "cancelled": "Atcelta",
        "open": "Atvērt",
        "attendance": "Apmeklējums",
        "tap_absent": "Atzīmējiet katru skolēnu, kurš nav stundā.",
        "absent": "Nav",
        "present": "Ir",
        "all_present": "Visi klātesoši",
        "save": "Saglabāt",
        "saved": "Saglabāts.",
        "not_saved": "Nav saglabāts",
        "attendance_taken": "Apmeklējums ir ierakstīts",
        "attendance_late": "ierakstīts pēc termiņa",
        "attendance_unavailable": "Apmeklējumu vēl nevar ierakstīt: pamēģiniet pēc brīža.",
        "lesson": "Stunda",
        "student": "Skolēns",
        "students": "Skolēni",
        "week": "Nedēļa",
        "previous_week": "Iepriekšējā nedēļa",
        "next_week": "Nākamā nedēļa",
        "this_week": "Šī nedēļa",
        "grades": "Vērtējumi",
        "other_grades": "Citi vērtējumi",
        "mark": "Kavējums",
        "late_arrival": "Nokavēja",
        "excuse_excused": "Attaisnots",
        "excuse_pending": "Gaida lēmumu",
        "excuse_rejected": "Noraidīts",
        "excuse_unexcused": "Neattaisnots",
        "submit_excuse": "Iesniegt attaisnojumu",
        "excuse_which": "Kuras kavētās stundas",
        "no_absences_to_excuse": "Šajā nedēļā nav neattaisnotu kavējumu.",
        "reason": "Iemesls",
        "document_type": "Dokuments",
        "doc_parent_note": "Vecāku zīme",
        "doc_doctor_certificate": "Ārsta izziņa",
        "doc_school_event": "Skolas pasākums",
        "doc_other": "Cits",
        "attachment": "Pielikums (PDF, JPEG vai PNG, līdz 5 MB)",
        "submit": "Iesniegt",
        "excuse_submitted": "Attaisnojums ir iesniegts.",
        "excuse_requests": "Iesniegtie attaisnojumi",
        "no_excuse_requests": "Attaisnojumu nav.",
        "status_submitted": "Gaida lēmumu",
        "status_accepted": "Pieņemts",
        "status_rejected": "Noraidīts",
        "submitted_at": "Iesniegts",
        "covers": "Attiecas uz",
        "lessons_count": "stundām",
        "accept": "Pieņemt",
        "reject": "Noraidīt",
        "rejection_reason": "Noraidīšanas iemesls",
        "waiting_requests": "Gaida lēmumu",
        "decided_requests": "Izlemtie",
        "accepted": "Attaisnojums pieņemts.",
        "rejected": "Attaisnojums noraidīts.",
        "open_attachment": "Skatīt pielikumu",
        "child": "Bērns",
        "no_children": "Jums nav piesaistītu skolēnu.",
        "error": "Kļūda",
        "not_found": "Nav atrasts.",
        "unavailable": "Pakalpojums pašlaik nav pieejams. Pamēģiniet vēlāk.",
        "home": "Sākums",
        "welcome": "Laipni lūdzam e-žurnālā",
        "choose": "Izvēlieties",
    },
    "en": {
        "app": "e-journal",
        "skip": "Skip to content",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "username": "Username",
        "password": "Password",
        "sign_in_failed": "Wrong username or password.",
        "other_language": "Latviski",
        "nav": "Main menu",
        "my_lessons": "My lessons",
        "diary": "Diary",
        "excuses": "Excuses",
        "lessons_of": "Lessons",
        "previous_day": "Previous day",
        "next_day": "Next day",
        "today": "Today",
        "no_lessons": "No lessons on this day.",
        "open_lessons": "Lessons not yet recorded",
        "no_open_lessons": "Every lesson is recorded.",
        "period": "Period",
        "time": "Time",
        "class": "Class",
        "subject": "Subject",
        "topic": "Topic",
        "homework": "Homework",
        "no_homework": "No homework",
        "due_date": "Due",
        "deadline": "Entry deadline",
        "recorded": "Recorded",
        "recorded_late": "Recorded late",
        "minutes_late": "min late",
        "not_recorded": "Not recorded",
        "overdue": "The deadline has passed",
        "in_time": "The deadline has not passed yet",
        "cancelled": "Cancelled",
        "open": "Open",
        "attendance": "Attendance",
        "tap_absent": "Tick every student who is not in the lesson.",
        "absent": "Absent",
        "present": "Present",
        "all_present": "All present",
        "save": "Save",
        "saved": "Saved.",
        "not_saved": "Not saved",
        "attendance_taken": "Attendance is recorded",
        "attendance_late": "recorded after the deadline",
        "attendance_unavailable": "Attendance cannot be recorded yet: try again in a moment.",
        "lesson": "Lesson",
        "student": "Student",
        "students": "Students",
        "week": "Week",
        "previous_week": "Previous week",
        "next_week": "Next week",
        "this_week": "This week",
        "grades": "Grades",
        "other_grades": "Other grades",
        "mark": "Absence",
        "late_arrival": "Late",
        "excuse_excused": "Excused",
        "excuse_pending": "Awaiting decision",
        "excuse_rejected": "Rejected",
        "excuse_unexcused": "Unexcused",
        "submit_excuse": "Submit an excuse",
        "excuse_which": "Which missed lessons",
        "no_absences_to_excuse": "No unexcused absences this week.",
        "reason": "Reason",
        "document_type": "Document",
        "doc_parent_note": "Parent's note",
        "doc_doctor_certificate": "Doctor's certificate",
        "doc_school_event": "School event",
        "doc_other": "Other",
        "attachment": "Attachment (PDF, JPEG or PNG, up to 5 MB)",
        "submit": "Submit",
        "excuse_submitted": "The excuse has been submitted.",
        "excuse_requests": "Submitted excuses",
        "no_excuse_requests": "No excuses.",
        "status_submitted": "Awaiting decision",
        "status_accepted": "Accepted",
        "status_rejected": "Rejected",
        "submitted_at": "Submitted",
        "covers": "Covers",
        "lessons_count": "lessons",
        "accept": "Accept",
        "reject": "Reject",
        "rejection_reason": "Reason for rejecting",
        "waiting_requests": "Awaiting decision",
        "decided_requests": "Decided",
        "accepted": "Excuse accepted.",
        "rejected": "Excuse rejected.",
        "open_attachment": "View attachment",
        "child": "Child",
        "no_children": "No students are linked to you.",
        "error": "Error",
        "not_found": "Not found.",
        "unavailable": "The service is unavailable right now. Please try later.",
        "home": "Home",
        "welcome": "Welcome to the e-journal",
        "choose": "Choose",
    },
}

WEEKDAYS = {
    "lv": (
        "pirmdiena",
        "otrdiena",
        "trešdiena",
        "ceturtdiena",
        "piektdiena",
        "sestdiena",
        "svētdiena",
    ),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def translator(language: str) -> Callable[[str], str]:
    """``t("key")`` in templates; a missing key shows itself so it is noticed, not hidden."""
    words = MESSAGES[language]
    return lambda key: words.get(key, key)


def format_date(value: date | str | None, language: str, *, weekday: bool = False) -> str:
    """23.11.2026 (Latvian) or 2026-11-23 (English), optionally with the weekday's name."""
    if value is None:
        return ""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    text = day.strftime("%d.%m.%Y") if language == "lv" else day.isoformat()
    if weekday:
        return f"{WEEKDAYS[language][day.weekday()]}, {text}"
    return text


def format_time(value: time | str | None) -> str:
    if value is None:
        return ""
    return (time.fromisoformat(value) if isinstance(value, str) else value).strftime("%H:%M")


def format_instant(value: datetime | str | None, language: str, zone: tzinfo) -> str:
    """An instant in the school's time zone, as date and hour:minute."""
    if value is None:
        return ""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = at.astimezone(zone)
    return f"{format_date(local.date(), language)} {local.strftime('%H:%M')}"
