"""Report cards (liecības, rule 8) and the summary journal (kopsavilkuma žurnāls).

A report card holds, per subject, the finalised grade of its period with the curriculum-plan hours,
states whether a year's grade is gada (annual) or gala (final), and totals the period's absences.
It is issued only when every student has a finalised grade in every subject of the class; otherwise
the list of what is missing is the answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from ezurnals.shared.contracts.grading import PeriodKind, YearGradeType
from ezurnals.shared.contracts.reporting import ReportPeriod

#: The period grades a report card prints, in order of preference: a year's card prints the
#: final (gala) grade where there is one, else the annual (gada) grade.
CARD_GRADES: dict[ReportPeriod, tuple[PeriodKind, ...]] = {
    ReportPeriod.SEMESTER1: (PeriodKind.SEMESTER1,),
    ReportPeriod.SEMESTER2: (PeriodKind.SEMESTER2,),
    ReportPeriod.YEAR: (PeriodKind.FINAL, PeriodKind.ANNUAL),
}
YEAR_GRADE_TYPES = {PeriodKind.ANNUAL: YearGradeType.GADA, PeriodKind.FINAL: YearGradeType.GALA}


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True)


class FinalGrade(_Value):
    """A finalised period grade as grading published it (GradeFinalized)."""

    student_id: UUID
    subject_id: UUID
    period: PeriodKind
    value: str
    year_grade_type: YearGradeType | None = None


class Subject(_Value):
    subject_id: UUID
    name: str
    #: Curriculum-plan hours per grade level (SubjectDefined).
    hours: Mapping[int, int] = {}


class Absences(_Value):
    excused: int = 0
    unexcused: int = 0


class SubjectLine(_Value):
    subject_id: UUID
    subject: str
    grade: str
    #: "gada" or "gala" on a year's card; None for a semester.
    grade_type: YearGradeType | None
    hours: int | None


class ReportCard(_Value):
    student_id: UUID
    class_id: UUID
    school_year: str
    period: ReportPeriod
    grade_level: int
    class_label: str
    first_day: date
    last_day: date
    subjects: tuple[SubjectLine, ...]
    absences_excused: int
    absences_unexcused: int
    class_teacher_id: UUID | None
    director_id: UUID | None

    @property
    def content_sha256(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


class MissingGrade(_Value):
    student_id: UUID
    subject_id: UUID
    subject: str


class ClassFacts(_Value):
    """What the read models know about a class for one report period."""

    class_id: UUID
    school_year: str
    grade_level: int
    class_label: str
    first_day: date
    last_day: date
    students: tuple[UUID, ...]
    #: Subjects taught in the class in the period, or graded there.
    subjects: tuple[Subject, ...]
    grades: tuple[FinalGrade, ...]
    absences: Mapping[UUID, Absences]
    class_teacher_id: UUID | None
    director_id: UUID | None


def _grade_type(grade: FinalGrade) -> YearGradeType | None:
    return grade.year_grade_type or YEAR_GRADE_TYPES.get(grade.period)


def _line(subject: Subject, grade_level: int, grade: FinalGrade) -> SubjectLine:
    return SubjectLine(
        subject_id=subject.subject_id,
        subject=subject.name,
        grade=grade.value,
        grade_type=_grade_type(grade),
        hours=subject.hours.get(grade_level),
    )


GradeIndex = dict[tuple[UUID, UUID, PeriodKind], FinalGrade]


def _index(grades: Iterable[FinalGrade]) -> GradeIndex:
    return {(g.student_id, g.subject_id, g.period): g for g in grades}


def _card_grade(
    grades: GradeIndex, student: UUID, subject: UUID, period: ReportPeriod
) -> FinalGrade | None:
    for kind in CARD_GRADES[period]:
        if (found := grades.get((student, subject, kind))) is not None:
            return found
    return None


def assemble_report_cards(
    facts: ClassFacts, period: ReportPeriod
) -> tuple[list[ReportCard], list[MissingGrade]]:
    """Every student's card, or — when any finalised grade is missing — no cards and the list."""
    grades = _index(facts.grades)
    subjects = sorted(facts.subjects, key=lambda s: (s.name, str(s.subject_id)))
    cards: list[ReportCard] = []
    missing: list[MissingGrade] = []
    for student in facts.students:
        lines = []
        for subject in subjects:
            found = _card_grade(grades, student, subject.subject_id, period)
            if found is None:
                missing.append(
                    MissingGrade(
                        student_id=student, subject_id=subject.subject_id, subject=subject.name
                    )
                )
                continue
            lines.append(_line(subject, facts.grade_level, found))
        absences = facts.absences.get(student, Absences())
        cards.append(
            ReportCard(
                student_id=student,
                class_id=facts.class_id,
                school_year=facts.school_year,
                period=period,
                grade_level=facts.grade_level,
                class_label=facts.class_label,
                first_day=facts.first_day,
                last_day=facts.last_day,
                subjects=tuple(lines),
                absences_excused=absences.excused,
                absences_unexcused=absences.unexcused,
                class_teacher_id=facts.class_teacher_id,
                director_id=facts.director_id,
            )
        )
    if missing:
        return [], missing
    return cards, []


class JournalSubject(_Value):
    subject_id: UUID
    subject: str
    hours: int | None


class JournalCell(_Value):
    """One student's year in one subject: annual (or final), exam and re-exam grades."""

    subject_id: UUID
    year_grade: str | None
    year_grade_type: YearGradeType | None
    exam: str | None
    reexam: str | None


class JournalRow(_Value):
    student_id: UUID
    cells: tuple[JournalCell, ...]
    absences_excused: int
    absences_unexcused: int


class SummaryJournal(_Value):
    """Mācību sasniegumu kopsavilkuma žurnāls: a class's year, every student × subject."""

    class_id: UUID
    school_year: str
    grade_level: int
    class_label: str
    subjects: tuple[JournalSubject, ...]
    rows: tuple[JournalRow, ...]
    absences_excused: int
    absences_unexcused: int


def assemble_summary_journal(facts: ClassFacts, students: Sequence[UUID]) -> SummaryJournal:
    """Blank cells stay blank: the journal shows what is final, it does not wait for the rest.

    ``students`` gives the row order (the caller sorts by the names it prints).
    """
    grades = _index(facts.grades)
    subjects = sorted(facts.subjects, key=lambda s: (s.name, str(s.subject_id)))
    rows = []
    for student in students:
        cells = []
        for subject in subjects:
            year = _card_grade(grades, student, subject.subject_id, ReportPeriod.YEAR)
            exam = grades.get((student, subject.subject_id, PeriodKind.EXAM))
            reexam = grades.get((student, subject.subject_id, PeriodKind.REEXAM))
            cells.append(
                JournalCell(
                    subject_id=subject.subject_id,
                    year_grade=year.value if year else None,
                    year_grade_type=_grade_type(year) if year else None,
                    exam=exam.value if exam else None,
                    reexam=reexam.value if reexam else None,
                )
            )
        absences = facts.absences.get(student, Absences())
        rows.append(
            JournalRow(
                student_id=student,
                cells=tuple(cells),
                absences_excused=absences.excused,
                absences_unexcused=absences.unexcused,
            )
        )
    return SummaryJournal(
        class_id=facts.class_id,
        school_year=facts.school_year,
        grade_level=facts.grade_level,
        class_label=facts.class_label,
        subjects=tuple(
            JournalSubject(
                subject_id=s.subject_id, subject=s.name, hours=s.hours.get(facts.grade_level)
            )
            for s in subjects
        ),
        rows=tuple(rows),
        absences_excused=sum(r.absences_excused for r in rows),
        absences_unexcused=sum(r.absences_unexcused for r in rows),
    )
