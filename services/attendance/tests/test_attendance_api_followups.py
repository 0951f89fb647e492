"""A student who comes of age by identity's word, the daily report the worker makes at the
school's set time, a retried excuse upload, and exactly which thresholds are reported."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import uuid
from typing import TYPE_CHECKING, Any

import httpx

from ezurnals.attendance.jobs import daily_reports, make_due_reports
from ezurnals.shared.service import Runtime
from ezurnals.shared.testing.stack import eventually

if TYPE_CHECKING:
    from .conftest import World

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def excuse(
    world: World, who: dict[str, str], student: uuid.UUID, **extra: Any
) -> httpx.Response:
    data = {
        "student_id": str(student),
        "reason": "pie ārsta",
        "document_type": "parent_note",
        "covers_from": "2025-10-08",
        "covers_to": "2025-10-08",
    }
    return await world.client.post(
        "/api/attendance/excuse-requests", data=data, headers=who, **extra
    )


async def test_a_student_who_came_of_age_submits_for_themself_from_that_day(world: World) -> None:
    """Anna has no guardian-access decision: only identity's StudentCameOfAge makes her adult."""
    as_anna = world.headers(world.anna, "student")
    world.now = world.at(world.WED, 10, 0)
    assert (await excuse(world, as_anna, world.anna)).status_code == 404
    await world.publish(
        "identity",
        [
            (
                "StudentCameOfAge",
                f"person-{world.anna}",
                {"school_id": str(world.school), "student_id": world.anna, "on": "2025-10-08"},
            )
        ],
    )

    async def projected() -> bool:
        since: dt.date | None = await world.fetchval(
            "SELECT adult_since FROM rm.adult_students WHERE student_id = $1", world.anna
        )
        return since == world.WED

    await eventually(projected, what="StudentCameOfAge projected")
    world.now = world.at(world.TUE, 10, 0)
    assert (await excuse(world, as_anna, world.anna)).status_code == 404
    world.now = world.at(world.WED, 10, 0)
    own = await excuse(world, as_anna, world.anna)
    assert own.status_code == 201, own.text
    listed = await world.client.get("/api/attendance/excuse-requests", headers=as_anna)
    assert [(r["request_id"], r["submitted_as"]) for r in listed.json()] == [
        (own.json()["request_id"], "student")
    ]
    not_for_others = await excuse(world, as_anna, world.berzins)
    assert not_for_others.status_code == 404


async def test_a_retried_upload_submits_once_and_a_changed_one_is_refused(world: World) -> None:
    world.now = world.at(world.WED, 10, 0)
    key = {**world.guardian, "Idempotency-Key": str(uuid.uuid4())}
    files = {"attachment": ("zime.pdf", PDF, "application/pdf")}
    before = await world.events_of("ExcuseSubmitted")
    first = await excuse(world, key, world.anna, files=files)
    again = await excuse(world, key, world.anna, files=files)
    assert first.status_code == again.status_code == 201, first.text
    assert first.json() == again.json()
    assert await world.events_of("ExcuseSubmitted") == before + 1
    other_file = {"attachment": ("zime.pdf", PDF + b"% changed\n", "application/pdf")}
    changed = await excuse(world, key, world.anna, files=other_file)
    assert changed.status_code == 422, changed.text
    assert changed.json()["error"] == "idempotency_key_reused"
    other_reason = await world.client.post(
        "/api/attendance/excuse-requests",
        data={
            "student_id": str(world.anna),
            "reason": "cits iemesls",
            "document_type": "parent_note",
            "covers_from": "2025-10-08",
            "covers_to": "2025-10-08",
        },
        files=files,
        headers=key,
    )
    assert other_reason.json()["error"] == "idempotency_key_reused"
    assert await world.events_of("ExcuseSubmitted") == before + 1


async def test_exactly_the_thresholds_reached_are_reported_once_each(world: World) -> None:
    """Otto (6.b) has one lesson a day; thresholds 2 and 3 in the month."""
    world.now = world.at(world.MON, 8, 0)
    policy = {
        "parent_note_max_days": 3,
        "unexcused_thresholds": [2, 3],
        "effective_from": "2025-09-01",
    }
    set_policy = await world.client.put(
        "/api/attendance/settings/excuse-policy", json=policy, headers=world.deputy
    )
    assert set_policy.status_code == 200, set_policy.text

    async def reported() -> list[tuple[str, int, int]]:
        rows = await world.fetchval(
            """SELECT coalesce(json_agg(json_build_array(payload->>'month',
                   (payload->>'threshold')::int, (payload->>'unexcused_lessons')::int)
                   ORDER BY (payload->>'threshold')::int), '[]')
               FROM events WHERE event_type = 'AbsenceThresholdReached'
               AND payload->>'student_id' = $1""",
            str(world.otto),
        )
        return [tuple(r) for r in json.loads(rows)]

    expected: list[list[tuple[str, int, int]]] = [
        [],
        [("2025-10", 2, 2)],
        [("2025-10", 2, 2), ("2025-10", 3, 3)],
        [("2025-10", 2, 2), ("2025-10", 3, 3)],
    ]
    for day, wanted in zip((world.MON, world.TUE, world.WED, world.THU), expected, strict=True):
        world.now = world.at(day, 13, 0)
        taken = await world.client.post(
            f"/api/attendance/lessons/{world.lessons_6b[day]}/attendance",
            json={"marks": [{"student_id": str(world.otto)}]},
            headers=world.other_teacher,
        )
        assert taken.status_code == 201, taken.text
        assert await reported() == wanted, day


async def test_the_worker_makes_the_daily_report_once_at_the_schools_time(world: World) -> None:
    world.now = world.at(world.MON, 8, 0)
    url = "/api/attendance/settings/daily-report"
    schedule = {"at": "10:15", "effective_from": "2025-09-01"}
    assert (await world.client.put(url, json=schedule, headers=world.teacher)).status_code == 403
    bad = await world.client.put(url, json={**schedule, "at": "25:00"}, headers=world.deputy)
    assert bad.status_code == 422 and bad.json()["field"] == "at"
    assert (await world.client.put(url, json=schedule, headers=world.deputy)).status_code == 200
    shown = await world.client.get("/api/attendance/settings", headers=world.teacher)
    assert shown.json()["daily_report_at"] == "10:15"

    world.now = world.at(world.THU, 8, 40)
    taken = await world.client.post(
        f"/api/attendance/lessons/{world.lesson(world.THU, 1)}/attendance",
        json={"marks": [{"student_id": str(world.berzins)}]},
        headers=world.teacher,
    )
    assert taken.status_code == 201, taken.text

    runtime = Runtime.create(world.settings)
    try:
        assert await make_due_reports(runtime, world.at(world.THU, 10, 14)) == []
        made = await make_due_reports(runtime, world.at(world.THU, 10, 15))
        assert made == [(world.school, world.THU)]
        assert await make_due_reports(runtime, world.at(world.THU, 16, 0)) == []
    finally:
        await runtime.close()
    restarted = Runtime.create(world.settings)
    try:
        assert await make_due_reports(restarted, world.at(world.THU, 17, 0)) == []
        saturday = world.THU + dt.timedelta(days=2)
        assert await make_due_reports(restarted, world.at(saturday, 12, 0)) == []
    finally:
        await restarted.close()

    listed = await world.client.get("/api/attendance/reports/daily", headers=world.deputy)
    assert listed.status_code == 200
    [entry] = listed.json()
    assert entry["date"] == "2025-10-09"
    assert dt.datetime.fromisoformat(entry["generated_at"]) == world.at(world.THU, 10, 15)
    stored = await world.client.get(entry["download"], headers=world.deputy)
    assert stored.status_code == 200 and stored.headers["content-type"].startswith("text/csv")
    rows = {r["class"]: r for r in csv.DictReader(io.StringIO(stored.text))}
    assert (rows["5.a"]["absent"], rows["5.a"]["lessons_taken"]) == ("1", "1")
    assert rows["6.b"]["date"] == "2025-10-09"

    for denied in (world.class_teacher, world.teacher, world.guardian):
        assert (await world.client.get(entry["download"], headers=denied)).status_code == 403
        listed_denied = await world.client.get("/api/attendance/reports/daily", headers=denied)
        assert listed_denied.status_code == 403
    elsewhere = world.issuer.headers(world.dace, uuid.uuid4(), ["deputy_director"])
    assert (await world.client.get(entry["download"], headers=elsewhere)).status_code == 403
    none = await world.client.get(
        "/api/attendance/reports/daily/2025-10-08.csv", headers=world.deputy
    )
    assert none.status_code == 404 and none.json()["field"] == "day"
    on_demand = await world.client.get(
        "/api/attendance/reports/daily.csv", params={"date": "2025-10-09"}, headers=world.deputy
    )
    assert on_demand.status_code == 200


async def test_the_report_job_runs_on_its_clock_until_stopped(world: World) -> None:
    """The job as the worker runs it, with a clock set to Wednesday after the school's time."""
    runtime = Runtime.create(world.settings)
    stop = asyncio.Event()
    job = asyncio.create_task(
        daily_reports(clock=lambda: world.at(world.WED, 11, 0), interval_seconds=0.05)(
            runtime, stop
        )
    )
    try:

        async def made() -> bool:
            found = await world.fetchval(
                "SELECT count(*) FROM daily_reports WHERE school_id = $1 AND report_date = $2",
                world.school,
                world.WED,
            )
            return bool(found == 1)

        await eventually(made, what="Wednesday's report made by the job")
    finally:
        stop.set()
        await asyncio.wait_for(job, 10)
        await runtime.close()
    assert job.exception() is None
