"""Validating a students-and-guardians CSV before anything is imported.

The file is UTF-8 (a byte-order mark is fine), separated by commas or semicolons (as spreadsheet
programs in Latvia save it), with this header row in any order:

=====================  =========  ============================================================
column                 required   content
=====================  =========  ============================================================
student_first_name     yes        the student's given name(s)
student_last_name      yes        the student's surname
personal_code          yes        DDMMYY-CNNNN (with a valid check digit) or the newer 32NNNN-NNNNN
birth_date             yes        YYYY-MM-DD or DD.MM.YYYY; must agree with an old-format code
class_label            yes        a class of the year being imported, e.g. 7.b
guardian_first_name    with any   the guardian's given name(s)
guardian_last_name     guardian   the guardian's surname
guardian_email         no         an e-mail address for access letters and notices
guardian_phone         no         +371 2NNNNNNN, 2NNNNNNN or any +country number
=====================  =========  ============================================================

One row per student and guardian: a student with two guardians has two rows that repeat the
student's columns identically; a student without a guardian has one row with the guardian
columns empty. Guardians with the same names and the same e-mail (or, without e-mail, the same
phone) are one person, so siblings share their guardians.

Every row is checked and every problem is reported with its row number (row 1 is the header,
row 2 the first data row). The import is all or nothing: ``students`` and ``guardians`` are empty
whenever ``errors`` is not.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from ezurnals.identity.domain.personal_code import PersonalCodeError, parse_personal_code
from ezurnals.identity.domain.school import SchoolClass
from ezurnals.shared.domain import Invalid
from ezurnals.shared.text import refused_character

COLUMNS = (
    "student_first_name",
    "student_last_name",
    "personal_code",
    "birth_date",
    "class_label",
    "guardian_first_name",
    "guardian_last_name",
    "guardian_email",
    "guardian_phone",
)
_REQUIRED = COLUMNS[:5]
_GUARDIAN = COLUMNS[5:]
_MAX_NAME = 100
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]{2,}$")
#: A student's plausible age in years on the day of import.
_AGES = range(4, 31)


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    message: str


@dataclass(frozen=True)
class ImportedGuardian:
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    rows: tuple[int, ...]


@dataclass(frozen=True)
class ImportedStudent:
    first_name: str
    last_name: str
    personal_code: str
    birth_date: date
    class_id: UUID
    class_label: str
    #: Positions in ``StudentImport.guardians``.
    guardians: tuple[int, ...]
    rows: tuple[int, ...]


@dataclass(frozen=True)
class StudentImport:
    students: tuple[ImportedStudent, ...] = ()
    guardians: tuple[ImportedGuardian, ...] = ()
    errors: tuple[RowError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def refuse_registered(self, registered: Collection[str]) -> StudentImport:
        """Re-importing a file must not register a student twice: every row of a student whose
        personal code the school already has becomes an error (so nothing is imported)."""
        errors = [
            RowError(
                row, "personal_code", "a student with this personal code is already registered"
            )
            for student in self.students
            if student.personal_code in registered
            for row in student.rows
        ]
        if not errors:
            return self
        return StudentImport(errors=tuple(sorted([*self.errors, *errors], key=lambda e: e.row)))

    def raise_if_invalid(self) -> None:
        """Invalid (422) carrying every error, for the API to list."""
        if self.errors:
            raise Invalid(
                f"the file has {len(self.errors)} problem(s); nothing was imported",
                field="file",
                code="import_invalid",
                details={
                    "errors": [
                        {"row": e.row, "column": e.column, "message": e.message}
                        for e in self.errors
                    ]
                },
            )


@dataclass
class _Row:
    number: int
    values: dict[str, str]
    errors: list[RowError] = field(default_factory=list)

    def fail(self, column: str | None, message: str) -> None:
        self.errors.append(RowError(self.number, column, message))

    def name(self, column: str) -> str:
        value = " ".join(self.values[column].split())
        if not value:
            self.fail(column, "is empty")
        elif (
            len(value) > _MAX_NAME
            or refused_character(value, one_line=True)
            or any(c.isdigit() for c in value)
        ):
            self.fail(column, "is not a name")
        return value


def parse_students_csv(text: str, classes: Mapping[str, SchoolClass], today: date) -> StudentImport:
    """Check every row of the file against the classes of the target year (keyed by label)."""
    text = text.removeprefix("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    records = list(csv.reader(io.StringIO(text), delimiter=delimiter, strict=False))
    if not records or not any(cell.strip() for cell in records[0]):
        return StudentImport(errors=(RowError(1, None, "the file has no header row"),))
    header = [cell.strip().lower() for cell in records[0]]
    header_errors = _check_header(header)
    if header_errors:
        return StudentImport(errors=tuple(header_errors))

    labels = {_label_key(label): klass for label, klass in classes.items()}
    rows: list[_Row] = []
    errors: list[RowError] = []
    for number, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            errors.append(
                RowError(number, None, f"has {len(cells)} fields, the header has {len(header)}")
            )
            continue
        row = _Row(
            number, {column: cell.strip() for column, cell in zip(header, cells, strict=True)}
        )
        rows.append(row)
    if not rows and not errors:
        return StudentImport(errors=(RowError(2, None, "the file has no data rows"),))

    students = [_student(row, labels, today) for row in rows]
    guardians = [_guardian(row) for row in rows]
    for row in rows:
        errors.extend(row.errors)
    result = _combine(rows, students, guardians, errors)
    errors.sort(key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else -1))
    return StudentImport(errors=tuple(errors)) if errors else result


def _check_header(header: list[str]) -> list[RowError]:
    errors = [RowError(1, c, "column is missing") for c in _REQUIRED if c not in header]
    errors += [RowError(1, c, "unknown column") for c in header if c not in COLUMNS]
    errors += [
        RowError(1, c, "column appears more than once")
        for c in sorted(set(header))
        if header.count(c) > 1
    ]
    return errors


@dataclass(frozen=True)
class _StudentFields:
    first_name: str
    last_name: str
    personal_code: str
    birth_date: date | None
    klass: SchoolClass | None


def _student(row: _Row, labels: Mapping[str, SchoolClass], today: date) -> _StudentFields:
    first, last = row.name("student_first_name"), row.name("student_last_name")
    code = None
    try:
        code = parse_personal_code(row.values["personal_code"])
    except PersonalCodeError as err:
        row.fail("personal_code", str(err))
    born = _date(row.values["birth_date"])
    if born is None:
        row.fail("birth_date", "is not a date (YYYY-MM-DD or DD.MM.YYYY)")
    else:
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if age not in _AGES:
            row.fail("birth_date", f"gives an age of {age}, not a student's")
        if code is not None and code.birth_date is not None and code.birth_date != born:
            row.fail("birth_date", "does not agree with the personal code")
    klass = labels.get(_label_key(row.values["class_label"]))
    if klass is None:
        row.fail("class_label", f"no class {row.values['class_label']!r} in the school year")
    return _StudentFields(first, last, code.value if code else "", born, klass)


def _guardian(row: _Row) -> ImportedGuardian | None:
    values = {c: row.values.get(c, "") for c in _GUARDIAN}
    if not any(values.values()):
        return None
    first, last = row.name("guardian_first_name"), row.name("guardian_last_name")
    email = values["guardian_email"] or None
    if email is not None and (len(email) > 254 or not _EMAIL.match(email)):
        row.fail("guardian_email", "is not an e-mail address")
    phone = _phone(values["guardian_phone"]) if values["guardian_phone"] else None
    if values["guardian_phone"] and phone is None:
        row.fail("guardian_phone", "is not a phone number (e.g. +371 21234567)")
    return ImportedGuardian(first, last, email, phone, (row.number,))


@dataclass
class _Merged:
    """A student's rows seen so far."""

    first_row: int
    fields: _StudentFields
    rows: list[int] = field(default_factory=list)
    guardians: list[int] = field(default_factory=list)


def _combine(
    rows: list[_Row],
    students: list[_StudentFields],
    guardians: list[ImportedGuardian | None],
    errors: list[RowError],
) -> StudentImport:
    """Merge the rows of one student, and the guardians siblings share."""
    guardian_index: dict[tuple[str, ...], int] = {}
    merged_guardians: list[ImportedGuardian] = []
    by_code: dict[str, _Merged] = {}
    for row, student, guardian in zip(rows, students, guardians, strict=True):
        if not student.personal_code:
            continue
        merged = by_code.setdefault(student.personal_code, _Merged(row.number, student))
        if merged.fields != student:
            errors.append(
                RowError(
                    row.number, None, f"the student differs from row {merged.first_row} (same code)"
                )
            )
            continue
        merged.rows.append(row.number)
        if guardian is None:
            continue
        key = _guardian_key(guardian, row.number)
        position = guardian_index.setdefault(key, len(merged_guardians))
        if position == len(merged_guardians):
            merged_guardians.append(guardian)
        else:
            known = merged_guardians[position]
            merged_guardians[position] = ImportedGuardian(
                known.first_name,
                known.last_name,
                known.email,
                known.phone or guardian.phone,
                (*known.rows, row.number),
            )
        if position in merged.guardians:
            errors.append(
                RowError(row.number, None, "the guardian is listed twice for the student")
            )
        else:
            merged.guardians.append(position)
    imported = tuple(
        ImportedStudent(
            first_name=m.fields.first_name,
            last_name=m.fields.last_name,
            personal_code=m.fields.personal_code,
            birth_date=m.fields.birth_date,
            class_id=m.fields.klass.class_id,
            class_label=m.fields.klass.label,
            guardians=tuple(m.guardians),
            rows=tuple(m.rows),
        )
        for m in by_code.values()
        if m.fields.birth_date is not None and m.fields.klass is not None
    )
    return StudentImport(students=imported, guardians=tuple(merged_guardians))


def _guardian_key(guardian: ImportedGuardian, row: int) -> tuple[str, ...]:
    names = (guardian.first_name.casefold(), guardian.last_name.casefold())
    if guardian.email:
        return (*names, "email", guardian.email.casefold())
    if guardian.phone:
        return (*names, "phone", guardian.phone)
    return (*names, "row", str(row))


def _label_key(label: str) -> str:
    return "".join(label.split()).casefold()


def _date(text: str) -> date | None:
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        match = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})\.?", text)
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None
    return None


def _phone(text: str) -> str | None:
    """The number in E.164 form; Latvian numbers may be written without +371."""
    digits = re.sub(r"[\s\-().]", "", text)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if re.fullmatch(r"[26]\d{7}", digits):
        return "+371" + digits
    if re.fullmatch(r"\+[1-9]\d{7,14}", digits):
        return digits
    return None
