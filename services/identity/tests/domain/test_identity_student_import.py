"""The students-and-guardians CSV: every bad row reported by number, nothing half-imported."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from ezurnals.identity.domain.personal_code import PersonalCodeError, parse_personal_code
from ezurnals.identity.domain.school import SchoolClass
from ezurnals.identity.domain.student_import import RowError, parse_students_csv
from ezurnals.shared.domain import Invalid

C1A = SchoolClass(UUID(int=11), "2025/2026", 1, "1.a")
C7B = SchoolClass(UUID(int=72), "2025/2026", 7, "7.b")
CLASSES = {c.label: c for c in (C1A, C7B)}
TODAY = date(2025, 8, 20)
HEADER = (
    "student_first_name,student_last_name,personal_code,birth_date,class_label,"
    "guardian_first_name,guardian_last_name,guardian_email,guardian_phone\n"
)
# 010115-21237: born 1 January 2015, valid check digit; 321234-56789: new format
ANNA = "Anna,Bērziņa,010115-21237,2015-01-01,1.a"
ROBERTS = "Roberts,Bērziņš,321234-56789,12.03.2012,7.b"


def test_personal_codes_of_both_formats_are_read() -> None:
    old = parse_personal_code("01011521237")
    assert (old.value, old.birth_date) == ("010115-21237", date(2015, 1, 1))
    assert parse_personal_code("321234-56789").birth_date is None


@pytest.mark.parametrize(
    "code", ["010115-21238", "320115-2123", "310215-21234", "010115-31237", "abc"]
)
def test_malformed_personal_codes_are_refused(code: str) -> None:
    with pytest.raises(PersonalCodeError):
        parse_personal_code(code)


def test_a_clean_file_gives_students_with_shared_guardians() -> None:
    text = HEADER + "\n".join(
        [
            f"{ANNA},Ilze,Bērziņa,ilze@example.lv,+371 21234567",
            f"{ANNA},Jānis,Bērziņš,,29876543",
            f"{ROBERTS},ilze,BĒRZIŅA,ILZE@example.lv,",
            "Līga,Ozola,150309-21233,15.03.2009,7.b,,,,",
        ]
    )
    result = parse_students_csv(text, CLASSES, TODAY)
    assert result.ok, result.errors
    anna, roberts, liga = result.students
    assert (anna.first_name, anna.class_id, anna.rows) == ("Anna", C1A.class_id, (2, 3))
    assert roberts.birth_date == date(2012, 3, 12)
    assert len(result.guardians) == 2
    assert anna.guardians == (0, 1) and roberts.guardians == (0,)
    assert result.guardians[0].rows == (2, 4)
    assert result.guardians[1].phone == "+37129876543"
    assert liga.guardians == ()


def test_semicolons_and_a_byte_order_mark_are_fine() -> None:
    text = "\ufeff" + HEADER.replace(",", ";") + ANNA.replace(",", ";") + ";;;;\n"
    assert parse_students_csv(text, CLASSES, TODAY).ok


def test_every_bad_row_is_reported_and_nothing_is_imported() -> None:
    text = HEADER + "\n".join(
        [
            f"{ANNA},Ilze,Bērziņa,ilze@example.lv,",  # row 2: fine
            # row 3: no surname, bad check digit, no such class
            "Pēteris,,010115-21238,2015-01-01,9.z,,,,",
            "Marta,Kalna,321234-56789,2015-13-01,1.a,Ieva,Kalna,not-an-email,12",  # row 4
            f"{ANNA},,,,,",  # row 5: wrong number of fields
            "Anna,Bērziņa,010115-21237,2015-01-01,7.b,,,,",  # row 6: same code, other class
            # row 7: code and date disagree, and row 2 has another student with this code
            "Jurģis,Liepa,010115-21237,2014-01-01,1.a,,,,",
        ]
    )
    result = parse_students_csv(text, CLASSES, TODAY)
    assert not result.ok
    assert result.students == () and result.guardians == ()
    found = {(e.row, e.column) for e in result.errors}
    assert found == {
        (3, "student_last_name"),
        (3, "personal_code"),
        (3, "class_label"),
        (4, "birth_date"),
        (4, "guardian_email"),
        (4, "guardian_phone"),
        (5, None),
        (6, None),
        (7, None),
        (7, "birth_date"),
    }
    assert [e.row for e in result.errors] == sorted(e.row for e in result.errors)


def test_a_guardian_without_names_is_refused() -> None:
    result = parse_students_csv(HEADER + f"{ANNA},,,ilze@example.lv,", CLASSES, TODAY)
    assert {(e.row, e.column) for e in result.errors} == {
        (2, "guardian_first_name"),
        (2, "guardian_last_name"),
    }


def test_an_implausible_age_is_refused() -> None:
    result = parse_students_csv(
        HEADER + "Anna,Bērziņa,321234-56789,2024-01-01,1.a,,,,", CLASSES, TODAY
    )
    assert [e.column for e in result.errors] == ["birth_date"]


def test_the_same_guardian_twice_for_one_student_is_an_error() -> None:
    row = f"{ANNA},Ilze,Bērziņa,ilze@example.lv,"
    result = parse_students_csv(HEADER + row + "\n" + row, CLASSES, TODAY)
    assert result.errors == (RowError(3, None, "the guardian is listed twice for the student"),)


def test_missing_and_unknown_columns_are_reported_on_row_1() -> None:
    text = (
        "student_first_name,student_surname,personal_code,birth_date\n"
        "Anna,B,010115-21237,2015-01-01\n"
    )
    result = parse_students_csv(text, CLASSES, TODAY)
    assert {(e.row, e.column, e.message) for e in result.errors} == {
        (1, "student_last_name", "column is missing"),
        (1, "class_label", "column is missing"),
        (1, "student_surname", "unknown column"),
    }


@pytest.mark.parametrize("text", ["", HEADER])
def test_an_empty_file_is_refused(text: str) -> None:
    assert not parse_students_csv(text, CLASSES, TODAY).ok


def test_the_errors_become_one_invalid_with_every_row() -> None:
    result = parse_students_csv(HEADER + "Pēteris,,x,y,z,,,,\n", CLASSES, TODAY)
    with pytest.raises(Invalid) as err:
        result.raise_if_invalid()
    assert err.value.code == "import_invalid"
    assert [e["row"] for e in err.value.details["errors"]] == [2, 2, 2, 2]  # type: ignore[attr-defined]
