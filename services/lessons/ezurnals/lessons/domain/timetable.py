"""A class's timetable for one school year: weekly slots that change from a date.

The timetable is the plan; ``lessons_between`` turns it into the concrete lessons of the school
days of a calendar. A lesson's id is derived from (timetable, slot, date), so planning the same
days again yields the same lessons and a slot changed from a date keeps its lessons' ids.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid5

from ezurnals.lessons.domain.calendar import DateRange, SchoolCalendar
from ezurnals.lessons.domain.lesson import ScheduleLesson
from ezurnals.shared.contracts.lessons import (
    GradeLevel,
    LessonsEvent,
    TimetableOpened,
    TimetableSlotChanged,
    TimetableSlotDefined,
    TimetableSlotRemoved,
    WeeklySlot,
)
from ezurnals.shared.contracts.school_year import SchoolYear, starting, year_span
from ezurnals.shared.domain import Aggregate, Command, Conflict, Invalid, NotFound

#: Namespace of the ids derived here; never change it, or every lesson id changes.
LESSONS_NAMESPACE = UUID("dc54a9ed-c95c-4843-96c1-c1d96f45842d")


def lesson_id_for(timetable_id: UUID, slot_id: UUID, day: date) -> UUID:
    return uuid5(LESSONS_NAMESPACE, f"lesson/{timetable_id}/{slot_id}/{day.isoformat()}")


def slot_id_for(timetable_id: UUID, effective_from: date, slot: WeeklySlot) -> UUID:
    """The id of a slot created by an import, the same for the same import."""
    key = f"slot/{timetable_id}/{effective_from.isoformat()}/{slot.weekday}/{slot.period}"
    return uuid5(LESSONS_NAMESPACE, key)


class OpenTimetable(Command):
    timetable_id: UUID
    school_id: UUID
    class_id: UUID
    school_year: SchoolYear
    grade_level: GradeLevel


class DefineTimetableSlot(Command):
    slot_id: UUID
    effective_from: date
    slot: WeeklySlot


class ChangeTimetableSlot(Command):
    slot_id: UUID
    effective_from: date
    slot: WeeklySlot


class RemoveTimetableSlot(Command):
    slot_id: UUID
    effective_from: date


class ImportTimetable(Command):
    """Replace the whole week from ``effective_from`` with these slots (e.g. from a CSV file)."""

    effective_from: date
    slots: tuple[WeeklySlot, ...]


@dataclass(frozen=True)
class _Span:
    """A slot version in force from ``start`` up to (not including) ``end``."""

    slot_id: UUID
    start: date
    end: date | None
    slot: WeeklySlot | None

    def overlaps(self, start: date, end: date | None) -> bool:
        return (self.end is None or start < self.end) and (end is None or self.start < end)


def slots_clash(a: WeeklySlot, b: WeeklySlot) -> bool:
    """Two lessons of one class cannot share a day's period or overlap in time."""
    if a.weekday != b.weekday:
        return False
    return a.period == b.period or (a.starts_at < b.ends_at and b.starts_at < a.ends_at)


class Timetable(Aggregate[LessonsEvent]):
    """One stream per class and school year."""

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.opened: TimetableOpened | None = None
        self._versions: dict[UUID, dict[date, WeeklySlot | None]] = {}

    # --- reading -------------------------------------------------------------------------------

    def slots_on(self, day: date) -> dict[UUID, WeeklySlot]:
        """The week as it stands on ``day``: slot id → slot."""
        week: dict[UUID, WeeklySlot] = {}
        for slot_id in self._versions:
            slot = self._slot_on(slot_id, day)
            if slot is not None:
                week[slot_id] = slot
        return week

    def lessons_between(
        self, calendar: SchoolCalendar, first_day: date, last_day: date
    ) -> list[ScheduleLesson]:
        """The concrete lessons on the calendar's school days for this class, both ends included."""
        opened = self._opened()
        if calendar.school_year != opened.school_year:
            raise Invalid(
                f"the calendar is for {calendar.school_year}, the timetable for "
                f"{opened.school_year}",
                field="calendar",
            )
        if last_day < first_day:
            raise Invalid("the last day is before the first", field="last_day")
        # A range reaching past the year's ends is fine (it has lessons only on school days);
        # one wholly outside it (lessons in 2031) is a mistake, not an empty schedule.
        if first_day > calendar.last_day:
            calendar.require_within(first_day, "first_day")
        if last_day < calendar.first_day:
            calendar.require_within(last_day, "last_day")
        lessons: list[ScheduleLesson] = []
        for day in DateRange(first_day=first_day, last_day=last_day).days():
            if not calendar.is_school_day(day, opened.grade_level):
                continue
            for slot_id, slot in self.slots_on(day).items():
                if slot.weekday == day.isoweekday():
                    lessons.append(self._lesson(slot_id, slot, day))
        return sorted(lessons, key=lambda lesson: (lesson.lesson_date, lesson.period))

    # --- decisions -----------------------------------------------------------------------------

    def open(self, cmd: OpenTimetable) -> list[LessonsEvent]:
        event = TimetableOpened(**cmd.model_dump())
        if self.opened == event:
            return []
        if self.opened is not None:
            raise Conflict("the timetable is already open", code="already_open")
        return [event]

    def define_slot(self, cmd: DefineTimetableSlot) -> list[LessonsEvent]:
        self._opened()
        if cmd.slot_id in self._versions:
            raise Conflict("the slot already exists; change it instead", field="slot_id")
        return self._new_version(TimetableSlotDefined, cmd)

    def change_slot(self, cmd: ChangeTimetableSlot) -> list[LessonsEvent]:
        self._opened()
        if self._in_force(cmd.slot_id, cmd.effective_from) == cmd.slot:
            return []
        return self._new_version(TimetableSlotChanged, cmd)

    def remove_slot(self, cmd: RemoveTimetableSlot) -> list[LessonsEvent]:
        opened = self._opened()
        self._require_in_year(cmd.effective_from)
        self._in_force(cmd.slot_id, cmd.effective_from)
        return [
            TimetableSlotRemoved(
                timetable_id=opened.timetable_id,
                slot_id=cmd.slot_id,
                effective_from=cmd.effective_from,
            )
        ]

    def import_slots(self, cmd: ImportTimetable) -> list[LessonsEvent]:
        """Slots at the same day and period are changed, the rest of the old week removed, new
        ones defined — all from one date, all or nothing."""
        opened = self._opened()
        start = cmd.effective_from
        self._require_in_year(start)
        later = sorted(d for versions in self._versions.values() for d in versions if d > start)
        if later:
            raise Conflict(
                f"the timetable already changes on {later[0].isoformat()}; import from that date "
                "or later",
                field="effective_from",
            )
        draft = copy.deepcopy(self)
        events: list[LessonsEvent] = []

        def decide(new: list[LessonsEvent]) -> None:
            draft.applied(new)
            events.extend(new)

        old_week = {(s.weekday, s.period): slot_id for slot_id, s in self.slots_on(start).items()}
        new_week = {(s.weekday, s.period): s for s in cmd.slots}
        for key, slot_id in sorted(old_week.items()):
            if key not in new_week:
                decide(
                    draft.remove_slot(RemoveTimetableSlot(slot_id=slot_id, effective_from=start))
                )
        for key, slot in sorted(new_week.items()):
            if key in old_week:
                change = ChangeTimetableSlot(slot_id=old_week[key], effective_from=start, slot=slot)
                decide(draft.change_slot(change))
            else:
                new_id = slot_id_for(opened.timetable_id, start, slot)
                define = DefineTimetableSlot(slot_id=new_id, effective_from=start, slot=slot)
                decide(draft.define_slot(define))
        return events

    # --- rules ---------------------------------------------------------------------------------

    def _require_in_year(self, effective_from: date) -> None:
        """A change takes effect within the timetable's school year: from 1 July of its first
        year (planned over the summer) to 31 August of the next."""
        year = self._opened().school_year
        start = max(1, min(int(year[:4]), date.max.year - 1))
        first, last = year_span(starting(start))
        if not first <= effective_from <= last:
            raise Invalid(
                f"effective_from must lie within the timetable's school year {year}: "
                f"{first.isoformat()} to {last.isoformat()}",
                field="effective_from",
                code="outside_school_year",
                details={"first_day": first.isoformat(), "last_day": last.isoformat()},
            )

    def _new_version(
        self,
        event_type: type[TimetableSlotDefined] | type[TimetableSlotChanged],
        cmd: DefineTimetableSlot | ChangeTimetableSlot,
    ) -> list[LessonsEvent]:
        self._require_in_year(cmd.effective_from)
        self._check(cmd.slot_id, cmd.effective_from, cmd.slot)
        version = event_type(
            timetable_id=self._opened().timetable_id,
            slot_id=cmd.slot_id,
            effective_from=cmd.effective_from,
            slot=cmd.slot,
        )
        return [version]

    def _opened(self) -> TimetableOpened:
        if self.opened is None:
            raise NotFound("no such timetable", field="timetable_id")
        return self.opened

    def _slot_on(self, slot_id: UUID, day: date) -> WeeklySlot | None:
        started = [d for d in self._versions[slot_id] if d <= day]
        return self._versions[slot_id][max(started)] if started else None

    def _in_force(self, slot_id: UUID, day: date) -> WeeklySlot:
        if slot_id not in self._versions:
            raise NotFound("no such slot in the timetable", field="slot_id")
        slot = self._slot_on(slot_id, day)
        if slot is None:
            raise NotFound(
                f"the slot is not in the timetable on {day.isoformat()}", field="effective_from"
            )
        return slot

    def _spans(self, slot_id: UUID) -> Iterator[_Span]:
        starts = sorted(self._versions[slot_id])
        ends: list[date | None] = [*starts[1:], None]
        for start, end in zip(starts, ends, strict=True):
            yield _Span(slot_id, start, end, self._versions[slot_id][start])

    def _check(self, slot_id: UUID, effective_from: date, slot: WeeklySlot) -> None:
        """Times in order, and no other slot at the same day and period or overlapping time
        while this version is in force."""
        if slot.ends_at <= slot.starts_at:
            raise Invalid("a lesson must end after it starts", field="slot.ends_at")
        own_later = [d for d in self._versions.get(slot_id, {}) if d > effective_from]
        until = min(own_later) if own_later else None
        for other_id in self._versions:
            if other_id == slot_id:
                continue
            for span in self._spans(other_id):
                if (
                    span.slot is not None
                    and span.overlaps(effective_from, until)
                    and slots_clash(span.slot, slot)
                ):
                    raise Conflict(
                        f"another lesson is at day {slot.weekday}, period {span.slot.period} "
                        f"from {max(span.start, effective_from).isoformat()}",
                        field="slot",
                        details={"slot_id": str(other_id)},
                    )

    def _lesson(self, slot_id: UUID, slot: WeeklySlot, day: date) -> ScheduleLesson:
        opened = self._opened()
        return ScheduleLesson(
            lesson_id=lesson_id_for(opened.timetable_id, slot_id, day),
            school_id=opened.school_id,
            timetable_id=opened.timetable_id,
            slot_id=slot_id,
            class_id=opened.class_id,
            subject_id=slot.subject_id,
            teacher_id=slot.teacher_id,
            lesson_date=day,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            period=slot.period,
            room=slot.room,
            grade_level=opened.grade_level,
        )

    # --- folding -------------------------------------------------------------------------------

    def when_TimetableOpened(self, event: TimetableOpened) -> None:
        self.opened = event

    def when_TimetableSlotDefined(self, event: TimetableSlotDefined) -> None:
        self._versions[event.slot_id] = {event.effective_from: event.slot}

    def when_TimetableSlotChanged(self, event: TimetableSlotChanged) -> None:
        self._versions[event.slot_id][event.effective_from] = event.slot

    def when_TimetableSlotRemoved(self, event: TimetableSlotRemoved) -> None:
        self._versions[event.slot_id][event.effective_from] = None
