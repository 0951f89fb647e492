"""Guardianship: many guardians, court restrictions, and the adult student's decision."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from ezurnals.identity.domain.guardianship import (
    DecideGuardianAccess,
    Guardianship,
    LinkGuardian,
    RestrictGuardianship,
    UnlinkGuardian,
    UnrestrictGuardianship,
    age_on,
)
from ezurnals.shared.contracts.identity import GuardianAccessDecided, GuardianLinked
from ezurnals.shared.domain import Conflict, Forbidden, Invalid, NotFound

SCHOOL = UUID("00000000-0000-7000-8000-000000000001")
STUDENT, MOTHER, FATHER = UUID(int=1), UUID(int=2), UUID(int=3)
BORN = date(2007, 3, 14)
DAY = date(2025, 9, 1)


def family(*guardians: UUID) -> Guardianship:
    g = Guardianship.of(SCHOOL, STUDENT)
    for guardian in guardians:
        g.applied(g.link(LinkGuardian(guardian_id=guardian, linked_on=DAY)))
    return g


def test_a_guardian_is_linked_to_a_student() -> None:
    events = family().link(LinkGuardian(guardian_id=MOTHER, linked_on=DAY, restricted=True))
    assert events == [
        GuardianLinked(
            school_id=SCHOOL, guardian_id=MOTHER, student_id=STUDENT, linked_on=DAY, restricted=True
        )
    ]


def test_a_student_has_many_guardians_and_each_sees_the_child() -> None:
    g = family(MOTHER, FATHER)
    assert g.may_see(MOTHER) and g.may_see(FATHER)
    assert not g.may_see(UUID(int=99))


def test_a_guardian_is_linked_once_and_never_to_themself() -> None:
    with pytest.raises(Conflict):
        family(MOTHER).link(LinkGuardian(guardian_id=MOTHER, linked_on=DAY))
    with pytest.raises(Invalid):
        family().link(LinkGuardian(guardian_id=STUDENT, linked_on=DAY))


def test_a_court_restriction_blocks_only_that_guardian_until_lifted() -> None:
    g = family(MOTHER, FATHER)
    g.applied(g.restrict(RestrictGuardianship(guardian_id=FATHER, restricted_on=DAY)))
    assert not g.may_see(FATHER) and g.may_see(MOTHER)
    assert g.restrict(RestrictGuardianship(guardian_id=FATHER, restricted_on=DAY)) == []
    g.applied(g.unrestrict(UnrestrictGuardianship(guardian_id=FATHER, unrestricted_on=DAY)))
    assert g.may_see(FATHER)


def test_an_unlinked_guardian_sees_nothing_and_cannot_be_restricted() -> None:
    g = family(MOTHER)
    g.applied(g.unlink(UnlinkGuardian(guardian_id=MOTHER, unlinked_on=DAY)))
    assert not g.may_see(MOTHER)
    with pytest.raises(NotFound):
        g.restrict(RestrictGuardianship(guardian_id=MOTHER, restricted_on=DAY))


def test_an_adult_student_may_revoke_a_guardians_access() -> None:
    g = family(MOTHER, FATHER)
    cmd = DecideGuardianAccess(guardian_id=FATHER, keeps_access=False, decided_on=date(2025, 3, 14))
    events = g.decide_guardian_access(cmd, decided_by=STUDENT, birth_date=BORN)
    assert events == [
        GuardianAccessDecided(
            school_id=SCHOOL,
            guardian_id=FATHER,
            student_id=STUDENT,
            keeps_access=False,
            decided_on=date(2025, 3, 14),
        )
    ]
    g.applied(events)
    assert not g.may_see(FATHER) and g.may_see(MOTHER)


def test_a_student_under_18_cannot_decide() -> None:
    cmd = DecideGuardianAccess(guardian_id=FATHER, keeps_access=False, decided_on=date(2025, 3, 13))
    with pytest.raises(Forbidden) as err:
        family(FATHER).decide_guardian_access(cmd, decided_by=STUDENT, birth_date=BORN)
    assert err.value.code == "not_adult"


def test_only_the_student_decides() -> None:
    cmd = DecideGuardianAccess(guardian_id=FATHER, keeps_access=False, decided_on=DAY)
    with pytest.raises(Forbidden):
        family(FATHER, MOTHER).decide_guardian_access(cmd, decided_by=MOTHER, birth_date=BORN)


def test_a_leap_day_birthday_comes_of_age_on_the_first_of_march() -> None:
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18
