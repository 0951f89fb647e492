"""Excuse requests from families (rule 1) and the class teacher's decisions and direct excuses
(rule 4): each rule with its denial."""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any

import httpx

from ezurnals.attendance.domain import absence_id_for
from ezurnals.attendance.jobs import settle_overdue
from ezurnals.shared.service import Runtime

if TYPE_CHECKING:
    from .conftest import World

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXE = b"MZ\x90\x00" + b"\x00" * 100


async def submit(
    world: World, headers: dict[str, str], student: uuid.UUID, *, files: Any = None, **fields: Any
) -> httpx.Response:
    data = {
        "student_id": str(student),
        "reason": "saaukstējies",
        "document_type": "parent_note",
        **fields,
    }
    return await world.client.post(
        "/api/attendance/excuse-requests", data=data, files=files, headers=headers
    )


async def absent(world: World, lesson: uuid.UUID, *students: uuid.UUID) -> None:
    day = next(d for d, ids in world.lessons.items() if lesson in ids)
    world.now = world.at(day, 13, 0)
    body = {"marks": [{"student_id": str(s)} for s in students]}
    taken = await world.client.post(
        f"/api/attendance/lessons/{lesson}/attendance",
        json=body,
        headers=world.substitute if lesson == world.lesson(world.TUE, 2) else world.teacher,
    )
    assert taken.status_code == 201, taken.text


async def unexcused(world: World) -> set[str]:
    rows = await world.client.get(
        f"/api/attendance/classes/{world.class_5a}/unexcused-absences", headers=world.class_teacher
    )
    assert rows.status_code == 200, rows.text
    return {row["absence_id"] for row in rows.json()}


async def test_a_guardian_submits_with_a_pdf_that_the_class_teacher_can_open(world: World) -> None:
    sent = await submit(
        world,
        world.guardian,
        world.anna,
        covers_from="2025-10-06",
        covers_to="2025-10-06",
        files={"attachment": ("zime.pdf", PDF, "application/pdf")},
    )
    assert sent.status_code == 201, sent.text
    request_id = sent.json()["request_id"]
    opened = await world.client.get(
        f"/api/attendance/excuse-requests/{request_id}/attachment", headers=world.class_teacher
    )
    assert opened.status_code == 200 and opened.content == PDF
    assert opened.headers["content-type"] == "application/pdf"
    assert opened.headers["etag"] == f'"{hashlib.sha256(PDF).hexdigest()}"'
    other_family = await world.client.get(
        f"/api/attendance/excuse-requests/{request_id}/attachment",
        headers=world.headers(world.otto_parent, "guardian"),
    )
    assert other_family.status_code == 404
    listed = await world.client.get("/api/attendance/excuse-requests", headers=world.guardian)
    assert [r["request_id"] for r in listed.json()] == [request_id]


async def test_an_attachment_is_checked_by_its_content_and_size(world: World) -> None:
    renamed = await submit(
        world,
        world.guardian,
        world.anna,
        covers_from="2025-10-06",
        covers_to="2025-10-06",
        files={"attachment": ("zime.pdf", EXE, "application/pdf")},
    )
    assert renamed.status_code == 422 and renamed.json()["field"] == "attachment"
    assert "PDF, JPEG or PNG" in renamed.json()["message"]
    huge = PDF + b"\x00" * (5 * 1024 * 1024)
    too_big = await submit(
        world,
        world.guardian,
        world.anna,
        covers_from="2025-10-06",
        covers_to="2025-10-06",
        files={"attachment": ("zime.pdf", huge, "application/pdf")},
    )
    assert too_big.status_code == 422 and too_big.json()["details"]["max_bytes"] == 5242880


async def test_a_parents_note_for_longer_than_the_policy_needs_a_doctors_certificate(
    world: World,
) -> None:
    long = await submit(
        world, world.guardian, world.anna, covers_from="2025-10-01", covers_to="2025-10-06"
    )
    assert long.status_code == 422 and long.json()["field"] == "document_type"
    assert "doctor" in long.json()["message"]
    certified = await submit(
        world,
        world.guardian,
        world.anna,
        covers_from="2025-10-01",
        covers_to="2025-10-03",
        document_type="doctor_certificate",
    )
    assert certified.status_code == 201
    neither = await submit(world, world.guardian, world.anna)
    assert neither.status_code == 422 and neither.json()["field"] == "covers_from"


async def test_another_familys_child_and_a_restricted_guardian_get_404(world: World) -> None:
    for headers, student in (
        (world.guardian, world.berzins),
        (world.restricted_guardian, world.berzins),
        (world.headers(world.cirulis_parent, "guardian"), world.cirulis),
    ):
        refused = await submit(
            world, headers, student, covers_from="2025-10-06", covers_to="2025-10-06"
        )
        assert refused.status_code == 404, refused.text
        assert refused.json()["message"] == "no such student"
        seen = await world.client.get(
            f"/api/attendance/students/{student}/absences", headers=headers
        )
        assert seen.status_code == 404


async def test_a_student_of_18_submits_for_themself_and_a_minor_may_not(world: World) -> None:
    adult = await submit(
        world,
        world.headers(world.cirulis, "student"),
        world.cirulis,
        covers_from="2025-10-06",
        covers_to="2025-10-06",
    )
    assert adult.status_code == 201, adult.text
    minor = await submit(
        world,
        world.headers(world.anna, "student"),
        world.anna,
        covers_from="2025-10-06",
        covers_to="2025-10-06",
    )
    assert minor.status_code == 404


async def test_accepting_excuses_covered_absences_even_those_recorded_later(world: World) -> None:
    earlier, later = world.lesson(world.MON, 3), world.lesson(world.TUE, 1)
    await absent(world, earlier, world.anna)
    sent = await submit(
        world, world.guardian, world.anna, covers_from="2025-10-06", covers_to="2025-10-07"
    )
    request_id = sent.json()["request_id"]
    by_other = await world.client.post(
        f"/api/attendance/excuse-requests/{request_id}/accept", headers=world.other_teacher
    )
    assert by_other.status_code == 404  # the teacher does not see the student
    assert by_other.json()["message"] == "no such excuse request"
    by_guardian = await world.client.post(
        f"/api/attendance/excuse-requests/{request_id}/accept", headers=world.guardian
    )
    assert by_guardian.status_code == 403  # the guardian sees the child, but may not decide

    accepted = await world.client.post(
        f"/api/attendance/excuse-requests/{request_id}/accept", headers=world.class_teacher
    )

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["excused_now"] == 1
    assert str(absence_id_for(earlier, world.anna)) not in await unexcused(world)
    await absent(world, later, world.anna, world.berzins)
    left = await unexcused(world)
    assert str(absence_id_for(later, world.anna)) not in left
    assert str(absence_id_for(later, world.berzins)) in left
    twice = await world.client.post(
        f"/api/attendance/excuse-requests/{request_id}/reject",
        headers=world.class_teacher,
        json={"reason": "x"},
    )
    assert twice.status_code == 409


async def test_a_rejection_needs_a_reason(world: World) -> None:
    sent = await submit(
        world, world.guardian, world.anna, covers_from="2025-10-08", covers_to="2025-10-08"
    )
    url = f"/api/attendance/excuse-requests/{sent.json()['request_id']}/reject"
    bare = await world.client.post(url, headers=world.class_teacher, json={})
    assert bare.status_code == 422 and bare.json()["field"] == "reason"
    rejected = await world.client.post(
        url, headers=world.class_teacher, json={"reason": "nav paraksta"}
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    unknown = await world.client.post(
        f"/api/attendance/excuse-requests/{uuid.uuid4()}/accept", headers=world.class_teacher
    )
    assert unknown.status_code == 404


async def test_the_class_teacher_excuses_directly_against_a_paper_document(world: World) -> None:
    lesson = world.lesson(world.TUE, 2)
    await absent(world, lesson, world.cirulis)
    absence = str(absence_id_for(lesson, world.cirulis))
    body = {
        "absence_ids": [absence],
        "document_type": "doctor_certificate",
        "reference": "izziņa 025/123",
    }
    url = f"/api/attendance/students/{world.cirulis}/excuses"
    by_teacher = await world.client.post(url, json=body, headers=world.teacher)
    assert by_teacher.status_code == 404  # a subject teacher does not see the student here
    by_guardian = await world.client.post(url, json=body, headers=world.guardian)
    assert by_guardian.status_code == 404  # not the guardian's child
    by_himself = await world.client.post(
        url, json=body, headers=world.headers(world.cirulis, "student")
    )
    assert by_himself.status_code == 403  # he sees his absences, but sends a request instead

    done = await world.client.post(url, json=body, headers=world.class_teacher)

    assert done.status_code == 201 and done.json()["excused"] == 1
    assert absence not in await unexcused(world)
    again = await world.client.post(url, json=body, headers=world.class_teacher)
    assert again.status_code == 409


async def test_the_administration_excuses_and_the_history_says_who_when_and_against_what(
    world: World,
) -> None:
    lesson = world.lesson(world.THU, 1)
    await absent(world, lesson, world.anna)
    absence = str(absence_id_for(lesson, world.anna))
    body = {
        "absence_ids": [absence],
        "document_type": "doctor_certificate",
        "reference": "izziņa 025/7",
    }

    done = await world.client.post(
        f"/api/attendance/students/{world.anna}/excuses", json=body, headers=world.deputy
    )

    assert done.status_code == 201, done.text
    assert absence not in await unexcused(world)
    expected = {
        "absence_id": absence,
        "student_id": str(world.anna),
        "lesson_id": str(lesson),
        "excuse_id": done.json()["excuse_id"],
        "source": "direct",
        "document_type": "doctor_certificate",
        "reference": "izziņa 025/7",
        "excused_by": str(world.dace),
        "excused_as": "deputy_director",
    }
    of_lesson = await world.client.get(
        f"/api/attendance/lessons/{lesson}/attendance", headers=world.class_teacher
    )
    of_student = await world.client.get(
        f"/api/attendance/students/{world.anna}/absences", headers=world.guardian
    )
    for read in (of_lesson, of_student):
        assert read.status_code == 200, read.text
        [excuse] = [e for e in read.json()["excuses"] if e["absence_id"] == absence]
        assert {k: excuse[k] for k in expected} == expected
        assert excuse["excused_at"].startswith(world.now.date().isoformat())


async def test_a_threshold_is_reported_once_and_a_redelivered_absence_changes_nothing(
    world: World,
) -> None:
    policy = {
        "parent_note_max_days": 3,
        "unexcused_thresholds": [2, 3],
        "effective_from": "2025-09-01",
    }
    url = "/api/attendance/settings/excuse-policy"
    assert (
        await world.client.put(url, json=policy, headers=world.class_teacher)
    ).status_code == 403
    assert (await world.client.put(url, json=policy, headers=world.deputy)).status_code == 200
    await absent(world, world.lesson(world.MON, 1), world.berzins)
    await absent(world, world.lesson(world.MON, 2), world.berzins)
    reached = await world.events_of("AbsenceThresholdReached")
    assert reached >= 1
    before = (
        await world.client.get(
            f"/api/attendance/students/{world.berzins}/absences", headers=world.deputy
        )
    ).json()

    await world.fetchval(
        """INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version,
               school_id, occurred_at, recorded_at, actor, payload)
           SELECT gen_random_uuid(), 'redelivered-' || event_id, 1, event_type, schema_version,
                  school_id, occurred_at, recorded_at, actor, payload FROM events
           WHERE event_type = 'AbsenceRecorded' AND payload->>'student_id' = $1""",
        str(world.berzins),
    )
    await world.fetchval(
        "INSERT INTO pending_settlements VALUES ($1, $2, now() - interval '1 minute')",
        world.berzins,
        world.school,
    )
    runtime = Runtime.create(world.settings)
    try:
        assert await settle_overdue(runtime) >= 1
    finally:
        await runtime.close()

    assert await world.events_of("AbsenceThresholdReached") == reached
    after = (
        await world.client.get(
            f"/api/attendance/students/{world.berzins}/absences", headers=world.deputy
        )
    ).json()
    assert after == before


async def test_an_excuse_request_outside_the_school_year_names_the_field_and_the_year(
    world: Any,
) -> None:
    world.now = world.at(world.TUE, 12, 0)

    long_ago = await submit(
        world, world.guardian, world.anna, covers_from="2021-10-04", covers_to="2021-10-05"
    )
    into_summer = await submit(
        world,
        world.guardian,
        world.anna,
        document_type="doctor_certificate",
        covers_from="2026-06-15",
        covers_to="2026-07-10",
    )

    assert long_ago.status_code == 422, long_ago.text
    assert long_ago.json()["field"] == "covers_from"
    assert "2025-09-01 to 2026-06-19" in long_ago.json()["message"]
    assert into_summer.status_code == 422, into_summer.text
    assert into_summer.json()["field"] == "covers_to"
    assert "2025/2026" in into_summer.json()["message"]


async def test_a_threshold_no_month_can_reach_is_refused_with_the_range(world: Any) -> None:
    policy = {
        "parent_note_max_days": 3,
        "unexcused_thresholds": [10, 10**12],
        "effective_from": "2025-09-01",
    }

    refused = await world.client.put(
        "/api/attendance/settings/excuse-policy", json=policy, headers=world.deputy
    )

    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "unexcused_thresholds[1]"
    assert "between 1 and 200" in refused.json()["message"]
