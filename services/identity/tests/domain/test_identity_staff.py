"""Staff: employment with roles, who teaches which class, substitutes, and personal files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest

from ezurnals.identity.domain.employment import (
    ChangeStaffRoles,
    Employment,
    EndEmployment,
    HireStaffMember,
)
from ezurnals.identity.domain.person import ChangePersonalData, Person, RegisterPerson
from ezurnals.identity.domain.staffing import (
    AssignClassTeacher,
    AssignTeaching,
    ClassStaffing,
    UnassignTeaching,
)
from ezurnals.shared.contracts.identity import (
    EmploymentEnded,
    PersonalDataErased,
    PersonRegistered,
    Role,
    StaffMemberHired,
    TeachingAssigned,
    TeachingUnassigned,
)
from ezurnals.shared.domain import Conflict, Invalid, NotFound

SCHOOL = UUID("00000000-0000-7000-8000-000000000001")
TEACHER, SUBSTITUTE, OTHER = UUID(int=1), UUID(int=2), UUID(int=3)
CLASS = UUID(int=70)
MATHS, LATVIAN = UUID(int=500), UUID(int=501)
SEP1 = date(2025, 9, 1)


def hired(roles: tuple[Role, ...] = (Role.TEACHER,)) -> Employment:
    e = Employment.of(SCHOOL, TEACHER)
    return e.applied(e.hire(HireStaffMember(roles=roles, hired_on=SEP1)))


def test_a_staff_member_is_hired_with_roles() -> None:
    events = Employment.of(SCHOOL, TEACHER).hire(
        HireStaffMember(roles=(Role.TEACHER, Role.CLASS_TEACHER, Role.TEACHER), hired_on=SEP1)
    )
    assert events == [
        StaffMemberHired(
            school_id=SCHOOL,
            person_id=TEACHER,
            roles=(Role.CLASS_TEACHER, Role.TEACHER),
            hired_on=SEP1,
        )
    ]


def test_family_roles_are_not_staff_roles() -> None:
    with pytest.raises(Invalid) as err:
        Employment.of(SCHOOL, TEACHER).hire(HireStaffMember(roles=(Role.GUARDIAN,), hired_on=SEP1))
    assert err.value.field == "roles"


def test_roles_change_while_employed() -> None:
    e = hired()
    e.applied(e.change_roles(ChangeStaffRoles(roles=(Role.DEPUTY_DIRECTOR,), changed_on=SEP1)))
    assert e.roles == (Role.DEPUTY_DIRECTOR,)
    assert e.change_roles(ChangeStaffRoles(roles=(Role.DEPUTY_DIRECTOR,), changed_on=SEP1)) == []


def test_employment_ends_today_or_earlier_and_can_be_taken_up_again() -> None:
    e = hired()
    with pytest.raises(Invalid):
        e.end(EndEmployment(ended_on=date(2026, 1, 1)), today=date(2025, 12, 1))
    events = e.end(EndEmployment(ended_on=date(2025, 12, 1)), today=date(2025, 12, 1))
    assert events == [
        EmploymentEnded(school_id=SCHOOL, person_id=TEACHER, ended_on=date(2025, 12, 1))
    ]
    e.applied(events)
    assert not e.active
    with pytest.raises(NotFound):
        e.end(EndEmployment(ended_on=date(2025, 12, 1)), today=date(2025, 12, 1))
    with pytest.raises(Invalid):
        e.hire(HireStaffMember(roles=(Role.TEACHER,), hired_on=date(2025, 11, 1)))
    e.applied(e.hire(HireStaffMember(roles=(Role.TEACHER,), hired_on=date(2026, 2, 1))))
    assert e.active


def test_one_cannot_be_hired_twice() -> None:
    with pytest.raises(Conflict):
        hired().hire(HireStaffMember(roles=(Role.TEACHER,), hired_on=SEP1))


def staffing() -> ClassStaffing:
    return ClassStaffing.of(SCHOOL, CLASS)


def test_the_class_teacher_changes_from_a_date() -> None:
    s = staffing()
    s.applied(s.assign_class_teacher(AssignClassTeacher(teacher_id=TEACHER, valid_from=SEP1)))
    s.applied(
        s.assign_class_teacher(AssignClassTeacher(teacher_id=OTHER, valid_from=date(2026, 1, 5)))
    )
    assert s.class_teacher_on(date(2025, 8, 31)) is None
    assert s.class_teacher_on(date(2026, 1, 4)) == TEACHER
    assert s.class_teacher_on(date(2026, 1, 5)) == OTHER
    with pytest.raises(Invalid):
        s.assign_class_teacher(AssignClassTeacher(teacher_id=TEACHER, valid_from=date(2025, 12, 1)))
    with pytest.raises(Conflict):
        s.assign_class_teacher(AssignClassTeacher(teacher_id=OTHER, valid_from=date(2026, 2, 1)))


def test_a_substitute_teaches_only_within_their_dates_while_the_regular_teacher_stays() -> None:
    s = staffing()
    s.applied(
        s.assign_teaching(
            AssignTeaching(
                assignment_id=uuid4(), teacher_id=TEACHER, subject_id=MATHS, valid_from=SEP1
            )
        )
    )
    cmd = AssignTeaching(
        assignment_id=uuid4(),
        teacher_id=SUBSTITUTE,
        subject_id=MATHS,
        valid_from=date(2025, 11, 3),
        valid_to=date(2025, 11, 14),
        substitute=True,
    )
    events = s.assign_teaching(cmd)
    assert isinstance(events[0], TeachingAssigned) and events[0].substitute
    s.applied(events)
    assert s.teaches(SUBSTITUTE, MATHS, date(2025, 11, 3))
    assert s.teaches(SUBSTITUTE, MATHS, date(2025, 11, 14))
    assert not s.teaches(SUBSTITUTE, MATHS, date(2025, 11, 15))
    assert not s.teaches(SUBSTITUTE, LATVIAN, date(2025, 11, 5))
    assert s.teaches(TEACHER, MATHS, date(2025, 11, 5))
    assert s.teachers_on(date(2025, 11, 5)) == {TEACHER, SUBSTITUTE}


def test_a_substitution_needs_an_end_that_follows_its_start() -> None:
    base = AssignTeaching(
        assignment_id=uuid4(),
        teacher_id=SUBSTITUTE,
        subject_id=MATHS,
        valid_from=SEP1,
        substitute=True,
    )
    with pytest.raises(Invalid):
        staffing().assign_teaching(base)
    with pytest.raises(Invalid):
        staffing().assign_teaching(base.model_copy(update={"valid_to": date(2025, 8, 1)}))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"valid_from": date(2031, 9, 1)}, "valid_from"),
        ({"valid_to": date(2031, 9, 30)}, "valid_to"),
    ],
)
def test_teaching_outside_the_classs_school_year_is_refused_naming_the_range(
    changes: dict[str, date], field: str
) -> None:
    fields = {"valid_from": SEP1, **changes}
    cmd = AssignTeaching(assignment_id=uuid4(), teacher_id=SUBSTITUTE, subject_id=MATHS, **fields)
    with pytest.raises(Invalid) as err:
        staffing().assign_teaching(cmd, school_year="2025/2026")
    assert err.value.field == field
    assert "2025-07-01 to 2026-08-31" in err.value.message


def test_a_class_teacher_from_another_school_year_is_refused() -> None:
    cmd = AssignClassTeacher(teacher_id=SUBSTITUTE, valid_from=date(2021, 9, 1))
    with pytest.raises(Invalid) as err:
        staffing().assign_class_teacher(cmd, school_year="2025/2026")
    assert err.value.field == "valid_from"
    assert "2025/2026" in err.value.message


def test_overlapping_assignments_of_one_teacher_and_subject_conflict() -> None:
    s = staffing()
    s.applied(
        s.assign_teaching(
            AssignTeaching(
                assignment_id=uuid4(), teacher_id=TEACHER, subject_id=MATHS, valid_from=SEP1
            )
        )
    )
    with pytest.raises(Conflict):
        s.assign_teaching(
            AssignTeaching(
                assignment_id=uuid4(),
                teacher_id=TEACHER,
                subject_id=MATHS,
                valid_from=date(2026, 1, 1),
            )
        )


def test_unassigning_ends_the_teaching_after_the_last_day() -> None:
    s = staffing()
    assignment = uuid4()
    s.applied(
        s.assign_teaching(
            AssignTeaching(
                assignment_id=assignment, teacher_id=TEACHER, subject_id=MATHS, valid_from=SEP1
            )
        )
    )
    events = s.unassign_teaching(
        UnassignTeaching(assignment_id=assignment, last_day=date(2025, 12, 19))
    )
    assert events == [
        TeachingUnassigned(
            school_id=SCHOOL,
            assignment_id=assignment,
            class_id=CLASS,
            teacher_id=TEACHER,
            subject_id=MATHS,
            last_day=date(2025, 12, 19),
        )
    ]
    s.applied(events)
    assert s.teaches(TEACHER, MATHS, date(2025, 12, 19))
    assert not s.teaches(TEACHER, MATHS, date(2026, 1, 5))
    assert (
        s.unassign_teaching(UnassignTeaching(assignment_id=assignment, last_day=date(2026, 1, 1)))
        == []
    )
    with pytest.raises(NotFound):
        s.unassign_teaching(UnassignTeaching(assignment_id=uuid4(), last_day=SEP1))


NOW = datetime(2025, 9, 1, tzinfo=UTC)


def test_a_person_is_registered_with_sealed_data_only() -> None:
    events = Person.of(SCHOOL, TEACHER).register(RegisterPerson(sealed="v1:ciphertext"))
    assert events == [PersonRegistered(school_id=SCHOOL, person_id=TEACHER, sealed="v1:ciphertext")]


def test_erasure_waits_for_legal_retention_and_then_is_final() -> None:
    p = Person.of(SCHOOL, TEACHER)
    p.applied(p.register(RegisterPerson(sealed="v1:a")))
    with pytest.raises(Conflict) as err:
        p.erase(NOW, retained_for=["enrolled"])
    assert err.value.code == "retention_applies"
    events = p.erase(NOW)
    assert events == [PersonalDataErased(school_id=SCHOOL, person_id=TEACHER, erased_at=NOW)]
    p.applied(events)
    assert p.sealed is None
    with pytest.raises(Conflict):
        p.change_personal_data(ChangePersonalData(sealed="v1:b"))


def test_unchanged_personal_data_records_nothing() -> None:
    p = Person.of(SCHOOL, TEACHER)
    p.applied(p.register(RegisterPerson(sealed="v1:a")))
    assert p.change_personal_data(ChangePersonalData(sealed="v1:a")) == []
    assert len(p.change_personal_data(ChangePersonalData(sealed="v1:b"))) == 1


def test_streams_belong_to_one_school() -> None:
    assert Person.stream(SCHOOL, TEACHER) == f"person-{SCHOOL}-{TEACHER}"
    with pytest.raises(ValueError):
        Person(f"account-{SCHOOL}-{TEACHER}")
