"""Accounts: activation codes, activation, sign-in with lockout, tokens, sign-out, passwords."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pyotp
import structlog

from ezurnals.identity import credentials, queries, vault
from ezurnals.identity.api.deps import IdentityState
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
    PasswordExpired,
    PasswordExpiresSoon,
    PasswordPolicy,
    PasswordStatus,
    default_policy,
    strictest,
)
from ezurnals.identity.domain.school import School
from ezurnals.identity.handlers import Change, Extra, Outcome, carry_out, load
from ezurnals.shared.contracts.identity import RevocationReason, Role, SessionRevoked
from ezurnals.shared.domain import DomainError, Forbidden, Invalid, NotFound
from ezurnals.shared.eventstore import CommandContext, CommandResult
from ezurnals.shared.service import Runtime

log = structlog.get_logger(__name__)

TOTP_ISSUER = "e-žurnāls"
#: How far back failed sign-ins from one address count against it.
ADDRESS_WINDOW = timedelta(minutes=15)


class SignInFailed(DomainError):
    """One answer for every failed sign-in: unknown user, wrong password, locked, revoked."""

    status = 401
    code = "sign_in_failed"


def _refused() -> SignInFailed:
    return SignInFailed("wrong username or password, or the account cannot sign in now")


class RefreshRefused(DomainError):
    status = 401
    code = "refresh_refused"


@dataclass(frozen=True)
class Issued:
    """An access token and the refresh token that comes with it."""

    body: dict[str, Any]
    extra: Extra


async def policy_for(
    rt: Runtime, school_id: UUID, roles: set[str], now: datetime
) -> PasswordPolicy:
    """The strictest policy version in force today among the person's roles."""
    school = await load(rt.store, School, School.stream(school_id))
    today = queries.local_day(now, school.time_zone)
    known = [Role(r) for r in roles if r in {x.value for x in Role}]
    if not known:
        return default_policy(Role.GUARDIAN)
    return strictest(school.policy_at(role, today) for role in known)


def _password_info(status: PasswordStatus) -> dict[str, Any]:
    if isinstance(status, PasswordExpired):
        return {
            "status": "expired",
            "days_left": 0,
            "warning": "your password has expired; change it to continue",
        }
    if isinstance(status, PasswordExpiresSoon):
        return {
            "status": "expires_soon",
            "days_left": status.days_left,
            "warning": f"your password expires in {status.days_left} day(s); change it soon",
        }
    return {"status": "ok", "days_left": None, "warning": None}


def issue_tokens(
    st: IdentityState,
    *,
    person_id: UUID,
    school_id: UUID,
    roles: set[str],
    session_id: UUID,
    family_id: UUID,
    status: PasswordStatus,
    now: datetime,
) -> Issued:
    ttl = st.config.access_token_ttl_s
    expired = isinstance(status, PasswordExpired)
    access = st.keys.sign(
        person_id=person_id,
        school_id=school_id,
        roles=sorted(roles),
        session_id=session_id,
        issued_at=now.timestamp(),
        ttl_s=ttl,
        password_expired=expired,
    )
    refresh = credentials.new_refresh_token()
    expires = now + timedelta(days=st.config.refresh_token_ttl_days)

    async def keep(conn: asyncpg.Connection) -> None:
        await conn.execute(
            "INSERT INTO refresh_tokens (token_hash, family_id, session_id, person_id, school_id, "
            "issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            credentials.token_digest(refresh),
            family_id,
            session_id,
            person_id,
            school_id,
            now,
            expires,
        )

    body = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ttl,
        "refresh_token": refresh,
        "session_id": str(session_id),
        "person_id": str(person_id),
        "school_id": str(school_id),
        "roles": sorted(roles),
        "password": _password_info(status),
    }
    return Issued(body, keep)


async def _address_blocked(rt: Runtime, st: IdentityState, address: str, now: datetime) -> bool:
    async with rt.db.raw() as conn:
        failures = await conn.fetchval(
            "SELECT count(*) FROM sign_in_failures WHERE address = $1 AND failed_at > $2",
            address,
            now - ADDRESS_WINDOW,
        )
    return int(failures or 0) >= st.config.address_failure_limit


async def _note_failure(rt: Runtime, address: str, now: datetime) -> None:
    """Record the failure and forget this address's failures older than the window."""
    async with rt.db.raw() as conn, conn.transaction():
        await conn.execute(
            "DELETE FROM sign_in_failures WHERE address = $1 AND failed_at <= $2",
            address,
            now - ADDRESS_WINDOW,
        )
        await conn.execute(
            "INSERT INTO sign_in_failures (address, failed_at) VALUES ($1, $2)", address, now
        )


def new_totp_secret(username: str) -> dict[str, object]:
    """A fresh secret for an authenticator app; nothing is kept until a code proves it works."""
    secret = pyotp.random_base32()
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)
    return {"secret": secret, "otpauth_uri": uri}


def totp_ok(secret: str, code: str | None, now: datetime) -> bool:
    """The code of this 30-second step or the one either side (clocks drift)."""
    return code is not None and pyotp.TOTP(secret).verify(code, for_time=now, valid_window=1)


async def _sealed_totp(rt: Runtime, school_id: UUID, person_id: UUID, secret: str) -> EnableTotp:
    async with rt.db.raw() as conn:
        key = await vault.key_of(conn, person_id)
    if key is None:
        raise NotFound("no such person", field="person_id")
    return EnableTotp(sealed_secret=vault.seal(key, person_id, {"totp_secret": secret}))


async def enable_totp(
    rt: Runtime, ctx: CommandContext, school_id: UUID, person_id: UUID, secret: str, code: str
) -> CommandResult:
    """Store the secret (sealed with the person's key) once a code shows the app has it."""
    if not totp_ok(secret, code, ctx.now):
        raise Invalid("the code does not match the secret", field="code", code="wrong_totp")
    cmd = await _sealed_totp(rt, school_id, person_id, secret)

    async def decide() -> Outcome:
        account = await load(rt.store, Account, Account.stream(school_id, person_id))
        events = account.enable_totp(cmd, ctx.now)
        return Outcome([Change.of(account, events)], CommandResult(201, {"totp": "enabled"}))

    return await carry_out(rt.store, ctx, decide, attempts=3)


async def _totp_verified(
    rt: Runtime, account: Account, code: str | None, now: datetime
) -> bool | None:
    """None without TOTP or without a code; else whether the code matches the sealed secret."""
    if account.totp_sealed is None or code is None:
        return None
    async with rt.db.raw() as conn:
        key = await vault.key_of(conn, account.person_id)
    if key is None:
        return False
    secret = vault.unseal(key, account.person_id, account.totp_sealed)["totp_secret"]
    return totp_ok(secret, code, now)


async def sign_in(
    rt: Runtime,
    st: IdentityState,
    ctx: CommandContext,
    username: str,
    password: str,
    address: str,
    totp_code: str | None = None,
    totp_secret: str | None = None,
) -> CommandResult:
    """Every refusal is the same 401, whether or not the account exists (no enumeration).

    With TOTP enabled the code must come with the password (a missing or wrong one is a failed
    sign-in). Where the school requires TOTP and the person has none yet, the right password is
    answered with 403 ``totp_enrolment_required`` and a fresh secret; signing in again with that
    ``totp_secret`` and a ``totp_code`` from the app enables TOTP and signs in."""
    now = ctx.now
    if await _address_blocked(rt, st, address, now):
        await asyncio.to_thread(credentials.waste_time, password)
        log.info("sign_in.refused", reason="address_limit")
        raise _refused()
    async with rt.db.raw() as conn:
        login = await conn.fetchrow(
            "SELECT person_id, school_id FROM logins WHERE username = $1", username.strip().lower()
        )
        roles = (
            await queries.person_roles(conn, login["school_id"], login["person_id"])
            if login
            else set()
        )
    if login is None:
        await asyncio.to_thread(credentials.waste_time, password)
        await _note_failure(rt, address, now)
        log.info("sign_in.refused", reason="unknown_user")
        raise _refused()
    person_id, school_id = login["person_id"], login["school_id"]
    policy = await policy_for(rt, school_id, roles, now)
    session_id = uuid.uuid4()
    accepted: list[SignInAccepted] = []

    enrolment = (
        await _sealed_totp(rt, school_id, person_id, totp_secret)
        if totp_secret is not None and totp_ok(totp_secret, totp_code, now)
        else None
    )

    async def decide() -> Outcome:
        account = await load(rt.store, Account, Account.stream(school_id, person_id))
        attempt = AttemptSignIn(
            password=password,
            session_id=session_id,
            totp_verified=await _totp_verified(rt, account, totp_code, now),
        )
        # argon2 verification takes a core for ~50 ms: off the event loop, so one sign-in does
        # not stall every other request of this process.
        decision = await asyncio.to_thread(
            account.attempt_sign_in, attempt, now, policy, credentials.verify
        )
        if isinstance(decision.outcome, SignInRefused):
            log.info("sign_in.refused", reason=decision.outcome.reason, person_id=str(person_id))
            return Outcome([Change.of(account, decision.events)], CommandResult(401, None))
        events = decision.events
        if decision.outcome.must_enable_totp:
            if enrolment is None:
                raise Forbidden(
                    "the school requires a one-time code app: add this secret to it and sign in "
                    "again with totp_secret and totp_code",
                    field="totp_code",
                    code="totp_enrolment_required",
                    details=new_totp_secret(username.strip().lower()),
                )
            events = [*account.enable_totp(enrolment, now), *events]
        accepted.append(decision.outcome)
        issued = issue_tokens(
            st,
            person_id=person_id,
            school_id=school_id,
            roles=roles,
            session_id=session_id,
            family_id=uuid.uuid4(),
            status=decision.outcome.password,
            now=now,
        )
        body = {**issued.body, "totp": account.totp or decision.outcome.must_enable_totp}
        return Outcome([Change.of(account, events)], CommandResult(200, body), [issued.extra])

    result = await carry_out(rt.store, ctx, decide, attempts=3)
    if result.status != 200:
        await _note_failure(rt, address, now)
        raise _refused()
    return result


async def refresh(rt: Runtime, st: IdentityState, token: str, now: datetime) -> dict[str, Any]:
    """Trade a refresh token for new tokens once; a second use revokes its whole family."""
    digest = credentials.token_digest(token)
    async with rt.db.raw() as conn, conn.transaction():
        row = await conn.fetchrow(
            "SELECT * FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE", digest
        )
        if row is None or row["revoked_at"] is not None or row["expires_at"] <= now:
            raise RefreshRefused("sign in again")
        if row["used_at"] is not None:
            reused = row
        else:
            reused = None
            await conn.execute(
                "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1", digest, now
            )
            revoked = await conn.fetchval(
                "SELECT revoked FROM accounts WHERE person_id = $1", row["person_id"]
            )
            roles = await queries.person_roles(conn, row["school_id"], row["person_id"])
    if reused is not None:
        await _revoke_family(rt, reused, now)
        raise RefreshRefused("this refresh token was already used; every session token is revoked")
    if revoked:
        raise RefreshRefused("sign in again")
    person_id, school_id = row["person_id"], row["school_id"]
    account = await load(rt.store, Account, Account.stream(school_id, person_id))
    policy = await policy_for(rt, school_id, roles, now)
    issued = issue_tokens(
        st,
        person_id=person_id,
        school_id=school_id,
        roles=roles,
        session_id=row["session_id"],
        family_id=row["family_id"],
        status=account.password_status(now, policy),
        now=now,
    )
    async with rt.db.raw() as conn:
        await issued.extra(conn)
    return issued.body


async def _revoke_family(rt: Runtime, row: asyncpg.Record, now: datetime) -> None:
    """A stolen refresh token was replayed: end the session everywhere it is used."""
    log.warning("refresh.reused", person_id=str(row["person_id"]), family=str(row["family_id"]))
    ctx = CommandContext(school_id=row["school_id"], now=now)
    event = SessionRevoked(
        school_id=row["school_id"],
        person_id=row["person_id"],
        session_id=row["session_id"],
        revoked_at=now,
        reason=RevocationReason.ADMIN_DECISION,
    )

    async def decide() -> Outcome:
        account = await load(rt.store, Account, Account.stream(row["school_id"], row["person_id"]))

        async def family(conn: asyncpg.Connection) -> None:
            await conn.execute(
                "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 "
                "AND revoked_at IS NULL",
                row["family_id"],
                now,
            )

        return Outcome([Change.of(account, [event])], CommandResult(200, None), [family])

    await carry_out(rt.store, ctx, decide, attempts=3)


async def sign_out(
    rt: Runtime, ctx: CommandContext, school_id: UUID, person_id: UUID, session_id: UUID | None
) -> CommandResult:
    """``session_id`` None: every session of the person (sign out everywhere)."""

    async def decide() -> Outcome:
        account = await load(rt.store, Account, Account.stream(school_id, person_id))
        events = (
            account.sign_out_everywhere(ctx.now)
            if session_id is None
            else account.sign_out(session_id, ctx.now)
        )
        return Outcome([Change.of(account, events)], CommandResult(200, {"signed_out": True}))

    return await carry_out(rt.store, ctx, decide, attempts=3)


async def issue_access_codes(
    rt: Runtime, ctx: CommandContext, school_id: UUID, person_ids: list[UUID]
) -> CommandResult:
    """A new single-use code for each person; an earlier code of theirs stops working."""
    codes = {p: credentials.new_access_code() for p in person_ids}

    async def decide() -> Outcome:
        changes, issued = [], []
        async with rt.db.raw() as conn:
            usernames = {p: await queries.username_of(conn, p) for p in person_ids}
        for person_id, code in codes.items():
            account = await load(rt.store, Account, Account.stream(school_id, person_id))
            events = account.issue_access_code(
                IssueAccessCode(code_id=uuid.uuid4(), code_hash=credentials.code_digest(code)),
                ctx.now,
            )
            changes.append(Change.of(account, events))
            issued.append(
                {
                    "person_id": str(person_id),
                    "username": usernames[person_id],
                    "code": code,
                    "expires_at": events[0].model_dump(mode="json")["expires_at"],
                }
            )
        return Outcome(changes, CommandResult(201, {"codes": issued}))

    return await carry_out(rt.store, ctx, decide)


async def activate(rt: Runtime, ctx: CommandContext, code: str, password: str) -> CommandResult:
    async with rt.db.raw() as conn:
        row = await conn.fetchrow(
            "SELECT person_id, school_id FROM access_codes WHERE code_hash = $1",
            credentials.code_digest(code),
        )
        roles = (
            await queries.person_roles(conn, row["school_id"], row["person_id"]) if row else set()
        )
        username = await queries.username_of(conn, row["person_id"]) if row else None
    if row is None:
        raise Invalid("the code is not valid", field="code", code="invalid_code")
    person_id, school_id = row["person_id"], row["school_id"]
    policy = await policy_for(rt, school_id, roles, ctx.now)
    password_hash = await asyncio.to_thread(credentials.hash_password, password)

    async def decide() -> Outcome:
        account = await load(rt.store, Account, Account.stream(school_id, person_id))
        events = await asyncio.to_thread(
            account.activate,
            ActivateAccount(code=code, password=password, password_hash=password_hash),
            ctx.now,
            policy,
            credentials.verify,
        )
        body = {"person_id": str(person_id), "username": username}
        return Outcome([Change.of(account, events)], CommandResult(200, body))

    return await carry_out(rt.store, ctx, decide)


async def change_password(
    rt: Runtime,
    st: IdentityState,
    ctx: CommandContext,
    school_id: UUID,
    person_id: UUID,
    session_id: UUID | None,
    current: str,
    new: str,
) -> CommandResult:
    """Allowed with an expired password; answers with fresh tokens for the same session."""
    async with rt.db.raw() as conn:
        roles = await queries.person_roles(conn, school_id, person_id)
    policy = await policy_for(rt, school_id, roles, ctx.now)
    new_hash = await asyncio.to_thread(credentials.hash_password, new)
    session = session_id or uuid.uuid4()

    async def decide() -> Outcome:
        account = await load(rt.store, Account, Account.stream(school_id, person_id))
        if not account.exists:
            raise NotFound("no such account", field="person_id")
        events = await asyncio.to_thread(
            account.change_password,
            ChangePassword(
                current_password=current,
                new_password=new,
                new_password_hash=new_hash,
                session_id=session_id,
            ),
            ctx.now,
            policy,
            credentials.verify,
        )
        fresh = account.applied(events).password_status(ctx.now, policy)
        issued = issue_tokens(
            st,
            person_id=person_id,
            school_id=school_id,
            roles=roles,
            session_id=session,
            family_id=uuid.uuid4(),
            status=fresh,
            now=ctx.now,
        )
        return Outcome(
            [Change(account.stream_id, account.version - len(events), events)],
            CommandResult(200, issued.body),
            [issued.extra],
        )

    return await carry_out(rt.store, ctx, decide)
