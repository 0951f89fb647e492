"""Small input checks shared by the aggregates, so every refusal names its field the same way."""

from __future__ import annotations

from ezurnals.shared.domain import Invalid


def required_text(value: str, field: str, *, max_length: int) -> str:
    """The text without surrounding blanks; refused when empty or longer than ``max_length``."""
    text = value.strip()
    if not text:
        raise Invalid(f"{field} must not be empty", field=field, code="required")
    if len(text) > max_length:
        raise Invalid(
            f"{field} is longer than {max_length} characters", field=field, code="too_long"
        )
    return text
