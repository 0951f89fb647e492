"""Validating a timetable CSV file: every row becomes a weekly slot, or every problem is listed
with its row number — and nothing is accepted until the whole file is clean (a dry run first).

Row numbers are the file's line numbers as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date, time
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from ezurnals.lessons.domain.timetable import ImportTimetable, slots_clash
from ezurnals.shared.contracts.lessons import WeeklySlot
from ezurnals.shared.domain import Invalid

MAX_ROOM_LENGTH = 20
MAX_PERIOD = 15

#: Column → the header names accepted for it (English and Latvian).
COLUMNS: dict[str, tuple[str, ...]] = {
    "day": ("day", "weekday", "diena"),
    "period": ("period", "stunda"),
    "start": ("start", "starts_at", "sākums", "sakums"),
    "end": ("end", "ends_at", "beigas"),
    "subject": ("subject", "priekšmets", "prieksmets"),
    "teacher": ("teacher", "skolotājs", "skolotajs"),
    "room": ("room", "kabinets", "telpa"),
}
OPTIONAL_COLUMNS = frozenset({"room"})

_DAY_NAMES = (
    ("1", "mon", "monday", "p", "pirmdiena"),
    ("2", "tue", "tuesday", "o", "otrdiena"),
    ("3", "wed", "wednesday", "t", "trešdiena", "tresdiena"),
    ("4", "thu", "thursday", "c", "ceturtdiena"),
    ("5", "fri", "friday", "pk", "piektdiena"),
    ("6", "sat", "saturday", "s", "sestdiena"),
    ("7", "sun", "sunday", "sv", "svētdiena", "svetdiena"),
)
WEEKDAYS = {name: number for number, names in enumerate(_DAY_NAMES, 1) for name in names}


class RowError(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    row: int
    column: str | None
    message: str


class ImportedSlot(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    row: int
    slot: WeeklySlot


class TimetableImportReport(BaseModel):
    """The dry-run answer: the slots read and every error found."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slots: tuple[ImportedSlot, ...]
    errors: tuple[RowError, ...]

    @property
    def clean(self) -> bool:
        return not self.errors

    def command(self, effective_from: date) -> ImportTimetable:
        """The import to carry out — refused while any row has an error."""
        if not self.clean:
            raise Invalid(
                f"the file has {len(self.errors)} errors; nothing was imported",
                field="file",
                code="csv_invalid",
                details={"errors": [e.model_dump() for e in self.errors]},
            )
        return ImportTimetable(
            effective_from=effective_from, slots=tuple(s.slot for s in self.slots)
        )


def read_timetable_csv(
    text: str, subjects: Mapping[str, UUID], teachers: Mapping[str, UUID]
) -> TimetableImportReport:
    """``subjects`` maps a subject's name key, ``teachers`` a staff member's import key, to ids."""
    delimiter = ";" if text.count(";") > text.count(",") else ","
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return _failed(RowError(row=1, column=None, message="the file is empty"))
    positions, errors = _columns(header)
    if errors:
        return TimetableImportReport(slots=(), errors=tuple(errors))

    slots: list[ImportedSlot] = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        row = reader.line_num
        values = {
            column: cells[i].strip() if i < len(cells) else "" for column, i in positions.items()
        }
        slot, row_errors = _slot(row, values, subjects, teachers)
        errors.extend(row_errors)
        if slot is None:
            continue
        errors.extend(_clashes_with_earlier(row, slot, slots))
        slots.append(ImportedSlot(row=row, slot=slot))
    if not slots and not errors:
        errors.append(RowError(row=1, column=None, message="the file has no lessons"))
    return TimetableImportReport(slots=tuple(slots), errors=tuple(errors))


def _failed(error: RowError) -> TimetableImportReport:
    return TimetableImportReport(slots=(), errors=(error,))


def _columns(header: list[str]) -> tuple[dict[str, int], list[RowError]]:
    names = [cell.strip().lower() for cell in header]
    positions: dict[str, int] = {}
    errors: list[RowError] = []
    for column, aliases in COLUMNS.items():
        found = [i for i, name in enumerate(names) if name in aliases]
        if found:
            positions[column] = found[0]
        elif column not in OPTIONAL_COLUMNS:
            errors.append(RowError(row=1, column=column, message=f"missing column {column!r}"))
    return positions, errors


def _slot(
    row: int, values: dict[str, str], subjects: Mapping[str, UUID], teachers: Mapping[str, UUID]
) -> tuple[WeeklySlot | None, list[RowError]]:
    errors: list[RowError] = []

    def fail(column: str, message: str) -> None:
        errors.append(RowError(row=row, column=column, message=message))

    weekday = WEEKDAYS.get(values["day"].lower())
    if weekday is None:
        fail("day", f"unknown day {values['day']!r}")
    period = int(values["period"]) if values["period"].isdigit() else None
    if period is None or period > MAX_PERIOD:
        fail("period", f"the period must be a number 0–{MAX_PERIOD}")
    starts_at = _time(values["start"])
    if starts_at is None:
        fail("start", f"{values['start']!r} is not a time like 08:30")
    ends_at = _time(values["end"])
    if ends_at is None:
        fail("end", f"{values['end']!r} is not a time like 09:10")
    elif starts_at is not None and ends_at <= starts_at:
        fail("end", "the lesson must end after it starts")
    subject_id = subjects.get(values["subject"])
    if subject_id is None:
        fail("subject", f"unknown subject {values['subject']!r}")
    teacher_id = teachers.get(values["teacher"])
    if teacher_id is None:
        fail("teacher", f"unknown teacher {values['teacher']!r}")
    room = values.get("room") or None
    if room is not None and len(room) > MAX_ROOM_LENGTH:
        fail("room", f"the room is longer than {MAX_ROOM_LENGTH} characters")
    if errors:
        return None, errors
    fields = {
        "weekday": weekday,
        "period": period,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "subject_id": subject_id,
        "teacher_id": teacher_id,
        "room": room,
    }
    return WeeklySlot.model_validate(fields), []


def _time(value: str) -> time | None:
    hours, _, minutes = value.replace(".", ":").partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        return None
    if int(hours) > 23 or int(minutes) > 59:
        return None
    return time(int(hours), int(minutes))


def _clashes_with_earlier(
    row: int, slot: WeeklySlot, earlier: list[ImportedSlot]
) -> list[RowError]:
    return [
        RowError(
            row=row,
            column="period",
            message=f"clashes with row {other.row} (the same day, period or time)",
        )
        for other in earlier
        if slots_clash(other.slot, slot)
    ]
