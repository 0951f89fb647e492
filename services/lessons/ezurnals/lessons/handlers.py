"""One function per command: load the aggregate(s) → decide → append, with the query tables
updated in the same transaction. The API builds the command context; nothing here knows HTTP."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

from ezurnals.lessons.domain import (
    AcknowledgeBriefing,
    Briefing,
    BriefingType,
    CancelLesson,
    ConductBriefing,
    Consultation,
    CorrectLessonRecord,
    DeadlinePolicy,
    DeadlineSchedule,
    DefineBriefingType,
    DefineSubject,
    Lesson,
    RecordConsultation,
    RecordLesson,
    SetEntryDeadlinePolicy,
    Subject,
    SubstituteTeacher,
    Timetable,
    TimetableImportReport,
    entry_deadline,
    read_timetable_csv,
)
from ezurnals.lessons.domain.calendar import SchoolCalendar, current_calendar
from ezurnals.lessons.domain.timetable import LESSONS_NAMESPACE, OpenTimetable
from ezurnals.lessons.projections import VIEWS
from ezurnals.lessons.queries import Reader
from ezurnals.shared.contracts.base import EventEnvelope, IntegrationEvent
from ezurnals.shared.contracts.lessons import LessonsEvent, WeeklySlot
from ezurnals.shared.domain import Aggregate, Conflict, Invalid, NotFound, missing
from ezurnals.shared.eventstore import (
    CommandContext,
    CommandResult,
    ConcurrencyConflict,
    DuplicateCommand,
    EventStore,
)
from ezurnals.shared.http.commands import Decision, decide_once, execute, execute_on
from ezurnals.shared.service import Runtime

A = TypeVar("A", bound=Aggregate[LessonsEvent])

#: One scheduling command covers at most this many days (a school term fits; a typo doesn't).
MAX_SCHEDULE_DAYS = 120


async def load(store: EventStore, kind: type[A], stream_id: str) -> A:
    return rehydrated(kind, stream_id, await store.load(stream_id))


def rehydrated(kind: type[A], stream_id: str, envelopes: Sequence[EventEnvelope]) -> A:
    return kind.rehydrate(stream_id, [e.parse() for e in envelopes])


def lesson_stream(lesson_id: UUID) -> str:
    return f"lesson-{lesson_id}"


def policy_stream(school_id: UUID) -> str:
    return f"deadline-policy-{school_id}"


async def deadline_schedule(store: EventStore, school_id: UUID) -> DeadlineSchedule:
    """The school's entry-deadline policy versions over the seed rules."""
    return (await load(store, DeadlinePolicy, policy_stream(school_id))).schedule


def timetable_id_for(class_id: UUID, school_year: str) -> UUID:
    """One timetable per class and school year, so opening it twice finds the same one."""
    return uuid5(LESSONS_NAMESPACE, f"timetable/{class_id}/{school_year}")


async def run(
    runtime: Runtime, ctx: CommandContext, decide: Callable[[], Awaitable[Decision]]
) -> CommandResult:
    """Run a one-stream command idempotently, keeping the query tables in step."""
    return await execute(runtime.store, ctx, decide, inline=VIEWS)


@dataclass(frozen=True)
class Change:
    stream_id: str
    expected_version: int
    events: Sequence[IntegrationEvent]


async def run_many(
    runtime: Runtime,
    ctx: CommandContext,
    decide: Callable[[], Awaitable[tuple[list[Change], CommandResult]]],
) -> CommandResult:
    """Like ``run`` for a command that touches several streams: all appended or none."""
    store = runtime.store
    decided = await decide_once(store, ctx, decide)
    if isinstance(decided, CommandResult):
        return decided
    changes, result = decided
    envelopes = [
        envelope
        for change in changes
        if change.events
        for envelope in store.envelopes(
            change.stream_id, change.expected_version, change.events, ctx
        )
    ]
    try:
        await store.append_envelopes(envelopes, ctx, result=result, inline=VIEWS)
    except DuplicateCommand as duplicate:
        return duplicate.result
    return result


def unique_name_key(
    rows: Sequence[dict[str, Any]], id_column: str, own_id: UUID, name_key: str
) -> None:
    """A name key (what imports match on) names one thing of its kind in a school."""
    if any(r["name_key"] == name_key and r[id_column] != own_id for r in rows):
        raise Conflict("another one of the school's has this name key", field="name_key")


# --- subjects ------------------------------------------------------------------------------------


async def define_subject(
    runtime: Runtime, ctx: CommandContext, cmd: DefineSubject
) -> CommandResult:
    async def decide() -> Decision:
        subjects = await Reader.of(runtime).subjects(cmd.school_id)
        unique_name_key(subjects, "subject_id", cmd.subject_id, cmd.name_key)
        subject = await load(runtime.store, Subject, f"subject-{cmd.subject_id}")
        events = subject.define(cmd)
        return Decision(
            subject.stream_id,
            subject.version,
            events,
            CommandResult(201, {"subject_id": str(cmd.subject_id), "changed": bool(events)}),
        )

    return await run(runtime, ctx, decide)


# --- timetables ----------------------------------------------------------------------------------


async def open_timetable(
    runtime: Runtime, ctx: CommandContext, school_id: UUID, class_id: UUID
) -> CommandResult:
    async def decide() -> Decision:
        found = await Reader.of(runtime).school_class(school_id, class_id)
        if found is None:
            raise NotFound("no such class", field="class_id")
        timetable_id = timetable_id_for(class_id, found.school_year)
        timetable = await load(runtime.store, Timetable, f"timetable-{timetable_id}")
        events = timetable.open(
            OpenTimetable(
                timetable_id=timetable_id,
                school_id=school_id,
                class_id=class_id,
                school_year=found.school_year,
                grade_level=found.grade_level,
            )
        )
        body = {"timetable_id": str(timetable_id), "school_year": found.school_year}
        return Decision(timetable.stream_id, timetable.version, events, CommandResult(201, body))

    return await run(runtime, ctx, decide)


async def load_timetable(runtime: Runtime, school_id: UUID, timetable_id: UUID) -> Timetable:
    """The timetable of this school, or 404."""
    timetable = await load(runtime.store, Timetable, f"timetable-{timetable_id}")
    if timetable.opened is None or timetable.opened.school_id != school_id:
        raise NotFound("no such timetable", field="timetable_id")
    return timetable


async def check_slot(reader: Reader, school_id: UUID, slot: WeeklySlot) -> None:
    """The subject must be the school's and the teacher on its staff."""
    subjects = {s["subject_id"] for s in await reader.subjects(school_id)}
    if slot.subject_id not in subjects:
        raise Invalid("no such subject in the school", field="slot.subject_id")
    if slot.teacher_id not in await reader.staff(school_id):
        raise Invalid("the teacher is not on the school's staff", field="slot.teacher_id")


async def change_timetable(
    runtime: Runtime,
    ctx: CommandContext,
    school_id: UUID,
    timetable_id: UUID,
    decide_on: Callable[[Timetable], list[LessonsEvent]],
    slot: WeeklySlot | None,
) -> CommandResult:
    """Define, change or remove a slot: ``decide_on`` is the timetable's decision to take."""

    async def decide() -> Decision:
        timetable = await load_timetable(runtime, school_id, timetable_id)
        if slot is not None:
            await check_slot(Reader.of(runtime), school_id, slot)
        events = decide_on(timetable)
        body = {"timetable_id": str(timetable_id), "changes": len(events)}
        return Decision(timetable.stream_id, timetable.version, events, CommandResult(201, body))

    return await run(runtime, ctx, decide)


async def read_csv(runtime: Runtime, school_id: UUID, text: str) -> TimetableImportReport:
    """Subjects by name key; teachers by their person id (identity shares ids, not names)."""
    reader = Reader.of(runtime)
    subjects = {s["name_key"]: s["subject_id"] for s in await reader.subjects(school_id)}
    teachers = {str(person): person for person in await reader.staff(school_id)}
    return read_timetable_csv(text, subjects, teachers)


async def import_timetable(
    runtime: Runtime,
    ctx: CommandContext,
    school_id: UUID,
    timetable_id: UUID,
    text: str,
    effective_from: date,
) -> CommandResult:
    async def decide() -> Decision:
        timetable = await load_timetable(runtime, school_id, timetable_id)
        report = await read_csv(runtime, school_id, text)
        events = timetable.import_slots(report.command(effective_from))
        body = {
            "timetable_id": str(timetable_id),
            "slots": len(report.slots),
            "changes": len(events),
        }
        return Decision(timetable.stream_id, timetable.version, events, CommandResult(201, body))

    return await run(runtime, ctx, decide)


async def schedule_lessons(
    runtime: Runtime,
    ctx: CommandContext,
    school_id: UUID,
    timetable_id: UUID,
    first_day: date,
    last_day: date,
) -> CommandResult:
    """Put the timetable's lessons on the school days between two days (none on holidays).

    Lessons already planned are brought up to date; recorded or cancelled ones are kept as they
    are; planned lessons whose slot left the timetable are cancelled.
    """
    if last_day < first_day:
        raise Invalid("the last day is before the first", field="last_day")
    if (last_day - first_day).days >= MAX_SCHEDULE_DAYS:
        raise Invalid(f"schedule at most {MAX_SCHEDULE_DAYS} days at once", field="last_day")

    async def decide() -> tuple[list[Change], CommandResult]:
        reader = Reader.of(runtime)
        timetable = await load_timetable(runtime, school_id, timetable_id)
        assert timetable.opened is not None
        calendar = await reader.calendar(school_id, timetable.opened.school_year)
        if calendar is None:
            raise Conflict(
                f"the school's calendar for {timetable.opened.school_year} is not known yet",
                code="calendar_unknown",
            )
        planned = timetable.lessons_between(calendar, first_day, last_day)
        wanted = {p.lesson_id for p in planned}
        existing = await reader.lessons(
            school_id, first_day=first_day, last_day=last_day, timetable_id=timetable_id
        )
        changes: list[Change] = []
        kept = 0
        for plan in planned:
            lesson = await load(runtime.store, Lesson, lesson_stream(plan.lesson_id))
            if (
                lesson.plan is not None
                and lesson.plan != plan
                and (lesson.recorded or lesson.cancelled)
            ):
                kept += 1
                continue
            changes.append(Change(lesson.stream_id, lesson.version, lesson.schedule(plan)))
        cancelled = 0
        for row in existing:
            if row["lesson_id"] in wanted or row["recorded"] or row["cancelled"]:
                continue
            lesson = await load(runtime.store, Lesson, lesson_stream(row["lesson_id"]))
            events = lesson.cancel(CancelLesson(reason="removed from the timetable"))
            changes.append(Change(lesson.stream_id, lesson.version, events))
            cancelled += 1
        body = {
            "timetable_id": str(timetable_id),
            "lessons": len(planned),
            "scheduled": sum(1 for c in changes if c.events) - cancelled,
            "kept": kept,
            "cancelled": cancelled,
        }
        return changes, CommandResult(201, body)

    return await run_many(runtime, ctx, decide)


# --- lessons -------------------------------------------------------------------------------------


async def load_lesson(runtime: Runtime, school_id: UUID, lesson_id: UUID) -> Lesson:
    """The lesson of this school, or 404 — another school's lesson is not found either."""
    return in_school(await load(runtime.store, Lesson, lesson_stream(lesson_id)), school_id)


def in_school(lesson: Lesson, school_id: UUID) -> Lesson:
    if lesson.plan is None or lesson.plan.school_id != school_id:
        raise missing("lesson", "lesson_id")
    return lesson


def _lesson_result(
    lesson: Lesson, events: Sequence[LessonsEvent], status: int = 201
) -> CommandResult:
    draft = copy.deepcopy(lesson).applied(events)
    return CommandResult(status, lesson_body(draft))


def lesson_body(lesson: Lesson) -> dict[str, Any]:
    """A lesson as the API shows it: the plan, substitution, record with history, lateness."""
    assert lesson.plan is not None
    plan = lesson.plan.model_dump(mode="json")
    return {
        **plan,
        "substitute_teacher_id": str(lesson.substitute_teacher_id)
        if lesson.substitute_teacher_id
        else None,
        "cancelled": lesson.cancelled,
        "recorded": lesson.recorded,
        "late": lesson.late,
        "minutes_late": lesson.minutes_late,
        "overdue": lesson.overdue_raised,
        "record": lesson.current.model_dump(mode="json") if lesson.current else None,
        "history": [r.model_dump(mode="json") for r in lesson.history],
    }


async def substitute_teacher(
    runtime: Runtime, ctx: CommandContext, school_id: UUID, lesson_id: UUID, teacher_id: UUID
) -> CommandResult:
    async def decide() -> Decision:
        lesson = await load_lesson(runtime, school_id, lesson_id)
        if teacher_id not in await Reader.of(runtime).staff(school_id):
            raise Invalid("the teacher is not on the school's staff", field="substitute_teacher_id")
        events = lesson.substitute(SubstituteTeacher(substitute_teacher_id=teacher_id))
        return Decision(lesson.stream_id, lesson.version, events, _lesson_result(lesson, events))

    return await run(runtime, ctx, decide)


async def cancel_lesson(
    runtime: Runtime, ctx: CommandContext, school_id: UUID, lesson_id: UUID, reason: str
) -> CommandResult:
    async def decide() -> Decision:
        lesson = await load_lesson(runtime, school_id, lesson_id)
        events = lesson.cancel(CancelLesson(reason=reason))
        return Decision(lesson.stream_id, lesson.version, events, _lesson_result(lesson, events))

    return await run(runtime, ctx, decide)


async def record_lesson(
    runtime: Runtime, ctx: CommandContext, school_id: UUID, lesson_id: UUID, cmd: RecordLesson
) -> CommandResult:
    """A teacher whom identity assigns as the substitute for the class and subject that day
    becomes the lesson's substitute on recording it."""

    async def decide() -> Decision:
        # The lesson and the school's deadline policy in one round trip.
        stream, rules = lesson_stream(lesson_id), policy_stream(school_id)
        loaded = await runtime.store.load_many([stream, rules])
        lesson = in_school(rehydrated(Lesson, stream, loaded[stream]), school_id)
        plan = lesson.plan
        assert plan is not None
        reader = Reader.of(runtime)
        draft = copy.deepcopy(lesson)
        events: list[LessonsEvent] = []
        open_to_substitute = not (
            lesson.may_record(cmd.recorded_by) or lesson.recorded or lesson.cancelled
        )
        if open_to_substitute and await reader.teaches(
            plan.class_id,
            cmd.recorded_by,
            plan.lesson_date,
            subject_id=plan.subject_id,
            substitute=True,
        ):
            events += draft.substitute(SubstituteTeacher(substitute_teacher_id=cmd.recorded_by))
            draft.applied(events)
        policy = rehydrated(DeadlinePolicy, rules, loaded[rules]).schedule
        events += draft.record(cmd, ctx.now, policy, await reader.zone(school_id))
        return Decision(lesson.stream_id, lesson.version, events, _lesson_result(lesson, events))

    return await run(runtime, ctx, decide)


async def correct_lesson(
    runtime: Runtime,
    ctx: CommandContext,
    school_id: UUID,
    lesson_id: UUID,
    cmd: CorrectLessonRecord,
) -> CommandResult:
    """A lesson corrected again and again would be read whole each time: it is kept between
    commands (``runtime.aggregates``) and caught up with only what was appended since."""

    def decide(lesson: Lesson) -> tuple[Sequence[IntegrationEvent], CommandResult]:
        events = in_school(lesson, school_id).correct(cmd)
        return events, _lesson_result(lesson, events)

    return await execute_on(
        runtime.aggregates,
        runtime.store,
        ctx,
        Lesson,
        lesson_stream(lesson_id),
        decide,
        inline=VIEWS,
    )


async def set_deadline_policy(
    runtime: Runtime, ctx: CommandContext, cmd: SetEntryDeadlinePolicy
) -> CommandResult:
    async def decide() -> Decision:
        policy = await load(runtime.store, DeadlinePolicy, policy_stream(cmd.school_id))
        zone = await Reader.of(runtime).zone(cmd.school_id)
        events = policy.set(cmd, ctx.now.astimezone(zone).date())
        schedule = copy.deepcopy(policy).applied(events).schedule
        body = {"versions": [v.model_dump(mode="json") for v in schedule.versions]}
        return Decision(policy.stream_id, policy.version, events, CommandResult(201, body))

    return await run(runtime, ctx, decide)


class SchoolRules:
    """Each school's deadline policy and time zone, loaded once per pass of the overdue job."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.reader = Reader.of(runtime)
        self._known: dict[UUID, tuple[DeadlineSchedule, ZoneInfo]] = {}

    async def of(self, school_id: UUID) -> tuple[DeadlineSchedule, ZoneInfo]:
        if school_id not in self._known:
            self._known[school_id] = (
                await deadline_schedule(self.runtime.store, school_id),
                await self.reader.zone(school_id),
            )
        return self._known[school_id]


async def raise_overdue(runtime: Runtime, now: datetime) -> int:
    """Raise LessonEntryOverdue for every unrecorded lesson whose deadline has passed by ``now``.

    Each lesson's own stream says whether it was raised already, and the append expects the
    version it decided on, so running this twice, or from two workers at once, or again after a
    restart, raises each event once. Returns how many were raised.
    """
    rules = SchoolRules(runtime)
    # The latest calendar day anywhere on Earth at ``now``: no lesson after it can be due.
    candidates = await rules.reader.unrecorded_until((now + timedelta(hours=14)).date())
    raised = 0
    for row in candidates:
        policy, zone = await rules.of(row["school_id"])
        lesson = await load(runtime.store, Lesson, lesson_stream(row["lesson_id"]))
        try:
            events = lesson.overdue(now, policy, zone)
        except Invalid:
            continue
        if not events:
            continue
        ctx = CommandContext(school_id=row["school_id"], now=now)
        try:
            await runtime.store.append(lesson.stream_id, lesson.version, events, ctx, inline=VIEWS)
        except ConcurrencyConflict:
            continue
        raised += 1
    return raised


async def next_deadline(runtime: Runtime, now: datetime) -> datetime | None:
    """The earliest entry deadline after ``now`` among lessons still unrecorded."""
    rules = SchoolRules(runtime)
    upcoming: list[datetime] = []
    for row in await rules.reader.unrecorded_until((now + timedelta(days=1, hours=14)).date()):
        policy, zone = await rules.of(row["school_id"])
        try:
            at = entry_deadline(row["lesson_date"], row["grade_level"], policy, zone)
        except Invalid:
            continue
        if at > now:
            upcoming.append(at)
    return min(upcoming) if upcoming else None


# --- consultations -------------------------------------------------------------------------------


async def record_consultation(
    runtime: Runtime, ctx: CommandContext, cmd: RecordConsultation, *, deputy_director: bool
) -> CommandResult:
    async def decide() -> Decision:
        stream = f"consultation-{cmd.consultation_id}"
        rules = policy_stream(cmd.school_id)
        loaded = await runtime.store.load_many([stream, rules])
        note = rehydrated(Consultation, stream, loaded[stream])
        policy = rehydrated(DeadlinePolicy, rules, loaded[rules]).schedule
        reader = Reader.of(runtime)
        zone = await reader.zone(cmd.school_id)
        calendar = current_calendar(
            await reader.calendars(cmd.school_id), ctx.now.astimezone(zone).date()
        )
        events = note.record(
            cmd, ctx.now, policy, zone, deputy_director=deputy_director, calendar=calendar
        )
        body = events[0].model_dump(mode="json")
        return Decision(note.stream_id, note.version, events, CommandResult(201, body))

    return await run(runtime, ctx, decide)


# --- briefings -----------------------------------------------------------------------------------


async def define_briefing_type(
    runtime: Runtime, ctx: CommandContext, cmd: DefineBriefingType
) -> CommandResult:
    async def decide() -> Decision:
        kinds = await Reader.of(runtime).briefing_types(cmd.school_id)
        unique_name_key(kinds, "briefing_type_id", cmd.briefing_type_id, cmd.name_key)
        kind = await load(runtime.store, BriefingType, f"briefing-type-{cmd.briefing_type_id}")
        events = kind.define(cmd)
        body = {"briefing_type_id": str(cmd.briefing_type_id), "name_key": cmd.name_key}
        return Decision(kind.stream_id, kind.version, events, CommandResult(201, body))

    return await run(runtime, ctx, decide)


async def briefing_calendar(
    reader: Reader, school_id: UUID, class_id: UUID | None, today: date
) -> SchoolCalendar | None:
    """The school year a briefing falls in: its class's, or for a group the current one."""
    if class_id is not None:
        found = await reader.school_class(school_id, class_id)
        if found is not None:
            return await reader.calendar(school_id, found.school_year)
    return current_calendar(await reader.calendars(school_id), today)


async def conduct_briefing(
    runtime: Runtime, ctx: CommandContext, cmd: ConductBriefing
) -> CommandResult:
    async def decide() -> Decision:
        reader = Reader.of(runtime)
        if await reader.briefing_type(cmd.school_id, cmd.briefing_type_id) is None:
            raise NotFound("no such briefing type", field="briefing_type_id")
        briefing = await load(runtime.store, Briefing, f"briefing-{cmd.briefing_id}")
        zone = await reader.zone(cmd.school_id)
        calendar = await briefing_calendar(
            reader, cmd.school_id, cmd.class_id, ctx.now.astimezone(zone).date()
        )
        events = briefing.conduct(cmd, ctx.now, zone, calendar)
        body = events[0].model_dump(mode="json")
        return Decision(briefing.stream_id, briefing.version, events, CommandResult(201, body))

    return await run(runtime, ctx, decide)


async def load_briefing(runtime: Runtime, school_id: UUID, briefing_id: UUID) -> Briefing:
    briefing = await load(runtime.store, Briefing, f"briefing-{briefing_id}")
    if briefing.conducted is None or briefing.conducted.school_id != school_id:
        raise NotFound("no such briefing", field="briefing_id")
    return briefing


async def acknowledge_briefing(
    runtime: Runtime,
    ctx: CommandContext,
    school_id: UUID,
    briefing_id: UUID,
    cmd: AcknowledgeBriefing,
) -> CommandResult:
    async def decide() -> Decision:
        briefing = await load_briefing(runtime, school_id, briefing_id)
        events = briefing.acknowledge(cmd)
        draft = copy.deepcopy(briefing).applied(events)
        body = briefing_body(draft)
        return Decision(briefing.stream_id, briefing.version, events, CommandResult(201, body))

    return await run(runtime, ctx, decide)


def briefing_body(briefing: Briefing) -> dict[str, Any]:
    assert briefing.conducted is not None
    return {
        **briefing.conducted.model_dump(mode="json"),
        "acknowledged": {str(s): str(how) for s, how in briefing.acknowledged.items()},
        "not_acknowledged": [str(s) for s in briefing.not_acknowledged],
    }
