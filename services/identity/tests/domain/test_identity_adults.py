"""Coming of age once on the 18th birthday, and re-imports refused by personal code."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from ezurnals.identity.domain.guardianship import Guardianship, adult_from
from ezurnals.identity.domain.school import SchoolClass
from ezurnals.identity.domain.student_import import RowError, parse_students_csv
from ezurnals.shared.contracts.identity import StudentCameOfAge

SCHOOL = UUID("00000000-0000-7000-8000-000000000001")
STUDENT = UUID(int=1)
BORN = date(2007, 3, 14)


def test_a_student_comes_of_age_on_the_18th_birthday_and_only_once() -> None:
    family = Guardianship.of(SCHOOL, STUDENT)
    assert family.come_of_age(BORN, date(2025, 3, 13)) == []
    events = family.come_of_age(BORN, date(2025, 3, 20))
    assert events == [StudentCameOfAge(school_id=SCHOOL, student_id=STUDENT, on=date(2025, 3, 14))]
    family.applied(events)
    assert family.adult_from == date(2025, 3, 14)
    assert family.come_of_age(BORN, date(2025, 4, 1)) == []


def test_a_leap_day_birth_comes_of_age_on_the_first_of_march() -> None:
    assert adult_from(date(2008, 2, 29)) == date(2026, 3, 1)
    assert adult_from(date(2006, 2, 28)) == date(2024, 2, 28)


def test_students_already_registered_make_every_row_of_theirs_an_error() -> None:
    klass = SchoolClass(UUID(int=11), "2025/2026", 1, "1.a")
    text = (
        "student_first_name,student_last_name,personal_code,birth_date,class_label,"
        "guardian_first_name,guardian_last_name,guardian_email,guardian_phone\n"
        "Anna,Bērziņa,010115-21237,2015-01-01,1.a,Ilze,Bērziņa,ilze@example.lv,\n"
        "Anna,Bērziņa,010115-21237,2015-01-01,1.a,Jānis,Bērziņš,,29876543\n"
        "Roberts,Bērziņš,321234-56789,2015-03-12,1.a,,,,\n"
    )
    parsed = parse_students_csv(text, {"1.a": klass}, date(2025, 8, 20))
    assert parsed.refuse_registered({"321234-56789"}) is not parsed
    refused = parsed.refuse_registered({"010115-21237"})
    message = "a student with this personal code is already registered"
    assert refused.errors == (
        RowError(2, "personal_code", message),
        RowError(3, "personal_code", message),
    )
    assert refused.students == () and not refused.ok
    assert parsed.refuse_registered(set()) is parsed
