"""Identity's contracts: registered, readable back from an envelope, and free of plaintext data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

from ezurnals.shared.contracts import identity
from ezurnals.shared.contracts.base import EventEnvelope, registry

IDENTITY_EVENTS = [m for m in registry if issubclass(m, identity.IdentityEvent)]


def test_every_identity_event_is_registered_with_the_identity_service() -> None:
    # given the contract module, when listing the registry
    names = {m.event_type for m in IDENTITY_EVENTS}
    # then the events other services rely on are there
    assert {
        "SchoolRegistered",
        "SchoolYearDefined",
        "ClassOpened",
        "StaffMemberHired",
        "EmploymentEnded",
        "StudentEnrolled",
        "StudentMoved",
        "StudentWithdrawn",
        "StudentsPromoted",
        "GuardianLinked",
        "GuardianshipRestricted",
        "GuardianshipUnrestricted",
        "GuardianAccessDecided",
        "ClassTeacherAssigned",
        "TeachingAssigned",
        "TeachingUnassigned",
        "AccessCodeIssued",
        "AccountActivated",
        "PasswordChanged",
        "SignInFailed",
        "AccountLocked",
        "SessionRevoked",
        "AccessRevoked",
        "PasswordPolicyChanged",
        "PersonalDataErased",
        "PersonRegistered",
    } <= names


def test_an_enrolment_travels_through_an_envelope_and_back() -> None:
    # given a StudentEnrolled payload in an envelope
    event = identity.StudentEnrolled(
        school_id=uuid4(),
        student_id=uuid4(),
        class_id=uuid4(),
        school_year="2025/2026",
        enrolled_on=date(2025, 9, 1),
    )
    envelope = EventEnvelope(
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id="roll-x",
        stream_version=1,
        payload=event.model_dump(mode="json"),
    )
    # when parsed back, then it is the same event
    assert envelope.parse() == event


def test_events_holding_secrets_are_not_published() -> None:
    # given the events, then exactly those with hashes, secrets or sign-in noise stay private
    private = {m.event_type for m in IDENTITY_EVENTS if not m.published}
    assert private == {
        "AccessCodeIssued",
        "PasswordHashStored",
        "SignedIn",
        "SignInFailed",
        "TotpEnabled",
    }


def test_no_event_carries_names_personal_codes_or_contacts_in_plaintext() -> None:
    # given every identity event's fields
    suspicious = {
        "first_name",
        "last_name",
        "personal_code",
        "email",
        "phone",
        "birth_date",
        "address",
    }
    # then none is a personal-data field; personal data travels only in ``sealed``
    for model in IDENTITY_EVENTS:
        assert not suspicious & set(model.model_fields), model.event_type
    assert set(identity.PersonRegistered.model_fields) == {"school_id", "person_id", "sealed"}


def test_an_access_code_event_holds_only_a_hash_and_an_expiry() -> None:
    # given an issued code
    now = datetime(2025, 9, 1, tzinfo=UTC)
    event = identity.AccessCodeIssued(
        school_id=uuid4(),
        person_id=uuid4(),
        code_id=uuid4(),
        code_hash="sha256:abc",
        issued_at=now,
        expires_at=now,
    )
    # then no field could hold the code itself
    assert "code" not in event.model_dump()


def test_a_password_policy_defaults_to_rule_9() -> None:
    # given a policy event with only the required fields
    event = identity.PasswordPolicyChanged(
        school_id=uuid4(), role=identity.Role.TEACHER, effective_from=date(2020, 9, 17)
    )
    # then staff passwords last 60 days, warn 7 days ahead, remember 5, need 12 characters
    assert (event.max_age_days, event.warn_days, event.history, event.min_length) == (60, 7, 5, 12)
