"""Accounts: single-use access codes, passwords, sign-in with lockout and expiry, sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from uuid import UUID, uuid4

import pytest

from ezurnals.identity.domain.account import (
    Account,
    ActivateAccount,
    AttemptSignIn,
    ChangePassword,
    EnableTotp,
    IssueAccessCode,
    SignInAccepted,
    SignInRefused,
)
from ezurnals.identity.domain.passwords import (
    FAMILY_DEFAULT,
    STAFF_DEFAULT,
    PasswordExpired,
    PasswordExpiresSoon,
    PasswordOk,
    PasswordPolicy,
)
from ezurnals.shared.contracts.identity import (
    AccessCodeIssued,
    AccessRevoked,
    AccountActivated,
    AccountLocked,
    PasswordChanged,
    PasswordHashStored,
    RevocationReason,
    SessionRevoked,
    SignedIn,
    SignInFailed,
)
from ezurnals.shared.domain import Conflict, Forbidden, Invalid, NotFound

SCHOOL = UUID("00000000-0000-7000-8000-000000000001")
PERSON = UUID("00000000-0000-7000-8000-0000000000aa")
T0 = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)
FIRST = "zaļā dzeltenā govs"
CODE_ID = UUID(int=5)


def verify(secret: str, hashed: str) -> bool:
    return hashed == f"hash:{secret}"


def fresh() -> Account:
    return Account.of(SCHOOL, PERSON)


def with_code(code: str = "K7Q2-MX9P", at: datetime = T0) -> Account:
    account = fresh()
    return account.applied(
        account.issue_access_code(IssueAccessCode(code_id=CODE_ID, code_hash=f"hash:{code}"), at)
    )


def activated(at: datetime = T0) -> Account:
    account = with_code(at=at)
    cmd = ActivateAccount(code="K7Q2-MX9P", password=FIRST, password_hash=f"hash:{FIRST}")
    return account.applied(account.activate(cmd, at, STAFF_DEFAULT, verify))


def sign_in(
    account: Account, password: str, at: datetime, session: UUID | None = None
) -> SignInAccepted | SignInRefused:
    decision = account.attempt_sign_in(
        AttemptSignIn(password=password, session_id=session or uuid4()), at, STAFF_DEFAULT, verify
    )
    account.applied(decision.events)
    return decision.outcome


def test_an_access_code_expires_after_14_days_and_keeps_only_its_hash() -> None:
    events = fresh().issue_access_code(IssueAccessCode(code_id=CODE_ID, code_hash="hash:K7Q2"), T0)
    assert events == [
        AccessCodeIssued(
            school_id=SCHOOL,
            person_id=PERSON,
            code_id=CODE_ID,
            code_hash="hash:K7Q2",
            issued_at=T0,
            expires_at=T0 + timedelta(days=14),
        )
    ]


def test_activation_with_the_code_sets_the_first_password() -> None:
    account = with_code()
    cmd = ActivateAccount(code="K7Q2-MX9P", password=FIRST, password_hash=f"hash:{FIRST}")
    events = account.activate(cmd, T0 + timedelta(days=13), STAFF_DEFAULT, verify)
    at = T0 + timedelta(days=13)
    assert events == [
        AccountActivated(school_id=SCHOOL, person_id=PERSON, activated_at=at),
        PasswordHashStored(
            school_id=SCHOOL, person_id=PERSON, password_hash=f"hash:{FIRST}", stored_at=at
        ),
    ]


def test_a_code_is_single_use() -> None:
    cmd = ActivateAccount(code="K7Q2-MX9P", password=FIRST, password_hash=f"hash:{FIRST}")
    with pytest.raises(Invalid) as err:
        activated().activate(cmd, T0, STAFF_DEFAULT, verify)
    assert err.value.code == "invalid_code"


def test_an_expired_code_is_refused() -> None:
    cmd = ActivateAccount(code="K7Q2-MX9P", password=FIRST, password_hash=f"hash:{FIRST}")
    with pytest.raises(Invalid) as err:
        with_code().activate(cmd, T0 + timedelta(days=14), STAFF_DEFAULT, verify)
    assert err.value.code == "code_expired"


def test_reissuing_a_code_voids_the_old_one() -> None:
    account = with_code("OLD-CODE")
    events = account.issue_access_code(
        IssueAccessCode(code_id=uuid4(), code_hash="hash:NEW-CODE"), T0
    )
    assert events[0].replaces_code_id == CODE_ID  # type: ignore[attr-defined]
    account.applied(events)
    old = ActivateAccount(code="OLD-CODE", password=FIRST, password_hash=f"hash:{FIRST}")
    with pytest.raises(Invalid):
        account.activate(old, T0, STAFF_DEFAULT, verify)
    new = old.model_copy(update={"code": "NEW-CODE"})
    assert isinstance(account.activate(new, T0, STAFF_DEFAULT, verify)[0], AccountActivated)


def test_activation_with_a_weak_password_is_refused() -> None:
    cmd = ActivateAccount(
        code="K7Q2-MX9P", password="latvija12345", password_hash="hash:latvija12345"
    )
    with pytest.raises(Invalid) as err:
        with_code().activate(cmd, T0, STAFF_DEFAULT, verify)
    assert err.value.code == "password_too_common"


def test_an_activated_account_gets_no_new_code() -> None:
    with pytest.raises(Conflict):
        activated().issue_access_code(IssueAccessCode(code_id=uuid4(), code_hash="hash:x"), T0)


def test_sign_in_with_the_right_password_opens_a_session() -> None:
    account = activated()
    session = uuid4()
    decision = account.attempt_sign_in(
        AttemptSignIn(password=FIRST, session_id=session), T0, STAFF_DEFAULT, verify
    )
    assert decision.outcome == SignInAccepted(session, PasswordOk())
    assert decision.events == [
        SignedIn(school_id=SCHOOL, person_id=PERSON, session_id=session, signed_in_at=T0)
    ]


@pytest.mark.parametrize(
    ("day", "status"), [(52, PasswordOk()), (53, PasswordExpiresSoon(7)), (61, PasswordExpired())]
)
def test_a_staff_sign_in_reports_the_password_state(day: int, status: object) -> None:
    outcome = sign_in(activated(), FIRST, T0 + timedelta(days=day))
    assert isinstance(outcome, SignInAccepted)
    assert outcome.password == status


def test_a_wrong_password_is_recorded_as_a_failure() -> None:
    account = activated()
    decision = account.attempt_sign_in(
        AttemptSignIn(password="nope", session_id=uuid4()), T0, STAFF_DEFAULT, verify
    )
    assert decision.outcome == SignInRefused("wrong_password")
    assert decision.events == [SignInFailed(school_id=SCHOOL, person_id=PERSON, failed_at=T0)]


def test_ten_failures_in_fifteen_minutes_lock_even_the_right_password_out() -> None:
    account = activated()
    for i in range(9):
        sign_in(account, "nope", T0 + timedelta(minutes=i))
    tenth = account.attempt_sign_in(
        AttemptSignIn(password="nope", session_id=uuid4()),
        T0 + timedelta(minutes=9),
        STAFF_DEFAULT,
        verify,
    )
    assert isinstance(tenth.events[-1], AccountLocked)
    account.applied(tenth.events)
    # while locked, even the right password is refused and nothing is recorded
    locked = account.attempt_sign_in(
        AttemptSignIn(password=FIRST, session_id=uuid4()),
        T0 + timedelta(minutes=20),
        STAFF_DEFAULT,
        verify,
    )
    assert (locked.outcome, locked.events) == (SignInRefused("locked"), [])
    # after the lock the right password works again
    assert isinstance(sign_in(account, FIRST, T0 + timedelta(minutes=25)), SignInAccepted)


def test_a_success_clears_earlier_failures() -> None:
    account = activated()
    for i in range(9):
        sign_in(account, "nope", T0 + timedelta(minutes=i))
    sign_in(account, FIRST, T0 + timedelta(minutes=9))
    decision = account.attempt_sign_in(
        AttemptSignIn(password="nope", session_id=uuid4()),
        T0 + timedelta(minutes=10),
        STAFF_DEFAULT,
        verify,
    )
    assert not any(isinstance(e, AccountLocked) for e in decision.events)


def test_an_unactivated_account_cannot_sign_in() -> None:
    assert sign_in(with_code(), FIRST, T0) == SignInRefused("not_activated")


def test_with_totp_enabled_a_missing_code_counts_as_a_failure() -> None:
    account = activated()
    account.applied(account.enable_totp(EnableTotp(sealed_secret="sealed:..."), T0))
    decision = account.attempt_sign_in(
        AttemptSignIn(password=FIRST, session_id=uuid4()), T0, STAFF_DEFAULT, verify
    )
    assert decision.outcome == SignInRefused("wrong_totp")
    ok = account.attempt_sign_in(
        AttemptSignIn(password=FIRST, session_id=uuid4(), totp_verified=True),
        T0,
        STAFF_DEFAULT,
        verify,
    )
    assert isinstance(ok.outcome, SignInAccepted)


def test_a_school_requiring_totp_asks_for_it_before_anything_else() -> None:
    policy = PasswordPolicy(require_totp=True)
    decision = activated().attempt_sign_in(
        AttemptSignIn(password=FIRST, session_id=uuid4()), T0, policy, verify
    )
    assert isinstance(decision.outcome, SignInAccepted)
    assert decision.outcome.must_enable_totp


def test_changing_the_password_keeps_this_session_and_ends_the_others() -> None:
    account = activated()
    here, elsewhere = uuid4(), uuid4()
    sign_in(account, FIRST, T0, here)
    sign_in(account, FIRST, T0, elsewhere)
    later = T0 + timedelta(days=61)
    cmd = ChangePassword(
        current_password=FIRST,
        new_password="otrā garā parole",
        new_password_hash="hash:otrā garā parole",
        session_id=here,
    )
    events = account.change_password(cmd, later, STAFF_DEFAULT, verify)
    assert events == [
        PasswordHashStored(
            school_id=SCHOOL,
            person_id=PERSON,
            password_hash="hash:otrā garā parole",
            stored_at=later,
        ),
        PasswordChanged(school_id=SCHOOL, person_id=PERSON, changed_at=later),
        SessionRevoked(
            school_id=SCHOOL,
            person_id=PERSON,
            session_id=elsewhere,
            revoked_at=later,
            reason=RevocationReason.PASSWORD_CHANGED,
        ),
    ]
    account.applied(events)
    assert account.password_status(later, STAFF_DEFAULT) == PasswordOk()


def test_a_wrong_current_password_is_refused() -> None:
    cmd = ChangePassword(
        current_password="nope", new_password="otrā garā parole", new_password_hash="h"
    )
    with pytest.raises(Invalid) as err:
        activated().change_password(cmd, T0, STAFF_DEFAULT, verify)
    assert err.value.code == "wrong_password"


def test_none_of_the_last_five_passwords_may_return() -> None:
    account = activated()
    passwords = [FIRST] + [f"parole numur {i} garā" for i in range(1, 6)]
    for before, after in pairwise(passwords):
        cmd = ChangePassword(
            current_password=before, new_password=after, new_password_hash=f"hash:{after}"
        )
        account.applied(account.change_password(cmd, T0, STAFF_DEFAULT, verify))
    current = passwords[-1]
    again = ChangePassword(
        current_password=current, new_password=passwords[1], new_password_hash="h"
    )
    with pytest.raises(Invalid) as err:
        account.change_password(again, T0, STAFF_DEFAULT, verify)
    assert err.value.code == "password_reused"
    oldest = again.model_copy(update={"new_password": FIRST})
    assert account.change_password(oldest, T0, STAFF_DEFAULT, verify)


def test_family_passwords_do_not_expire() -> None:
    assert activated().password_status(T0 + timedelta(days=400), FAMILY_DEFAULT) == PasswordOk()


def test_signing_out_ends_one_session_and_everywhere_ends_all() -> None:
    account = activated()
    session = uuid4()
    sign_in(account, FIRST, T0, session)
    assert account.sign_out(session, T0)[0].session_id == session  # type: ignore[attr-defined]
    with pytest.raises(NotFound):
        account.sign_out(uuid4(), T0)
    everywhere = account.sign_out_everywhere(T0)
    assert everywhere[0].session_id is None  # type: ignore[attr-defined]
    account.applied(everywhere)
    assert account.sessions == set()


def test_a_court_restriction_ends_every_session_of_an_activated_account_only() -> None:
    assert activated().end_every_session(RevocationReason.GUARDIANSHIP_RESTRICTED, T0) == [
        SessionRevoked(
            school_id=SCHOOL,
            person_id=PERSON,
            session_id=None,
            revoked_at=T0,
            reason=RevocationReason.GUARDIANSHIP_RESTRICTED,
        )
    ]
    assert with_code().end_every_session(RevocationReason.GUARDIANSHIP_RESTRICTED, T0) == []


def test_revoked_access_stops_sign_in_and_codes_until_restored() -> None:
    account = activated()
    events = account.revoke_access(RevocationReason.EMPLOYMENT_ENDED, T0)
    assert events == [
        AccessRevoked(
            school_id=SCHOOL,
            person_id=PERSON,
            revoked_at=T0,
            reason=RevocationReason.EMPLOYMENT_ENDED,
        )
    ]
    account.applied(events)
    assert account.revoke_access(RevocationReason.EMPLOYMENT_ENDED, T0) == []
    assert sign_in(account, FIRST, T0) == SignInRefused("access_revoked")
    with pytest.raises(Forbidden):
        account.change_password(
            ChangePassword(current_password=FIRST, new_password="x" * 12, new_password_hash="h"),
            T0,
            STAFF_DEFAULT,
            verify,
        )
    account.applied(account.restore_access(T0))
    assert isinstance(sign_in(account, FIRST, T0), SignInAccepted)


def test_a_pending_code_dies_with_revoked_access() -> None:
    account = with_code()
    account.applied(account.revoke_access(RevocationReason.ADMIN_DECISION, T0))
    cmd = ActivateAccount(code="K7Q2-MX9P", password=FIRST, password_hash=f"hash:{FIRST}")
    with pytest.raises(Invalid):
        account.activate(cmd, T0, STAFF_DEFAULT, verify)
    with pytest.raises(Forbidden):
        account.issue_access_code(IssueAccessCode(code_id=uuid4(), code_hash="hash:y"), T0)
