"""A school's absence codes and excuse policy, versioned by effective date (seed rules 11–12)."""

from __future__ import annotations

import datetime as dt
from uuid import uuid4

import pytest

from ezurnals.attendance.domain import (
    DEFAULT_CODES,
    DEFAULT_EXCUSE_POLICY,
    AttendanceSettings,
    DefineAbsenceCodes,
    ExcusePolicy,
    Relationships,
    SetExcusePolicy,
)
from ezurnals.shared.contracts.attendance import (
    AbsenceCodeEntry,
    AbsenceCodesDefined,
    AttendanceEvent,
    ExcusePolicySet,
)
from ezurnals.shared.domain import Forbidden, Invalid

SCHOOL = uuid4()
ADMIN = Relationships(person_id=uuid4(), administration=True)
ABSENT = AbsenceCodeEntry(code="n", meaning="nav", counts_as_absence=True)
ILL = AbsenceCodeEntry(code="s", meaning="slims", counts_as_absence=True, excused=True)
LATE = AbsenceCodeEntry(code="v", meaning="vēlu", counts_as_absence=False, is_late=True)


def settings() -> AttendanceSettings:
    return AttendanceSettings(f"attendance-settings-{SCHOOL}")


def define(
    codes: tuple[AbsenceCodeEntry, ...] = (ABSENT, ILL, LATE),
    absent: str = "n",
    late: str = "v",
    by: Relationships = ADMIN,
) -> list[AttendanceEvent]:
    cmd = DefineAbsenceCodes(
        school_id=SCHOOL, codes=codes, default_absent_code=absent, default_late_code=late
    )
    return settings().define_codes(cmd, by=by)


def set_policy(
    effective_from: dt.date,
    max_days: int = 3,
    thresholds: tuple[int, ...] = (10, 20),
    by: Relationships = ADMIN,
) -> list[AttendanceEvent]:
    cmd = SetExcusePolicy(
        school_id=SCHOOL,
        parent_note_max_days=max_days,
        unexcused_thresholds=thresholds,
        effective_from=effective_from,
    )
    return settings().set_excuse_policy(cmd, by=by, today=effective_from)


def test_a_new_school_has_the_default_codes_and_policy() -> None:
    school = settings()

    assert school.codes == DEFAULT_CODES
    assert school.policy_on(dt.date(2025, 9, 1)) == DEFAULT_EXCUSE_POLICY
    assert (
        DEFAULT_EXCUSE_POLICY.parent_note_max_days,
        DEFAULT_EXCUSE_POLICY.unexcused_thresholds,
    ) == (
        3,
        (10, 20),
    )
    assert (DEFAULT_CODES.default_absent.code, DEFAULT_CODES.default_late.code) == ("n", "nk")


def test_the_administration_defines_the_code_table() -> None:
    events = define()

    (event,) = events
    assert isinstance(event, AbsenceCodesDefined)
    school = settings().applied(events)
    assert school.codes.entry("s") == ILL
    assert school.codes.default_late == LATE


@pytest.mark.parametrize(
    ("codes", "absent", "late", "field"),
    [
        ((ABSENT, ABSENT, LATE), "n", "v", "codes[1].code"),
        ((ABSENT, LATE.model_copy(update={"counts_as_absence": True})), "n", "v", "codes[1]"),
        ((ABSENT, LATE), "x", "v", "default_absent_code"),
        ((ABSENT, LATE), "v", "v", "default_absent_code"),
        ((ABSENT, LATE), "n", "n", "default_late_code"),
    ],
)
def test_a_code_table_that_does_not_hold_together_is_refused(
    codes: tuple[AbsenceCodeEntry, ...], absent: str, late: str, field: str
) -> None:
    with pytest.raises(Invalid) as err:
        define(codes, absent, late)

    assert err.value.field == field


def test_only_the_administration_sets_the_rules() -> None:
    class_teacher = Relationships(person_id=uuid4(), homeroom_classes=frozenset({uuid4()}))

    with pytest.raises(Forbidden):
        define(by=class_teacher)
    with pytest.raises(Forbidden):
        set_policy(dt.date(2025, 9, 1), by=class_teacher)


def test_a_policy_applies_from_its_effective_date() -> None:
    school = settings()
    school.applied(set_policy(dt.date(2025, 9, 1), max_days=5, thresholds=(8,)))
    school.applied(set_policy(dt.date(2026, 1, 5), max_days=4, thresholds=(6, 12)))

    assert school.policy_on(dt.date(2025, 8, 31)) == DEFAULT_EXCUSE_POLICY
    assert school.policy_on(dt.date(2025, 9, 1)) == ExcusePolicy(
        parent_note_max_days=5, unexcused_thresholds=(8,)
    )
    assert school.policy_on(dt.date(2026, 1, 4)).parent_note_max_days == 5
    assert school.policy_on(dt.date(2026, 3, 1)).unexcused_thresholds == (6, 12)


def test_setting_a_policy_states_it_as_an_event() -> None:
    (event,) = set_policy(dt.date(2025, 9, 1), max_days=5, thresholds=(30, 50, 70))

    assert isinstance(event, ExcusePolicySet)
    assert (event.school_id, event.parent_note_max_days, event.unexcused_thresholds) == (
        SCHOOL,
        5,
        (30, 50, 70),
    )
    assert event.effective_from == dt.date(2025, 9, 1)


@pytest.mark.parametrize(
    ("max_days", "thresholds", "field"),
    [
        (0, (10,), "parent_note_max_days"),
        (3, (), "unexcused_thresholds"),
        (3, (20, 10), "unexcused_thresholds"),
        (3, (10, 10), "unexcused_thresholds"),
        (3, (0, 10), "unexcused_thresholds[0]"),
    ],
)
def test_a_policy_that_makes_no_sense_is_refused(
    max_days: int, thresholds: tuple[int, ...], field: str
) -> None:
    with pytest.raises(Invalid) as err:
        set_policy(dt.date(2025, 9, 1), max_days=max_days, thresholds=thresholds)

    assert err.value.field == field
