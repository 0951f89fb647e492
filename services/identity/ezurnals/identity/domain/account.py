"""A person's account: activation with a single-use code, passwords, sign-in, lockout, sessions.

Hashing (argon2) is slow, so handlers hash new secrets beforehand and pass a ``verify(secret,
hash)`` function; the account decides everything else from its events and the ``now`` it is given.
Failed sign-ins never raise: they are facts to record, so ``attempt_sign_in`` returns its events
together with the outcome.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from pydantic import Field

from ezurnals.identity.domain.passwords import (
    LOCKOUT,
    LockoutPolicy,
    PasswordExpired,
    PasswordPolicy,
    PasswordStatus,
    Verify,
    check_new_password,
    locked_until,
    password_status,
)
from ezurnals.identity.domain.scoped import SchoolScoped
from ezurnals.shared.contracts.identity import (
    AccessCodeIssued,
    AccessRestored,
    AccessRevoked,
    AccountActivated,
    AccountLocked,
    IdentityEvent,
    PasswordChanged,
    PasswordHashStored,
    RevocationReason,
    SessionRevoked,
    SignedIn,
    SignInFailed,
    TotpEnabled,
)
from ezurnals.shared.domain import Command, Conflict, Forbidden, Invalid, NotFound

ACCESS_CODE_DAYS = 14


class IssueAccessCode(Command):
    code_id: UUID
    code_hash: str = Field(min_length=1)
    valid_days: int = Field(default=ACCESS_CODE_DAYS, ge=1, le=60)


class ActivateAccount(Command):
    code: str
    password: str
    #: The hash of ``password``, computed by the handler before the decision.
    password_hash: str


class ChangePassword(Command):
    current_password: str
    new_password: str
    new_password_hash: str
    #: The session the change is made from stays open; every other one is revoked.
    session_id: UUID | None = None


class AttemptSignIn(Command):
    password: str
    session_id: UUID
    #: None: no TOTP code was given; True/False: the handler checked the code given.
    totp_verified: bool | None = None


class EnableTotp(Command):
    sealed_secret: str = Field(min_length=1)


@dataclass(frozen=True)
class SignInRefused:
    """Why, for logs only: clients get one generic message whatever the reason."""

    reason: str


@dataclass(frozen=True)
class SignInAccepted:
    session_id: UUID
    password: PasswordStatus
    #: The school requires TOTP and the person has not set it up: only that may be done next.
    must_enable_totp: bool = False


@dataclass(frozen=True)
class SignInDecision:
    outcome: SignInRefused | SignInAccepted
    events: list[IdentityEvent] = field(default_factory=list)


@dataclass(frozen=True)
class _Code:
    code_id: UUID
    code_hash: str
    expires_at: datetime


class Account(SchoolScoped):
    kind = "account"

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.code: _Code | None = None
        self.activated = False
        self.revoked = False
        self.password_hashes: list[str] = []
        self.password_set_at: datetime | None = None
        self.failures: list[datetime] = []
        self.locked_until: datetime | None = None
        self.sessions: set[UUID] = set()
        self.totp = False
        #: The TOTP secret sealed with the person's key, once enabled.
        self.totp_sealed: str | None = None

    @property
    def person_id(self) -> UUID:
        return self.entity_id

    # --- activation --------------------------------------------------------------------------

    def issue_access_code(self, cmd: IssueAccessCode, now: datetime) -> list[IdentityEvent]:
        """A new code for a person without an account; any earlier code stops working."""
        if self.revoked:
            raise Forbidden("access is revoked for this person", code="access_revoked")
        if self.activated:
            raise Conflict("the person already has an account", code="already_activated")
        return [
            AccessCodeIssued(
                school_id=self.school_id,
                person_id=self.person_id,
                code_id=cmd.code_id,
                code_hash=cmd.code_hash,
                issued_at=now,
                expires_at=now + timedelta(days=cmd.valid_days),
                replaces_code_id=self.code.code_id if self.code else None,
            )
        ]

    def activate(
        self,
        cmd: ActivateAccount,
        now: datetime,
        policy: PasswordPolicy,
        verify: Verify,
        common: Collection[str] | None = None,
    ) -> list[IdentityEvent]:
        code = self.code
        if self.revoked or self.activated or code is None or not verify(cmd.code, code.code_hash):
            raise Invalid("the code is not valid", field="code", code="invalid_code")
        if now >= code.expires_at:
            raise Invalid(
                "the code has expired; ask for a new one", field="code", code="code_expired"
            )
        check_new_password(cmd.password, policy, common=common)
        return [
            AccountActivated(school_id=self.school_id, person_id=self.person_id, activated_at=now),
            self._stored(cmd.password_hash, now),
        ]

    # --- passwords ---------------------------------------------------------------------------

    def change_password(
        self,
        cmd: ChangePassword,
        now: datetime,
        policy: PasswordPolicy,
        verify: Verify,
        common: Collection[str] | None = None,
    ) -> list[IdentityEvent]:
        """Allowed even with an expired password: that is the one thing an expired user may do."""
        self._require_usable()
        if not verify(cmd.current_password, self.password_hashes[-1]):
            raise Invalid(
                "the current password is wrong", field="current_password", code="wrong_password"
            )
        check_new_password(
            cmd.new_password,
            policy,
            previous_hashes=self.password_hashes,
            verify=verify,
            common=common,
        )
        others = sorted(self.sessions - {cmd.session_id} if cmd.session_id else self.sessions)
        return [
            self._stored(cmd.new_password_hash, now),
            PasswordChanged(school_id=self.school_id, person_id=self.person_id, changed_at=now),
            *(self._session_revoked(s, now, RevocationReason.PASSWORD_CHANGED) for s in others),
        ]

    def password_status(self, now: datetime, policy: PasswordPolicy) -> PasswordStatus:
        if self.password_set_at is None:
            return PasswordExpired()
        return password_status(self.password_set_at, now, policy)

    def enable_totp(self, cmd: EnableTotp, now: datetime) -> list[IdentityEvent]:
        """The handler has checked a first code against the secret before sealing it."""
        self._require_usable()
        if self.totp:
            raise Conflict("TOTP is already enabled", code="totp_enabled")
        return [
            TotpEnabled(
                school_id=self.school_id,
                person_id=self.person_id,
                sealed_secret=cmd.sealed_secret,
                enabled_at=now,
            )
        ]

    # --- signing in and out ------------------------------------------------------------------

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def attempt_sign_in(
        self,
        cmd: AttemptSignIn,
        now: datetime,
        policy: PasswordPolicy,
        verify: Verify,
        lockout: LockoutPolicy = LOCKOUT,
    ) -> SignInDecision:
        """While locked the password is not even checked; a wrong password or TOTP code counts
        as a failure, and the failure that reaches the threshold locks the account."""
        if self.revoked:
            return SignInDecision(SignInRefused("access_revoked"))
        if not self.activated:
            return SignInDecision(SignInRefused("not_activated"))
        if self.is_locked(now):
            return SignInDecision(SignInRefused("locked"))
        password_ok = verify(cmd.password, self.password_hashes[-1])
        if not password_ok or (self.totp and cmd.totp_verified is not True):
            failed: list[IdentityEvent] = [
                SignInFailed(school_id=self.school_id, person_id=self.person_id, failed_at=now)
            ]
            until = locked_until([*self.failures, now], lockout)
            if until is not None and until > now:
                failed.append(
                    AccountLocked(
                        school_id=self.school_id,
                        person_id=self.person_id,
                        locked_at=now,
                        locked_until=until,
                    )
                )
            reason = "wrong_password" if not password_ok else "wrong_totp"
            return SignInDecision(SignInRefused(reason), failed)
        return SignInDecision(
            SignInAccepted(
                cmd.session_id,
                self.password_status(now, policy),
                must_enable_totp=policy.require_totp and not self.totp,
            ),
            [
                SignedIn(
                    school_id=self.school_id,
                    person_id=self.person_id,
                    session_id=cmd.session_id,
                    signed_in_at=now,
                )
            ],
        )

    def sign_out(self, session_id: UUID, now: datetime) -> list[IdentityEvent]:
        if session_id not in self.sessions:
            raise NotFound("no such session", field="session_id")
        return [self._session_revoked(session_id, now, RevocationReason.SIGNED_OUT)]

    def sign_out_everywhere(self, now: datetime) -> list[IdentityEvent]:
        return [self._session_revoked(None, now, RevocationReason.SIGNED_OUT_EVERYWHERE)]

    def end_every_session(self, reason: RevocationReason, now: datetime) -> list[IdentityEvent]:
        """Every token the person holds is refused, though they may sign in again (a court
        restriction changes what they may see, and no token says what that is). Nothing for
        an account never activated: it holds no tokens."""
        if not self.activated:
            return []
        return [self._session_revoked(None, now, reason)]

    # --- revocation --------------------------------------------------------------------------

    def revoke_access(self, reason: RevocationReason, now: datetime) -> list[IdentityEvent]:
        """Stop sign-in, void any pending code and make every token refused. Idempotent."""
        if self.revoked:
            return []
        return [
            AccessRevoked(
                school_id=self.school_id, person_id=self.person_id, revoked_at=now, reason=reason
            )
        ]

    def restore_access(self, now: datetime) -> list[IdentityEvent]:
        if not self.revoked:
            return []
        return [AccessRestored(school_id=self.school_id, person_id=self.person_id, restored_at=now)]

    def _require_usable(self) -> None:
        if self.revoked:
            raise Forbidden("access is revoked for this person", code="access_revoked")
        if not self.activated:
            raise Conflict("the account is not activated yet", code="not_activated")

    def _stored(self, password_hash: str, now: datetime) -> PasswordHashStored:
        return PasswordHashStored(
            school_id=self.school_id,
            person_id=self.person_id,
            password_hash=password_hash,
            stored_at=now,
        )

    def _session_revoked(
        self, session_id: UUID | None, now: datetime, reason: RevocationReason
    ) -> SessionRevoked:
        return SessionRevoked(
            school_id=self.school_id,
            person_id=self.person_id,
            session_id=session_id,
            revoked_at=now,
            reason=reason,
        )

    # --- evolution ---------------------------------------------------------------------------

    def when_AccessCodeIssued(self, event: AccessCodeIssued) -> None:
        self.code = _Code(event.code_id, event.code_hash, event.expires_at)

    def when_AccountActivated(self, event: AccountActivated) -> None:
        self.activated = True
        self.code = None

    def when_PasswordHashStored(self, event: PasswordHashStored) -> None:
        self.password_hashes = [*self.password_hashes[-23:], event.password_hash]
        self.password_set_at = event.stored_at

    def when_SignedIn(self, event: SignedIn) -> None:
        self.failures = []
        self.sessions.add(event.session_id)

    def when_SignInFailed(self, event: SignInFailed) -> None:
        self.failures = [*self.failures[-99:], event.failed_at]

    def when_AccountLocked(self, event: AccountLocked) -> None:
        self.locked_until = event.locked_until
        self.failures = []

    def when_SessionRevoked(self, event: SessionRevoked) -> None:
        if event.session_id is None:
            self.sessions.clear()
        else:
            self.sessions.discard(event.session_id)

    def when_AccessRevoked(self, event: AccessRevoked) -> None:
        self.revoked = True
        self.code = None
        self.sessions.clear()

    def when_AccessRestored(self, event: AccessRestored) -> None:
        self.revoked = False

    def when_TotpEnabled(self, event: TotpEnabled) -> None:
        self.totp = True
        self.totp_sealed = event.sealed_secret
