"""PDF documents in Latvian, rendered with Typst from read-model content.

Names are personal data that identity alone holds (events carry ids, a person's data is sealed
with their own key), so reporting never stores them: the caller — a client that has already read
the names from identity with its own rights — passes display names with the request, and a person
without one is printed by a short form of their id. Nothing of it is kept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any
from uuid import UUID

import typst

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


def render(template: str, data: Mapping[str, Any]) -> bytes:
    path = resources.files(__package__).joinpath(template)
    source = path.read_bytes()
    pdf = typst.compile(
        source,
        format="pdf",
        sys_inputs={"data": json.dumps(data, ensure_ascii=False, default=str)},
        ignore_system_fonts=True,
    )
    assert isinstance(pdf, bytes)
    return pdf


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
