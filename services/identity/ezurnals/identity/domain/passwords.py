"""Password rules (seed rule 9): policy versions, strength checks, expiry and lockout.

All pure: hashing is slow, so callers hash beforehand and hand in a ``verify(password, hash)``
function for the reuse check; time is always passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources

from ezurnals.shared.contracts.identity import STAFF_ROLES, PasswordPolicyChanged, Role
from ezurnals.shared.domain import Invalid

Verify = Callable[[str, str], bool]

#: Long enough for any passphrase, short enough that hashing it cannot be used to tire the server.
MAX_PASSWORD_LENGTH = 256


#: The longest a school may let a staff password live: a school year, about.
MAX_AGE_DAYS = 365
#: The longest warning before a password expires.
MAX_WARN_DAYS = 30


def check_policy_ranges(max_age_days: int | None, warn_days: int) -> None:
    """What an administrator may set (recorded versions are read as they were): a password lives
    1–365 days and the warning starts 0–30 days, and before the password is set, ahead of the
    expiry."""
    if max_age_days is not None and not 1 <= max_age_days <= MAX_AGE_DAYS:
        raise Invalid(
            f"a password lives between 1 and {MAX_AGE_DAYS} days (or never expires)",
            field="max_age_days",
            code="out_of_range",
            details={"min": 1, "max": MAX_AGE_DAYS},
        )
    most = MAX_WARN_DAYS if max_age_days is None else min(MAX_WARN_DAYS, max_age_days - 1)
    if not 0 <= warn_days <= most:
        raise Invalid(
            f"the warning starts between 0 and {most} days before the password expires"
            + ("" if max_age_days is None else f" (it must be shorter than {max_age_days} days)"),
            field="warn_days",
            code="out_of_range",
            details={"min": 0, "max": most},
        )


#: Rule 9 as identity records it: the defaults of its ``PasswordPolicyChanged`` contract (60 days,
#: a warning 7 days ahead, 5 remembered, 12 characters). That contract is the one place to change
#: them; a school registered since gets them as its first version for every role.
_RULE_9 = {name: field.default for name, field in PasswordPolicyChanged.model_fields.items()}


@dataclass(frozen=True)
class PasswordPolicy:
    """One version of a school's password policy for one role."""

    effective_from: date = date.min
    #: None: passwords never expire.
    max_age_days: int | None = _RULE_9["max_age_days"]
    warn_days: int = _RULE_9["warn_days"]
    history: int = _RULE_9["history"]
    min_length: int = _RULE_9["min_length"]
    require_totp: bool = _RULE_9["require_totp"]

    def __post_init__(self) -> None:
        if self.max_age_days is not None and self.max_age_days < 1:
            raise Invalid("a password must live at least one day", field="max_age_days")
        if self.warn_days < 0:
            raise Invalid("the warning window cannot be negative", field="warn_days")
        if self.max_age_days is not None and self.warn_days >= self.max_age_days:
            raise Invalid("the warning must start after the password is set", field="warn_days")
        if not 0 <= self.history <= 24:
            raise Invalid("remember between 0 and 24 earlier passwords", field="history")
        if not 8 <= self.min_length <= 64:
            raise Invalid("the minimum length must be between 8 and 64", field="min_length")


STAFF_DEFAULT = PasswordPolicy()
FAMILY_DEFAULT = PasswordPolicy(max_age_days=None)


def default_policy(role: Role) -> PasswordPolicy:
    """Staff rotate (rule 9); students and guardians are not forced to."""
    return STAFF_DEFAULT if role in STAFF_ROLES else FAMILY_DEFAULT


def strictest(policies: Iterable[PasswordPolicy]) -> PasswordPolicy:
    """The policy for a person with several roles: the strictest value of each setting."""
    chosen = list(policies)
    if not chosen:
        raise ValueError("no policy to choose from")
    ages = [p.max_age_days for p in chosen if p.max_age_days is not None]
    max_age = min(ages) if ages else None
    warn = max(p.warn_days for p in chosen)
    return PasswordPolicy(
        effective_from=max(p.effective_from for p in chosen),
        max_age_days=max_age,
        warn_days=warn if max_age is None else min(warn, max_age - 1),
        history=max(p.history for p in chosen),
        min_length=max(p.min_length for p in chosen),
        require_totp=any(p.require_totp for p in chosen),
    )


@dataclass(frozen=True)
class PasswordOk:
    pass


@dataclass(frozen=True)
class PasswordExpiresSoon:
    days_left: int


@dataclass(frozen=True)
class PasswordExpired:
    pass


PasswordStatus = PasswordOk | PasswordExpiresSoon | PasswordExpired

_DAY = timedelta(days=1)


def password_status(changed_at: datetime, now: datetime, policy: PasswordPolicy) -> PasswordStatus:
    """Expired from ``max_age_days`` after the change; warned ``warn_days`` before that."""
    if policy.max_age_days is None:
        return PasswordOk()
    left = changed_at + policy.max_age_days * _DAY - now
    if left <= timedelta(0):
        return PasswordExpired()
    days_left = -(-left // _DAY)
    if days_left <= policy.warn_days:
        return PasswordExpiresSoon(days_left)
    return PasswordOk()


@cache
def common_passwords() -> frozenset[str]:
    """The common-password list shipped with the code, case-folded (read once, like a module)."""
    text = resources.files(__package__).joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip())


def check_new_password(
    password: str,
    policy: PasswordPolicy,
    *,
    previous_hashes: Sequence[str] = (),
    verify: Verify | None = None,
    common: Collection[str] | None = None,
) -> None:
    """Raise Invalid (field ``password``, a code per reason) unless the password may be chosen.

    No composition rules: length, the common list and the last ``policy.history`` passwords only.
    ``previous_hashes`` are oldest first.
    """
    if len(password) < policy.min_length:
        raise Invalid(
            f"the password must have at least {policy.min_length} characters",
            field="password",
            code="password_too_short",
            details={"min_length": policy.min_length},
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(
            f"the password may have at most {MAX_PASSWORD_LENGTH} characters",
            field="password",
            code="password_too_long",
        )
    listed = common_passwords() if common is None else common
    if password.casefold() in listed or password.strip().casefold() in listed:
        raise Invalid(
            "this password is too common; choose another",
            field="password",
            code="password_too_common",
        )
    recent = list(previous_hashes)[-policy.history :] if policy.history else []
    if recent:
        if verify is None:
            raise ValueError("a verify function is needed to compare with earlier passwords")
        if any(verify(password, h) for h in recent):
            raise Invalid(
                f"the password was used recently; the last {policy.history} cannot be reused",
                field="password",
                code="password_reused",
                details={"history": policy.history},
            )


@dataclass(frozen=True)
class LockoutPolicy:
    """10 failed sign-ins within 15 minutes lock the account for 15 minutes."""

    threshold: int = 10
    window: timedelta = timedelta(minutes=15)
    duration: timedelta = timedelta(minutes=15)


LOCKOUT = LockoutPolicy()


def locked_until(failures: Iterable[datetime], policy: LockoutPolicy = LOCKOUT) -> datetime | None:
    """When the lock caused by these failures (since the last success) ends, if they caused one.

    Failures before a lock began do not count again once it is over.
    """
    counted: list[datetime] = []
    until: datetime | None = None
    for failed_at in sorted(failures):
        counted = [t for t in counted if t > failed_at - policy.window]
        counted.append(failed_at)
        if len(counted) >= policy.threshold:
            until = failed_at + policy.duration
            counted = []
    return until
