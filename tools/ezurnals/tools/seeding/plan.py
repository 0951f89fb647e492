"""The synthetic country as a pure plan: schools, people, families, subjects and timetables,
and each school day's choices. Everything is drawn from ``random.Random`` seeded from the
run's seed, so the same seed plans the same country (no I/O, no clock)."""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from ezurnals.shared.contracts.school_year import starting
from ezurnals.tools.seeding.names import FEMALE_FIRST, MALE_FIRST, SURNAMES, TOWNS

WEEKS_PER_YEAR = 35
LESSON_MINUTES = 40
BREAK_MINUTES = 10
FIRST_LESSON = time(8, 30)
MAX_PERIODS = 8
TEACHER_WEEKLY_LOAD = 24
CLASS_SIZE = 25
MAX_PARALLEL = 4

#: name key, name, {(first grade, last grade): lessons a week}
SUBJECTS: tuple[tuple[str, str, dict[tuple[int, int], int]], ...] = (
    ("matematika", "Matemātika", {(1, 12): 5}),
    ("latviesu-valoda", "Latviešu valoda", {(1, 4): 6, (5, 9): 4, (10, 12): 3}),
    ("literatura", "Literatūra", {(5, 12): 2}),
    ("anglu-valoda", "Angļu valoda", {(1, 3): 2, (4, 12): 3}),
    ("krievu-valoda", "Krievu valoda", {(6, 12): 3}),
    ("dabaszinibas", "Dabaszinības", {(1, 6): 2}),
    ("biologija", "Bioloģija", {(7, 12): 2}),
    ("fizika", "Fizika", {(8, 12): 2}),
    ("kimija", "Ķīmija", {(8, 12): 2}),
    ("geografija", "Ģeogrāfija", {(7, 9): 2}),
    ("vesture", "Vēsture", {(4, 12): 2}),
    ("socialas-zinibas", "Sociālās zinības", {(1, 9): 1}),
    ("datorika", "Datorika", {(1, 9): 1}),
    ("programmesana", "Programmēšana", {(10, 12): 2}),
    ("muzika", "Mūzika", {(1, 9): 2}),
    ("vizuala-maksla", "Vizuālā māksla", {(1, 9): 1}),
    ("sports", "Sports un veselība", {(1, 12): 3}),
)
TOPICS = (
    "Atkārtošana",
    "Jaunas tēmas ievads",
    "Praktiskais darbs",
    "Kontroldarba analīze",
    "Grupu darbs",
    "Patstāvīgais darbs",
    "Diskusija",
    "Projekta darbs",
    "Vingrinājumi un uzdevumi",
    "Pārbaudes darbs",
)
HOMEWORK = ("Uzdevumi mācību grāmatā", "Izlasīt nodaļu", "Sagatavot prezentāciju", "Darba lapa")
WORK_KINDS = (("test", "Pārbaudes darbs"), ("classwork", "Darbs stundā"), ("oral", "Atbilde"))
LEVELS = ("S", "T", "A", "P")


@dataclass(frozen=True)
class Person:
    key: str
    first_name: str
    last_name: str
    birth_date: date | None = None
    personal_code: str | None = None

    def personal_data(self) -> dict[str, str]:
        data = {"first_name": self.first_name, "last_name": self.last_name}
        if self.birth_date is not None:
            data["birth_date"] = self.birth_date.isoformat()
        if self.personal_code is not None:
            data["personal_code"] = self.personal_code
        return data


@dataclass(frozen=True)
class Subject:
    name_key: str
    name: str
    weekly: dict[int, int]

    def curriculum_hours(self) -> dict[str, int]:
        return {str(g): n * WEEKS_PER_YEAR for g, n in sorted(self.weekly.items())}


@dataclass(frozen=True)
class Staff:
    person: Person
    roles: tuple[str, ...]
    subjects: tuple[str, ...] = ()


@dataclass(frozen=True)
class Slot:
    weekday: int
    period: int
    subject_key: str
    teacher: str

    @property
    def starts_at(self) -> time:
        minutes = 8 * 60 + 30 + (self.period - 1) * (LESSON_MINUTES + BREAK_MINUTES)
        return time(minutes // 60, minutes % 60)

    @property
    def ends_at(self) -> time:
        start = self.starts_at
        minutes = start.hour * 60 + start.minute + LESSON_MINUTES
        return time(minutes // 60, minutes % 60)


@dataclass
class SchoolClass:
    key: str
    grade_level: int
    label: str
    class_teacher: str
    students: list[str] = field(default_factory=list)
    teaching: dict[str, str] = field(default_factory=dict)
    slots: list[Slot] = field(default_factory=list)


@dataclass(frozen=True)
class Family:
    guardians: tuple[str, ...]
    children: tuple[str, ...]


@dataclass
class SchoolPlan:
    index: int
    name: str
    admin: Person
    people: dict[str, Person]
    staff: list[Staff]
    subjects: dict[str, Subject]
    classes: list[SchoolClass]
    families: list[Family]
    #: Each student's ability: the centre of their ten-point grades.
    ability: dict[str, float]

    @property
    def students(self) -> list[str]:
        return [s for c in self.classes for s in c.students]

    @property
    def guardians(self) -> list[str]:
        return list(dict.fromkeys(g for f in self.families for g in f.guardians))

    def guardians_of(self, student: str) -> tuple[str, ...]:
        for family in self.families:
            if student in family.children:
                return family.guardians
        return ()


@dataclass(frozen=True)
class SchoolYear:
    name: str
    semesters: tuple[tuple[date, date], ...]
    holidays: tuple[tuple[date, date, str], ...]
    grade_end_dates: tuple[tuple[int, date], ...]

    @classmethod
    def of(cls, name: str) -> SchoolYear:
        start = int(name[:4]) if name[:4].isdigit() else 0
        if name != starting(start):
            raise ValueError(f"a school year looks like 2025/2026, not {name!r}")
        end = start + 1
        return cls(
            name=name,
            semesters=(
                (_weekday_on_or_after(date(start, 9, 1)), date(start, 12, 19)),
                (_weekday_on_or_after(date(end, 1, 5)), date(end, 5, 29)),
            ),
            holidays=(
                (date(start, 10, 19), date(start, 10, 25), "rudens brīvdienas"),
                (date(start, 12, 20), date(end, 1, 4), "ziemas brīvdienas"),
                (date(end, 3, 14), date(end, 3, 22), "pavasara brīvdienas"),
            ),
            grade_end_dates=((9, date(end, 6, 12)), (12, date(end, 6, 19))),
        )

    def body(self) -> dict[str, object]:
        return {
            "school_year": self.name,
            "semesters": [
                {"number": n, "first_day": a.isoformat(), "last_day": b.isoformat()}
                for n, (a, b) in enumerate(self.semesters, 1)
            ],
            "grade_end_dates": [
                {"grade_level": g, "last_day": d.isoformat()} for g, d in self.grade_end_dates
            ],
            "holidays": [
                {"first_day": a.isoformat(), "last_day": b.isoformat(), "name": n}
                for a, b, n in self.holidays
            ],
        }

    @property
    def first_day(self) -> date:
        return self.semesters[0][0]

    def is_school_day(self, day: date) -> bool:
        return (
            day.isoweekday() <= 5
            and any(a <= day <= b for a, b in self.semesters)
            and not any(a <= day <= b for a, b, _ in self.holidays)
        )

    def period_of(self, day: date) -> str:
        return "semester1" if day <= self.semesters[0][1] else "semester2"

    def last_school_days(self, count: int, today: date) -> list[date]:
        """The ``count`` school days up to ``today`` (or the year's end, if that is earlier)."""
        day = min(today, self.semesters[-1][1])
        found: list[date] = []
        while len(found) < count and day >= self.first_day:
            if self.is_school_day(day):
                found.append(day)
            day -= timedelta(days=1)
        return sorted(found)


def _weekday_on_or_after(day: date) -> date:
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return day


def school_rng(seed: int, school: int, purpose: str) -> random.Random:
    """An independent stream per school and purpose: one school's plan never shifts another's."""
    return random.Random(f"{seed}:{school}:{purpose}")


class _People:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.people: dict[str, Person] = {}
        self.codes: set[str] = set()

    def add(self, key: str, female: bool, surname: tuple[str, str], born: date | None) -> Person:
        first = self.rng.choice(FEMALE_FIRST if female else MALE_FIRST)
        code = None
        if born is not None:
            while code is None or code in self.codes:
                code = f"32{self.rng.randrange(10**4):04d}-{self.rng.randrange(10**5):05d}"
            self.codes.add(code)
        person = Person(key, first, surname[1] if female else surname[0], born, code)
        self.people[key] = person
        return person

    def adult(self, key: str) -> Person:
        return self.add(key, self.rng.random() < 0.75, self.rng.choice(SURNAMES), None)


def plan_school(seed: int, index: int, year: SchoolYear, max_students: int | None) -> SchoolPlan:
    rng = school_rng(seed, index, "school")
    people = _People(rng)
    total = rng.randint(300, 1200)
    if max_students is not None:
        total = min(total, max_students)
    town = rng.choice(TOWNS)
    name = f"{town} {index + 1}. vidusskola"
    admin = people.adult("admin")

    per_grade = [total // 12 + (1 if g < total % 12 else 0) for g in range(12)]
    classes: list[SchoolClass] = []
    for grade, count in enumerate(per_grade, 1):
        parallels = max(1, min(MAX_PARALLEL, round(count / CLASS_SIZE)))
        for p in range(parallels):
            label = f"{grade}.{'abcd'[p]}"
            classes.append(SchoolClass(key=f"class:{label}", grade_level=grade, label=label,
                                       class_teacher=""))  # fmt: skip
        seats = [c for c in classes if c.grade_level == grade]
        for n in range(count):
            seats[n % parallels].students.append(f"student:{grade}:{n}")

    subjects = {
        key: Subject(
            key,
            name,
            {g: n for (a, b), n in weekly.items() for g in range(a, b + 1)},
        )
        for key, name, weekly in SUBJECTS
    }
    staff = _plan_staff(people, classes, subjects, rng)
    families, ability = _plan_families(people, classes, year, rng)
    _plan_timetables(classes, subjects, rng)
    return SchoolPlan(
        index=index,
        name=name,
        admin=admin,
        people=people.people,
        staff=staff,
        subjects=subjects,
        classes=classes,
        families=families,
        ability=ability,
    )


def _plan_staff(
    people: _People, classes: list[SchoolClass], subjects: dict[str, Subject], rng: random.Random
) -> list[Staff]:
    """A full week's load per teacher; the hours left over of several subjects are shared by
    one teacher, as in a small school where the music teacher also teaches art."""
    staff = [Staff(people.adult("director"), ("director",))]
    deputies = 1 + len(classes) // 15
    staff += [Staff(people.adult(f"deputy:{n}"), ("deputy_director",)) for n in range(deputies)]
    teaches: dict[str, list[str]] = {}
    capacity: dict[str, int] = {}
    leftovers: list[tuple[int, str]] = []
    for key, subject in subjects.items():
        weekly = sum(subject.weekly.get(c.grade_level, 0) for c in classes)
        full, rest = divmod(weekly, TEACHER_WEEKLY_LOAD)
        for _ in range(full):
            teacher = f"teacher:{len(capacity)}"
            capacity[teacher] = TEACHER_WEEKLY_LOAD
            teaches[teacher] = [key]
        if rest:
            leftovers.append((rest, key))
    shared: list[str] = []
    for hours, key in sorted(leftovers, reverse=True):
        fits = next((t for t in shared if capacity[t] + hours <= TEACHER_WEEKLY_LOAD), None)
        if fits is None:
            fits = f"teacher:{len(capacity)}"
            capacity[fits] = 0
            teaches[fits] = []
            shared.append(fits)
        capacity[fits] += hours
        teaches[fits].append(key)
    load: Counter[str] = Counter()
    for school_class in classes:
        for key, subject in subjects.items():
            if subject.weekly.get(school_class.grade_level):
                pool = [t for t, keys in teaches.items() if key in keys]
                chosen = min(pool, key=lambda t: (load[t] - capacity[t], t))
                load[chosen] += subject.weekly[school_class.grade_level]
                school_class.teaching[key] = chosen
    homeroom = list(teaches)
    rng.shuffle(homeroom)
    for school_class, teacher in zip(classes, homeroom * len(classes), strict=False):
        school_class.class_teacher = teacher
    class_teachers = {c.class_teacher for c in classes}
    for teacher, keys in teaches.items():
        roles = ("teacher", "class_teacher") if teacher in class_teachers else ("teacher",)
        staff.append(Staff(people.adult(teacher), roles, tuple(keys)))
    return staff


def _plan_families(
    people: _People, classes: list[SchoolClass], year: SchoolYear, rng: random.Random
) -> tuple[list[Family], dict[str, float]]:
    """Siblings share a surname and their guardians; each child is in a different grade."""
    start = year.first_day.year
    seats = [(c.grade_level, s) for c in classes for s in c.students]
    rng.shuffle(seats)
    open_families: list[tuple[tuple[str, str], list[tuple[int, str]], int]] = []
    families: list[tuple[tuple[str, str], list[tuple[int, str]]]] = []
    for grade, student in seats:
        joinable = [
            f for f in open_families if len(f[1]) < f[2] and all(g != grade for g, _ in f[1])
        ]
        if joinable and rng.random() < 0.4:
            joinable[0][1].append((grade, student))
        else:
            family = (rng.choice(SURNAMES), [(grade, student)], rng.choice((1, 1, 2, 2, 3)))
            open_families.append(family)
            families.append((family[0], family[1]))
            open_families = open_families[-20:]
    planned: list[Family] = []
    ability: dict[str, float] = {}
    for n, (surname, children) in enumerate(families):
        for grade, student in children:
            born = date(start - 6 - grade, 1, 1) + timedelta(days=rng.randrange(365))
            people.add(student, rng.random() < 0.5, surname, born)
            ability[student] = rng.uniform(4.5, 9.5)
        guardians = [f"guardian:{n}:0"]
        people.add(guardians[0], True, surname, None)
        if rng.random() < 0.7:
            guardians.append(f"guardian:{n}:1")
            people.add(guardians[1], False, surname, None)
        planned.append(Family(tuple(guardians), tuple(s for _, s in children)))
    return planned, ability


def _plan_timetables(
    classes: list[SchoolClass], subjects: dict[str, Subject], rng: random.Random
) -> None:
    """A compact week per class; no teacher is in two rooms at once."""
    busy: set[tuple[str, int, int]] = set()
    for school_class in classes:
        lessons = [
            (key, teacher)
            for key, teacher in school_class.teaching.items()
            for _ in range(subjects[key].weekly[school_class.grade_level])
        ]
        rng.shuffle(lessons)
        per_day = math.ceil(len(lessons) / 5)
        for weekday in range(1, 6):
            today: Counter[str] = Counter()
            for period in range(1, MAX_PERIODS + 1):
                if sum(today.values()) >= per_day or not lessons:
                    break
                free = [x for x in lessons if (x[1], weekday, period) not in busy]
                pick = next((x for x in free if today[x[0]] == 0), free[0] if free else None)
                if pick is None:
                    continue
                lessons.remove(pick)
                today[pick[0]] += 1
                busy.add((pick[1], weekday, period))
                school_class.slots.append(Slot(weekday, period, pick[0], pick[1]))


@dataclass(frozen=True)
class LessonChoice:
    """What happens in one lesson of one day."""

    recorded: bool
    topic: str
    homework: str | None
    absent: tuple[str, ...]
    late: tuple[tuple[str, int], ...]
    graded: tuple[tuple[str, str], ...]
    work: tuple[str, str]


@dataclass(frozen=True)
class ExcuseChoice:
    student: str
    document_type: str
    accepted: bool


def plan_day(
    seed: int, plan: SchoolPlan, school_class: SchoolClass, day: date
) -> tuple[dict[int, LessonChoice], list[ExcuseChoice]]:
    """One class's day: the absent (~7% of students, for the whole day), one grade per present
    student in one of the day's lessons, a few lessons left unrecorded (overdue), excuses."""
    rng = school_rng(seed, plan.index, f"{school_class.key}:{day.isoformat()}")
    slots = sorted(
        (s for s in school_class.slots if s.weekday == day.isoweekday()), key=lambda s: s.period
    )
    absent = tuple(s for s in school_class.students if rng.random() < 0.07)
    present = [s for s in school_class.students if s not in absent]
    recorded = {s.period: rng.random() >= 0.05 for s in slots}
    graded: dict[int, list[tuple[str, str]]] = {s.period: [] for s in slots}
    gradable = [s.period for s in slots if recorded[s.period]]
    for student in present:
        if gradable:
            period = rng.choice(gradable)
            graded[period].append((student, _grade_value(rng, plan.ability[student],
                                                         school_class.grade_level)))  # fmt: skip
    choices: dict[int, LessonChoice] = {}
    for s in slots:
        late = tuple((x, rng.randint(3, 15)) for x in present if rng.random() < 0.01)
        choices[s.period] = LessonChoice(
            recorded=recorded[s.period],
            topic=f"{plan.subjects[s.subject_key].name}: {rng.choice(TOPICS)}",
            homework=rng.choice(HOMEWORK) if rng.random() < 0.4 else None,
            absent=absent,
            late=late,
            graded=tuple(graded[s.period]),
            work=rng.choice(WORK_KINDS),
        )
    excuses = [
        ExcuseChoice(
            student,
            "doctor_certificate" if rng.random() < 0.3 else "parent_note",
            rng.random() < 0.9,
        )
        for student in absent
        if slots and rng.random() < 0.6
    ]
    return choices, excuses


def _grade_value(rng: random.Random, ability: float, grade_level: int) -> str:
    points = max(1, min(10, round(rng.gauss(ability, 1.3))))
    if grade_level <= 3:
        return LEVELS[min(3, (points - 1) // 3)]
    return str(points)


def period_value(values: list[str]) -> str | None:
    """The period grade a teacher gives: the half-up mean of ten-point grades, or the most
    frequent learning level (the better one on a tie)."""
    if not values:
        return None
    if values[0] in LEVELS:
        counts = Counter(values)
        return max(LEVELS, key=lambda level: (counts[level], LEVELS.index(level)))
    return str(math.floor(sum(int(v) for v in values) / len(values) + 0.5))
