"""What each reader may see: the teacher's grade sheet, a student's grades, missing period grades.

A reader who may not see a grade book or a student is told it does not exist (404, the shared
rule in ``ezurnals.shared.domain``); the sheet's readers are those who see the book. Every read
comes from the query tables the events keep (the grade and policy views, ``rm``), never from an
aggregate or a handler; what is computed (a suggestion, who lacks a period grade) is the domain's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from ezurnals.grading import queries
from ezurnals.grading.access import Access, require_sees_book
from ezurnals.grading.domain import (
    ClassSubjectPeriod,
    Correction,
    Grade,
    GradeScale,
    PeriodGrade,
    Relationships,
    Role,
    can_read_correction_history,
    can_read_grades,
    missing_for_teacher,
    missing_period_grades,
)
from ezurnals.grading.domain.authorization import ADMINISTRATION
from ezurnals.grading.domain.grade_book import Unlock, suggested, without_period_grade
from ezurnals.shared.auth import Principal
from ezurnals.shared.contracts.grading import PeriodKind, ScaleKind, Term, WorkKind
from ezurnals.shared.domain import Forbidden, NotFound
from ezurnals.shared.service import Runtime

#: Periods whose suggested value the sheet shows beside the period grade.
SUGGESTED = (PeriodKind.SEMESTER1, PeriodKind.SEMESTER2, PeriodKind.ANNUAL, PeriodKind.FINAL)


def _grade(grade: Grade, *, with_history: bool) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "grade_id": str(grade.grade_id),
        "student_id": str(grade.student_id),
        "work_title": grade.work_title,
        "work_kind": grade.work_kind.value,
        "summative": grade.summative,
        "weight": str(grade.weight),
        "given_on": grade.given_on.isoformat(),
        "term": grade.term.value,
        "lesson_id": str(grade.lesson_id) if grade.lesson_id else None,
        "scale": grade.scale.value,
        "value": grade.value,
        "corrected": grade.corrected,
    }
    if with_history:
        shown["history"] = [
            {
                "old_value": c.old_value,
                "new_value": c.new_value,
                "reason": c.reason,
                "corrected_by": str(c.corrected_by),
                "corrected_at": c.corrected_at.isoformat(),
            }
            for c in grade.history
        ]
    return shown


async def grade_sheet(
    runtime: Runtime, principal: Principal, class_id: UUID, subject_id: UUID, now: datetime
) -> dict[str, Any]:
    """The class-subject grade sheet: every student's grades, period grades and suggestions, for
    whoever sees the book (anyone else is told it does not exist). One statement reads the
    caller's roles, the book's facts and its rows of the grade views."""
    async with runtime.db.raw() as conn:
        facts, rows = await queries.sheet_facts(
            conn, principal.school_id, principal.person_id, class_id, subject_id
        )
    access = Access.of(principal, facts.staff_roles)
    klass = facts.found_class()
    relationships = facts.relationships(access.school_id, access.person_id, facts.today(now))
    require_sees_book(access, relationships, klass.class_id, subject_id)
    with_history = access.may(
        lambda c: can_read_correction_history(c, relationships, class_id, subject_id)
    )
    scale = facts.policy.scale_for(klass.grade_level, subject_id)
    grades, periods = _grades(rows), _periods(rows)
    students = sorted(facts.roster | {g.student_id for g in grades}, key=str)
    return {
        "class_id": str(klass.class_id),
        "subject_id": str(subject_id),
        "school_year": klass.school_year,
        "class_label": klass.label,
        "scale": {"kind": scale.kind.value, "allowed": list(scale.allowed_values)},
        "students": [
            _student(s, facts.roster, grades, periods, scale, with_history=with_history)
            for s in students
        ],
        "periods": {
            kind.value: {
                "locked": state.locked,
                "finalized_at": state.finalized_at.isoformat() if state.finalized_at else None,
                "students_without_grade": sorted(
                    str(s) for s in without_period_grade(periods, kind, facts.roster, scale)
                ),
                "unlocks": [
                    {
                        "reason": u.reason,
                        "unlocked_by": str(u.unlocked_by),
                        "unlocked_at": u.unlocked_at.isoformat(),
                    }
                    for u in state.unlocks
                ],
            }
            for kind, state in periods.items()
        },
    }


def _student(
    student_id: UUID,
    roster: frozenset[UUID],
    grades: list[Grade],
    periods: dict[PeriodKind, ClassSubjectPeriod],
    scale: GradeScale,
    *,
    with_history: bool,
) -> dict[str, Any]:
    own = [g for g in grades if g.student_id == student_id]
    suggestions = {period: suggested(period, own, scale) for period in SUGGESTED}
    return {
        "student_id": str(student_id),
        "enrolled": student_id in roster,
        "grades": [_grade(g, with_history=with_history) for g in own],
        "period_grades": {
            kind.value: {
                "value": p.value,
                "suggested_value": p.suggested_value,
                "overridden": p.overridden,
            }
            for kind, state in periods.items()
            if (p := state.grades.get(student_id)) is not None
        },
        "suggested": {
            period.value: None if value is None else value.text
            for period, value in suggestions.items()
        },
    }


def _instant(raw: str) -> datetime:
    return datetime.fromisoformat(raw)


def _grades(rows: queries.SheetRows) -> list[Grade]:
    """The book's grades as the views hold them, oldest given first."""
    return [
        Grade(
            grade_id=grade_id,
            student_id=student_id,
            term=Term(term),
            given_on=given_on,
            lesson_id=lesson_id,
            work_title=work_title,
            work_kind=WorkKind(work_kind),
            summative=summative,
            weight=weight,
            scale=ScaleKind(scale),
            value=value,
            points=points,
            recorded_by=recorded_by,
            recorded_at=recorded_at,
            history=tuple(
                Correction(
                    c["old_value"],
                    c["new_value"],
                    c["reason"],
                    UUID(c["corrected_by"]),
                    _instant(c["corrected_at"]),
                )
                for c in history
            ),
        )
        for (
            grade_id, student_id, term, given_on, lesson_id, work_title, work_kind, summative,
            weight, scale, value, points, recorded_by, recorded_at, history,
        ) in rows.grades
    ]  # fmt: skip


def _periods(rows: queries.SheetRows) -> dict[PeriodKind, ClassSubjectPeriod]:
    """Every period of the book, with its period grades and lock as the views hold them."""
    periods = {kind: ClassSubjectPeriod(kind) for kind in PeriodKind}
    for period, locked, finalized_by, finalized_at, unlocks in rows.periods:
        state = periods[PeriodKind(period)]
        state.locked, state.finalized_by, state.finalized_at = locked, finalized_by, finalized_at
        state.unlocks = [
            Unlock(u["reason"], UUID(u["unlocked_by"]), _instant(u["unlocked_at"])) for u in unlocks
        ]
    for (
        period,
        student_id,
        value,
        points,
        scale,
        suggested_value,
        overridden,
        by,
        at,
    ) in rows.period_grades:
        periods[PeriodKind(period)].grades[student_id] = PeriodGrade(
            value, points, ScaleKind(scale), suggested_value, overridden, by, at
        )
    return periods


async def _access(conn: asyncpg.Connection, principal: Principal) -> Access:
    """The caller in the roles identity confirms, on the read's own connection."""
    staff = await queries.staff_roles(conn, principal.school_id, principal.person_id)
    return Access.of(principal, staff)


# --- a student's grades -----------------------------------------------------------------------


async def student_grades(
    runtime: Runtime, principal: Principal, student_id: UUID, school_year: str | None, now: datetime
) -> dict[str, Any]:
    """Grades and period grades of one student, as far as the caller may see them."""
    async with runtime.db.raw() as conn:
        access = await _access(conn, principal)
        today = await queries.school_today(conn, access.school_id, now)
        rel = await queries.relationships_of(conn, access.school_id, access.person_id, today)
        classes = await queries.student_enrolments(conn, access.school_id, student_id)
        grades, periods = await queries.student_grades(
            conn, access.school_id, student_id, school_year
        )
    if not classes and not grades:
        raise NotFound("no such student", field="student_id")

    def reads(class_id: UUID, subject_id: UUID) -> bool:
        return access.may(
            lambda c: can_read_grades(
                c, rel, student_id=student_id, class_id=class_id, subject_id=subject_id
            )
        )

    def sees_history(class_id: UUID, subject_id: UUID) -> bool:
        return access.may(lambda c: can_read_correction_history(c, rel, class_id, subject_id))

    if not _may_know(access, rel, student_id, classes):
        raise NotFound("no such student", field="student_id")
    family = not access.holds(*ADMINISTRATION, Role.TEACHER)
    shown_grades = []
    for row in grades:
        if not reads(row["class_id"], row["subject_id"]):
            continue
        shown_grades.append(
            _grade_row(row, with_history=sees_history(row["class_id"], row["subject_id"]))
        )
    shown_periods = [
        {
            "class_id": str(p["class_id"]),
            "subject_id": str(p["subject_id"]),
            "subject_name": p["subject_name"],
            "school_year": p["school_year"],
            "period": p["period"],
            "value": p["value"],
            "final": p["final"],
        }
        for p in periods
        if reads(p["class_id"], p["subject_id"]) and (p["final"] or not family)
    ]
    return {"student_id": str(student_id), "grades": shown_grades, "period_grades": shown_periods}


def _may_know(access: Access, rel: Relationships, student_id: UUID, classes: list[UUID]) -> bool:
    """Whether the caller has any standing with this student at all."""
    if access.holds(*ADMINISTRATION):
        return True
    if access.holds(Role.STUDENT) and access.person_id == student_id:
        return True
    if access.holds(Role.GUARDIAN) and rel.is_guardian(access.person_id, student_id):
        return True
    teaches = any(a.class_id in classes for a in rel.teaching)
    leads = any(klass in classes for _, klass in rel.class_teachers)
    return access.holds(Role.TEACHER) and (teaches or leads)


def _grade_row(row: dict[str, Any], *, with_history: bool) -> dict[str, Any]:
    shown = {
        "grade_id": str(row["grade_id"]),
        "class_id": str(row["class_id"]),
        "subject_id": str(row["subject_id"]),
        "subject_name": row["subject_name"],
        "school_year": row["school_year"],
        "work_title": row["work_title"],
        "work_kind": row["work_kind"],
        "summative": row["summative"],
        "weight": str(row["weight"]),
        "given_on": row["given_on"].isoformat(),
        "term": row["term"],
        "lesson_id": str(row["lesson_id"]) if row["lesson_id"] else None,
        "scale": row["scale"],
        "value": row["value"],
        "corrected": bool(row["history"]),
    }
    if with_history:
        shown["history"] = row["history"]
    return shown


# --- missing period grades --------------------------------------------------------------------


async def missing(
    runtime: Runtime,
    principal: Principal,
    period: PeriodKind,
    school_year: str,
    now: datetime,
    *,
    class_id: UUID | None = None,
    teacher_id: UUID | None = None,
) -> list[dict[str, Any]]:
    """Class-subject periods still lacking period grades: the administration sees the school,
    a teacher their own classes and subjects (and, as class teacher, their class)."""
    async with runtime.db.raw() as conn:
        access = await _access(conn, principal)
        administration = access.holds(*ADMINISTRATION)
        if not administration and not access.holds(Role.TEACHER):
            raise Forbidden("you may not read the missing period grades")
        if not administration and teacher_id not in (None, access.person_id):
            raise Forbidden("you may read only your own missing period grades")
        today = await queries.school_today(conn, access.school_id, now)
        teaching = await queries.school_teaching(conn, access.school_id, today)
        own = await queries.relationships_of(conn, access.school_id, access.person_id, today)
        class_subjects = {(a.class_id, a.subject_id) for a in teaching.teaching}
        progress = await queries.progress(
            conn, access.school_id, school_year, period, class_subjects
        )
        labels = await conn.fetch(
            "SELECT class_id, label FROM rm.classes WHERE school_id = $1", access.school_id
        )
        subjects = await conn.fetch(
            "SELECT subject_id, name FROM rm.subjects WHERE school_id = $1", access.school_id
        )
        policy = await queries.school_policy(conn, access.school_id)
    found = missing_period_grades(
        period, school_year, progress, policy=policy, relationships=teaching, today=today
    )
    if not administration:
        own_classes = {klass for _, klass in own.class_teachers}
        mine = missing_for_teacher(found, access.person_id)
        found = [m for m in found if m in mine or m.class_id in own_classes]
    if teacher_id is not None:
        found = missing_for_teacher(found, teacher_id)
    if class_id is not None:
        found = [m for m in found if m.class_id == class_id]
    class_label = {r["class_id"]: r["label"] for r in labels}
    subject_name = {r["subject_id"]: r["name"] for r in subjects}
    return [
        {
            "class_id": str(m.class_id),
            "class_label": class_label.get(m.class_id),
            "subject_id": str(m.subject_id),
            "subject_name": subject_name.get(m.subject_id),
            "period": m.period.value,
            "teacher_ids": sorted(str(t) for t in m.teacher_ids),
            "student_ids": [str(s) for s in m.student_ids],
            "due_on": m.due_on.isoformat() if m.due_on else None,
            "overdue": m.overdue,
        }
        for m in found
    ]
