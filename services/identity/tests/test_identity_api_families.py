"""Year-end promotion, unlinking guardians, re-hiring, adult students and changing personal data."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ezurnals.identity.jobs import ComingOfAgeJob
from ezurnals.identity.service import SERVICE

if TYPE_CHECKING:
    from .conftest import Api, Kit


async def event_count(api: Api, school: Any, event_type: str) -> int:
    async with api.app.state.runtime.db.raw() as conn:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM events WHERE school_id = $1 AND event_type = $2",
            uuid.UUID(school.school_id),
            event_type,
        )
    return count


async def test_the_whole_school_is_promoted_once_and_grade_12_graduates(
    api: Api, kit: type[Kit]
) -> None:
    school = await kit.new_school(api, "Pārcelšanas skola", ("1.a", "12.a"))
    moving = await school.student("Anna", "Kļaviņa", "1.a")
    repeating = await school.student("Jānis", "Ērglis", "1.a")
    leaving = await school.student("Līga", "Ozola", "12.a")
    start, year = kit.YEAR_START + 1, f"{kit.YEAR_START + 1}/{kit.YEAR_START + 2}"
    semesters = [
        {"number": 1, "first_day": f"{start}-09-01", "last_day": f"{start}-12-22"},
        {"number": 2, "first_day": f"{start + 1}-01-05", "last_day": f"{start + 1}-05-29"},
    ]
    skipping = await api.call(
        "POST",
        "/school-years",
        school.admin_token,
        json={"school_year": f"{start}/{start + 2}", "semesters": semesters},
    )
    assert skipping.status_code == 422 and skipping.json()["field"] == "school_year"
    # the short spelling is read as the one long spelling everything else then uses
    short = f"{start}/{(start + 1) % 100:02d}"
    defined = await api.ok(
        "POST",
        "/school-years",
        school.admin_token,
        json={"school_year": short, "semesters": semesters},
    )
    assert defined["school_year"] == year
    new = {}
    for label in ("1.b", "2.a"):
        opened = await api.ok(
            "POST",
            "/classes",
            school.admin_token,
            json={"school_year": year, "grade_level": int(label[0]), "label": label},
        )
        new[label] = opened["class_id"]
    body = {
        "from_year": kit.YEAR,
        "promoted_on": f"{start}-09-01",
        "classes": [
            {"from_class_id": school.classes["1.a"], "to_class_id": new["2.a"]},
            {"from_class_id": school.classes["12.a"], "to_class_id": None},
        ],
        "kept_back": [{"student_id": repeating, "to_class_id": new["1.b"]}],
    }
    missing = await api.call(
        "POST", "/promotions", school.admin_token, json={**body, "classes": body["classes"][:1]}
    )
    assert missing.status_code == 422 and missing.json()["field"] == "classes"
    wrong_grade = await api.call(
        "POST",
        "/promotions",
        school.admin_token,
        json={**body, "kept_back": [{"student_id": repeating, "to_class_id": new["2.a"]}]},
    )
    assert wrong_grade.status_code == 422 and wrong_grade.json()["field"] == "kept_back"
    _, teacher = await school.staff("Ilze", "Vītola", ["teacher"])
    assert (await api.call("POST", "/promotions", teacher, json=body)).status_code == 403

    promoted = await api.ok("POST", "/promotions", school.admin_token, json=body)
    assert promoted == {"from_year": kit.YEAR, "to_year": year, "promoted": 2, "graduated": 1}
    again = await api.call("POST", "/promotions", school.admin_token, json=body)
    assert again.status_code == 409
    assert await event_count(api, school, "StudentsPromoted") == 1

    history = (await api.ok("GET", f"/people/{moving}", school.admin_token))["enrolments"]
    assert [(e["school_year"], e["class_id"]) for e in history] == [
        (kit.YEAR, school.classes["1.a"]),
        (year, new["2.a"]),
    ]
    kept = (await api.ok("GET", f"/people/{repeating}", school.admin_token))["enrolments"]
    assert kept[-1]["class_id"] == new["1.b"]
    graduate = (await api.ok("GET", f"/people/{leaving}", school.admin_token))["enrolments"]
    assert graduate[-1] == {
        "school_year": year, "class_id": None, "since": f"{start}-09-01", "until": None
    }  # fmt: skip
    gone = await api.call(
        "POST",
        f"/students/{leaving}/withdraw",
        school.admin_token,
        json={"withdrawn_on": f"{start}-10-01"},
    )
    assert gone.status_code == 404


async def test_the_class_teacher_unlinks_a_guardian_and_a_rehire_restores_access(
    api: Api, kit: type[Kit]
) -> None:
    school = await kit.new_school(api, "Saišu skola")
    _, ct_token = await school.class_teacher("1.a", "Laura", "Strazdiņa")
    _, other_token = await school.staff("Edgars", "Dzenis", ["teacher"])
    student = await school.student("Roberts", "Lapiņš", "1.a")
    guardian = await school.guardian(student, "Rūta", "Lapiņa")
    path = f"/students/{student}/guardians/{guardian}/unlink"
    body = {"unlinked_on": kit.TODAY.isoformat()}
    assert (await api.call("POST", path, other_token, json=body)).status_code == 404
    assert (await api.call("POST", path, ct_token, json=body)).status_code == 200
    again = await api.call("POST", path, ct_token, json=body)
    assert again.status_code == 404 and again.json()["field"] == "guardian_id"
    file = await api.ok("GET", f"/people/{student}", ct_token)
    assert file["guardians"] == []
    assert await event_count(api, school, "GuardianUnlinked") == 1

    teacher, _ = await school.staff("Māra", "Siliņa", ["teacher"])
    username = (await api.ok("GET", f"/people/{teacher}", school.admin_token))["personal_data"][
        "username"
    ]
    await api.ok(
        "POST",
        f"/staff/{teacher}/end-employment",
        school.admin_token,
        json={"ended_on": kit.TODAY.isoformat()},
    )
    refused = await api.call(
        "POST", "/sign-in", json={"username": username, "password": kit.PASSWORD}
    )
    assert refused.status_code == 401
    rehire = {"roles": ["teacher"], "hired_on": (kit.TODAY + timedelta(days=1)).isoformat()}
    assert (
        await api.call("POST", f"/staff/{teacher}/rehire", ct_token, json=rehire)
    ).status_code == 403
    await api.ok("POST", f"/staff/{teacher}/rehire", school.admin_token, json=rehire)
    back = await school.sign_in(username)
    assert back["roles"] == ["teacher"]
    assert await event_count(api, school, "AccessRestored") == 1
    twice = await api.call("POST", f"/staff/{teacher}/rehire", school.admin_token, json=rehire)
    assert twice.status_code == 409


def born_18_years_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 18)
    except ValueError:
        return date(day.year - 18, 2, 28)


async def test_students_come_of_age_once_and_then_decide_about_their_guardians(
    api: Api, kit: type[Kit]
) -> None:
    school = await kit.new_school(api, "Pilngadības skola", ("12.a",))
    birthday = kit.TODAY + timedelta(days=3)
    student = await school.student(
        "Kārlis", "Šķēle", "12.a", birth_date=born_18_years_before(birthday).isoformat()
    )
    guardian = await school.guardian(student, "Gunta", "Šķēle")
    student_token = await school.signed_in(student)
    guardian_token = await school.signed_in(guardian)
    decide = f"/students/{student}/guardians/{guardian}/access"
    minor = await api.call("PUT", decide, student_token, json={"keeps_access": False})
    assert minor.status_code == 403 and minor.json()["error"] == "not_adult"

    runtime = api.app.state.runtime
    assert await ComingOfAgeJob(clock=lambda: datetime.now(UTC)).run_once(runtime) == 0
    later = datetime.now(UTC) + timedelta(days=4)
    assert await ComingOfAgeJob(clock=lambda: later).run_once(runtime) == 1
    restarted = ComingOfAgeJob(clock=lambda: later + timedelta(days=30))
    assert await restarted.run_once(runtime) == 0
    assert any(isinstance(job, ComingOfAgeJob) for job in SERVICE.jobs)
    async with runtime.db.raw() as conn:
        payloads = await conn.fetch(
            "SELECT payload FROM events WHERE event_type = 'StudentCameOfAge' AND school_id = $1",
            uuid.UUID(school.school_id),
        )
    assert [p["payload"] for p in payloads] == [
        {"school_id": school.school_id, "student_id": student, "on": birthday.isoformat()}
    ]

    api.clock.fixed = later
    try:
        by_guardian = await api.call("PUT", decide, guardian_token, json={"keeps_access": True})
        assert by_guardian.status_code == 403
        assert (await api.call("GET", f"/people/{student}", guardian_token)).status_code == 200
        decided = await api.ok("PUT", decide, student_token, json={"keeps_access": False})
        assert decided == {"guardian_id": guardian, "keeps_access": False}
        assert (await api.call("GET", f"/people/{student}", guardian_token)).status_code == 404
    finally:
        api.clock.fixed = None
    assert await event_count(api, school, "GuardianAccessDecided") == 1


async def test_guardians_change_only_their_own_contacts_and_the_class_teacher_keeps_the_file(
    api: Api, kit: type[Kit]
) -> None:
    school = await kit.new_school(api, "Lietvedības skola")
    _, ct_token = await school.class_teacher("2.a", "Dace", "Krūmiņa")
    student = await school.student("Zane", "Bite", "2.a", personal_code="321234-56780")
    mother = await school.guardian(student, "Inese", "Bite")
    father = await school.guardian(student, "Ģirts", "Bitis")
    mother_token = await school.signed_in(mother)

    own = await api.ok("PATCH", f"/people/{mother}", mother_token, json={"phone": "+371 29123456"})
    assert own == {"person_id": mother, "changed": ["phone"]}
    unchanged = await api.ok(
        "PATCH", f"/people/{mother}", mother_token, json={"phone": "+371 29123456"}
    )
    assert unchanged["changed"] == []
    name = await api.call("PATCH", f"/people/{mother}", mother_token, json={"last_name": "Ozola"})
    assert name.status_code == 403
    other = await api.call(
        "PATCH", f"/people/{father}", mother_token, json={"email": "nav@mans.lv"}
    )
    assert other.status_code == 404
    bad = await api.call("PATCH", f"/people/{mother}", mother_token, json={"email": "nav-epasts"})
    assert bad.status_code == 422 and bad.json()["field"] == "email"

    await api.ok("PATCH", f"/people/{father}", ct_token, json={"email": "girts@bites.lv"})
    await api.ok(
        "PATCH",
        f"/people/{student}",
        ct_token,
        json={"address": "Ūdens iela 7, Cēsis", "birth_date": "2016-05-04"},
    )
    taken = await school.student("Ēriks", "Liepa", "2.a")
    clash = await api.call(
        "PATCH", f"/people/{taken}", ct_token, json={"personal_code": "321234-56780"}
    )
    assert clash.status_code == 409 and clash.json()["field"] == "personal_code"
    file = (await api.ok("GET", f"/people/{student}", mother_token))["personal_data"]
    assert file["address"] == "Ūdens iela 7, Cēsis" and file["birth_date"] == "2016-05-04"
    assert file["username"] == "zane.bite"
    father_file = (await api.ok("GET", f"/people/{father}", ct_token))["personal_data"]
    assert father_file["email"] == "girts@bites.lv" and father_file["first_name"] == "Ģirts"
    assert await event_count(api, school, "PersonalDataChanged") == 3
