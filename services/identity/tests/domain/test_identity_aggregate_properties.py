"""Property, for every aggregate of the identity service: whatever sequence of commands it is
given, the events it decides rebuild exactly its state and version when replayed (directly and
after a trip through JSON), and a command it refuses leaves it exactly as it was.

The state compared is the aggregate's whole ``vars()``, so a field folded differently on replay,
or touched by a refused (or not yet applied) decision, fails the property. The school roll's
own property (``test_identity_roll``) checks placements; here it also meets refusals and the
year-end promotion.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from uuid import UUID
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ezurnals.identity.domain.account import (
    Account,
    ActivateAccount,
    AttemptSignIn,
    ChangePassword,
    EnableTotp,
    IssueAccessCode,
)
from ezurnals.identity.domain.employment import (
    ChangeStaffRoles,
    Employment,
    EndEmployment,
    HireStaffMember,
)
from ezurnals.identity.domain.guardianship import (
    DecideGuardianAccess,
    Guardianship,
    LinkGuardian,
    RestrictGuardianship,
    UnlinkGuardian,
    UnrestrictGuardianship,
)
from ezurnals.identity.domain.passwords import LockoutPolicy, PasswordPolicy
from ezurnals.identity.domain.person import ChangePersonalData, Person, RegisterPerson
from ezurnals.identity.domain.roll import (
    ClassPromotion,
    EnrolStudent,
    KeepBack,
    MoveStudent,
    PromoteStudents,
    SchoolRoll,
    WithdrawStudent,
)
from ezurnals.identity.domain.school import (
    ChangePasswordPolicy,
    DefineSchoolYear,
    OpenClass,
    RegisterSchool,
    School,
    SchoolClass,
)
from ezurnals.identity.domain.staffing import (
    AssignClassTeacher,
    AssignTeaching,
    ClassStaffing,
    UnassignTeaching,
)
from ezurnals.shared.contracts.identity import (
    GradeEndDate,
    Holiday,
    RevocationReason,
    Role,
    Semester,
    StudentsPromoted,
)
from ezurnals.shared.testing import replay
from ezurnals.shared.testing.replay import Call, Clock, calls, check_replay

PROPERTY = settings(max_examples=120, deadline=None)
ZONE = ZoneInfo("Europe/Riga")
SCHOOL = UUID("00000000-0000-7000-8000-000000000001")
DAY = date(2026, 8, 31)
START = datetime.combine(DAY, time(8, 0), tzinfo=ZONE).astimezone(UTC)
#: Days the clock passes through (it runs a few days from DAY), and a few around them.
days = st.integers(-3, 6).map(lambda n: DAY + timedelta(days=n))

sequences = functools.partial(replay.sequences, start=START)


# --- the school: registration, years, classes, password policies -------------------------------


def school_year(
    first: int, *, semesters: str = "two", ends: str = "none", holidays: str = "none"
) -> DefineSchoolYear:
    """A school year starting in September of ``first``, well formed unless told otherwise."""
    autumn = Semester(number=1, first_day=date(first, 9, 1), last_day=date(first, 12, 19))
    spring = Semester(number=2, first_day=date(first + 1, 1, 5), last_day=date(first + 1, 5, 29))
    shapes = {
        "two": (autumn, spring),
        "none": (),
        "overlapping": (autumn, spring.model_copy(update={"first_day": date(first, 12, 1)})),
        "misnumbered": (spring.model_copy(update={"number": 1}), autumn),
        "outside": (autumn, spring.model_copy(update={"last_day": date(first + 1, 9, 30)})),
    }
    grade_ends = {
        "none": (),
        "exams": (GradeEndDate(grade_level=12, last_day=date(first + 1, 6, 19)),),
        "twice": (
            GradeEndDate(grade_level=9, last_day=date(first + 1, 6, 12)),
            GradeEndDate(grade_level=9, last_day=date(first + 1, 6, 19)),
        ),
        "early": (GradeEndDate(grade_level=9, last_day=date(first, 10, 1)),),
    }
    breaks = {
        "none": (),
        "autumn": (Holiday(first_day=date(first, 10, 20), last_day=date(first, 10, 24)),),
        "backwards": (Holiday(first_day=date(first, 10, 24), last_day=date(first, 10, 20)),),
        "grade 13": (
            Holiday(
                first_day=date(first + 1, 2, 16),
                last_day=date(first + 1, 2, 20),
                grade_levels=(13,),
            ),
        ),
    }
    return DefineSchoolYear(
        school_year=f"{first}/{first + 1}",
        semesters=shapes[semesters],
        grade_end_dates=grade_ends[ends],
        holidays=breaks[holidays],
    )


school_years = st.one_of(
    *[
        st.builds(
            school_year,
            st.sampled_from([2025, 2026]),
            semesters=st.sampled_from(
                ["two", "two", "two", "none", "overlapping", "misnumbered", "outside"]
            ),
            ends=st.sampled_from(["none", "exams", "twice", "early"]),
            holidays=st.sampled_from(["none", "autumn", "backwards", "grade 13"]),
        )
    ]
    * 3,
    st.just(DefineSchoolYear(school_year="2025/26", semesters=())),
)
CLASS_IDS = [UUID(int=71), UUID(int=72), UUID(int=73)]
school_steps = st.one_of(
    calls(
        "register",
        st.builds(
            RegisterSchool,
            school_id=st.just(SCHOOL),
            name=st.sampled_from(["Rīgas 1. vidusskola", "Cēsu pamatskola"]),
            time_zone=st.sampled_from(["Europe/Riga", "UTC", "Mars/Olympus"]),
        ),
    ),
    calls("define_school_year", school_years),
    *[
        calls(
            "open_class",
            st.builds(
                lambda class_id, year, grade, label: OpenClass(
                    class_id=class_id, school_year=year, grade_level=grade, label=label
                ),
                st.sampled_from(CLASS_IDS),
                st.sampled_from(["2025/2026", "2026/2027"]),
                st.sampled_from([7, 7, 12, 13]),
                st.sampled_from(["7.a", "7. B", "7.b", "12.a", "7a", "13.a"]),
            ),
        )
    ]
    * 2,
    calls(
        "change_password_policy",
        st.builds(
            ChangePasswordPolicy,
            role=st.sampled_from([Role.TEACHER, Role.GUARDIAN]),
            effective_from=days,
            max_age_days=st.sampled_from([60, 90, None, 0]),
            warn_days=st.sampled_from([7, 14, 90]),
            min_length=st.sampled_from([12, 16, 4]),
        ),
        today=Clock.TODAY,
    ),
)
REGISTERED = [
    Call("register", (RegisterSchool(school_id=SCHOOL, name="Rīgas 1. vidusskola"),)),
    Call("define_school_year", (school_year(2026),)),
]


@PROPERTY
@given(registered=st.booleans(), sequence=sequences(school_steps))
def test_a_school_replays_to_the_same_calendar_classes_and_policies(
    registered: bool, sequence: list[Call]
) -> None:
    live = School(School.stream(SCHOOL))
    check_replay(live, [*REGISTERED, *sequence] if registered else sequence)
    # and no label is used twice in a year
    labels = [(c.school_year, c.label.casefold()) for c in live.classes.values()]
    assert len(labels) == len(set(labels))


# --- a person's sealed personal file -----------------------------------------------------------

PERSON = UUID(int=81)
sealed = st.sampled_from(["sealed:Anna", "sealed:Anna Ozola"])
person_steps = st.one_of(
    calls("register", st.builds(RegisterPerson, sealed=sealed)),
    calls("change_personal_data", st.builds(ChangePersonalData, sealed=sealed)),
    calls("erase", Clock.NOW, retained_for=st.sampled_from([(), (), ("enrolment",)])),
)


@PROPERTY
@given(sequences(person_steps))
def test_a_persons_file_replays_to_the_same_file(sequence: list[Call]) -> None:
    live = Person.of(SCHOOL, PERSON)
    check_replay(live, sequence)
    # and nothing sealed is left of an erased person
    assert not (live.erased and live.sealed is not None)


# --- employment --------------------------------------------------------------------------------

role_sets = st.sampled_from(
    [
        (Role.TEACHER,),
        (Role.TEACHER, Role.CLASS_TEACHER),
        (Role.CLASS_TEACHER, Role.TEACHER),
        (Role.DIRECTOR, Role.DIRECTOR),
        (Role.GUARDIAN,),
    ]
)
employment_steps = st.one_of(
    calls("hire", st.builds(HireStaffMember, roles=role_sets, hired_on=days)),
    calls("change_roles", st.builds(ChangeStaffRoles, roles=role_sets, changed_on=days)),
    calls("end", st.builds(EndEmployment, ended_on=days), today=Clock.TODAY),
)


@PROPERTY
@given(sequences(employment_steps))
def test_an_employment_replays_to_the_same_employment(sequence: list[Call]) -> None:
    live = Employment.of(SCHOOL, PERSON)
    check_replay(live, sequence)
    # and roles are kept once each, in order; an employment ends after its last hiring
    assert live.roles == tuple(sorted(set(live.roles)))
    if live.ended_on is not None:
        assert live.hired_on is not None and live.ended_on >= live.hired_on


# --- a class's staffing ------------------------------------------------------------------------

TEACHERS = [UUID(int=91), UUID(int=92), UUID(int=93)]
SUBJECTS = [UUID(int=94), UUID(int=95)]
ASSIGNMENTS = [UUID(int=96), UUID(int=97), UUID(int=98)]
staffing_steps = st.one_of(
    calls(
        "assign_class_teacher",
        st.builds(AssignClassTeacher, teacher_id=st.sampled_from(TEACHERS), valid_from=days),
    ),
    *[
        calls(
            "assign_teaching",
            st.builds(
                lambda assignment, teacher, subject, first, length, substitute: AssignTeaching(
                    assignment_id=assignment,
                    teacher_id=teacher,
                    subject_id=subject,
                    valid_from=first,
                    valid_to=None if length is None else first + timedelta(days=length),
                    substitute=substitute,
                ),
                st.sampled_from(ASSIGNMENTS),
                st.sampled_from(TEACHERS),
                st.sampled_from(SUBJECTS),
                days,
                st.sampled_from([None, None, 0, 3, -1]),
                st.booleans(),
            ),
        )
    ]
    * 2,
    *[
        calls(
            "unassign_teaching",
            st.builds(UnassignTeaching, assignment_id=st.sampled_from(ASSIGNMENTS), last_day=days),
        )
    ]
    * 2,
)


@PROPERTY
@given(sequences(staffing_steps))
def test_a_classs_staffing_replays_to_the_same_staff(sequence: list[Call]) -> None:
    live = ClassStaffing.of(SCHOOL, CLASS_IDS[0])
    check_replay(live, sequence)
    # and class teachers follow one another; nobody teaches a subject twice at once
    starts = [since for since, _ in live.class_teachers]
    assert starts == sorted(set(starts))
    for one, other in combinations(live.assignments.values(), 2):
        same = (one.teacher_id, one.subject_id) == (other.teacher_id, other.subject_id)
        assert not (same and one.overlaps(other.valid_from, other.valid_to))


# --- a student's guardians ---------------------------------------------------------------------

STUDENT, MOTHER, FATHER = UUID(int=101), UUID(int=102), UUID(int=103)
#: She turns 18 on the clock's third day.
BIRTH_DATE = date(DAY.year - 18, DAY.month, DAY.day) + timedelta(days=2)
guardians = st.sampled_from([MOTHER, MOTHER, FATHER, STUDENT])
guardianship_steps = st.one_of(
    calls(
        "link",
        st.builds(LinkGuardian, guardian_id=guardians, linked_on=days, restricted=st.booleans()),
    ),
    calls("unlink", st.builds(UnlinkGuardian, guardian_id=guardians, unlinked_on=days)),
    calls("restrict", st.builds(RestrictGuardianship, guardian_id=guardians, restricted_on=days)),
    calls(
        "unrestrict",
        st.builds(UnrestrictGuardianship, guardian_id=guardians, unrestricted_on=days),
    ),
    calls(
        "decide_guardian_access",
        st.builds(
            DecideGuardianAccess, guardian_id=guardians, keeps_access=st.booleans(), decided_on=days
        ),
        st.sampled_from([STUDENT, STUDENT, MOTHER]),
        BIRTH_DATE,
    ),
    calls("come_of_age", BIRTH_DATE, Clock.TODAY),
)


@PROPERTY
@given(sequences(guardianship_steps, max_steps=16))
def test_a_students_guardianship_replays_to_the_same_links(sequence: list[Call]) -> None:
    live = Guardianship.of(SCHOOL, STUDENT)
    history = check_replay(live, sequence)
    # and she comes of age once, never her own guardian
    assert sum(e.event_type == "StudentCameOfAge" for e in history) <= 1
    assert STUDENT not in live.links


# --- an account --------------------------------------------------------------------------------

POLICY = PasswordPolicy(min_length=12, history=2)
#: Three failures within a quarter of an hour lock the account for a quarter of an hour.
LOCKOUT = LockoutPolicy(threshold=3)
COMMON = frozenset({"password1234"})
PASSWORDS = ["zilais-kalns-2025", "sarkana-upe-2026", "zala-plava-2027", "password1234", "short"]
SESSIONS = [UUID(int=111), UUID(int=112), UUID(int=113)]


def verify(secret: str, hashed: str) -> bool:
    """Stands in for argon2: the account only ever compares, the handler hashes."""
    return hashed == f"hash:{secret}"


#: Mostly the password the account was activated with.
passwords = st.sampled_from([PASSWORDS[0]] * 3 + PASSWORDS)
sessions = st.sampled_from(SESSIONS)
#: What happens to an account now and then: a new code, TOTP, revocation and its end.
occasional = st.one_of(
    calls(
        "issue_access_code",
        st.builds(
            IssueAccessCode,
            code_id=st.sampled_from([UUID(int=121), UUID(int=122)]),
            code_hash=st.sampled_from(["hash:123456", "hash:654321"]),
            valid_days=st.sampled_from([1, 14]),
        ),
        Clock.NOW,
    ),
    calls("enable_totp", EnableTotp(sealed_secret="sealed:totp"), Clock.NOW),
    calls("sign_out_everywhere", Clock.NOW),
    calls("revoke_access", st.sampled_from(RevocationReason), Clock.NOW),
    calls("restore_access", Clock.NOW),
)
#: What happens all the time: activation, signing in and out, changing the password.
frequent = st.one_of(
    calls(
        "activate",
        st.builds(
            lambda code, password: ActivateAccount(
                code=code, password=password, password_hash=f"hash:{password}"
            ),
            st.sampled_from(["123456", "123456", "000000"]),
            passwords,
        ),
        Clock.NOW,
        POLICY,
        verify,
        COMMON,
    ),
    calls(
        "change_password",
        st.builds(
            lambda current, new, session: ChangePassword(
                current_password=current,
                new_password=new,
                new_password_hash=f"hash:{new}",
                session_id=session,
            ),
            passwords,
            st.sampled_from(PASSWORDS),
            st.one_of(st.none(), sessions),
        ),
        Clock.NOW,
        POLICY,
        verify,
        COMMON,
    ),
    *[
        calls(
            "attempt_sign_in",
            st.builds(
                AttemptSignIn,
                password=passwords,
                session_id=sessions,
                totp_verified=st.sampled_from([None, True, False]),
            ),
            Clock.NOW,
            POLICY,
            verify,
            LOCKOUT,
        )
    ]
    * 3,
    calls("sign_out", sessions, Clock.NOW),
)
account_steps = st.one_of(frequent, frequent, frequent, occasional)
ISSUED = Call(
    "issue_access_code", (IssueAccessCode(code_id=UUID(int=120), code_hash="hash:123456"), START)
)
ACTIVATED = Call(
    "activate",
    (
        ActivateAccount(code="123456", password=PASSWORDS[0], password_hash=f"hash:{PASSWORDS[0]}"),
        START,
        POLICY,
        verify,
        COMMON,
    ),
)


@PROPERTY
@given(activated=st.booleans(), sequence=sequences(account_steps, max_steps=16, max_minutes=6))
def test_an_account_replays_to_the_same_account(activated: bool, sequence: list[Call]) -> None:
    live = Account.of(SCHOOL, PERSON)
    check_replay(live, [ISSUED, ACTIVATED, *sequence] if activated else sequence)
    # and a revoked account keeps no session open
    assert not (live.revoked and live.sessions)


# --- the school roll, with refusals and the year-end promotion ---------------------------------

YEAR, NEXT = "2025/2026", "2026/2027"
C7A = SchoolClass(UUID(int=131), YEAR, 7, "7.a")
C12A = SchoolClass(UUID(int=132), YEAR, 12, "12.a")
N8A = SchoolClass(UUID(int=133), NEXT, 8, "8.a")
N8B = SchoolClass(UUID(int=134), NEXT, 8, "8.b")
N7A = SchoolClass(UUID(int=135), NEXT, 7, "7.a")
CLASSES = {c.class_id: c for c in (C7A, C12A, N8A, N8B, N7A)}
PUPILS = [UUID(int=141), UUID(int=142), UUID(int=143), UUID(int=144)]
#: Last year's roll: two pupils in 7.a, one in 12.a.
PREVIOUS = SchoolRoll(SchoolRoll.stream(SCHOOL, YEAR))
for pupil, klass in ((PUPILS[0], C7A), (PUPILS[1], C7A), (PUPILS[2], C12A)):
    PREVIOUS.applied(
        PREVIOUS.enrol(
            EnrolStudent(student_id=pupil, class_id=klass.class_id, enrolled_on=date(2025, 9, 1)),
            klass,
        )
    )
roll_days = st.sampled_from(
    [date(2026, 9, 1), date(2026, 9, 2), date(2026, 10, 5), date(2027, 1, 5), date(2027, 9, 1)]
)
pupils = st.sampled_from(PUPILS)
classes = st.sampled_from([N8A, N8A, N8B, N7A, C7A])
MAPPINGS = [
    (ClassPromotion(from_class_id=C7A.class_id, to_class_id=N8A.class_id),),
    (ClassPromotion(from_class_id=C7A.class_id, to_class_id=N8B.class_id),),
    (
        ClassPromotion(from_class_id=C7A.class_id, to_class_id=N8A.class_id),
        ClassPromotion(from_class_id=C12A.class_id, to_class_id=None),
    ),
    (
        ClassPromotion(from_class_id=C7A.class_id, to_class_id=N7A.class_id),
        ClassPromotion(from_class_id=C12A.class_id, to_class_id=None),
    ),
]
roll_steps = st.one_of(
    *[
        st.builds(
            lambda pupil, klass, day: Call(
                "enrol",
                (EnrolStudent(student_id=pupil, class_id=klass.class_id, enrolled_on=day), klass),
            ),
            pupils,
            classes,
            roll_days,
        ),
        st.builds(
            lambda pupil, klass, day: Call(
                "move",
                (MoveStudent(student_id=pupil, to_class_id=klass.class_id, moved_on=day), klass),
            ),
            pupils,
            classes,
            roll_days,
        ),
        calls("withdraw", st.builds(WithdrawStudent, student_id=pupils, withdrawn_on=roll_days)),
    ]
    * 2,
    calls(
        "promote",
        st.builds(
            PromoteStudents,
            promoted_on=roll_days,
            classes=st.sampled_from(MAPPINGS),
            kept_back=st.sampled_from(
                [(), (KeepBack(student_id=PUPILS[1], to_class_id=N7A.class_id),)]
            ),
        ),
        PREVIOUS,
        CLASSES,
    ),
)


@PROPERTY
@given(sequences(roll_steps, max_steps=14))
def test_a_school_roll_with_refusals_and_promotion_replays_to_the_same_roll(
    sequence: list[Call],
) -> None:
    live = SchoolRoll(SchoolRoll.stream(SCHOOL, NEXT))
    history = check_replay(live, sequence)
    # and everyone placed sits in a class of the year
    assert all(CLASSES[c].school_year == NEXT for c in live.placements().values())
    # and one promotion at most, of everyone on last year's roll: graduated or in a class from then
    promotions = [e for e in history if isinstance(e, StudentsPromoted)]
    assert len(promotions) <= 1
    for promotion in promotions:
        assert {p.student_id for p in promotion.promotions} == set(PREVIOUS.placements())
        stints = live.state().history
        for p in promotion.promotions:
            if p.to_class_id is None:
                assert p.student_id in live.graduates
            else:
                assert (p.to_class_id, promotion.promoted_on) in {
                    (s.class_id, s.first_day) for s in stints[p.student_id]
                }
