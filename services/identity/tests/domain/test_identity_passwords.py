"""Password rules: length, common list, reuse, expiry warnings (rule 9) and lockout."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ezurnals.identity.domain.passwords import (
    FAMILY_DEFAULT,
    STAFF_DEFAULT,
    PasswordExpired,
    PasswordExpiresSoon,
    PasswordOk,
    PasswordPolicy,
    check_new_password,
    common_passwords,
    locked_until,
    password_status,
    strictest,
)
from ezurnals.shared.domain import Invalid

T0 = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)


def plain_verify(password: str, hashed: str) -> bool:
    return hashed == f"hash:{password}"


def test_a_long_uncommon_password_is_accepted() -> None:
    check_new_password("zaļā dzeltenā govs lec", STAFF_DEFAULT)


@pytest.mark.parametrize("password", ["short", "elevenchars"])
def test_a_password_under_12_characters_is_refused(password: str) -> None:
    with pytest.raises(Invalid) as err:
        check_new_password(password, STAFF_DEFAULT)
    assert (err.value.code, err.value.field) == ("password_too_short", "password")


def test_no_composition_rules_apply() -> None:
    # given only lower-case letters, no digits, no symbols — then it is fine
    check_new_password("kalnsupeezers", STAFF_DEFAULT)


@pytest.mark.parametrize(
    "password", ["123456789012", "Password1234", "QWERTYUIOP12", "latvija12345", "parole123456"]
)
def test_common_passwords_are_refused_whatever_their_case(password: str) -> None:
    with pytest.raises(Invalid) as err:
        check_new_password(password, STAFF_DEFAULT)
    assert err.value.code == "password_too_common"


def test_the_shipped_list_has_hundreds_of_entries_and_is_case_folded() -> None:
    listed = common_passwords()
    assert len(listed) > 1000
    assert all(p == p.casefold() for p in listed)


def test_a_password_too_long_to_hash_cheaply_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        check_new_password("x" * 257, STAFF_DEFAULT)
    assert err.value.code == "password_too_long"


def test_one_of_the_last_five_passwords_is_refused_but_the_sixth_is_allowed() -> None:
    # given six earlier passwords, oldest first
    previous = [f"hash:old password {i:02d}" for i in range(6)]
    # when reusing the newest — then refused
    with pytest.raises(Invalid) as err:
        check_new_password(
            "old password 05", STAFF_DEFAULT, previous_hashes=previous, verify=plain_verify
        )
    assert err.value.code == "password_reused"
    # when reusing the oldest, six changes ago — then allowed
    check_new_password(
        "old password 00", STAFF_DEFAULT, previous_hashes=previous, verify=plain_verify
    )


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (0, PasswordOk()),
        (52, PasswordOk()),
        (53, PasswordExpiresSoon(7)),
        (59, PasswordExpiresSoon(1)),
        (60, PasswordExpired()),
        (61, PasswordExpired()),
    ],
)
def test_staff_passwords_warn_from_day_53_and_expire_at_day_60(day: int, expected: object) -> None:
    assert password_status(T0, T0 + timedelta(days=day), STAFF_DEFAULT) == expected


def test_a_part_day_rounds_up_to_a_whole_day_left() -> None:
    status = password_status(T0, T0 + timedelta(days=58, hours=1), STAFF_DEFAULT)
    assert status == PasswordExpiresSoon(2)


def test_family_passwords_never_expire() -> None:
    assert password_status(T0, T0 + timedelta(days=3650), FAMILY_DEFAULT) == PasswordOk()


def test_a_policy_with_a_warning_longer_than_its_life_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        PasswordPolicy(max_age_days=7, warn_days=7)
    assert err.value.field == "warn_days"


def test_the_strictest_policy_of_several_roles_takes_each_strictest_setting() -> None:
    combined = strictest(
        [
            PasswordPolicy(max_age_days=90, warn_days=14, history=3, min_length=14),
            PasswordPolicy(
                effective_from=date(2025, 1, 1), max_age_days=60, history=5, require_totp=True
            ),
            FAMILY_DEFAULT,
        ]
    )
    assert combined == PasswordPolicy(
        effective_from=date(2025, 1, 1),
        max_age_days=60,
        warn_days=14,
        history=5,
        min_length=14,
        require_totp=True,
    )


def test_nine_failures_in_fifteen_minutes_do_not_lock() -> None:
    failures = [T0 + timedelta(minutes=i) for i in range(9)]
    assert locked_until(failures) is None


def test_the_tenth_failure_within_fifteen_minutes_locks_for_fifteen_minutes() -> None:
    failures = [T0 + timedelta(minutes=i) for i in range(10)]
    assert locked_until(failures) == T0 + timedelta(minutes=9 + 15)


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock() -> None:
    failures = [T0 + timedelta(minutes=2 * i) for i in range(20)]
    assert locked_until(failures) is None


def test_failures_that_caused_a_lock_do_not_count_again() -> None:
    # given ten quick failures (a lock) and one more right after the lock ends
    failures = [T0 + timedelta(seconds=i) for i in range(10)]
    failures.append(T0 + timedelta(minutes=16))
    # then the lock is the first one only
    assert locked_until(failures) == T0 + timedelta(seconds=9, minutes=15)
