"""Personal data: who may read a file (audited), access logs, export, erasure, CSV import."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .conftest import Api, Kit

CSV_HEADER = (
    "student_first_name;student_last_name;personal_code;birth_date;class_label;"
    "guardian_first_name;guardian_last_name;guardian_email;guardian_phone\n"
)


async def family(api: Api, kit: type[Kit], name: str) -> dict[str, Any]:
    """A school with a class teacher, a subject teacher of another class, a student with a
    guardian and a restricted guardian, and everyone signed in."""
    school = await kit.new_school(api, name)
    ct, ct_token = await school.staff("Laura", "Strazdiņa", ["teacher", "class_teacher"])
    _, other_token = await school.staff("Edgars", "Dzenis", ["teacher"])
    _, director_token = await school.staff("Dace", "Krūmiņa", ["director"])
    await api.ok(
        "PUT",
        f"/classes/{school.classes['1.a']}/class-teacher",
        school.admin_token,
        json={"teacher_id": ct, "valid_from": f"{kit.YEAR_START}-09-01"},
    )
    student = await school.student("Emīls", "Pērkons", "1.a", personal_code="321234-56789")
    other_student = await school.student("Roberts", "Lapiņš", "2.a")
    guardian = await school.guardian(student, "Sandra", "Pērkone")
    hidden = await school.guardian(student, "Viesturs", "Pērkons", restricted=True)
    codes = await api.ok("POST", f"/classes/{school.classes['1.a']}/access-codes", ct_token)
    tokens = {}
    for c in codes["codes"]:
        await school.activate(c["code"])
        tokens[c["person_id"]] = (await school.sign_in(c["username"]))["access_token"]
    hidden_code = await api.ok("POST", f"/people/{hidden}/access-code", school.admin_token)
    await school.activate(hidden_code["codes"][0]["code"])
    hidden_token = (await school.sign_in(hidden_code["codes"][0]["username"]))["access_token"]
    return {
        "school": school,
        "ct": ct,
        "ct_token": ct_token,
        "other_token": other_token,
        "director_token": director_token,
        "student": student,
        "other_student": other_student,
        "guardian": guardian,
        "guardian_token": tokens[guardian],
        "student_token": tokens[student],
        "hidden_token": hidden_token,
    }


async def test_reading_a_personal_file_follows_the_relationships_and_is_audited(
    api: Api, kit: type[Kit]
) -> None:
    f = await family(api, kit, "Lietu skola")
    student = f["student"]
    for who in ("ct_token", "guardian_token", "student_token", "director_token"):
        read = await api.call("GET", f"/people/{student}", f[who])
        assert read.status_code == 200, who
        assert read.json()["personal_data"]["personal_code"] == "321234-56789"
    for who in ("other_token", "hidden_token"):
        assert (await api.call("GET", f"/people/{student}", f[who])).status_code == 404, who
    assert (
        await api.call("GET", f"/people/{f['other_student']}", f["guardian_token"])
    ).status_code == 404
    listed = await api.ok("GET", f"/classes/{f['school'].classes['1.a']}/students", f["ct_token"])
    assert [s["last_name"] for s in listed] == ["Pērkons"]
    assert (
        await api.call("GET", f"/classes/{f['school'].classes['1.a']}/students", f["other_token"])
    ).status_code == 404

    log = await api.ok("GET", f"/people/{student}/access-log", f["guardian_token"])
    readers = {entry["actor_id"] for entry in log}
    assert f["ct"] in readers and f["guardian"] in readers
    assert (
        await api.call("GET", f"/people/{student}/access-log", f["hidden_token"])
    ).status_code == 404
    assert (
        await api.call("GET", f"/people/{student}/access-log", f["other_token"])
    ).status_code == 404

    audit = await api.ok("GET", f"/staff/{f['ct']}/accesses", f["director_token"])
    assert {a["subject_id"] for a in audit} == {student}
    assert {a["what"] for a in audit} == {"personal_file", "class_list"}
    assert (await api.call("GET", f"/staff/{f['ct']}/accesses", f["ct_token"])).status_code == 403


async def test_export_and_erasure_where_retention_allows(api: Api, kit: type[Kit]) -> None:
    f = await family(api, kit, "Dzēšanas skola")
    school, student = f["school"], f["student"]
    own = await api.ok("GET", f"/people/{student}/export", f["student_token"])
    assert own["personal_data"]["first_name"] == "Emīls"
    assert any(e["event_type"] == "StudentEnrolled" for e in own["events"])
    assert all(
        e["event_type"] not in {"PasswordHashStored", "AccessCodeIssued"} for e in own["events"]
    )
    assert "password_hash" not in str(own)
    # the class teacher reads the file but may not export it
    assert (await api.call("GET", f"/people/{student}/export", f["ct_token"])).status_code == 403

    kept = await api.call("POST", f"/people/{student}/erase", school.admin_token)
    assert kept.status_code == 409 and kept.json()["error"] == "retention_applies"
    assert (await api.call("POST", f"/people/{student}/erase", f["ct_token"])).status_code == 403
    await api.ok(
        "POST",
        f"/students/{student}/withdraw",
        school.admin_token,
        json={"withdrawn_on": f"{kit.YEAR_START}-11-02"},
    )
    erased = await api.call("POST", f"/people/{student}/erase", school.admin_token)
    assert erased.status_code == 200, erased.text
    after = await api.ok("GET", f"/people/{student}/export", school.admin_token)
    assert after["personal_data"] is None and after["erased_at"]
    async with api.app.state.runtime.db.raw() as conn:
        key = await conn.fetchval(
            "SELECT key FROM person_keys WHERE person_id = $1", uuid.UUID(student)
        )
        types = [
            r["event_type"]
            for r in await conn.fetch(
                "SELECT event_type FROM events WHERE stream_id LIKE $1", f"%{student}"
            )
        ]
    assert key is None and "PersonalDataErased" in types and "AccessRevoked" in types


async def test_csv_import_lists_every_bad_row_and_imports_all_or_nothing(
    api: Api, kit: type[Kit]
) -> None:
    school = await kit.new_school(api, "Importa skola")
    url = f"/imports/students?school_year={kit.YEAR}"
    good = (
        CSV_HEADER
        + "Anna;Liepa;321234-56789;2019-03-04;1.a;Ieva;Liepa;ieva@example.lv;\n"
        + "Anna;Liepa;321234-56789;2019-03-04;1.a;Artis;Liepa;;+371 21234567\n"
        + "Jānis;Liepa;321234-56780;2018-05-06;2.a;Ieva;Liepa;ieva@example.lv;\n"
    )
    bad = (
        CSV_HEADER
        + "Anna;Liepa;321234-56789;2019-03-04;1.a;;;;\n"
        + "Kārlis;;010115-21235;2015-01-01;9.z;;;;\n"
        + "Pēteris;Zars;321234-56781;vakar;1.a;Inga;Zara;nav-epasts;\n"
    )
    headers = {"content-type": "text/csv"}
    refused = await api.call(
        "POST", url + "&dry_run=false", school.admin_token, content=bad.encode(), headers=headers
    )
    assert refused.status_code == 422 and refused.json()["error"] == "import_invalid"
    rows = {(e["row"], e["column"]) for e in refused.json()["details"]["errors"]}
    assert {
        (3, "student_last_name"),
        (3, "personal_code"),
        (3, "class_label"),
        (4, "birth_date"),
        (4, "guardian_email"),
    } <= rows
    dry = await api.ok("POST", url, school.admin_token, content=good.encode(), headers=headers)
    assert dry == {"dry_run": True, "students": 2, "guardians": 2}
    async with api.app.state.runtime.db.raw() as conn:
        before = await conn.fetchval(
            "SELECT count(*) FROM enrolments WHERE school_id = $1", uuid.UUID(school.school_id)
        )
    assert before == 0
    done = await api.call(
        "POST", url + "&dry_run=false", school.admin_token, content=good.encode(), headers=headers
    )
    assert done.status_code == 201, done.text
    async with api.app.state.runtime.db.raw() as conn:
        enrolled = await conn.fetchval(
            "SELECT count(*) FROM enrolments WHERE school_id = $1", uuid.UUID(school.school_id)
        )
        links = await conn.fetchval(
            "SELECT count(*) FROM guardians WHERE school_id = $1", uuid.UUID(school.school_id)
        )
    assert (enrolled, links) == (2, 3)
    _, teacher = await school.staff("Ilze", "Vītola", ["teacher"])
    assert (
        await api.call("POST", url, teacher, content=good.encode(), headers=headers)
    ).status_code == 403


async def test_an_empty_class_is_seen_only_by_its_own_staff(api: Api, kit: type[Kit]) -> None:
    """With no student to read, 'may read every student' would let anyone see the class: its
    class teacher and the administration see it, another teacher and a family are told what a
    made-up class gets."""
    f = await family(api, kit, "Tukšas klases skola")
    school = f["school"]
    opened = await api.ok(
        "POST",
        "/classes",
        school.admin_token,
        json={"school_year": kit.YEAR, "grade_level": 3, "label": "3.a"},
    )
    school.classes["3.a"] = empty = opened["class_id"]
    _, ct_token = await school.class_teacher("3.a", "Inese", "Kalniņa")
    assert await api.ok("GET", f"/classes/{empty}/students", ct_token) == []
    assert await api.ok("GET", f"/classes/{empty}/students", f["director_token"]) == []
    made_up = await api.call("GET", f"/classes/{kit.new_id()}/students", f["other_token"])
    assert made_up.status_code == 404
    for who in ("other_token", "guardian_token"):
        refused = await api.call("GET", f"/classes/{empty}/students", f[who])
        assert (refused.status_code, refused.json()) == (made_up.status_code, made_up.json()), who
