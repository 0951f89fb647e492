"""The name of each aggregate's stream: one definition, for handlers and reads alike."""

from __future__ import annotations

from uuid import UUID, uuid5

from ezurnals.lessons.domain.timetable import LESSONS_NAMESPACE


def lesson_stream(lesson_id: UUID) -> str:
    return f"lesson-{lesson_id}"


def policy_stream(school_id: UUID) -> str:
    return f"deadline-policy-{school_id}"


def subject_stream(subject_id: UUID) -> str:
    return f"subject-{subject_id}"


def timetable_stream(timetable_id: UUID) -> str:
    return f"timetable-{timetable_id}"


def consultation_stream(consultation_id: UUID) -> str:
    return f"consultation-{consultation_id}"


def briefing_type_stream(briefing_type_id: UUID) -> str:
    return f"briefing-type-{briefing_type_id}"


def briefing_stream(briefing_id: UUID) -> str:
    return f"briefing-{briefing_id}"


def timetable_id_for(class_id: UUID, school_year: str) -> UUID:
    """One timetable per class and school year, so opening it twice finds the same one."""
    return uuid5(LESSONS_NAMESPACE, f"timetable/{class_id}/{school_year}")
