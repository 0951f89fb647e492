"""One spelling of a field's place in a request, whichever layer refuses it."""

from __future__ import annotations

from ezurnals.shared.domain import field_path


def test_an_index_is_in_brackets_and_a_name_after_a_dot() -> None:
    assert field_path(("marks", 0, "student_id")) == "marks[0].student_id"
    assert field_path(("holidays", 1, "grade_levels", 2)) == "holidays[1].grade_levels[2]"
    assert field_path(("query", "on")) == "query.on"


def test_no_place_is_the_body_itself() -> None:
    assert field_path(()) == "body"
