"""Lessons as the diary and the compliance view need them: when, what, who, topic and homework,
and whether the entry came on time, late or not at all."""

from __future__ import annotations

from ezurnals.shared.messaging.lessons_facts import LessonsFacts
from ezurnals.shared.messaging.notices import notice_ddl


class LessonJournal(LessonsFacts):
    """Every part; the diary kept in memory by the API is forgotten when its rows change."""

    extra_ddl = (
        *notice_ddl("lessons", "class", "class_id"),
        *notice_ddl("subjects", "all", None),
    )
