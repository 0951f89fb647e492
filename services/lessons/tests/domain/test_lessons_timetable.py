"""The timetable: weekly slots changing from a date, and the concrete lessons of school days."""

from __future__ import annotations

from datetime import date, time
from uuid import UUID, uuid4

import pytest

from ezurnals.lessons.domain import (
    ChangeTimetableSlot,
    DefineTimetableSlot,
    ImportTimetable,
    OpenTimetable,
    RemoveTimetableSlot,
    SchoolCalendar,
    Timetable,
    lesson_id_for,
)
from ezurnals.shared.contracts.lessons import (
    TimetableOpened,
    TimetableSlotChanged,
    TimetableSlotDefined,
    TimetableSlotRemoved,
    WeeklySlot,
)
from ezurnals.shared.domain import Conflict, Invalid, NotFound

MATHS, LATVIAN = uuid4(), uuid4()
TEACHER, OTHER_TEACHER = uuid4(), uuid4()
YEAR_START = date(2025, 9, 1)

PERIODS = [
    (time(8, 30), time(9, 10)),
    (time(9, 20), time(10, 0)),
    (time(10, 10), time(10, 50)),
    (time(11, 0), time(11, 40)),
]


def slot(weekday: int = 1, period: int = 1, **changes: object) -> WeeklySlot:
    starts, ends = PERIODS[period - 1]
    fields: dict[str, object] = {
        "weekday": weekday,
        "period": period,
        "starts_at": starts,
        "ends_at": ends,
        "subject_id": MATHS,
        "teacher_id": TEACHER,
        "room": "12",
    }
    return WeeklySlot.model_validate(fields | changes)


def opened(grade_level: int = 5) -> Timetable:
    cmd = OpenTimetable(
        timetable_id=uuid4(),
        school_id=uuid4(),
        class_id=uuid4(),
        school_year="2025/2026",
        grade_level=grade_level,
    )
    timetable = Timetable(str(cmd.timetable_id))
    return timetable.applied(timetable.open(cmd))


def with_slot(timetable: Timetable, weekly: WeeklySlot, start: date = YEAR_START) -> UUID:
    slot_id = uuid4()
    define = DefineTimetableSlot(slot_id=slot_id, effective_from=start, slot=weekly)
    timetable.applied(timetable.define_slot(define))
    return slot_id


def test_opening_twice_with_other_data_is_a_conflict() -> None:
    # given an open timetable
    timetable = opened()
    assert isinstance(timetable.opened, TimetableOpened)
    cmd = OpenTimetable(**timetable.opened.model_dump())
    # when it is opened again with the same data, and then for another grade
    same = timetable.open(cmd)
    # then the first is no event and the second a conflict
    assert same == []
    with pytest.raises(Conflict):
        timetable.open(cmd.model_copy(update={"grade_level": 6}))


def test_a_slot_without_an_open_timetable_is_not_found() -> None:
    # given no timetable
    timetable = Timetable("none")
    # when a slot is defined
    with pytest.raises(NotFound) as err:
        timetable.define_slot(
            DefineTimetableSlot(slot_id=uuid4(), effective_from=YEAR_START, slot=slot())
        )
    # then the timetable is named
    assert err.value.field == "timetable_id"


def test_a_slot_must_end_after_it_starts() -> None:
    # given an open timetable
    timetable = opened()
    backwards = slot(starts_at=time(9, 0), ends_at=time(8, 20))
    # when a slot ending before its start is defined
    with pytest.raises(Invalid) as err:
        timetable.define_slot(
            DefineTimetableSlot(slot_id=uuid4(), effective_from=YEAR_START, slot=backwards)
        )
    # then the end time is named
    assert err.value.field == "slot.ends_at"


@pytest.mark.parametrize(
    "clashing",
    [
        slot(1, 1, subject_id=LATVIAN),  # the same day and period
        slot(1, 2, starts_at=time(9, 0), ends_at=time(9, 40)),  # another period, overlapping time
    ],
)
def test_two_lessons_at_once_are_a_conflict(clashing: WeeklySlot) -> None:
    # given Monday's first lesson 8:30–9:10
    timetable = opened()
    with_slot(timetable, slot(1, 1))
    # when another slot at the same time is defined
    with pytest.raises(Conflict) as err:
        timetable.define_slot(
            DefineTimetableSlot(slot_id=uuid4(), effective_from=YEAR_START, slot=clashing)
        )
    # then it is refused
    assert err.value.field == "slot"


def test_a_removed_slot_frees_its_time_from_the_removal_date() -> None:
    # given Monday's first lesson, removed from 5 January
    timetable = opened()
    old = with_slot(timetable, slot(1, 1))
    january = date(2026, 1, 5)
    removed = timetable.remove_slot(RemoveTimetableSlot(slot_id=old, effective_from=january))
    timetable.applied(removed)
    latvian = slot(1, 1, subject_id=LATVIAN)
    # when another lesson takes that time from January, and from December
    events = timetable.define_slot(
        DefineTimetableSlot(slot_id=uuid4(), effective_from=january, slot=latvian)
    )
    # then January is free, December is not
    assert [type(e) for e in removed] == [TimetableSlotRemoved]
    assert [type(e) for e in events] == [TimetableSlotDefined]
    with pytest.raises(Conflict):
        timetable.define_slot(
            DefineTimetableSlot(slot_id=uuid4(), effective_from=date(2025, 12, 1), slot=latvian)
        )


def test_a_change_from_a_date_leaves_earlier_lessons_as_they_were(
    calendar_2025_26: SchoolCalendar,
) -> None:
    # given Monday's first lesson taught by TEACHER
    timetable = opened()
    slot_id = with_slot(timetable, slot(1, 1))
    # when OTHER_TEACHER takes it over from Monday 2 February
    change = ChangeTimetableSlot(
        slot_id=slot_id, effective_from=date(2026, 2, 2), slot=slot(1, 1, teacher_id=OTHER_TEACHER)
    )
    events = timetable.change_slot(change)
    timetable.applied(events)
    # then lessons before that date keep their teacher and keep their ids
    assert [type(e) for e in events] == [TimetableSlotChanged]
    lessons = timetable.lessons_between(calendar_2025_26, date(2026, 1, 26), date(2026, 2, 6))
    assert [(le.lesson_date, le.teacher_id) for le in lessons] == [
        (date(2026, 1, 26), TEACHER),
        (date(2026, 2, 2), OTHER_TEACHER),
    ]
    assert lessons[1].lesson_id == lesson_id_for(lessons[1].timetable_id, slot_id, date(2026, 2, 2))
    # and the same change again is no event
    assert timetable.change_slot(change) == []


def test_changing_a_slot_before_it_exists_is_not_found() -> None:
    # given a slot from January
    timetable = opened()
    slot_id = with_slot(timetable, slot(1, 1), start=date(2026, 1, 5))
    # when it is changed from December
    with pytest.raises(NotFound) as err:
        timetable.change_slot(
            ChangeTimetableSlot(slot_id=slot_id, effective_from=date(2025, 12, 1), slot=slot(1, 2))
        )
    # then the date is named
    assert err.value.field == "effective_from"


def test_lessons_fall_on_school_days_only(calendar_2025_26: SchoolCalendar) -> None:
    # given Monday and Friday lessons of grade 5
    timetable = opened(grade_level=5)
    with_slot(timetable, slot(1, 1))
    with_slot(timetable, slot(5, 2, subject_id=LATVIAN))
    # when the lessons of October are generated
    lessons = timetable.lessons_between(calendar_2025_26, date(2025, 10, 1), date(2025, 10, 31))
    # then they are Mondays and Fridays outside the autumn holidays, in date order
    days = [le.lesson_date for le in lessons]
    assert days == [
        date(2025, 10, 3),
        date(2025, 10, 6),
        date(2025, 10, 10),
        date(2025, 10, 13),
        date(2025, 10, 17),
        date(2025, 10, 27),
        date(2025, 10, 31),
    ]
    assert all(le.grade_level == 5 for le in lessons)


def test_grade_specific_holidays_and_end_dates_are_respected(
    calendar_2025_26: SchoolCalendar,
) -> None:
    # given Monday lessons of grade 1 and of grade 9
    first_grade, ninth_grade = opened(grade_level=1), opened(grade_level=9)
    for timetable in (first_grade, ninth_grade):
        with_slot(timetable, slot(1, 1))

    def mondays(timetable: Timetable, first: date, last: date) -> list[date]:
        return [le.lesson_date for le in timetable.lessons_between(calendar_2025_26, first, last)]

    # when February and June are generated
    # then grade 1 has its extra holiday week, and only grade 9 has lessons in June
    assert date(2026, 2, 16) not in mondays(first_grade, date(2026, 2, 1), date(2026, 2, 28))
    assert date(2026, 2, 16) in mondays(ninth_grade, date(2026, 2, 1), date(2026, 2, 28))
    assert mondays(first_grade, date(2026, 6, 1), date(2026, 6, 30)) == []
    assert mondays(ninth_grade, date(2026, 6, 1), date(2026, 6, 30)) == [
        date(2026, 6, 1),
        date(2026, 6, 8),
    ]


def test_generating_lessons_twice_gives_the_same_lessons(calendar_2025_26: SchoolCalendar) -> None:
    # given a timetable
    timetable = opened()
    with_slot(timetable, slot(3, 2))
    # when the same weeks are generated twice
    first = timetable.lessons_between(calendar_2025_26, date(2025, 9, 1), date(2025, 9, 30))
    second = timetable.lessons_between(calendar_2025_26, date(2025, 9, 1), date(2025, 9, 30))
    # then the lessons and their ids are equal
    assert first == second
    assert len({le.lesson_id for le in first}) == len(first) == 4


def test_a_calendar_of_another_year_is_refused(calendar_2025_26: SchoolCalendar) -> None:
    # given a 2025/26 timetable
    timetable = opened()
    # when lessons are generated from the 2026/27 calendar
    with pytest.raises(Invalid) as err:
        timetable.lessons_between(
            calendar_2025_26.model_copy(update={"school_year": "2026/2027"}),
            date(2026, 9, 1),
            date(2026, 9, 30),
        )
    # then the calendar is named
    assert err.value.field == "calendar"


def test_an_import_replaces_the_week_from_its_date() -> None:
    # given Monday's first and second lessons
    timetable = opened()
    first = with_slot(timetable, slot(1, 1))
    second = with_slot(timetable, slot(1, 2))
    january = date(2026, 1, 5)
    # when a new week is imported from January: Monday 1 by another teacher, Tuesday 1 new
    events = timetable.import_slots(
        ImportTimetable(
            effective_from=january,
            slots=(slot(1, 1, teacher_id=OTHER_TEACHER), slot(2, 1)),
        )
    )
    timetable.applied(events)
    # then Monday 1 changes, Monday 2 goes, Tuesday 1 comes — from January only
    assert [type(e) for e in events] == [
        TimetableSlotRemoved,
        TimetableSlotChanged,
        TimetableSlotDefined,
    ]
    week = timetable.slots_on(january)
    assert week[first].teacher_id == OTHER_TEACHER
    assert second not in week
    assert sorted((s.weekday, s.period) for s in week.values()) == [(1, 1), (2, 1)]
    assert set(timetable.slots_on(date(2025, 12, 1))) == {first, second}


def test_an_import_before_a_planned_change_is_refused() -> None:
    # given a change planned for February
    timetable = opened()
    slot_id = with_slot(timetable, slot(1, 1))
    timetable.applied(
        timetable.change_slot(
            ChangeTimetableSlot(slot_id=slot_id, effective_from=date(2026, 2, 2), slot=slot(1, 2))
        )
    )
    # when a timetable is imported from January
    with pytest.raises(Conflict) as err:
        timetable.import_slots(ImportTimetable(effective_from=date(2026, 1, 5), slots=(slot(),)))
    # then the import is refused with the date to use
    assert err.value.field == "effective_from"
    assert "2026-02-02" in err.value.message


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        (date(2031, 9, 1), date(2031, 9, 30), "first_day"),
        (date(2021, 9, 1), date(2021, 9, 30), "last_day"),
    ],
)
def test_lessons_wholly_outside_the_school_year_are_refused_naming_the_range(
    calendar_2025_26: SchoolCalendar, first: date, last: date, field: str
) -> None:
    # given a 2025/26 timetable with a Monday lesson
    timetable = opened()
    with_slot(timetable, slot(1, 1))
    # when lessons of 2031 (or 2021) are asked for
    with pytest.raises(Invalid) as err:
        timetable.lessons_between(calendar_2025_26, first, last)
    # then the field and the year's range are named, not an empty schedule
    assert err.value.field == field
    assert "2025-09-01 to 2026-06-19" in err.value.message


def test_a_range_reaching_past_the_years_end_has_the_lessons_within_it(
    calendar_2025_26: SchoolCalendar,
) -> None:
    timetable = opened(grade_level=12)
    with_slot(timetable, slot(1, 1))

    lessons = timetable.lessons_between(calendar_2025_26, date(2026, 6, 8), date(2026, 7, 31))

    assert [le.lesson_date for le in lessons] == [date(2026, 6, 8), date(2026, 6, 15)]


def test_a_slot_taking_effect_outside_the_timetables_school_year_is_refused() -> None:
    # given a 2025/26 timetable
    timetable = opened()
    # when a slot is to take effect in 2031
    with pytest.raises(Invalid) as err:
        with_slot(timetable, slot(1, 1), start=date(2031, 9, 1))
    # then the field and the year's span are named
    assert err.value.field == "effective_from"
    assert "2025-07-01 to 2026-08-31" in err.value.message
