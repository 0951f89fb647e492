"""The directory API: building a school, role checks, idempotency, and school isolation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from .conftest import Api, Kit


async def test_bootstrap_needs_the_operator_secret(api: Api, kit: type[Kit]) -> None:
    body = {"name": "Skola", "admin": kit.person("Jānis", "Ozols")}
    missing = await api.call("POST", "/schools", json=body)
    assert missing.status_code == 403
    wrong = await api.call("POST", "/schools", json=body, headers={"X-Bootstrap-Token": "nope"})
    assert wrong.status_code == 403


async def test_a_school_is_built_and_its_events_appended(api: Api, kit: type[Kit]) -> None:
    school = await kit.new_school(api, "Rēzeknes 2. vidusskola")
    classes = await api.ok("GET", f"/classes?school_year={kit.YEAR}", school.admin_token)
    assert [c["label"] for c in classes] == ["1.a", "2.a"]
    student = await school.student("Līga", "Kalniņa", "1.a", personal_code="321234-56789")
    teacher, _ = await school.staff("Pēteris", "Zariņš", ["teacher", "class_teacher"])
    await api.ok(
        "PUT",
        f"/classes/{school.classes['1.a']}/class-teacher",
        school.admin_token,
        json={"teacher_id": teacher, "valid_from": f"{kit.YEAR_START}-09-01"},
    )
    async with api.app.state.runtime.db.raw() as conn:
        rows = await conn.fetch(
            "SELECT event_type, payload FROM events WHERE school_id = $1 ORDER BY tx_id, position",
            uuid.UUID(school.school_id),
        )
    types = [r["event_type"] for r in rows]
    for expected in (
        "SchoolRegistered",
        "SchoolYearDefined",
        "ClassOpened",
        "PersonRegistered",
        "StudentEnrolled",
        "StaffMemberHired",
        "ClassTeacherAssigned",
    ):
        assert expected in types
    registered = [r["payload"] for r in rows if r["event_type"] == "PersonRegistered"]
    assert all("Kalniņa" not in str(p) and "321234" not in str(p) for p in registered)
    assert any(r["payload"].get("student_id") == student for r in rows)


async def test_structure_is_for_admins_and_directors_only(api: Api, kit: type[Kit]) -> None:
    school = await kit.new_school(api, "Lomu skola")
    _, teacher = await school.staff("Ilze", "Vītola", ["teacher"])
    opened = await api.call(
        "POST",
        "/classes",
        teacher,
        json={"school_year": kit.YEAR, "grade_level": 3, "label": "3.a"},
    )
    assert opened.status_code == 403 and opened.json()["error"] == "role_required"
    hired = await api.call(
        "POST",
        "/staff",
        teacher,
        json={
            "person": kit.person("Ēriks", "Liepa"),
            "roles": ["admin"],
            "hired_on": kit.TODAY.isoformat(),
        },
    )
    assert hired.status_code == 403
    _, director = await school.staff("Dace", "Krūmiņa", ["director"])
    ok = await api.call(
        "POST",
        "/classes",
        director,
        json={"school_year": kit.YEAR, "grade_level": 3, "label": "3.a"},
    )
    assert ok.status_code == 201, ok.text


async def test_bad_input_names_the_field(api: Api, kit: type[Kit]) -> None:
    school = await kit.new_school(api, "Kļūdu skola")
    token = school.admin_token
    wrong_label = await api.call(
        "POST", "/classes", token, json={"school_year": kit.YEAR, "grade_level": 3, "label": "4.a"}
    )
    assert wrong_label.status_code == 422 and wrong_label.json()["field"] == "label"
    bad_code = await api.call(
        "POST",
        "/students",
        token,
        json={
            "person": kit.person("Anna", "Ozola", personal_code="010115-21235"),
            "class_id": school.classes["1.a"],
            "enrolled_on": f"{kit.YEAR_START}-09-01",
        },
    )
    assert bad_code.status_code == 422 and bad_code.json()["field"] == "person.personal_code"
    outside = await api.call(
        "POST",
        "/students",
        token,
        json={
            "person": kit.person("Anna", "Ozola"),
            "class_id": school.classes["1.a"],
            "enrolled_on": f"{kit.YEAR_START + 3}-09-01",
        },
    )
    assert outside.status_code == 422 and outside.json()["field"] == "enrolled_on"
    substitute = await api.call(
        "POST",
        f"/classes/{school.classes['1.a']}/teaching",
        token,
        json={
            "teacher_id": school.admin_id,
            "subject_id": kit.new_id(),
            "valid_from": f"{kit.YEAR_START}-10-01",
            "substitute": True,
        },
    )
    assert substitute.status_code == 422 and substitute.json()["field"] == "valid_to"
    years_later = await api.call(
        "POST",
        f"/classes/{school.classes['1.a']}/teaching",
        token,
        json={
            "teacher_id": school.admin_id,
            "subject_id": kit.new_id(),
            "valid_from": f"{kit.YEAR_START + 6}-10-01",
        },
    )
    assert years_later.status_code == 422, years_later.text
    assert years_later.json()["field"] == "valid_from"
    assert f"{kit.YEAR_START}-07-01 to {kit.YEAR_START + 1}-08-31" in years_later.json()["message"]


async def test_a_retried_command_has_one_effect(api: Api, kit: type[Kit]) -> None:
    school = await kit.new_school(api, "Atkārtojumu skola")
    key = {"Idempotency-Key": kit.new_id()}
    body = {
        "person": kit.person("Rūta", "Egle"),
        "roles": ["teacher"],
        "hired_on": kit.TODAY.isoformat(),
    }
    first = await api.call("POST", "/staff", school.admin_token, json=body, headers=key)
    again = await api.call("POST", "/staff", school.admin_token, json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    async with api.app.state.runtime.db.raw() as conn:
        hired = await conn.fetchval(
            "SELECT count(*) FROM events WHERE event_type = 'StaffMemberHired' AND school_id = $1",
            uuid.UUID(school.school_id),
        )
    assert hired == 2  # the bootstrap admin and Rūta, once


async def test_students_move_withdraw_and_families_link(api: Api, kit: type[Kit]) -> None:
    school = await kit.new_school(api, "Ģimeņu skola")
    token = school.admin_token
    student = await school.student("Kārlis", "Ozoliņš", "1.a")
    moved = await api.call(
        "POST",
        f"/students/{student}/move",
        token,
        json={"to_class_id": school.classes["2.a"], "moved_on": f"{kit.YEAR_START}-10-01"},
    )
    assert moved.status_code == 200, moved.text
    same = await api.call(
        "POST",
        f"/students/{student}/move",
        token,
        json={"to_class_id": school.classes["2.a"], "moved_on": f"{kit.YEAR_START}-10-02"},
    )
    assert same.status_code == 409
    mother = await school.guardian(student, "Inese", "Ozoliņa")
    restricted = await school.guardian(student, "Jānis", "Ozoliņš", restricted=True)
    twice = await api.call(
        "POST",
        f"/students/{student}/guardians",
        token,
        json={"guardian_id": mother, "linked_on": f"{kit.YEAR_START}-09-02"},
    )
    assert twice.status_code == 409
    lifted = await api.call(
        "PUT",
        f"/students/{student}/guardians/{restricted}/restriction",
        token,
        json={"restricted": False, "on": kit.TODAY.isoformat()},
    )
    assert lifted.status_code == 200
    withdrawn = await api.call(
        "POST",
        f"/students/{student}/withdraw",
        token,
        json={"withdrawn_on": f"{kit.YEAR_START}-11-02", "reason": "transferred"},
    )
    assert withdrawn.status_code == 200, withdrawn.text
    again = await api.call(
        "POST",
        f"/students/{student}/withdraw",
        token,
        json={"withdrawn_on": f"{kit.YEAR_START}-11-03"},
    )
    assert again.status_code == 404
    # the personal file and its export keep 1.a with its days after the move to 2.a (rule 7)
    y = kit.YEAR_START
    history = [
        {"school_year": kit.YEAR, "class_id": school.classes["1.a"],
         "since": f"{y}-09-01", "until": f"{y}-10-01"},
        {"school_year": kit.YEAR, "class_id": school.classes["2.a"],
         "since": f"{y}-10-01", "until": f"{y}-11-02"},
        {"school_year": kit.YEAR, "class_id": None, "since": f"{y}-11-02", "until": None},
    ]  # fmt: skip
    assert (await api.ok("GET", f"/people/{student}", token))["enrolments"] == history
    assert (await api.ok("GET", f"/people/{student}/export", token))["enrolments"] == history
    async with api.app.state.runtime.db.raw() as conn:
        types = [
            r["event_type"]
            for r in await conn.fetch(
                "SELECT event_type FROM events WHERE school_id = $1 ORDER BY tx_id, position",
                uuid.UUID(school.school_id),
            )
        ]
    for expected in (
        "StudentMoved",
        "GuardianLinked",
        "GuardianshipUnrestricted",
        "StudentWithdrawn",
    ):
        assert expected in types


async def test_teaching_with_a_substitute_and_its_end(api: Api, kit: type[Kit]) -> None:
    school = await kit.new_school(api, "Mācību skola")
    teacher, _ = await school.staff("Māra", "Siliņa", ["teacher"])
    substitute, _ = await school.staff("Oskars", "Kalējs", ["teacher"])
    subject = kit.new_id()
    klass = school.classes["2.a"]
    regular = await api.ok(
        "POST",
        f"/classes/{klass}/teaching",
        school.admin_token,
        json={
            "teacher_id": teacher,
            "subject_id": subject,
            "valid_from": f"{kit.YEAR_START}-09-01",
        },
    )
    await api.ok(
        "POST",
        f"/classes/{klass}/teaching",
        school.admin_token,
        json={
            "teacher_id": substitute,
            "subject_id": subject,
            "substitute": True,
            "valid_from": f"{kit.YEAR_START}-11-02",
            "valid_to": f"{kit.YEAR_START}-11-13",
        },
    )
    ended = await api.call(
        "POST",
        f"/classes/{klass}/teaching/{regular['assignment_id']}/end",
        school.admin_token,
        json={"last_day": f"{kit.YEAR_START}-12-22"},
    )
    assert ended.status_code == 200
    stranger = await api.call(
        "POST",
        f"/classes/{klass}/teaching",
        school.admin_token,
        json={
            "teacher_id": kit.new_id(),
            "subject_id": subject,
            "valid_from": f"{kit.YEAR_START}-09-01",
        },
    )
    assert stranger.status_code == 404 and stranger.json()["field"] == "teacher_id"


async def test_school_a_never_reaches_school_b(api: Api, kit: type[Kit]) -> None:
    a = await kit.new_school(api, "A skola")
    b = await kit.new_school(api, "B skola")
    b_student = await b.student("Zane", "Bite", "1.a")
    assert (await api.call("GET", f"/people/{b_student}", a.admin_token)).status_code == 404
    assert (await api.call("GET", f"/people/{b_student}/export", a.admin_token)).status_code == 404
    assert (
        await api.call("GET", f"/classes/{b.classes['1.a']}/students", a.admin_token)
    ).status_code == 404
    moved = await api.call(
        "POST",
        f"/students/{b_student}/move",
        a.admin_token,
        json={"to_class_id": a.classes["2.a"], "moved_on": f"{kit.YEAR_START}-10-01"},
    )
    assert moved.status_code == 404
    linked = await api.call(
        "POST",
        f"/students/{b_student}/guardians",
        a.admin_token,
        json={"person": kit.person("Ēvalds", "Bite"), "linked_on": f"{kit.YEAR_START}-09-01"},
    )
    assert linked.status_code == 404
    listed = await api.ok("GET", "/classes", a.admin_token)
    assert b.classes["1.a"] not in {c["class_id"] for c in listed}
    assert (
        await api.call("POST", f"/people/{b_student}/access-code", a.admin_token)
    ).status_code == 404


async def test_a_name_is_one_line_of_text_without_digits(api: Api, kit: type[Kit]) -> None:
    """Free text may hold tabs and line breaks (the shared rule); a name may not, nor digits."""
    school = await kit.new_school(api, "Vārdu skola")
    answers = {}
    for first in ("Anna\tMarija", "Anna\nMarija", "Anna2", "Anna\x00", "Anna\x07"):
        registered = await api.call(
            "POST",
            "/students",
            school.admin_token,
            json={
                "person": kit.person(first, "Ozola"),
                "class_id": school.classes["1.a"],
                "enrolled_on": f"{kit.YEAR_START}-09-01",
            },
        )
        assert registered.status_code == 422, registered.text
        assert registered.json()["field"] == "person.first_name"
        answers[first] = registered.json()["errors"][0]["reason"]
    assert "U+0009" in answers["Anna\tMarija"] and "U+000A" in answers["Anna\nMarija"]
    assert "U+0000" in answers["Anna\x00"] and "U+0007" in answers["Anna\x07"]
    assert "digits" in answers["Anna2"]


async def test_numbers_a_person_types_are_bounded_and_the_answer_names_the_range(
    api: Api, kit: type[Kit]
) -> None:
    school = await kit.new_school(api, "Robežu skola")
    token = school.admin_token
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Riga")).date().isoformat()
    ageless = await api.call(
        "POST",
        "/password-policies",
        token,
        json={"role": "teacher", "effective_from": today, "max_age_days": 10**12},
    )
    assert ageless.status_code == 422, ageless.text
    assert ageless.json()["field"] == "max_age_days"
    assert "between 1 and 365" in ageless.json()["message"]
    warned = await api.call(
        "POST",
        "/password-policies",
        token,
        json={"role": "teacher", "effective_from": today, "max_age_days": 30, "warn_days": 30},
    )
    assert warned.status_code == 422, warned.text
    assert warned.json()["field"] == "warn_days"
    assert "between 0 and 29" in warned.json()["message"]
    start = kit.YEAR_START + 1
    next_year = await api.call(
        "POST",
        "/school-years",
        token,
        json={
            "school_year": f"{start}/{start + 1}",
            "semesters": [
                {"number": 1, "first_day": f"{start}-09-01", "last_day": f"{start}-12-22"},
                {"number": 2, "first_day": f"{start + 1}-01-05", "last_day": f"{start + 1}-05-29"},
            ],
            "holidays": [
                {
                    "first_day": f"{start + 1}-02-15",
                    "last_day": f"{start + 1}-02-19",
                    "grade_levels": [1, 10**12],
                }
            ],
        },
    )
    assert next_year.status_code == 422, next_year.text
    assert next_year.json()["field"] == "holidays[0].grade_levels[1]"
    assert "1 to 12" in next_year.json()["message"]


async def test_the_password_policy_in_force_and_its_history_per_role(
    api: Api, kit: type[Kit]
) -> None:
    """Rule 9 is recorded at registration as each role's first version; a later decision shows
    in the history and, from its date, as the policy in force."""
    school = await kit.new_school(api, "Paroļu skola")
    _, teacher = await school.staff("Anita", "Bērziņa", ["teacher"])
    async with api.app.state.runtime.db.raw() as conn:
        recorded = await conn.fetch(
            "SELECT payload FROM events WHERE school_id = $1 AND event_type = $2",
            uuid.UUID(school.school_id),
            "PasswordPolicyChanged",
        )
    assert {r["payload"]["role"] for r in recorded} == {
        "teacher",
        "class_teacher",
        "deputy_director",
        "director",
        "admin",
        "guardian",
        "student",
    }
    seeded = {p["role"]: p for p in await api.ok("GET", "/password-policies", teacher)}
    assert seeded["teacher"]["in_force"]["max_age_days"] == 60
    assert seeded["teacher"]["in_force"]["effective_from"] is None
    assert seeded["guardian"]["in_force"]["max_age_days"] is None
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Riga")).date()
    later = (today + timedelta(days=30)).isoformat()
    await api.ok(
        "POST",
        "/password-policies",
        school.admin_token,
        json={"role": "teacher", "effective_from": later, "max_age_days": 90},
    )
    policies = {p["role"]: p for p in await api.ok("GET", "/password-policies", teacher)}
    assert policies["teacher"]["in_force"]["max_age_days"] == 60
    assert [(v["effective_from"], v["max_age_days"]) for v in policies["teacher"]["versions"]] == [
        (None, 60),
        (later, 90),
    ]
    assert policies["director"]["versions"] == seeded["director"]["versions"]
    anonymous = await api.call("GET", "/password-policies")
    assert anonymous.status_code == 401
