"""Fixtures for reporting's tests: other services' events published straight to their topics."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from ezurnals.lessons.domain.policy import seed_rules_set
from ezurnals.shared.contracts import attendance as at
from ezurnals.shared.contracts import grading as gr
from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts import lessons as ls
from ezurnals.shared.contracts.base import SYSTEM, Actor, EventEnvelope, IntegrationEvent
from ezurnals.shared.messaging import kafka
from ezurnals.shared.settings import Settings
from ezurnals.shared.testing.auth import TestIssuer

RIGA = "Europe/Riga"


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> TestIssuer:
    return TestIssuer(Path(tmp_path_factory.mktemp("keys")))


@pytest.fixture(scope="module")
async def producer(settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    p = kafka.producer(settings)
    await p.start()
    yield p
    await p.stop()


@dataclass
class Bus:
    """Publishes contract events as their producing service's relay would."""

    settings: Settings
    producer: AIOKafkaProducer
    versions: dict[str, int] = field(default_factory=dict)

    async def publish(
        self,
        event: IntegrationEvent,
        *,
        stream: str,
        school_id: uuid.UUID,
        actor: Actor = SYSTEM,
        occurred_at: datetime | None = None,
    ) -> EventEnvelope:
        version = self.versions.get(stream, 0) + 1
        self.versions[stream] = version
        env = EventEnvelope(
            event_type=event.event_type,
            schema_version=event.schema_version,
            stream_id=stream,
            stream_version=version,
            school_id=school_id,
            actor=actor,
            payload=event.model_dump(mode="json"),
            **({"occurred_at": occurred_at} if occurred_at else {}),
        )
        await self.resend(env, event.service)
        return env

    async def resend(self, env: EventEnvelope, service: str) -> None:
        await self.producer.send_and_wait(
            self.settings.topic(service),
            key=env.stream_id.encode(),
            value=env.model_dump_json().encode(),
        )


def excuse_id_of(student: uuid.UUID, lesson_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(lesson_id, f"excuse-{student}")


@dataclass
class School:
    """A small school: one class with two students, their guardians and one subject."""

    bus: Bus
    school_id: uuid.UUID = field(default_factory=uuid.uuid4)
    class_id: uuid.UUID = field(default_factory=uuid.uuid4)
    subject_id: uuid.UUID = field(default_factory=uuid.uuid4)
    teacher: uuid.UUID = field(default_factory=uuid.uuid4)
    class_teacher: uuid.UUID = field(default_factory=uuid.uuid4)
    director: uuid.UUID = field(default_factory=uuid.uuid4)
    anna: uuid.UUID = field(default_factory=uuid.uuid4)
    berta: uuid.UUID = field(default_factory=uuid.uuid4)
    annas_mother: uuid.UUID = field(default_factory=uuid.uuid4)
    restricted_father: uuid.UUID = field(default_factory=uuid.uuid4)
    bertas_father: uuid.UUID = field(default_factory=uuid.uuid4)

    async def identity(self, event: IntegrationEvent, stream: str) -> EventEnvelope:
        return await self.bus.publish(event, stream=stream, school_id=self.school_id)

    async def register(self, *, year: str = "2025/2026", grade_level: int = 7) -> None:
        s = self.school_id
        school = f"school-{s}"
        await self.identity(
            idn.SchoolRegistered(school_id=s, name="Rēzeknes 2. vidusskola", time_zone=RIGA), school
        )
        await self.identity(
            idn.ClassOpened(
                school_id=s,
                class_id=self.class_id,
                school_year=year,
                grade_level=grade_level,
                label="7.a",
            ),
            school,
        )
        roll = f"roll-{s}-{year}"
        for student in (self.anna, self.berta):
            await self.identity(
                idn.StudentEnrolled(
                    school_id=s,
                    student_id=student,
                    class_id=self.class_id,
                    school_year=year,
                    enrolled_on=date(2025, 9, 1),
                ),
                roll,
            )
        links = (
            (self.annas_mother, self.anna, False),
            (self.restricted_father, self.anna, True),
            (self.bertas_father, self.berta, False),
        )
        for guardian, student, restricted in links:
            await self.identity(
                idn.GuardianLinked(
                    school_id=s,
                    guardian_id=guardian,
                    student_id=student,
                    linked_on=date(2025, 9, 1),
                    restricted=restricted,
                ),
                f"guardianship-{student}",
            )
        staffing = f"class-staffing-{self.class_id}"
        await self.identity(
            idn.ClassTeacherAssigned(
                school_id=s,
                class_id=self.class_id,
                teacher_id=self.class_teacher,
                valid_from=date(2025, 9, 1),
            ),
            staffing,
        )
        await self.identity(
            idn.TeachingAssigned(
                school_id=s,
                assignment_id=uuid.uuid4(),
                class_id=self.class_id,
                teacher_id=self.teacher,
                subject_id=self.subject_id,
                valid_from=date(2025, 9, 1),
            ),
            staffing,
        )
        await self.bus.publish(
            ls.SubjectDefined(
                subject_id=self.subject_id,
                school_id=s,
                name_key="matematika",
                name="Matemātika",
                curriculum_hours={7: 175},
            ),
            stream=f"subject-{self.subject_id}",
            school_id=s,
        )
        # What lessons appends when it learns the school was registered: the seed deadlines.
        await self.bus.publish(seed_rules_set(s), stream=f"deadline-policy-{s}", school_id=s)

    async def lesson(
        self,
        day: date,
        period: int,
        *,
        starts_at: time | None = None,
        ends_at: time | None = None,
        room: str | None = None,
        **record: Any,
    ) -> uuid.UUID:
        """A scheduled lesson (at 7 + ``period`` o'clock unless told), recorded when ``record``
        holds its topic."""
        lesson_id = uuid.uuid4()
        stream = f"lesson-{lesson_id}"
        await self.bus.publish(
            ls.LessonScheduled(
                lesson_id=lesson_id,
                school_id=self.school_id,
                timetable_id=uuid.uuid4(),
                slot_id=uuid.uuid4(),
                class_id=self.class_id,
                subject_id=self.subject_id,
                teacher_id=self.teacher,
                lesson_date=day,
                starts_at=starts_at or time(7 + period, 0),
                ends_at=ends_at or time(7 + period, 40),
                period=period,
                room=room,
                grade_level=7,
            ),
            stream=stream,
            school_id=self.school_id,
        )
        if record:
            await self.bus.publish(
                ls.LessonRecorded(
                    lesson_id=lesson_id,
                    recorded_by=self.teacher,
                    **record,
                ),
                stream=stream,
                school_id=self.school_id,
            )
        return lesson_id

    async def absence(
        self,
        student: uuid.UUID,
        lesson_id: uuid.UUID,
        day: date,
        *,
        code: str = "n",
        excused_by_code: bool = False,
        revision: int = 1,
    ) -> EventEnvelope:
        return await self.bus.publish(
            at.AbsenceRecorded(
                absence_id=uuid.uuid5(lesson_id, str(student)),
                student_id=student,
                lesson_id=lesson_id,
                class_id=self.class_id,
                date=day,
                code=code,
                counts_as_absence=True,
                is_late=False,
                excused_by_code=excused_by_code,
                recorded_by=self.teacher,
                revision=revision,
            ),
            stream=f"lesson-attendance-{lesson_id}",
            school_id=self.school_id,
        )

    async def excuse(self, student: uuid.UUID, lesson_id: uuid.UUID, day: date) -> None:
        """The class teacher excuses the absence against a doctor's certificate at 14:00 UTC of
        the day (the excuse id: ``excuse_id_of``)."""
        await self.bus.publish(
            at.AbsenceExcused(
                absence_id=uuid.uuid5(lesson_id, str(student)),
                student_id=student,
                lesson_id=lesson_id,
                date=day,
                excuse_id=excuse_id_of(student, lesson_id),
                source="direct",
                document_type="doctor_certificate",
                reference="Nr. 17",
                excused_by=self.class_teacher,
            ),
            stream=f"student-absences-{student}",
            school_id=self.school_id,
            actor=Actor(id=self.class_teacher, role="class_teacher"),
            occurred_at=datetime.combine(day, time(14), UTC),
        )

    async def request_excuse(
        self,
        student: uuid.UUID,
        day: date | None = None,
        *,
        lesson_ids: tuple[uuid.UUID, ...] = (),
        rejected: bool = False,
    ) -> None:
        """A guardian's excuse request for a day or for lessons, waiting for the class teacher
        unless ``rejected``."""
        request_id = uuid.uuid4()
        stream = f"excuse-{student}"
        await self.bus.publish(
            at.ExcuseSubmitted(
                request_id=request_id,
                student_id=student,
                submitted_by=self.annas_mother,
                submitted_as="guardian",
                reason="Slimība",
                document_type="parent_note",
                covers_from=day,
                covers_to=day,
                lesson_ids=lesson_ids,
            ),
            stream=stream,
            school_id=self.school_id,
        )
        if rejected:
            await self.bus.publish(
                at.ExcuseRejected(
                    request_id=request_id,
                    student_id=student,
                    reason="Nav pamatojuma",
                    rejected_by=self.class_teacher,
                ),
                stream=stream,
                school_id=self.school_id,
            )

    async def grade(
        self,
        student: uuid.UUID,
        day: date,
        value: int,
        *,
        lesson_id: uuid.UUID | None = None,
        title: str = "Kontroldarbs",
    ) -> uuid.UUID:
        grade_id = uuid.uuid4()
        await self.bus.publish(
            gr.GradeRecorded(
                school_id=self.school_id,
                class_id=self.class_id,
                subject_id=self.subject_id,
                school_year="2025/2026",
                grade_id=grade_id,
                student_id=student,
                lesson_id=lesson_id,
                term=gr.Term.SEMESTER1,
                given_on=day,
                work_title=title,
                work_kind=gr.WorkKind.TEST,
                summative=True,
                scale=gr.ScaleKind.TEN_POINT,
                value=str(value),
                points=value,
                recorded_by=self.teacher,
                recorded_at=datetime.combine(day, time(12, 0)).astimezone(),
            ),
            stream=self.grade_stream(student),
            school_id=self.school_id,
        )
        return grade_id

    async def correct(self, student: uuid.UUID, grade_id: uuid.UUID, old: int, new: int) -> None:
        await self.bus.publish(
            gr.GradeCorrected(
                school_id=self.school_id,
                class_id=self.class_id,
                subject_id=self.subject_id,
                school_year="2025/2026",
                grade_id=grade_id,
                student_id=student,
                scale=gr.ScaleKind.TEN_POINT,
                old_value=str(old),
                new_value=str(new),
                old_points=old,
                new_points=new,
                reason="Pārrakstīts darbs",
                corrected_by=self.teacher,
                corrected_at=datetime.now().astimezone(),
            ),
            stream=self.grade_stream(student),
            school_id=self.school_id,
        )

    def grade_stream(self, student: uuid.UUID) -> str:
        return f"grades-{self.class_id}-{self.subject_id}-{student}"

    async def hire(self, person: uuid.UUID, *roles: str) -> None:
        await self.identity(
            idn.StaffMemberHired(
                school_id=self.school_id,
                person_id=person,
                roles=tuple(idn.Role(r) for r in roles),
                hired_on=date(2025, 8, 25),
            ),
            f"staff-{person}",
        )

    async def define_year(self, first_semester_ends: date) -> None:
        await self.identity(
            idn.SchoolYearDefined(
                school_id=self.school_id,
                school_year="2025/2026",
                semesters=(
                    idn.Semester(
                        number=1, first_day=date(2025, 9, 1), last_day=first_semester_ends
                    ),
                    idn.Semester(number=2, first_day=date(2026, 1, 5), last_day=date(2026, 5, 29)),
                ),
            ),
            f"school-{self.school_id}",
        )

    async def subject(self, name_key: str, name: str, hours: int) -> uuid.UUID:
        """Another subject of the class, taught by the same teacher."""
        subject_id = uuid.uuid4()
        await self.bus.publish(
            ls.SubjectDefined(
                subject_id=subject_id,
                school_id=self.school_id,
                name_key=name_key,
                name=name,
                curriculum_hours={7: hours},
            ),
            stream=f"subject-{subject_id}",
            school_id=self.school_id,
        )
        await self.identity(
            idn.TeachingAssigned(
                school_id=self.school_id,
                assignment_id=uuid.uuid4(),
                class_id=self.class_id,
                teacher_id=self.teacher,
                subject_id=subject_id,
                valid_from=date(2025, 9, 1),
            ),
            f"class-staffing-{self.class_id}",
        )
        return subject_id

    async def finalise(
        self,
        student: uuid.UUID,
        subject: uuid.UUID,
        period: gr.PeriodKind,
        value: int,
        kind: gr.YearGradeType | None = None,
    ) -> None:
        await self.bus.publish(
            gr.GradeFinalized(
                school_id=self.school_id,
                class_id=self.class_id,
                subject_id=subject,
                school_year="2025/2026",
                student_id=student,
                period=period,
                scale=gr.ScaleKind.TEN_POINT,
                value=str(value),
                points=value,
                year_grade_type=kind,
                finalized_at=datetime.now().astimezone(),
            ),
            stream=f"period-grades-{self.class_id}-{subject}-{period}",
            school_id=self.school_id,
        )
