"""Safety briefings (rule 3): types, a briefing for a class, acknowledgements, who is missing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from ezurnals.lessons.domain import (
    AcknowledgeBriefing,
    Briefing,
    BriefingType,
    ConductBriefing,
    DateRange,
    DefineBriefingType,
    SchoolCalendar,
    current_calendar,
    students_not_briefed,
)
from ezurnals.shared.contracts.lessons import (
    AcknowledgedBy,
    BriefingAcknowledged,
    BriefingConducted,
    BriefingTypeDefined,
)
from ezurnals.shared.domain import Conflict, Forbidden, Invalid, NotFound

Clock = Callable[..., datetime]
FIRE_SAFETY = uuid4()
DAY = date(2025, 9, 2)


def conducted(students: tuple[UUID, ...], type_id: UUID = FIRE_SAFETY) -> Briefing:
    briefing = Briefing("b")
    cmd = ConductBriefing(
        briefing_id=uuid4(),
        school_id=uuid4(),
        briefing_type_id=type_id,
        class_id=uuid4(),
        student_ids=students,
        conducted_on=DAY,
        conducted_by=uuid4(),
        topic="Rīcība ugunsgrēka gadījumā",
    )
    now = datetime(2025, 9, 2, 12, 0, tzinfo=ZoneInfo("Europe/Riga"))
    return briefing.applied(briefing.conduct(cmd, now, ZoneInfo("Europe/Riga")))


def acknowledge(briefing: Briefing, student: UUID, how: AcknowledgedBy, by: UUID) -> None:
    briefing.applied(
        briefing.acknowledge(AcknowledgeBriefing(student_id=student, how=how, recorded_by=by))
    )


def test_a_briefing_type_is_defined_and_renamed_once() -> None:
    # given a school's new briefing type
    school = uuid4()
    cmd = DefineBriefingType(
        briefing_type_id=FIRE_SAFETY, school_id=school, name_key="ugunsdrosiba", name="Ugunsdrošība"
    )
    briefing_type = BriefingType("t")
    # when it is defined, defined again, renamed, and claimed by another school
    first = briefing_type.define(cmd)
    briefing_type.applied(first)
    again = briefing_type.define(cmd)
    renamed = briefing_type.define(cmd.model_copy(update={"name": "Ugunsdrošības instruktāža"}))
    # then the repeat is no event, the rename is one, and another school is told the id is
    # taken
    assert [type(e) for e in first] == [BriefingTypeDefined]
    assert again == []
    assert len(renamed) == 1
    with pytest.raises(Conflict) as err:
        briefing_type.define(cmd.model_copy(update={"school_id": uuid4()}))
    assert (err.value.code, err.value.field) == ("id_in_use", "briefing_type_id")
    assert "school" not in err.value.message, "nothing said of the other holder"


def test_a_briefing_lists_its_students_once_and_nobody_has_acknowledged_yet() -> None:
    # given three students, one named twice
    a, b, c = uuid4(), uuid4(), uuid4()
    # when the briefing is recorded
    briefing = conducted((a, b, a, c))
    # then each student is listed once, and all are still to acknowledge
    assert isinstance(briefing.conducted, BriefingConducted)
    assert briefing.conducted.student_ids == (a, b, c)
    assert briefing.not_acknowledged == (a, b, c)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"student_ids": ()}, "student_ids"),
        ({"topic": " "}, "topic"),
        ({"conducted_on": date(2025, 9, 3)}, "conducted_on"),
    ],
)
def test_a_briefing_needs_students_a_topic_and_a_past_day(
    riga: ZoneInfo, at_riga: Clock, changes: dict[str, object], field: str
) -> None:
    # given a briefing without students, without a topic, or dated tomorrow
    fields: dict[str, object] = {
        "briefing_id": uuid4(),
        "school_id": uuid4(),
        "briefing_type_id": FIRE_SAFETY,
        "student_ids": (uuid4(),),
        "conducted_on": DAY,
        "conducted_by": uuid4(),
        "topic": "Ceļu satiksmes drošība",
    }
    cmd = ConductBriefing.model_validate(fields | changes)
    # when it is recorded
    with pytest.raises(Invalid) as err:
        Briefing("b").conduct(cmd, at_riga(DAY, 23, 59), riga)
    # then the field is named
    assert err.value.field == field


def test_acknowledgements_on_paper_and_in_the_app() -> None:
    # given a briefing of three students
    a, b, c = uuid4(), uuid4(), uuid4()
    briefing = conducted((a, b, c))
    teacher = uuid4()
    # when the teacher records a's signature and b confirms in the app
    signed = briefing.acknowledge(
        AcknowledgeBriefing(student_id=a, how=AcknowledgedBy.PAPER, recorded_by=teacher)
    )
    briefing.applied(signed)
    acknowledge(briefing, b, AcknowledgedBy.APP, b)
    # then only c is still missing
    assert isinstance(signed[0], BriefingAcknowledged) and signed[0].recorded_by == teacher
    assert briefing.acknowledged == {a: AcknowledgedBy.PAPER, b: AcknowledgedBy.APP}
    assert briefing.not_acknowledged == (c,)
    # and a second acknowledgement of a is no event
    assert (
        briefing.acknowledge(
            AcknowledgeBriefing(student_id=a, how=AcknowledgedBy.APP, recorded_by=a)
        )
        == []
    )


def test_nobody_acknowledges_in_the_app_for_a_student() -> None:
    # given a briefing
    a = uuid4()
    briefing = conducted((a,))
    # when a teacher confirms "in the app" for the student
    with pytest.raises(Forbidden):
        acknowledge(briefing, a, AcknowledgedBy.APP, uuid4())
    # then the student is still missing
    assert briefing.not_acknowledged == (a,)


def test_only_the_briefing_students_acknowledge() -> None:
    # given a briefing, and one that was never recorded
    briefing = conducted((uuid4(),))
    stranger = uuid4()
    # when a student outside it acknowledges
    with pytest.raises(Invalid) as err:
        acknowledge(briefing, stranger, AcknowledgedBy.PAPER, uuid4())
    with pytest.raises(NotFound):
        acknowledge(Briefing("none"), stranger, AcknowledgedBy.PAPER, uuid4())
    # then it is refused naming the student
    assert err.value.field == "student_id"


def test_who_has_not_been_briefed_of_a_type_yet() -> None:
    # given a class of four; a fire-safety briefing acknowledged by a and b,
    # another fire-safety briefing acknowledged by c, and a road-safety briefing for d
    a, b, c, d = uuid4(), uuid4(), uuid4(), uuid4()
    first = conducted((a, b, c))
    for student in (a, b):
        acknowledge(first, student, AcknowledgedBy.PAPER, uuid4())
    second = conducted((c, d))
    acknowledge(second, c, AcknowledgedBy.APP, c)
    road = conducted((d,), type_id=uuid4())
    acknowledge(road, d, AcknowledgedBy.PAPER, uuid4())
    # when the class teacher asks who has no fire-safety briefing
    missing = students_not_briefed([a, b, c, d], [first, second, road], FIRE_SAFETY)
    # then it is d, who was present at one but never acknowledged it
    assert missing == [d]


@pytest.mark.parametrize(
    ("day", "words"),
    [(date(2021, 9, 2), "2025-09-01 to 2026-06-19"), (date(2025, 9, 3), "2025-09-02 or earlier")],
)
def test_a_briefing_outside_its_school_year_or_yet_to_come_is_refused_naming_the_range(
    riga: ZoneInfo, at_riga: Clock, calendar_2025_26: SchoolCalendar, day: date, words: str
) -> None:
    # given a briefing dated 2021, or tomorrow
    cmd = ConductBriefing(
        briefing_id=uuid4(),
        school_id=uuid4(),
        briefing_type_id=FIRE_SAFETY,
        student_ids=(uuid4(),),
        conducted_on=day,
        conducted_by=uuid4(),
        topic="Ceļu satiksmes drošība",
    )
    # when it is recorded in the 2025/26 year
    with pytest.raises(Invalid) as err:
        Briefing("b").conduct(cmd, at_riga(DAY, 12, 0), riga, calendar_2025_26)
    # then the date and its allowed range are named
    assert err.value.field == "conducted_on"
    assert words in err.value.message


def test_the_current_calendar_is_the_latest_school_year_that_has_begun(
    calendar_2025_26: SchoolCalendar,
) -> None:
    next_year = calendar_2025_26.model_copy(
        update={
            "school_year": "2026/27",
            "semesters": (DateRange(first_day=date(2026, 9, 1), last_day=date(2027, 5, 28)),),
            "grade_end_dates": {},
        }
    )

    assert current_calendar([calendar_2025_26, next_year], date(2026, 7, 1)) == calendar_2025_26
    assert current_calendar([calendar_2025_26, next_year], date(2026, 9, 1)) == next_year
    assert current_calendar([next_year], date(2026, 7, 1)) is None
