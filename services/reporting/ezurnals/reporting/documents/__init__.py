"""PDF documents in Latvian, rendered with Typst from read-model content.

Names are personal data that identity alone holds (events carry ids, a person's data is sealed
with their own key), so reporting never stores them: the caller — a client that has already read
the names from identity with its own rights — passes display names with the request, and a person
without one is printed by a short form of their id. Nothing of it is kept.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from typing import Any
from uuid import UUID

from ezurnals.shared.documents import typst_pdf

MONTHS = (
    "janvāris",
    "februāris",
    "marts",
    "aprīlis",
    "maijs",
    "jūnijs",
    "jūlijs",
    "augusts",
    "septembris",
    "oktobris",
    "novembris",
    "decembris",
)


def month_name(month: str) -> str:
    """ "2025-10" → "2025. gada oktobris"."""
    year, number = month.split("-")
    return f"{year}. gada {MONTHS[int(number) - 1]}"


class DisplayNames:
    def __init__(self, names: Mapping[UUID, str]) -> None:
        self.names = dict(names)

    def __call__(self, person_id: UUID | str | None) -> str:
        if person_id is None:
            return ""
        key = UUID(str(person_id))
        return self.names.get(key) or f"[{str(key)[:8]}]"


@functools.cache
def _template(name: str) -> bytes:
    """Read once per process: a class's report cards render hundreds of times a minute."""
    return resources.files(__package__).joinpath(name).read_bytes()


def render(template: str, data: Mapping[str, Any]) -> bytes:
    return typst_pdf(_template(template), "data", data)


def statements_pdf(
    *,
    school: str,
    month: str,
    class_teacher: str,
    statements: list[Mapping[str, Any]],
    class_label: str,
    names: DisplayNames,
) -> bytes:
    """One page per statement (content as the statements table keeps it)."""
    pages = []
    for content in statements:
        pages.append(
            {
                **content,
                "student": names(content["student_id"]),
                "class": class_label,
                "subjects": [
                    {**row, "average": row["average"] or "—"} for row in content["subjects"]
                ],
            }
        )
    data = {
        "school": school,
        "month": month,
        "month_name": month_name(month),
        "class_teacher": class_teacher,
        "statements": pages,
    }
    return render("statement.typ", data)


PERIOD_NAMES = {"semester1": "1. semestris", "semester2": "2. semestris", "year": "Gada liecība"}
GRADE_KINDS = {"gada": "gada vērtējums", "gala": "gala vērtējums"}


def report_cards_pdf(*, school: str, cards: list[Mapping[str, Any]], names: DisplayNames) -> bytes:
    """One page per report card (content as the report_cards table keeps it)."""
    pages = [
        {
            **card,
            "student": names(card["student_id"]),
            "class_teacher": names(card["class_teacher_id"]),
            "director": names(card["director_id"]),
            "period_name": PERIOD_NAMES[card["period"]],
            "absences_total": card["absences_excused"] + card["absences_unexcused"],
            "subjects": [
                {
                    "subject": row["subject"],
                    "hours": "—" if row["hours"] is None else str(row["hours"]),
                    "grade": row["grade"],
                    "kind": GRADE_KINDS.get(row["grade_type"] or "", "semestra vērtējums"),
                }
                for row in card["subjects"]
            ],
        }
        for card in cards
    ]
    return render("report_card.typ", {"school": school, "cards": pages})


def journal_cell(cell: Mapping[str, Any]) -> str:
    """ "8", "7 g." for a gala grade, then "eks. 6" and "pēcp. 5" where there are any."""
    parts = []
    if cell["year_grade"] is not None:
        suffix = " g." if cell["year_grade_type"] == "gala" else ""
        parts.append(f"{cell['year_grade']}{suffix}")
    if cell["exam"] is not None:
        parts.append(f"eks. {cell['exam']}")
    if cell["reexam"] is not None:
        parts.append(f"pēcp. {cell['reexam']}")
    return "; ".join(parts) or "—"


def summary_journal_pdf(*, school: str, journal: Mapping[str, Any], names: DisplayNames) -> bytes:
    data = {
        "school": school,
        "school_year": journal["school_year"],
        "class_label": journal["class_label"],
        "subjects": [
            {"subject": s["subject"], "hours": "—" if s["hours"] is None else str(s["hours"])}
            for s in journal["subjects"]
        ],
        "rows": [
            {
                "student": names(row["student_id"]),
                "cells": [journal_cell(c) for c in row["cells"]],
                "absences_excused": row["absences_excused"],
                "absences_unexcused": row["absences_unexcused"],
            }
            for row in journal["rows"]
        ],
        "absences_excused": journal["absences_excused"],
        "absences_unexcused": journal["absences_unexcused"],
    }
    return render("summary_journal.typ", data)
