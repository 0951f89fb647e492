"""Accounts: activation codes, sign-in and lockout, tokens, refresh rotation, password policy."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import jwt

if TYPE_CHECKING:
    from .conftest import Api, Kit

GENERIC = "wrong username or password, or the account cannot sign in now"


async def test_tokens_carry_the_documented_claims_and_verify_against_the_jwks(
    api: Api, kit: type[Kit]
) -> None:
    school = await kit.new_school(api, "Žetonu skola")
    jwks = await api.ok("GET", "/.well-known/jwks.json")
    header = jwt.get_unverified_header(school.admin_token)
    assert header["alg"] == "EdDSA" and header["kid"] in {k["kid"] for k in jwks["keys"]}
    key = next(jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(
        school.admin_token,
        key,
        algorithms=["EdDSA"],
        audience="ezurnals",
        issuer="ezurnals-identity",
    )
    assert claims["sub"] == school.admin_id and claims["school"] == school.school_id
    assert claims["roles"] == ["admin"] and claims["pwd_expired"] is False
    assert 0 < claims["exp"] - claims["iat"] <= 900 and claims["sid"]
    me = await api.ok("GET", "/me", school.admin_token)
    assert me["personal_data"]["last_name"] == "Bērziņa"


async def test_sign_in_refusals_are_one_generic_401(api: Api, kit: type[Kit]) -> None:
    school = await kit.new_school(api, "Vārtu skola")
    admin = (await api.ok("GET", "/me", school.admin_token))["personal_data"]["username"]
    unknown = await api.call(
        "POST", "/sign-in", json={"username": "nav.tada", "password": "x" * 12}
    )
    wrong = await api.call("POST", "/sign-in", json={"username": admin, "password": "x" * 12})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["message"] == wrong.json()["message"] == GENERIC


async def test_ten_failures_in_fifteen_minutes_lock_the_account(api: Api, kit: type[Kit]) -> None:
    school = await kit.new_school(api, "Slēdzeņu skola")
    username = (await api.ok("GET", "/me", school.admin_token))["personal_data"]["username"]
    for _ in range(10):
        failed = await api.call(
            "POST", "/sign-in", json={"username": username, "password": "nepareiza-parole"}
        )
        assert failed.status_code == 401
    locked = await api.call(
        "POST", "/sign-in", json={"username": username, "password": kit.PASSWORD}
    )
    assert locked.status_code == 401 and locked.json()["message"] == GENERIC
    api.clock.fixed = datetime.now(UTC) + timedelta(minutes=16)
    try:
        again = await api.call(
            "POST", "/sign-in", json={"username": username, "password": kit.PASSWORD}
        )
        assert again.status_code == 200, again.text
    finally:
        api.clock.fixed = None


async def test_refresh_rotates_and_a_reused_token_revokes_the_family(
    api: Api, kit: type[Kit]
) -> None:
    school = await kit.new_school(api, "Atsvaidzes skola")
    username = (await api.ok("GET", "/me", school.admin_token))["personal_data"]["username"]
    signed = await school.sign_in(username)
    first = signed["refresh_token"]
    second = await api.ok("POST", "/refresh", json={"refresh_token": first})
    assert second["refresh_token"] != first and second["session_id"] == signed["session_id"]
    reused = await api.call("POST", "/refresh", json={"refresh_token": first})
    assert reused.status_code == 401
    after = await api.call("POST", "/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401
    bogus = await api.call("POST", "/refresh", json={"refresh_token": "nav-tada"})
    assert bogus.status_code == 401


async def test_activation_codes_are_single_use_issued_by_the_class_teacher(
    api: Api, kit: type[Kit]
) -> None:
    school = await kit.new_school(api, "Kodu skola")
    class_teacher, ct_token = await school.staff("Laura", "Strazdiņa", ["teacher", "class_teacher"])
    _, other_token = await school.staff("Edgars", "Dzenis", ["teacher"])
    await api.ok(
        "PUT",
        f"/classes/{school.classes['1.a']}/class-teacher",
        school.admin_token,
        json={"teacher_id": class_teacher, "valid_from": f"{kit.YEAR_START}-09-01"},
    )
    student = await school.student("Emīls", "Pērkons", "1.a")
    guardian = await school.guardian(student, "Sandra", "Pērkone")
    hidden = await school.guardian(student, "Viesturs", "Pērkons", restricted=True)
    # a teacher who neither teaches nor leads 1.a does not see it: the answer of a made-up class
    refused = await api.call("POST", f"/classes/{school.classes['1.a']}/access-codes", other_token)
    assert refused.status_code == 404
    assert refused.json()["message"] == "no such class", refused.text
    # nor does 1.a's class teacher see 2.a (empty, so no student of hers is in it)
    other_class = await api.call("POST", f"/classes/{school.classes['2.a']}/access-codes", ct_token)
    assert other_class.status_code == 404
    assert other_class.json()["message"] == "no such class", other_class.text
    issued = await api.ok("POST", f"/classes/{school.classes['1.a']}/access-codes", ct_token)
    codes = {c["person_id"]: c for c in issued["codes"]}
    assert set(codes) == {student, guardian} and hidden not in codes
    expires = datetime.fromisoformat(codes[student]["expires_at"])
    assert timedelta(days=13, hours=23) < expires - datetime.now(UTC) <= timedelta(days=14)
    reissued = await api.ok("POST", f"/people/{guardian}/access-code", ct_token)
    old = await api.call(
        "POST", "/activate", json={"code": codes[guardian]["code"], "password": kit.PASSWORD}
    )
    assert old.status_code == 422 and old.json()["field"] == "code"
    short = await api.call(
        "POST", "/activate", json={"code": reissued["codes"][0]["code"], "password": "īsa"}
    )
    assert short.status_code == 422 and short.json()["error"] == "password_too_short"
    common = await api.call(
        "POST", "/activate", json={"code": reissued["codes"][0]["code"], "password": "password1234"}
    )
    assert common.status_code == 422 and common.json()["error"] == "password_too_common"
    await school.activate(reissued["codes"][0]["code"])
    used = await api.call(
        "POST", "/activate", json={"code": reissued["codes"][0]["code"], "password": kit.PASSWORD}
    )
    assert used.status_code == 422
    signed = await school.sign_in(codes[guardian]["username"])
    assert signed["roles"] == ["guardian"]
    api.clock.fixed = datetime.now(UTC) + timedelta(days=15)
    try:
        late = await api.call(
            "POST", "/activate", json={"code": codes[student]["code"], "password": kit.PASSWORD}
        )
        assert late.status_code == 422 and late.json()["error"] == "code_expired"
    finally:
        api.clock.fixed = None
    again = await api.ok("POST", f"/classes/{school.classes['1.a']}/access-codes", ct_token)
    assert [c["person_id"] for c in again["codes"]] == [student]


async def staff_activated_days_ago(api: Api, kit: type[Kit], school: Any, days: int) -> str:
    """A teacher whose password was chosen ``days`` ago (by the app's clock): their username."""
    hired = await api.ok(
        "POST",
        "/staff",
        school.admin_token,
        json={
            "person": kit.person("Gunta", "Ābele"),
            "roles": ["teacher"],
            "hired_on": f"{kit.YEAR_START}-08-25",
        },
    )
    issued = await api.ok("POST", f"/people/{hired['person_id']}/access-code", school.admin_token)
    api.clock.fixed = datetime.now(UTC) - timedelta(days=days)
    try:
        await school.activate(issued["codes"][0]["code"])
    finally:
        api.clock.fixed = None
    username: str = hired["username"]
    return username


async def test_staff_passwords_warn_at_day_53_and_expire_at_day_61(
    api: Api, kit: type[Kit]
) -> None:
    school = await kit.new_school(api, "Paroļu skola")
    warned = await school.sign_in(await staff_activated_days_ago(api, kit, school, 53))
    assert warned["password"]["status"] == "expires_soon" and warned["password"]["days_left"] == 7
    assert warned["password"]["warning"]
    assert (await api.call("GET", "/me", warned["access_token"])).status_code == 200

    expired = await school.sign_in(await staff_activated_days_ago(api, kit, school, 61))
    assert expired["password"]["status"] == "expired"
    token = expired["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["pwd_expired"] is True
    refused = await api.call("GET", "/me", token)
    assert refused.status_code == 403 and refused.json()["error"] == "password_expired"
    reuse = await api.call(
        "POST",
        "/password",
        token,
        json={"current_password": kit.PASSWORD, "new_password": kit.PASSWORD},
    )
    assert reuse.status_code == 422 and reuse.json()["error"] == "password_reused"
    wrong = await api.call(
        "POST",
        "/password",
        token,
        json={"current_password": "nav-pareiza-parole", "new_password": "jauna-gara-parole-7"},
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "current_password"
    changed = await api.ok(
        "POST",
        "/password",
        token,
        json={"current_password": kit.PASSWORD, "new_password": "jauna-gara-parole-7"},
    )
    assert changed["password"]["status"] == "ok"
    assert (await api.call("GET", "/me", changed["access_token"])).status_code == 200


async def test_the_last_five_passwords_cannot_be_reused(api: Api, kit: type[Kit]) -> None:
    school = await kit.new_school(api, "Vēstures skola")
    token = school.admin_token
    passwords = [kit.PASSWORD] + [f"vecā-parole-numur-{n}" for n in range(1, 6)]
    for current, new in itertools.pairwise(passwords):
        token = (
            await api.ok(
                "POST", "/password", token, json={"current_password": current, "new_password": new}
            )
        )["access_token"]
    too_recent = await api.call(
        "POST",
        "/password",
        token,
        json={"current_password": passwords[-1], "new_password": passwords[1]},
    )
    assert too_recent.status_code == 422 and too_recent.json()["error"] == "password_reused"
    old_enough = await api.call(
        "POST",
        "/password",
        token,
        json={"current_password": passwords[-1], "new_password": passwords[0]},
    )
    assert old_enough.status_code == 200, old_enough.text


async def test_sign_out_and_ended_employment_refuse_tokens_on_the_next_request(
    api: Api, kit: type[Kit]
) -> None:
    """Identity reads revocations from its own tables, written with the command: no worker
    runs here, and each token is refused by the very next request."""
    school = await kit.new_school(api, "Izrakstīšanās skola")
    teacher, token = await school.staff("Agris", "Lācis", ["teacher"])
    username = (await api.ok("GET", "/me", token))["personal_data"]["username"]
    other = (await school.sign_in(username))["access_token"]
    assert (await api.call("POST", "/sign-out", token)).status_code == 200
    assert (await api.call("GET", "/me", token)).status_code == 401
    assert (await api.call("GET", "/me", other)).status_code == 200
    ended = await api.call(
        "POST",
        f"/staff/{teacher}/end-employment",
        school.admin_token,
        json={"ended_on": kit.TODAY.isoformat()},
    )
    assert ended.status_code == 200, ended.text
    assert (await api.call("GET", "/me", other)).status_code == 401
    again = await api.call(
        "POST", "/sign-in", json={"username": username, "password": kit.PASSWORD}
    )
    assert again.status_code == 401 and again.json()["message"] == GENERIC


async def test_sign_out_everywhere_refuses_every_earlier_token_on_the_next_request(
    api: Api, kit: type[Kit]
) -> None:
    school = await kit.new_school(api, "Visur izrakstīta skola")
    _, token = await school.staff("Inese", "Priede", ["teacher"])
    username = (await api.ok("GET", "/me", token))["personal_data"]["username"]
    other = (await school.sign_in(username))["access_token"]
    assert (await api.call("POST", "/sign-out-everywhere", token)).status_code == 200
    assert (await api.call("GET", "/me", token)).status_code == 401
    assert (await api.call("GET", "/me", other)).status_code == 401
    await asyncio.sleep(1.1)  # a token's iat is in whole seconds
    fresh = (await school.sign_in(username))["access_token"]
    assert (await api.call("GET", "/me", fresh)).status_code == 200
