"""Timetable CSV import: every row a slot, or every error with its row — nothing half-imported."""

from __future__ import annotations

from datetime import date, time
from uuid import uuid4

import pytest

from ezurnals.lessons.domain import RowError, read_timetable_csv
from ezurnals.shared.domain import Invalid

SUBJECTS = {"matematika": uuid4(), "latviesu-valoda": uuid4()}
TEACHERS = {"berzina": uuid4(), "kalnins": uuid4()}


def errors_of(text: str) -> list[tuple[int, str | None]]:
    return [(e.row, e.column) for e in read_timetable_csv(text, SUBJECTS, TEACHERS).errors]


def test_a_clean_file_becomes_slots_and_an_import() -> None:
    # given a clean file with Latvian headers, semicolons and day names
    text = (
        "diena;stunda;sākums;beigas;priekšmets;skolotājs;kabinets\n"
        "pirmdiena;1;8:30;9:10;matematika;berzina;12\n"
        "\n"
        "Otrdiena;2;09.20;10:00;latviesu-valoda;kalnins;\n"
    )
    # when it is read
    report = read_timetable_csv(text, SUBJECTS, TEACHERS)
    # then both rows are slots, with their row numbers, and the import can be made
    assert report.clean
    assert [(s.row, s.slot.weekday, s.slot.period) for s in report.slots] == [(2, 1, 1), (4, 2, 2)]
    first, second = (s.slot for s in report.slots)
    assert (first.starts_at, first.ends_at, first.room) == (time(8, 30), time(9, 10), "12")
    assert (second.subject_id, second.teacher_id) == (
        SUBJECTS["latviesu-valoda"],
        TEACHERS["kalnins"],
    )
    assert second.room is None
    command = report.command(date(2025, 9, 1))
    assert command.slots == (first, second)


def test_every_bad_row_is_listed_with_its_number_and_column() -> None:
    # given a file with several problems
    text = (
        "day,period,start,end,subject,teacher,room\n"
        "1,1,08:30,09:10,matematika,berzina,12\n"  # row 2 fine
        "8,1,08:30,09:10,matematika,berzina,12\n"  # row 3 unknown day
        "2,x,8:30,9:10,fizika,nezinams,12\n"  # row 4 period, subject, teacher
        "3,1,25:00,09:10,matematika,berzina,12\n"  # row 5 start
        "4,1,09:10,08:30,matematika,berzina,12\n"  # row 6 ends before start
        "1,1,08:30,09:10,latviesu-valoda,kalnins,14\n"  # row 7 clashes with row 2
        "1,2,09:00,09:40,latviesu-valoda,kalnins,14\n"  # row 8 overlaps rows 2 and 7
    )
    # when it is read
    report = read_timetable_csv(text, SUBJECTS, TEACHERS)
    # then every problem is reported, and no import can be made from it
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "day"),
        (4, "period"),
        (4, "subject"),
        (4, "teacher"),
        (5, "start"),
        (6, "end"),
        (7, "period"),
        (8, "period"),
        (8, "period"),
    ]
    assert ["row 2" in e.message for e in report.errors[-3:]] == [True, True, False]
    assert "row 7" in report.errors[-1].message
    with pytest.raises(Invalid) as err:
        report.command(date(2025, 9, 1))
    assert err.value.code == "csv_invalid"
    assert len(err.value.details["errors"]) == 9  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [(1, None)]),
        ("day,period,start,end,subject,teacher\n", [(1, None)]),
        ("day,period,start,subject\n1,1,8:30,matematika\n", [(1, "end"), (1, "teacher")]),
    ],
)
def test_an_empty_file_or_missing_columns_are_reported_at_row_1(
    text: str, expected: list[tuple[int, str | None]]
) -> None:
    # given an empty file, a header alone, or a header without required columns
    # when it is read
    # then the problem is at the header row
    assert errors_of(text) == expected


def test_short_rows_are_errors_not_crashes() -> None:
    # given a row with too few cells
    text = "day,period,start,end,subject,teacher,room\n1,1,08:30\n"
    # when it is read
    errors = read_timetable_csv(text, SUBJECTS, TEACHERS).errors
    # then the missing cells are reported for that row
    assert {e.column for e in errors} == {"end", "subject", "teacher"}
    assert all(isinstance(e, RowError) and e.row == 2 for e in errors)
