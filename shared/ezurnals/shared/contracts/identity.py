"""Identity's integration events: schools, people, enrolment, families, staff and accounts.

Every other service authorises from these facts, so they carry ids (UUIDs), never names or
personal codes. The one exception is ``sealed``: a person's personal data encrypted with that
person's own key, which erasure deletes (crypto-shredding).

Events whose ``published`` is False hold secrets (password and access-code hashes, TOTP secrets)
or sign-in noise; they stay in identity's event store and the outbox must not relay them.
Streams: ``school-<id>`` (school, years, classes, policies), ``roll-<school>-<year>``
(enrolment for one school year), ``person-<id>``, ``account-<id>``, ``employment-<id>``,
``guardianship-<student id>`` and ``class-staffing-<class id>``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ezurnals.shared.contracts.base import IntegrationEvent, contract
from ezurnals.shared.contracts.school_year import SchoolYear

DEFAULT_TIME_ZONE = "Europe/Riga"


class Role(StrEnum):
    """What a person does at a school; a person may hold several roles."""

    TEACHER = "teacher"
    CLASS_TEACHER = "class_teacher"
    DEPUTY_DIRECTOR = "deputy_director"
    DIRECTOR = "director"
    ADMIN = "admin"
    GUARDIAN = "guardian"
    STUDENT = "student"


STAFF_ROLES = frozenset(
    {Role.TEACHER, Role.CLASS_TEACHER, Role.DEPUTY_DIRECTOR, Role.DIRECTOR, Role.ADMIN}
)


class WithdrawalReason(StrEnum):
    """Why a student left the school; a code, never free text that could name anyone."""

    TRANSFERRED = "transferred"
    MOVED_ABROAD = "moved_abroad"
    EXPELLED = "expelled"
    OTHER = "other"


class RevocationReason(StrEnum):
    SIGNED_OUT = "signed_out"
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
    PASSWORD_CHANGED = "password_changed"
    EMPLOYMENT_ENDED = "employment_ended"
    ADMIN_DECISION = "admin_decision"
    PERSONAL_DATA_ERASED = "personal_data_erased"
    GUARDIANSHIP_RESTRICTED = "guardianship_restricted"


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class DateRange(_Value):
    """Both days included."""

    first_day: date
    last_day: date

    def covers(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


class Semester(DateRange):
    number: int = Field(ge=1, le=4)


class GradeEndDate(_Value):
    """The last school day of a grade level; grades 9 and 12 end later because of exams."""

    grade_level: int = Field(ge=1, le=12)
    last_day: date


class Holiday(DateRange):
    name: str = Field(default="", max_length=100)
    #: Empty: every grade; otherwise only these grade levels (grade 1 has an extra week).
    grade_levels: tuple[int, ...] = ()


class Promotion(_Value):
    student_id: UUID
    from_class_id: UUID
    #: None: the student graduated (finished grade 12).
    to_class_id: UUID | None


class IdentityEvent(IntegrationEvent):
    service: ClassVar[str] = "identity"
    #: False: kept in identity's own store only, never relayed to other services.
    published: ClassVar[bool] = True

    school_id: UUID


# --- school, calendar, classes, policies (stream school-<id>) -----------------------------------


@contract
class SchoolRegistered(IdentityEvent):
    event_type: ClassVar[str] = "SchoolRegistered"
    name: str = Field(min_length=1, max_length=200)
    time_zone: str = DEFAULT_TIME_ZONE


@contract
class SchoolYearDefined(IdentityEvent):
    event_type: ClassVar[str] = "SchoolYearDefined"
    school_year: SchoolYear
    semesters: tuple[Semester, ...]
    grade_end_dates: tuple[GradeEndDate, ...] = ()
    holidays: tuple[Holiday, ...] = ()


@contract
class ClassOpened(IdentityEvent):
    event_type: ClassVar[str] = "ClassOpened"
    class_id: UUID
    school_year: str
    grade_level: int = Field(ge=1, le=12)
    label: str


@contract
class PasswordPolicyChanged(IdentityEvent):
    """A new version of the password policy for one role, in force from ``effective_from``."""

    event_type: ClassVar[str] = "PasswordPolicyChanged"
    role: Role
    effective_from: date
    #: Rule 9 is these defaults (staff rotate every 60 days): the one place to change it. Identity
    #: records them for every new school; its domain, commands and API read them from here.
    #: None: passwords of this role never expire.
    max_age_days: int | None = 60
    warn_days: int = 7
    history: int = 5
    min_length: int = 12
    require_totp: bool = False


# --- people (stream person-<id>) -----------------------------------------------------------------


@contract
class PersonRegistered(IdentityEvent):
    event_type: ClassVar[str] = "PersonRegistered"
    person_id: UUID
    #: Personal data (names, personal code, birth date, contacts) encrypted with the person's key.
    sealed: str


@contract
class PersonalDataChanged(IdentityEvent):
    event_type: ClassVar[str] = "PersonalDataChanged"
    person_id: UUID
    sealed: str


@contract
class PersonalDataErased(IdentityEvent):
    """The person's key is gone; every read model must drop what it holds about them."""

    event_type: ClassVar[str] = "PersonalDataErased"
    person_id: UUID
    erased_at: datetime


# --- enrolment (stream roll-<school>-<year>) -----------------------------------------------------


@contract
class StudentEnrolled(IdentityEvent):
    event_type: ClassVar[str] = "StudentEnrolled"
    student_id: UUID
    class_id: UUID
    school_year: str
    enrolled_on: date


@contract
class StudentMoved(IdentityEvent):
    event_type: ClassVar[str] = "StudentMoved"
    student_id: UUID
    from_class_id: UUID
    to_class_id: UUID
    school_year: str
    moved_on: date


@contract
class StudentWithdrawn(IdentityEvent):
    event_type: ClassVar[str] = "StudentWithdrawn"
    student_id: UUID
    class_id: UUID
    school_year: str
    withdrawn_on: date
    reason: WithdrawalReason = WithdrawalReason.OTHER


@contract
class StudentsPromoted(IdentityEvent):
    """The year-end promotion of a whole school, recorded in the new year's roll."""

    event_type: ClassVar[str] = "StudentsPromoted"
    from_year: str
    to_year: str
    promoted_on: date
    promotions: tuple[Promotion, ...]


# --- families (stream guardianship-<student id>) -------------------------------------------------


@contract
class GuardianLinked(IdentityEvent):
    event_type: ClassVar[str] = "GuardianLinked"
    guardian_id: UUID
    student_id: UUID
    linked_on: date
    #: A court restriction recorded at linking time: the guardian sees nothing.
    restricted: bool = False


@contract
class GuardianUnlinked(IdentityEvent):
    event_type: ClassVar[str] = "GuardianUnlinked"
    guardian_id: UUID
    student_id: UUID
    unlinked_on: date


@contract
class GuardianshipRestricted(IdentityEvent):
    event_type: ClassVar[str] = "GuardianshipRestricted"
    guardian_id: UUID
    student_id: UUID
    restricted_on: date


@contract
class GuardianshipUnrestricted(IdentityEvent):
    event_type: ClassVar[str] = "GuardianshipUnrestricted"
    guardian_id: UUID
    student_id: UUID
    unrestricted_on: date


@contract
class GuardianAccessDecided(IdentityEvent):
    """An adult (18+) student's choice whether a guardian keeps access to their data."""

    event_type: ClassVar[str] = "GuardianAccessDecided"
    guardian_id: UUID
    student_id: UUID
    keeps_access: bool
    decided_on: date


@contract
class StudentCameOfAge(IdentityEvent):
    """A student turned 18: from ``on`` they act for themself (excuses, guardians' access).

    Published on the day (by identity's worker) so other services need no birth dates.
    """

    event_type: ClassVar[str] = "StudentCameOfAge"
    student_id: UUID
    on: date


# --- staff (stream employment-<person id>) -------------------------------------------------------


@contract
class StaffMemberHired(IdentityEvent):
    event_type: ClassVar[str] = "StaffMemberHired"
    person_id: UUID
    roles: tuple[Role, ...]
    hired_on: date


@contract
class StaffRolesChanged(IdentityEvent):
    event_type: ClassVar[str] = "StaffRolesChanged"
    person_id: UUID
    roles: tuple[Role, ...]
    changed_on: date


@contract
class EmploymentEnded(IdentityEvent):
    event_type: ClassVar[str] = "EmploymentEnded"
    person_id: UUID
    ended_on: date


# --- who teaches a class (stream class-staffing-<class id>) --------------------------------------


@contract
class ClassTeacherAssigned(IdentityEvent):
    """The class teacher (klases audzinātājs) from ``valid_from``, replacing any earlier one."""

    event_type: ClassVar[str] = "ClassTeacherAssigned"
    class_id: UUID
    teacher_id: UUID
    valid_from: date


@contract
class TeachingAssigned(IdentityEvent):
    event_type: ClassVar[str] = "TeachingAssigned"
    assignment_id: UUID
    class_id: UUID
    teacher_id: UUID
    subject_id: UUID
    valid_from: date
    #: Last day taught; None: until unassigned. Substitutes always have one.
    valid_to: date | None = None
    substitute: bool = False


@contract
class TeachingUnassigned(IdentityEvent):
    event_type: ClassVar[str] = "TeachingUnassigned"
    assignment_id: UUID
    class_id: UUID
    teacher_id: UUID
    subject_id: UUID
    last_day: date


# --- accounts and credentials (stream account-<person id>) ---------------------------------------


@contract
class AccessCodeIssued(IdentityEvent):
    """A single-use activation code; only its hash is kept. It replaces any earlier code."""

    event_type: ClassVar[str] = "AccessCodeIssued"
    published: ClassVar[bool] = False
    person_id: UUID
    code_id: UUID
    code_hash: str
    issued_at: datetime
    expires_at: datetime
    #: The earlier, still unused code this one makes void.
    replaces_code_id: UUID | None = None


@contract
class AccountActivated(IdentityEvent):
    event_type: ClassVar[str] = "AccountActivated"
    person_id: UUID
    activated_at: datetime


@contract
class PasswordHashStored(IdentityEvent):
    """The hash of a newly chosen password; its history forbids reuse."""

    event_type: ClassVar[str] = "PasswordHashStored"
    published: ClassVar[bool] = False
    person_id: UUID
    password_hash: str
    stored_at: datetime


@contract
class PasswordChanged(IdentityEvent):
    event_type: ClassVar[str] = "PasswordChanged"
    person_id: UUID
    changed_at: datetime


@contract
class SignedIn(IdentityEvent):
    event_type: ClassVar[str] = "SignedIn"
    published: ClassVar[bool] = False
    person_id: UUID
    session_id: UUID
    signed_in_at: datetime


@contract
class SignInFailed(IdentityEvent):
    event_type: ClassVar[str] = "SignInFailed"
    published: ClassVar[bool] = False
    person_id: UUID
    failed_at: datetime


@contract
class AccountLocked(IdentityEvent):
    event_type: ClassVar[str] = "AccountLocked"
    person_id: UUID
    locked_at: datetime
    locked_until: datetime


@contract
class SessionRevoked(IdentityEvent):
    """Tokens of the session (or, with no session_id, of every session) must be refused."""

    event_type: ClassVar[str] = "SessionRevoked"
    person_id: UUID
    session_id: UUID | None = None
    revoked_at: datetime
    reason: RevocationReason


@contract
class AccessRevoked(IdentityEvent):
    """The person may no longer sign in, and every token they hold must be refused."""

    event_type: ClassVar[str] = "AccessRevoked"
    person_id: UUID
    revoked_at: datetime
    reason: RevocationReason


@contract
class AccessRestored(IdentityEvent):
    event_type: ClassVar[str] = "AccessRestored"
    person_id: UUID
    restored_at: datetime


@contract
class TotpEnabled(IdentityEvent):
    event_type: ClassVar[str] = "TotpEnabled"
    published: ClassVar[bool] = False
    person_id: UUID
    #: The TOTP secret, encrypted with the person's key.
    sealed_secret: str
    enabled_at: datetime
