"""``ezurnals seed``: a synthetic country created through the public HTTP APIs of a running stack.

The plan (``seeding.plan``) is pure and follows the seed; this module only sends it, as the
people it names would: the operator registers each school, its administration builds the school,
teachers record lessons, attendance and grades, guardians ask for excuses and class teachers
decide them. Nothing touches a database; what another service has not projected yet is waited
for, and what still fails is counted and reported.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TimeElapsedColumn,
)
from rich.table import Table

from ezurnals.shared.contracts.school_year import planned_year_of
from ezurnals.tools.seeding.client import PASSWORD, SeedError, Session, Stack, Stats
from ezurnals.tools.seeding.plan import (
    ExcuseChoice,
    LessonChoice,
    SchoolClass,
    SchoolPlan,
    SchoolYear,
    Slot,
    period_value,
    plan_day,
    plan_school,
)

RIGA = ZoneInfo("Europe/Riga")


@dataclass(frozen=True)
class SeedOptions:
    schools: int
    year: SchoolYear
    days: int
    seed: int
    max_students: int | None = None
    concurrency: int = 32
    settle_seconds: float = 60.0


@dataclass
class SchoolRun:
    """What the stack answered while one school was created: its ids, usernames and sessions."""

    plan: SchoolPlan
    school_id: str = ""
    ids: dict[str, str] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    subject_ids: dict[str, str] = field(default_factory=dict)
    class_ids: dict[str, str] = field(default_factory=dict)
    lessons: dict[tuple[str, date, int], str] = field(default_factory=dict)
    #: (class key, subject key, period) → student key → the values given.
    book: dict[tuple[str, str, str], dict[str, list[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    roll: asyncio.Lock = field(default_factory=asyncio.Lock)
    accounts: dict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))


@dataclass
class SeedResult:
    schools: list[SchoolRun]
    year: SchoolYear
    days: list[date]
    stats: Stats


def load_urls(data_dir: Path | None, urls_file: Path | None) -> dict[str, str]:
    """Service → base URL, from a stack file (``stack.json`` of ``ezurnals up``)."""
    path = urls_file if urls_file is not None else (data_dir or Path(".ezurnals")) / "stack.json"
    if not path.exists():
        raise SystemExit(f"no {path}: start `ezurnals up` first (or give --urls)")
    stack = json.loads(path.read_text())
    services = stack.get("services", stack)
    return {str(k): str(v).rstrip("/") for k, v in services.items()}


def current_school_year(today: date) -> str:
    return planned_year_of(today)


class Seeder:
    def __init__(self, stack: Stack, options: SeedOptions, secret: str, now: datetime) -> None:
        self.stack = stack
        self.options = options
        self.secret = secret
        self.now = now.astimezone(RIGA)
        self.days = options.year.last_school_days(options.days, self.now.date())
        self.counts = stack.stats.counts

    async def gather(self, calls: Iterable[Awaitable[Any]]) -> list[Any]:
        """Run calls together; a failed one is already counted, the rest carry on."""
        results = await asyncio.gather(*calls, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, SeedError):
                raise result
        return [None if isinstance(r, SeedError) else r for r in results]

    # --- the school's structure, by its administration ------------------------------------

    async def register(self, run: SchoolRun) -> None:
        plan, stack = run.plan, self.stack
        school = await stack.call(
            "identity",
            "POST",
            "/schools",
            json={"name": plan.name, "admin": plan.admin.personal_data()},
            headers={"X-Bootstrap-Token": self.secret},
        )
        run.school_id = school["school_id"]
        admin = school["admin"]
        run.usernames["admin"] = admin["username"]
        run.sessions["admin"] = await stack.activate(admin["access_code"], admin["username"])
        await stack.call(
            "identity",
            "POST",
            "/school-years",
            run.sessions["admin"],
            json=self.options.year.body(),
        )
        self.counts["schools"] += 1

    async def hire_staff(self, run: SchoolRun) -> None:
        hired_on = (self.options.year.first_day - timedelta(days=7)).isoformat()
        admin = run.sessions["admin"]

        async def hire(key: str, roles: tuple[str, ...]) -> None:
            person = run.plan.people[key]
            body = {"person": person.personal_data(), "roles": list(roles), "hired_on": hired_on}
            hired = await self.stack.call("identity", "POST", "/staff", admin, json=body)
            run.ids[key], run.usernames[key] = hired["person_id"], hired["username"]
            self.counts["staff"] += 1

        await self.gather(hire(s.person.key, s.roles) for s in run.plan.staff)

    async def open_classes(self, run: SchoolRun) -> None:
        admin, first_day = run.sessions["admin"], self.options.year.first_day.isoformat()

        async def subject(key: str) -> None:
            s = run.plan.subjects[key]
            body = {
                "subject_id": str(uuid.uuid4()),
                "name_key": s.name_key,
                "name": s.name,
                "curriculum_hours": s.curriculum_hours(),
            }
            made = await self.stack.call(
                "lessons", "POST", "/subjects", admin, eventual=True, json=body
            )
            run.subject_ids[key] = made["subject_id"]

        await self.gather(subject(k) for k in run.plan.subjects)

        async def open_class(school_class: SchoolClass) -> None:
            body = {
                "school_year": self.options.year.name,
                "grade_level": school_class.grade_level,
                "label": school_class.label,
            }
            opened = await self.stack.call("identity", "POST", "/classes", admin, json=body)
            class_id = run.class_ids[school_class.key] = opened["class_id"]
            teacher = run.ids.get(school_class.class_teacher)
            if teacher is not None:
                await self.stack.call(
                    "identity",
                    "PUT",
                    f"/classes/{class_id}/class-teacher",
                    admin,
                    json={"teacher_id": teacher, "valid_from": first_day},
                )
            for key, teacher_key in school_class.teaching.items():
                if teacher_key in run.ids and key in run.subject_ids:
                    await self.stack.call(
                        "identity",
                        "POST",
                        f"/classes/{class_id}/teaching",
                        admin,
                        json={
                            "teacher_id": run.ids[teacher_key],
                            "subject_id": run.subject_ids[key],
                            "valid_from": first_day,
                        },
                    )
            self.counts["classes"] += 1

        await self.gather(open_class(c) for c in run.plan.classes)

    async def enrol_families(self, run: SchoolRun) -> None:
        """Siblings one after another, so their guardians are registered once and shared."""
        admin, first_day = run.sessions["admin"], self.options.year.first_day.isoformat()
        class_of = {s: c for c in run.plan.classes for s in c.students}

        async def family(guardians: tuple[str, ...], children: tuple[str, ...]) -> None:
            for child in children:
                if class_of[child].key not in run.class_ids:
                    continue
                body = {
                    "person": run.plan.people[child].personal_data(),
                    "class_id": run.class_ids[class_of[child].key],
                    "enrolled_on": first_day,
                }
                async with run.roll:
                    enrolled = await self.stack.call(
                        "identity", "POST", "/students", admin, json=body
                    )
                run.ids[child], run.usernames[child] = enrolled["person_id"], enrolled["username"]
                self.counts["students"] += 1
                for guardian in guardians:
                    link: dict[str, Any] = {"linked_on": first_day}
                    if guardian in run.ids:
                        link["guardian_id"] = run.ids[guardian]
                    else:
                        link["person"] = run.plan.people[guardian].personal_data()
                    linked = await self.stack.call(
                        "identity",
                        "POST",
                        f"/students/{enrolled['person_id']}/guardians",
                        admin,
                        json=link,
                    )
                    if guardian not in run.ids:
                        run.ids[guardian] = linked["guardian_id"]
                        run.usernames[guardian] = linked["username"]
                        self.counts["guardians"] += 1

        await self.gather(family(f.guardians, f.children) for f in run.plan.families)

    async def build_timetables(self, run: SchoolRun) -> None:
        """One CSV import per class, then its lessons scheduled on the simulated days."""
        if not self.days:
            return
        admin = run.sessions["admin"]
        first, last = self.days[0].isoformat(), self.days[-1].isoformat()

        async def timetable(school_class: SchoolClass) -> None:
            class_id = run.class_ids.get(school_class.key)
            if class_id is None:
                return
            opened = await self.stack.call(
                "lessons", "POST", "/timetables", admin, eventual=True, json={"class_id": class_id}
            )
            timetable_id = opened["timetable_id"]
            rows = ["day;period;start;end;subject;teacher"] + [
                f"{s.weekday};{s.period};{s.starts_at:%H:%M};{s.ends_at:%H:%M};"
                f"{s.subject_key};{run.ids[s.teacher]}"
                for s in school_class.slots
                if s.teacher in run.ids
            ]
            await self.stack.call(
                "lessons",
                "POST",
                f"/timetables/{timetable_id}/import",
                admin,
                eventual=True,
                params={
                    "effective_from": self.options.year.first_day.isoformat(),
                    "dry_run": "false",
                },
                content="\n".join(rows).encode(),
                headers={"Content-Type": "text/csv"},
            )
            await self.stack.call(
                "lessons",
                "POST",
                f"/timetables/{timetable_id}/schedule",
                admin,
                eventual=True,
                json={"first_day": first, "last_day": last},
            )
            listed = await self.stack.call(
                "lessons",
                "GET",
                "/lessons",
                admin,
                params={"class_id": class_id, "first_day": first, "last_day": last},
            )
            for lesson in listed:
                day = date.fromisoformat(lesson["lesson_date"])
                run.lessons[(school_class.key, day, lesson["period"])] = lesson["lesson_id"]
            self.counts["lessons scheduled"] += len(listed)

        await self.gather(timetable(c) for c in run.plan.classes)

    # --- school days ----------------------------------------------------------------------

    def begun(self, day: date, slot: Slot) -> bool:
        return datetime.combine(day, slot.starts_at, tzinfo=RIGA) <= self.now

    async def school_day(self, run: SchoolRun, day: date) -> None:
        planned = [(c, *plan_day(self.options.seed, run.plan, c, day)) for c in run.plan.classes]
        await self.gather(
            self.lesson(run, c, slot, day, choices[slot.period])
            for c, choices, _ in planned
            for slot in c.slots
            if slot.weekday == day.isoweekday() and slot.period in choices
        )
        await self.gather(
            self.excuse(run, c, day, excuse) for c, _, excuses in planned for excuse in excuses
        )

    async def lesson(
        self, run: SchoolRun, school_class: SchoolClass, slot: Slot, day: date, choice: LessonChoice
    ) -> None:
        lesson_id = run.lessons.get((school_class.key, day, slot.period))
        if lesson_id is None or slot.teacher not in run.ids or not self.begun(day, slot):
            return
        if not choice.recorded:
            self.counts["lessons left open"] += 1
            return
        teacher = await self.account(run, slot.teacher)
        record: dict[str, Any] = {"topic": choice.topic, "no_homework": choice.homework is None}
        if choice.homework is not None:
            due = (day + timedelta(days=7)).isoformat()
            record["homework"] = {"text": choice.homework, "due_date": due}
        recorded = await self.stack.call(
            "lessons", "POST", f"/lessons/{lesson_id}/record", teacher, json=record
        )
        self.counts["lessons recorded"] += 1
        self.counts["recorded late"] += bool(recorded.get("late"))
        marks: list[dict[str, Any]] = [
            {"student_id": run.ids[s]} for s in choice.absent if s in run.ids
        ]
        marks += [
            {"student_id": run.ids[s], "minutes_late": m} for s, m in choice.late if s in run.ids
        ]
        await self.stack.call(
            "attendance",
            "POST",
            f"/lessons/{lesson_id}/attendance",
            teacher,
            eventual=True,
            json={"all_present": not marks, "marks": marks},
        )
        self.counts["attendance taken"] += 1
        self.counts["absence marks"] += len(choice.absent)
        graded = [(s, v) for s, v in choice.graded if s in run.ids]
        if not graded:
            return
        kind, title = choice.work
        class_id, subject_id = run.class_ids[school_class.key], run.subject_ids[slot.subject_key]
        await self.stack.call(
            "grading",
            "POST",
            f"/classes/{class_id}/subjects/{subject_id}/grades",
            teacher,
            eventual=True,
            json={
                "work": {"title": title, "kind": kind, "lesson_id": lesson_id},
                "marks": [{"student_id": run.ids[s], "value": v} for s, v in graded],
            },
        )
        self.counts["grades"] += len(graded)
        period = self.options.year.period_of(day)
        for student, value in graded:
            run.book[(school_class.key, slot.subject_key, period)][student].append(value)

    async def account(self, run: SchoolRun, key: str) -> Session:
        """A person's account, activated the first time they act (with a code from the
        administration, as a teacher or a family would get it on paper); password hashing is
        the costliest thing identity does, so nobody who never acts gets one."""
        async with run.accounts[key]:
            if key not in run.sessions:
                code = await self.stack.call(
                    "identity", "POST", f"/people/{run.ids[key]}/access-code", run.sessions["admin"]
                )
                run.sessions[key] = await self.stack.activate(
                    code["codes"][0]["code"], run.usernames[key]
                )
                self.counts["accounts activated"] += 1
        return run.sessions[key]

    async def excuse(
        self, run: SchoolRun, school_class: SchoolClass, day: date, excuse: ExcuseChoice
    ) -> None:
        guardians = [g for g in run.plan.guardians_of(excuse.student) if g in run.ids]
        if (
            not guardians
            or excuse.student not in run.ids
            or school_class.class_teacher not in run.ids
        ):
            return
        if not any(self.begun(day, s) for s in school_class.slots if s.weekday == day.isoweekday()):
            return
        guardian = await self.account(run, guardians[0])
        submitted = await self.stack.call(
            "attendance",
            "POST",
            "/excuse-requests",
            guardian,
            eventual=True,
            data={
                "student_id": run.ids[excuse.student],
                "reason": "Slimības dēļ" if excuse.document_type != "other" else "Ģimenes apstākļi",
                "document_type": excuse.document_type,
                "covers_from": day.isoformat(),
                "covers_to": day.isoformat(),
            },
        )
        self.counts["excuse requests"] += 1
        request_id = submitted["request_id"]
        if excuse.accepted:
            path, body = f"/excuse-requests/{request_id}/accept", None
        else:
            path, body = f"/excuse-requests/{request_id}/reject", {"reason": "Nav pamatojuma"}
        class_teacher = await self.account(run, school_class.class_teacher)
        await self.stack.call("attendance", "POST", path, class_teacher, eventual=True, json=body)
        self.counts["excuses accepted" if excuse.accepted else "excuses rejected"] += 1

    async def period_grades(self, run: SchoolRun) -> None:
        """The teachers' period grades for what the simulated days graded."""

        async def book(class_key: str, subject_key: str, period: str) -> None:
            school_class = next(c for c in run.plan.classes if c.key == class_key)
            values = run.book[(class_key, subject_key, period)]
            entries = [
                {"student_id": run.ids[s], "value": period_value(v)}
                for s, v in sorted(values.items())
                if v
            ]
            if not entries:
                return
            teacher = await self.account(run, school_class.teaching[subject_key])
            class_id, subject_id = run.class_ids[class_key], run.subject_ids[subject_key]
            await self.stack.call(
                "grading",
                "PUT",
                f"/classes/{class_id}/subjects/{subject_id}/periods/{period}/grades",
                teacher,
                eventual=True,
                json={"entries": entries},
            )
            self.counts["period grades"] += len(entries)

        await self.gather(book(*key) for key in sorted(run.book))


PHASES = ("registering", "hiring staff", "opening classes", "enrolling families", "timetables")


async def run_seed(
    urls: dict[str, str],
    options: SeedOptions,
    secret: str,
    console: Console,
    now: datetime | None = None,
) -> SeedResult:
    """Create ``options.schools`` schools and simulate their days, with a progress bar."""
    plans = [
        plan_school(options.seed, n, options.year, options.max_students)
        for n in range(options.schools)
    ]
    with Progress(
        SpinnerColumn(),
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        sent = progress.add_task("commands sent", total=None)
        stack = Stack(
            urls,
            concurrency=options.concurrency,
            settle_seconds=options.settle_seconds,
            on_command=lambda: progress.advance(sent),
        )
        seeder = Seeder(stack, options, secret, now or datetime.now(RIGA))
        runs = [SchoolRun(plan) for plan in plans]
        try:
            await asyncio.gather(*(_one_school(seeder, run, progress) for run in runs))
        finally:
            await stack.close()
    return SeedResult(runs, options.year, seeder.days, stack.stats)


async def _one_school(seeder: Seeder, run: SchoolRun, progress: Progress) -> None:
    steps = len(PHASES) + len(seeder.days) + 1
    task: TaskID = progress.add_task(run.plan.name, total=steps)
    clock = asyncio.get_running_loop().time
    seconds = seeder.stack.stats.seconds

    async def step(what: str, work: Awaitable[None]) -> None:
        progress.update(task, description=f"{run.plan.name}: {what}")
        started = clock()
        await work
        seconds[what.split(" 20")[0]] += clock() - started
        progress.advance(task)

    try:
        await step(PHASES[0], seeder.register(run))
        for what, phase in zip(
            PHASES[1:],
            (
                seeder.hire_staff,
                seeder.open_classes,
                seeder.enrol_families,
                seeder.build_timetables,
            ),
            strict=True,
        ):
            await step(what, phase(run))
        for day in seeder.days:
            await step(f"school day {day.isoformat()}", seeder.school_day(run, day))
        await step("period grades", seeder.period_grades(run))
        progress.update(task, description=f"{run.plan.name}: done")
    except SeedError:
        progress.update(task, description=f"{run.plan.name}: [red]could not be registered[/]")


def print_summary(result: SeedResult, console: Console) -> None:
    stats = result.stats
    table = Table(title="ezurnals seed")
    table.add_column("what")
    table.add_column("count", justify="right")
    days = f"{result.days[0]} … {result.days[-1]}" if result.days else "none"
    table.add_row("school days simulated", f"{len(result.days)} ({days})")
    for key in (
        "schools",
        "staff",
        "classes",
        "students",
        "guardians",
        "accounts activated",
        "lessons scheduled",
        "lessons recorded",
        "recorded late",
        "lessons left open",
        "attendance taken",
        "absence marks",
        "grades",
        "excuse requests",
        "excuses accepted",
        "excuses rejected",
        "period grades",
    ):
        table.add_row(key, str(stats.counts[key]))
    table.add_row("commands sent", str(stats.commands))
    table.add_row("reads", str(stats.reads))
    table.add_row("retries while projections caught up", str(stats.retries))
    table.add_row("errors", f"[red]{stats.errors}[/]" if stats.errors else "0")
    console.print(table)
    console.print(
        "seconds per phase: "
        + ", ".join(f"{name} {seconds:.1f}" for name, seconds in stats.seconds.items())
    )
    for message in stats.messages:
        console.print(f"[red]•[/] {message}")
    if result.schools and result.schools[0].usernames:
        run = result.schools[0]
        logins = Table(title=f"sign in to {run.plan.name} (password {PASSWORD})")
        logins.add_column("who")
        logins.add_column("username")
        samples = [("school admin", "admin")]
        samples += [
            ("teacher", s.person.key) for s in run.plan.staff if s.person.key in run.sessions
        ][:1]
        samples += [("guardian", g) for g in run.plan.guardians if g in run.sessions][:1]
        for who, key in samples:
            if key in run.usernames:
                logins.add_row(who, run.usernames[key])
        console.print(logins)


def operator_secret(data_dir: Path) -> str:
    """The identity API's bootstrap secret: EZURNALS_BOOTSTRAP_TOKEN, else the file in the
    stack's data dir (made once by whoever asks first, the API or this command)."""
    from ezurnals.identity.config import IdentityConfig

    config = IdentityConfig()
    if not config.bootstrap_token:
        config = config.model_copy(update={"data_dir": data_dir})
    secret = config.operator_secret()
    if secret is None:
        raise SystemExit("set EZURNALS_BOOTSTRAP_TOKEN or give --data-dir")
    return secret
