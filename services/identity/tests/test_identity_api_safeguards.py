"""Sign-in safeguards and registration races: TOTP for staff (optional or required by the
school), the per-address limit, concurrent registration of one name, and CSV re-imports."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import httpx
import pyotp

if TYPE_CHECKING:
    from .conftest import Api, Kit

GENERIC = "wrong username or password, or the account cannot sign in now"
CSV = (
    "student_first_name;student_last_name;personal_code;birth_date;class_label;"
    "guardian_first_name;guardian_last_name;guardian_email;guardian_phone\n"
    "Jānis;Bērziņš;321111-11111;2017-03-02;1.a;Ilze;Bērziņa;ilze@berzini.lv;\n"
    "Jānis;Bērziņš;322222-22222;2016-07-14;2.a;;;;\n"
)


async def username_of(api: Api, token: str) -> str:
    name: str = (await api.ok("GET", "/me", token))["personal_data"]["username"]
    return name


async def test_staff_may_enable_totp_and_then_sign_in_needs_the_code(
    api: Api, kit: type[Kit]
) -> None:
    school = await kit.new_school(api, "Divfaktoru skola")
    _, token = await school.staff("Pēteris", "Zariņš", ["teacher"])
    username = await username_of(api, token)
    fresh = await api.ok("POST", "/totp/secret", token)
    secret = fresh["secret"]
    assert fresh["otpauth_uri"].startswith("otpauth://totp/") and username in fresh["otpauth_uri"]
    wrong = await api.call("POST", "/totp", token, json={"secret": secret, "code": "000000"})
    if pyotp.TOTP(secret).verify("000000", valid_window=1):
        wrong = await api.call("POST", "/totp", token, json={"secret": secret, "code": "12345"})
    assert wrong.status_code == 422 and wrong.json()["field"] == "code"
    enabled = await api.call(
        "POST", "/totp", token, json={"secret": secret, "code": pyotp.TOTP(secret).now()}
    )
    assert enabled.status_code == 201, enabled.text
    twice = await api.call(
        "POST", "/totp", token, json={"secret": secret, "code": pyotp.TOTP(secret).now()}
    )
    assert twice.status_code == 409

    credentials = {"username": username, "password": kit.PASSWORD}
    without = await api.call("POST", "/sign-in", json=credentials)
    assert without.status_code == 401 and without.json()["message"] == GENERIC
    other = pyotp.TOTP(pyotp.random_base32()).now()
    if not pyotp.TOTP(secret).verify(other, valid_window=1):
        bad = await api.call("POST", "/sign-in", json={**credentials, "totp_code": other})
        assert bad.status_code == 401
    signed = await api.ok(
        "POST", "/sign-in", json={**credentials, "totp_code": pyotp.TOTP(secret).now()}
    )
    assert signed["totp"] is True and signed["roles"] == ["teacher"]
    async with api.app.state.runtime.db.raw() as conn:
        stored = await conn.fetchval(
            "SELECT payload::text FROM events WHERE event_type = 'TotpEnabled' AND school_id = $1",
            uuid.UUID(school.school_id),
        )
    assert stored is not None and secret not in stored
    parent = await school.guardian(await school.student("Anna", "Egle", "1.a"), "Aivars", "Eglis")
    parent_token = await school.signed_in(parent)
    assert (await api.call("POST", "/totp/secret", parent_token)).status_code == 403


async def test_a_school_can_require_totp_which_staff_enrol_while_signing_in(
    api: Api, kit: type[Kit]
) -> None:
    school = await kit.new_school(api, "Stingrā skola")
    _, token = await school.staff("Sandra", "Vītola", ["teacher"])
    username = await username_of(api, token)
    riga_today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Riga")).date()
    await api.ok(
        "POST",
        "/password-policies",
        school.admin_token,
        json={"role": "teacher", "effective_from": riga_today.isoformat(), "require_totp": True},
    )
    credentials = {"username": username, "password": kit.PASSWORD}
    asked = await api.call("POST", "/sign-in", json=credentials)
    assert asked.status_code == 403 and asked.json()["error"] == "totp_enrolment_required"
    secret = asked.json()["details"]["secret"]
    wrong_password = await api.call("POST", "/sign-in", json={**credentials, "password": "x" * 12})
    assert wrong_password.status_code == 401 and "secret" not in wrong_password.text
    enrolled = await api.ok(
        "POST",
        "/sign-in",
        json={**credentials, "totp_secret": secret, "totp_code": pyotp.TOTP(secret).now()},
    )
    assert enrolled["totp"] is True
    again = await api.ok(
        "POST", "/sign-in", json={**credentials, "totp_code": pyotp.TOTP(secret).now()}
    )
    assert again["access_token"]
    admin = await school.sign_in(await username_of(api, school.admin_token))
    assert admin["totp"] is False


async def test_too_many_failures_from_one_address_block_it_for_fifteen_minutes(
    api: Api, kit: type[Kit]
) -> None:
    school = await kit.new_school(api, "Adrešu skola")
    username = await username_of(api, school.admin_token)
    state = api.app.state.identity
    api.app.state.identity = dataclasses.replace(
        state, config=state.config.model_copy(update={"address_failure_limit": 3})
    )
    try:
        for n in range(3):
            failed = await api.call(
                "POST", "/sign-in", json={"username": f"nav.tada{n}", "password": "x" * 12}
            )
            assert failed.status_code == 401
        blocked = await api.call(
            "POST", "/sign-in", json={"username": username, "password": kit.PASSWORD}
        )
        assert blocked.status_code == 401 and blocked.json()["message"] == GENERIC
        elsewhere = httpx.ASGITransport(app=api.app, client=("10.20.30.40", 5123))
        async with httpx.AsyncClient(transport=elsewhere, base_url="http://test") as other:
            ok = await other.post(
                "/api/identity/sign-in", json={"username": username, "password": kit.PASSWORD}
            )
            assert ok.status_code == 200, ok.text
        api.clock.fixed = datetime.now(UTC) + timedelta(minutes=16)
        later = await api.call(
            "POST", "/sign-in", json={"username": username, "password": kit.PASSWORD}
        )
        assert later.status_code == 200, later.text
    finally:
        api.clock.fixed = None
        api.app.state.identity = state


async def test_registering_one_name_concurrently_gives_each_their_own_username(
    api: Api, kit: type[Kit]
) -> None:
    school = await kit.new_school(api, "Vārdabrāļu skola")
    body = {
        "person": kit.person("Kristaps", "Vārdabrālis"),
        "roles": ["teacher"],
        "hired_on": f"{kit.YEAR_START}-08-25",
    }
    answers = await asyncio.gather(
        *(api.call("POST", "/staff", school.admin_token, json=body) for _ in range(6))
    )
    assert [a.status_code for a in answers] == [201] * 6, [a.text for a in answers]
    names = sorted(a.json()["username"] for a in answers)
    assert names == sorted(
        ["kristaps.vardabralis"] + [f"kristaps.vardabralis{n}" for n in range(2, 7)]
    )


async def test_a_csv_re_import_does_not_register_students_twice(api: Api, kit: type[Kit]) -> None:
    school = await kit.new_school(api, "Importa skola")
    path = f"/imports/students?school_year={kit.YEAR}&dry_run=false"
    headers = {"Content-Type": "text/csv"}
    first = await api.call("POST", path, school.admin_token, content=CSV, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["students"] == 2
    async with api.app.state.runtime.db.raw() as conn:
        names = {
            r["username"]
            for r in await conn.fetch(
                "SELECT username FROM logins WHERE school_id = $1", uuid.UUID(school.school_id)
            )
        }
    assert {"janis.berzins", "janis.berzins2", "ilze.berzina"} <= names
    again = await api.call("POST", path, school.admin_token, content=CSV, headers=headers)
    assert again.status_code == 422 and again.json()["error"] == "import_invalid"
    errors = again.json()["details"]["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(2, "personal_code"), (3, "personal_code")]
    dry = await api.call(
        "POST",
        f"/imports/students?school_year={kit.YEAR}",
        school.admin_token,
        content=CSV,
        headers=headers,
    )
    assert dry.status_code == 422
    single = await api.call(
        "POST",
        "/students",
        school.admin_token,
        json={
            "person": kit.person("Jānis", "Bērziņš", personal_code="321111-11111"),
            "class_id": school.classes["1.a"],
            "enrolled_on": f"{kit.YEAR_START}-09-01",
        },
    )
    assert single.status_code == 409 and single.json()["field"] == "person.personal_code"
    async with api.app.state.runtime.db.raw() as conn:
        enrolled = await conn.fetchval(
            "SELECT count(*) FROM events WHERE event_type = 'StudentEnrolled' AND school_id = $1",
            uuid.UUID(school.school_id),
        )
    assert enrolled == 2
