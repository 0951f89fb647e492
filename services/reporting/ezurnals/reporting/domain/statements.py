"""The monthly statement (sekmju un kavējumu izraksts, rule 5): a student's grades and absences
of one month, per subject, with excused and unexcused absences counted separately.

Named ``MonthlyStatement`` to keep it apart from the state document "sekmju izraksts".
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from ezurnals.reporting.domain.calendar import month_days


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True)


class GradeEntry(_Value):
    """A grade as the diary shows it: "5|7" when 5 was corrected to 7."""

    subject_id: UUID
    given_on: date
    value: str
    points: int | None = None
    earlier_values: tuple[str, ...] = ()
    work_title: str = ""

    @property
    def corrected(self) -> bool:
        return bool(self.earlier_values)

    @property
    def shown(self) -> str:
        return "|".join((*self.earlier_values, self.value))


class AbsenceEntry(_Value):
    """One attendance mark that counts: an absence or a late arrival."""

    subject_id: UUID | None
    day: date
    code: str
    counts_as_absence: bool
    is_late: bool
    excused: bool


class SubjectMonth(_Value):
    subject_id: UUID
    subject: str
    grades: tuple[str, ...]
    average: str | None
    absences_excused: int
    absences_unexcused: int
    lates: int


class MonthlyStatement(_Value):
    student_id: UUID
    class_id: UUID
    month: str
    subjects: tuple[SubjectMonth, ...]
    grades: int
    absences_excused: int
    absences_unexcused: int
    lates: int

    @property
    def content_sha256(self) -> str:
        """Stable over re-runs: the same facts give the same hash, so nothing is re-issued."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def average(points: Iterable[int]) -> str | None:
    """The mean of the month's point grades to one decimal (half up), or None without any."""
    values = list(points)
    if not values:
        return None
    mean = Decimal(sum(values)) / Decimal(len(values))
    return str(mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def assemble_statement(
    *,
    student_id: UUID,
    class_id: UUID,
    month: str,
    grades: Iterable[GradeEntry],
    absences: Iterable[AbsenceEntry],
    subject_names: Mapping[UUID, str],
) -> MonthlyStatement:
    """Everything of ``month`` (other days are ignored), subjects in the order of their names."""
    first, last = month_days(month)
    by_subject: dict[UUID, list[GradeEntry]] = defaultdict(list)
    for grade in sorted(grades, key=lambda g: (g.given_on, g.work_title)):
        if first <= grade.given_on <= last:
            by_subject[grade.subject_id].append(grade)
    marks: dict[UUID | None, list[AbsenceEntry]] = defaultdict(list)
    for mark in absences:
        if first <= mark.day <= last and (mark.counts_as_absence or mark.is_late):
            marks[mark.subject_id].append(mark)
    subjects = []
    for subject_id in {*by_subject, *(s for s in marks if s is not None)}:
        subject_grades = by_subject.get(subject_id, [])
        subject_marks = marks.get(subject_id, [])
        subjects.append(
            SubjectMonth(
                subject_id=subject_id,
                subject=subject_names.get(subject_id, ""),
                grades=tuple(g.shown for g in subject_grades),
                average=average(g.points for g in subject_grades if g.points is not None),
                absences_excused=sum(m.counts_as_absence and m.excused for m in subject_marks),
                absences_unexcused=sum(
                    m.counts_as_absence and not m.excused for m in subject_marks
                ),
                lates=sum(m.is_late and not m.counts_as_absence for m in subject_marks),
            )
        )
    subjects.sort(key=lambda s: (s.subject, str(s.subject_id)))
    unassigned = marks.get(None, [])
    return MonthlyStatement(
        student_id=student_id,
        class_id=class_id,
        month=month,
        subjects=tuple(subjects),
        grades=sum(len(s.grades) for s in subjects),
        absences_excused=sum(s.absences_excused for s in subjects)
        + sum(m.counts_as_absence and m.excused for m in unassigned),
        absences_unexcused=sum(s.absences_unexcused for s in subjects)
        + sum(m.counts_as_absence and not m.excused for m in unassigned),
        lates=sum(s.lates for s in subjects)
        + sum(m.is_late and not m.counts_as_absence for m in unassigned),
    )
