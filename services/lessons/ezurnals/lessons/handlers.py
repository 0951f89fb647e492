"""One handler per command: ``async def handle(cmd, uow) -> Result``. A handler reads the
aggregates it decides on and the service's facts through its unit of work, records the new
events, and answers; the pipeline commits them with the answer in one statement and keeps the
query tables in step (``projections.VIEWS``). Nothing here knows HTTP or the event store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from ezurnals.lessons import commands
from ezurnals.lessons.domain import (
    Briefing,
    BriefingType,
    CancelLesson,
    Consultation,
    DeadlinePolicy,
    Lesson,
    Subject,
    SubstituteTeacher,
    Timetable,
)
from ezurnals.lessons.domain.calendar import current_calendar
from ezurnals.lessons.domain.timetable import OpenTimetable
from ezurnals.lessons.projections import VIEWS
from ezurnals.lessons.queries import (
    Facts,
    Reader,
    briefing_calendar,
    briefing_in_school,
    lesson_in_school,
    timetable_in_school,
    timetable_report,
)
from ezurnals.lessons.streams import (
    briefing_stream,
    briefing_type_stream,
    consultation_stream,
    lesson_stream,
    policy_stream,
    subject_stream,
    timetable_id_for,
    timetable_stream,
)
from ezurnals.shared.contracts.lessons import WeeklySlot
from ezurnals.shared.domain import Conflict, Invalid, NotFound, missing
from ezurnals.shared.eventstore import CommandContext
from ezurnals.shared.pipeline import Handlers, Pipeline, StoreUnitOfWork, UnitOfWork
from ezurnals.shared.service import Runtime

Uow = UnitOfWork[Facts]

#: One scheduling command covers at most this many days (a school term fits; a typo doesn't).
MAX_SCHEDULE_DAYS = 120


def unique_name_key(
    rows: Sequence[dict[str, Any]], id_column: str, own_id: UUID, name_key: str
) -> None:
    """A name key (what imports match on) names one thing of its kind in a school."""
    if any(r["name_key"] == name_key and r[id_column] != own_id for r in rows):
        raise Conflict("another one of the school's has this name key", field="name_key")


# --- subjects ------------------------------------------------------------------------------------


async def define_subject(cmd: commands.DefineSubject, uow: Uow) -> commands.SubjectAnswer:
    definition = cmd.subject
    subjects = await uow.facts.subjects(definition.school_id)
    unique_name_key(subjects, "subject_id", definition.subject_id, definition.name_key)
    subject = await uow.get(Subject, subject_stream(definition.subject_id))
    events = subject.define(definition)
    uow.record(subject, events)
    return commands.SubjectAnswer(subject_id=definition.subject_id, changed=bool(events))


# --- timetables ----------------------------------------------------------------------------------


async def open_timetable(cmd: commands.OpenTimetable, uow: Uow) -> commands.OpenedTimetable:
    found = await uow.facts.school_class(cmd.school_id, cmd.class_id)
    if found is None:
        raise NotFound("no such class", field="class_id")
    timetable_id = timetable_id_for(cmd.class_id, found.school_year)
    timetable = await uow.get(Timetable, timetable_stream(timetable_id))
    uow.record(
        timetable,
        timetable.open(
            OpenTimetable(
                timetable_id=timetable_id,
                school_id=cmd.school_id,
                class_id=cmd.class_id,
                school_year=found.school_year,
                grade_level=found.grade_level,
            )
        ),
    )
    return commands.OpenedTimetable(timetable_id=timetable_id, school_year=found.school_year)


async def _timetable(uow: Uow, school_id: UUID, timetable_id: UUID) -> Timetable:
    timetable = await uow.get(Timetable, timetable_stream(timetable_id))
    return timetable_in_school(timetable, school_id)


async def _check_slot(facts: Facts, school_id: UUID, slot: WeeklySlot) -> None:
    """The subject must be the school's and the teacher on its staff."""
    subjects = {s["subject_id"] for s in await facts.subjects(school_id)}
    if slot.subject_id not in subjects:
        raise Invalid("no such subject in the school", field="slot.subject_id")
    if slot.teacher_id not in await facts.staff(school_id):
        raise Invalid("the teacher is not on the school's staff", field="slot.teacher_id")


async def define_slot(cmd: commands.DefineSlot, uow: Uow) -> commands.TimetableChanges:
    timetable = await _timetable(uow, cmd.school_id, cmd.timetable_id)
    await _check_slot(uow.facts, cmd.school_id, cmd.slot.slot)
    events = timetable.define_slot(cmd.slot)
    uow.record(timetable, events)
    return commands.TimetableChanges(timetable_id=cmd.timetable_id, changes=len(events))


async def change_slot(cmd: commands.ChangeSlot, uow: Uow) -> commands.TimetableChanges:
    """From ``effective_from`` on the slot is as given; earlier lessons keep the old version."""
    timetable = await _timetable(uow, cmd.school_id, cmd.timetable_id)
    await _check_slot(uow.facts, cmd.school_id, cmd.change.slot)
    events = timetable.change_slot(cmd.change)
    uow.record(timetable, events)
    return commands.TimetableChanges(timetable_id=cmd.timetable_id, changes=len(events))


async def remove_slot(cmd: commands.RemoveSlot, uow: Uow) -> commands.TimetableChanges:
    timetable = await _timetable(uow, cmd.school_id, cmd.timetable_id)
    events = timetable.remove_slot(cmd.removal)
    uow.record(timetable, events)
    return commands.TimetableChanges(timetable_id=cmd.timetable_id, changes=len(events))


async def import_timetable(cmd: commands.ImportTimetable, uow: Uow) -> commands.ImportedTimetable:
    timetable = await _timetable(uow, cmd.school_id, cmd.timetable_id)
    report = await timetable_report(uow.facts, cmd.school_id, cmd.text)
    events = timetable.import_slots(report.command(cmd.effective_from))
    uow.record(timetable, events)
    return commands.ImportedTimetable(
        timetable_id=cmd.timetable_id, slots=len(report.slots), changes=len(events)
    )


async def schedule_lessons(cmd: commands.ScheduleLessons, uow: Uow) -> commands.ScheduledLessons:
    """Put the timetable's lessons on the school days between two days (none on holidays).

    Lessons already planned are brought up to date; recorded or cancelled ones are kept as they
    are; planned lessons whose slot left the timetable are cancelled.
    """
    if cmd.last_day < cmd.first_day:
        raise Invalid("the last day is before the first", field="last_day")
    if (cmd.last_day - cmd.first_day).days >= MAX_SCHEDULE_DAYS:
        raise Invalid(f"schedule at most {MAX_SCHEDULE_DAYS} days at once", field="last_day")
    timetable = await _timetable(uow, cmd.school_id, cmd.timetable_id)
    assert timetable.opened is not None
    calendar = await uow.facts.calendar(cmd.school_id, timetable.opened.school_year)
    if calendar is None:
        raise Conflict(
            f"the school's calendar for {timetable.opened.school_year} is not known yet",
            code="calendar_unknown",
        )
    planned = timetable.lessons_between(calendar, cmd.first_day, cmd.last_day)
    wanted = {p.lesson_id for p in planned}
    existing = await uow.facts.lessons(
        cmd.school_id,
        first_day=cmd.first_day,
        last_day=cmd.last_day,
        timetable_id=cmd.timetable_id,
    )
    changed = kept = cancelled = 0
    for plan in planned:
        lesson = await uow.get(Lesson, lesson_stream(plan.lesson_id))
        if (
            lesson.plan is not None
            and lesson.plan != plan
            and (lesson.recorded or lesson.cancelled)
        ):
            kept += 1
            continue
        events = lesson.schedule(plan)
        uow.record(lesson, events)
        changed += bool(events)
    for row in existing:
        if row["lesson_id"] in wanted or row["recorded"] or row["cancelled"]:
            continue
        lesson = await uow.get(Lesson, lesson_stream(row["lesson_id"]))
        events = lesson.cancel(CancelLesson(reason="removed from the timetable"))
        uow.record(lesson, events)
        changed += bool(events)
        cancelled += 1
    return commands.ScheduledLessons(
        timetable_id=cmd.timetable_id,
        lessons=len(planned),
        scheduled=changed - cancelled,
        kept=kept,
        cancelled=cancelled,
    )


# --- lessons -------------------------------------------------------------------------------------


async def _lesson(uow: Uow, school_id: UUID, lesson_id: UUID) -> Lesson:
    return lesson_in_school(await uow.get(Lesson, lesson_stream(lesson_id)), school_id)


async def substitute_teacher(cmd: commands.SubstituteTeacher, uow: Uow) -> commands.LessonView:
    lesson = await _lesson(uow, cmd.school_id, cmd.lesson_id)
    if cmd.substitute_teacher_id not in await uow.facts.staff(cmd.school_id):
        raise Invalid("the teacher is not on the school's staff", field="substitute_teacher_id")
    uow.record(
        lesson,
        lesson.substitute(SubstituteTeacher(substitute_teacher_id=cmd.substitute_teacher_id)),
    )
    return commands.LessonView.of(lesson)


async def cancel_lesson(cmd: commands.CancelLesson, uow: Uow) -> commands.LessonView:
    lesson = await _lesson(uow, cmd.school_id, cmd.lesson_id)
    uow.record(lesson, lesson.cancel(CancelLesson(reason=cmd.reason)))
    return commands.LessonView.of(lesson)


async def record_lesson(cmd: commands.RecordLesson, uow: Uow) -> commands.LessonView:
    """A teacher whom identity assigns as the substitute for the class and subject that day
    becomes the lesson's substitute on recording it."""
    # The lesson and the school's deadline policy in one round trip.
    lesson, policy = await uow.get_two(
        Lesson, lesson_stream(cmd.lesson_id), DeadlinePolicy, policy_stream(cmd.school_id)
    )
    plan = lesson_in_school(lesson, cmd.school_id).plan
    assert plan is not None
    entry = cmd.entry
    open_to_substitute = not (
        lesson.may_record(entry.recorded_by) or lesson.recorded or lesson.cancelled
    )
    if open_to_substitute and await uow.facts.teaches(
        plan.class_id,
        entry.recorded_by,
        plan.lesson_date,
        subject_id=plan.subject_id,
        substitute=True,
    ):
        uow.record(
            lesson, lesson.substitute(SubstituteTeacher(substitute_teacher_id=entry.recorded_by))
        )
    zone = await uow.facts.zone(cmd.school_id)
    uow.record(lesson, lesson.record(entry, uow.now, policy.schedule, zone))
    return commands.LessonView.of(lesson)


async def correct_lesson(cmd: commands.CorrectLessonRecord, uow: Uow) -> commands.LessonView:
    lesson = await _lesson(uow, cmd.school_id, cmd.lesson_id)
    uow.record(lesson, lesson.correct(cmd.correction))
    return commands.LessonView.of(lesson)


async def set_deadline_policy(
    cmd: commands.SetEntryDeadlinePolicy, uow: Uow
) -> commands.PolicyVersions:
    policy = await uow.get(DeadlinePolicy, policy_stream(cmd.policy.school_id))
    zone = await uow.facts.zone(cmd.policy.school_id)
    uow.record(policy, policy.set(cmd.policy, uow.now.astimezone(zone).date()))
    return commands.PolicyVersions(versions=policy.schedule.versions)


async def mark_lesson_overdue(cmd: commands.MarkLessonOverdue, uow: Uow) -> commands.OverdueAnswer:
    """Raise LessonEntryOverdue once the lesson's deadline has passed unrecorded. Invalid when
    the school's policy sets no deadline for the lesson's grade."""
    policy, zone = await uow.facts.rules(cmd.school_id)
    lesson = await uow.get(Lesson, lesson_stream(cmd.lesson_id))
    events = lesson.overdue(uow.now, policy, zone)
    uow.record(lesson, events)
    return commands.OverdueAnswer(raised=bool(events))


# --- consultations -------------------------------------------------------------------------------


async def record_consultation(
    cmd: commands.RecordConsultation, uow: Uow
) -> commands.ConsultationNote:
    asked = cmd.note
    note, policy = await uow.get_two(
        Consultation,
        consultation_stream(asked.consultation_id),
        DeadlinePolicy,
        policy_stream(asked.school_id),
    )
    strangers = await uow.facts.strangers(asked.school_id, asked.participant_ids)
    if strangers:  # another school's people are not yours: as a person that does not exist
        raise missing("person", f"participant_ids[{asked.participant_ids.index(strangers[0])}]")
    zone = await uow.facts.zone(asked.school_id)
    calendar = current_calendar(
        await uow.facts.calendars(asked.school_id), uow.now.astimezone(zone).date()
    )
    events = note.record(
        asked,
        uow.now,
        policy.schedule,
        zone,
        deputy_director=cmd.deputy_director,
        calendar=calendar,
    )
    uow.record(note, events)
    return commands.ConsultationNote(**events[0].model_dump())


# --- briefings -----------------------------------------------------------------------------------


async def define_briefing_type(
    cmd: commands.DefineBriefingType, uow: Uow
) -> commands.BriefingTypeAnswer:
    asked = cmd.briefing_type
    kinds = await uow.facts.briefing_types(asked.school_id)
    unique_name_key(kinds, "briefing_type_id", asked.briefing_type_id, asked.name_key)
    kind = await uow.get(BriefingType, briefing_type_stream(asked.briefing_type_id))
    uow.record(kind, kind.define(asked))
    return commands.BriefingTypeAnswer(
        briefing_type_id=asked.briefing_type_id, name_key=asked.name_key
    )


async def conduct_briefing(cmd: commands.ConductBriefing, uow: Uow) -> commands.ConductedBriefing:
    asked = cmd.briefing
    if await uow.facts.briefing_type(asked.school_id, asked.briefing_type_id) is None:
        raise NotFound("no such briefing type", field="briefing_type_id")
    briefing = await uow.get(Briefing, briefing_stream(asked.briefing_id))
    zone = await uow.facts.zone(asked.school_id)
    calendar = await briefing_calendar(
        uow.facts, asked.school_id, asked.class_id, uow.now.astimezone(zone).date()
    )
    events = briefing.conduct(asked, uow.now, zone, calendar)
    uow.record(briefing, events)
    return commands.ConductedBriefing(**events[0].model_dump())


async def acknowledge_briefing(
    cmd: commands.AcknowledgeBriefing, uow: Uow
) -> commands.BriefingView:
    briefing = briefing_in_school(
        await uow.get(Briefing, briefing_stream(cmd.briefing_id)), cmd.school_id
    )
    uow.record(briefing, briefing.acknowledge(cmd.acknowledgement))
    return commands.BriefingView.of(briefing)


HANDLERS = Handlers(
    commands.DefineSubject.handled_by(define_subject),
    commands.OpenTimetable.handled_by(open_timetable),
    commands.DefineSlot.handled_by(define_slot),
    commands.ChangeSlot.handled_by(change_slot),
    commands.RemoveSlot.handled_by(remove_slot),
    commands.ImportTimetable.handled_by(import_timetable),
    commands.ScheduleLessons.handled_by(schedule_lessons),
    commands.SubstituteTeacher.handled_by(substitute_teacher),
    commands.CancelLesson.handled_by(cancel_lesson),
    commands.RecordLesson.handled_by(record_lesson),
    commands.CorrectLessonRecord.handled_by(correct_lesson),
    commands.SetEntryDeadlinePolicy.handled_by(set_deadline_policy),
    commands.MarkLessonOverdue.handled_by(mark_lesson_overdue),
    commands.RecordConsultation.handled_by(record_consultation),
    commands.DefineBriefingType.handled_by(define_briefing_type),
    commands.ConductBriefing.handled_by(conduct_briefing),
    commands.AcknowledgeBriefing.handled_by(acknowledge_briefing),
)


def pipeline(runtime: Runtime, facts: Facts | None = None) -> Pipeline[Facts]:
    """The service's one entry point for commands, on the process's store and cache. ``facts``:
    one reader for many commands (a pass of the overdue job reads each school's rules once);
    otherwise each command reads its own."""

    def begin(ctx: CommandContext) -> StoreUnitOfWork[Facts]:
        return StoreUnitOfWork(
            runtime.store,
            runtime.aggregates,
            ctx,
            facts if facts is not None else Reader.of(runtime),
            inline=VIEWS,
        )

    return Pipeline(HANDLERS, begin)
