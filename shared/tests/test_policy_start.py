"""When a policy version may start: one rule for every service's policies."""

from __future__ import annotations

from datetime import date

import pytest

from ezurnals.shared.domain import Invalid, require_policy_start

TODAY = date(2026, 12, 8)


def test_a_policy_starts_from_today_to_a_year_ahead() -> None:
    require_policy_start(TODAY, TODAY)
    require_policy_start(date(2027, 12, 9), TODAY)


@pytest.mark.parametrize(
    ("start", "code"), [(date(2026, 12, 7), "backdated"), (date(9999, 12, 31), "too_far_ahead")]
)
def test_a_start_outside_the_range_names_it(start: date, code: str) -> None:
    with pytest.raises(Invalid) as err:
        require_policy_start(start, TODAY)
    assert (err.value.field, err.value.code) == ("effective_from", code)
    assert "2027-12-09" in err.value.message


def test_where_the_school_records_an_earlier_start_only_the_year_ahead_is_bounded() -> None:
    require_policy_start(date(2020, 9, 17), TODAY, backdating=True)
    with pytest.raises(Invalid):
        require_policy_start(date(2028, 1, 1), TODAY, backdating=True)
