"""The lessons API on the real stack: subjects and timetables, scheduling from the school calendar,
recording against the deadlines (across a daylight-saving change), who may, and the overdue job."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, time, timedelta
from typing import Any

import pytest

from ezurnals.lessons.jobs import raise_overdue
from ezurnals.lessons.service import SERVICE
from ezurnals.shared.service import Runtime
from ezurnals.shared.testing.auth import TestIssuer
from ezurnals.shared.testing.stack import TestStack, eventually, running_worker

from .conftest import Api, School, lessons_api, lessons_settings, project_school, riga

MARCH_SCHOOL_DAYS = 17  # weekdays of March 2026 without the 9–13 March holiday


def slot(weekday: int, teacher: uuid.UUID, subject: str, period: int = 1) -> dict[str, Any]:
    starts = time(8 + period - 1, 30)
    return {
        "weekday": weekday,
        "period": period,
        "starts_at": starts.isoformat(),
        "ends_at": time(starts.hour, 59).isoformat(),
        "subject_id": subject,
        "teacher_id": str(teacher),
    }


@pytest.fixture(scope="module")
async def api(stack: TestStack, issuer: TestIssuer, school: School) -> AsyncIterator[Api]:
    settings = await lessons_settings(stack, issuer, "lessons_flow")
    await project_school(settings, school)
    async with lessons_api(settings, issuer, school) as api:
        api.at(riga(date(2026, 3, 1), time(12, 0)))
        yield api


@pytest.fixture(scope="module")
async def world(api: Api) -> dict[str, Any]:
    """Maths for 5.a and 8.b every weekday at 08:30, scheduled for March 2026."""
    s = api.school
    subject = await api.client.post(
        "/subjects",
        json={
            "subject_id": str(s.maths),
            "name_key": "matematika",
            "name": "Matemātika",
            "curriculum_hours": {"5": 175, "8": 175},
        },
        headers=api.admin,
    )
    assert subject.status_code == 201, subject.text
    timetables = {}
    for class_id in (s.class5, s.class8):
        opened = await api.client.post(
            "/timetables", json={"class_id": str(class_id)}, headers=api.admin
        )
        assert opened.status_code == 201, opened.text
        timetable_id = opened.json()["timetable_id"]
        timetables[class_id] = timetable_id
        for weekday in range(1, 6):
            defined = await api.client.post(
                f"/timetables/{timetable_id}/slots",
                json={
                    "effective_from": "2026-03-01",
                    "slot": slot(weekday, s.teacher, str(s.maths)),
                },
                headers=api.admin,
            )
            assert defined.status_code == 201, defined.text
        scheduled = await api.client.post(
            f"/timetables/{timetable_id}/schedule",
            json={"first_day": "2026-03-01", "last_day": "2026-03-31"},
            headers=api.admin,
        )
        assert scheduled.status_code == 201, scheduled.text
        assert scheduled.json()["lessons"] == MARCH_SCHOOL_DAYS
    return {"timetables": timetables}


async def lesson_on(api: Api, class_id: uuid.UUID, day: date) -> dict[str, Any]:
    found = await api.client.get(
        "/lessons",
        params={
            "class_id": str(class_id),
            "first_day": day.isoformat(),
            "last_day": day.isoformat(),
        },
        headers=api.admin,
    )
    assert found.status_code == 200, found.text
    [lesson] = found.json()
    return dict(lesson)


async def record(api: Api, lesson_id: str, headers: dict[str, str], **body: Any) -> Any:
    payload = {"topic": "Daļskaitļi", "no_homework": True, **body}
    return await api.client.post(f"/lessons/{lesson_id}/record", json=payload, headers=headers)


async def test_scheduling_follows_the_calendar_and_is_repeatable(
    api: Api, world: dict[str, Any]
) -> None:
    s = api.school
    timetable_id = world["timetables"][s.class5]
    lessons = (
        await api.client.get(
            "/lessons",
            params={"class_id": str(s.class5), "first_day": "2026-03-01", "last_day": "2026-03-31"},
            headers=api.admin,
        )
    ).json()
    days = {date.fromisoformat(lesson["lesson_date"]) for lesson in lessons}
    assert len(days) == MARCH_SCHOOL_DAYS
    assert not any(date(2026, 3, 9) <= d <= date(2026, 3, 13) for d in days), "holiday"
    assert all(d.isoweekday() <= 5 for d in days)
    again = await api.client.post(
        f"/timetables/{timetable_id}/schedule",
        json={"first_day": "2026-03-01", "last_day": "2026-03-31"},
        headers=api.admin,
    )
    assert again.status_code == 201 and again.json()["scheduled"] == 0
    refused = await api.client.post(
        f"/timetables/{timetable_id}/schedule",
        json={"first_day": "2026-03-01", "last_day": "2026-03-31"},
        headers=api.teacher,
    )
    assert refused.status_code == 403
    elsewhere = await api.client.post(
        f"/timetables/{timetable_id}/schedule",
        json={"first_day": "2026-03-01", "last_day": "2026-03-31"},
        headers=api.as_(s.admin, "admin", school=uuid.uuid4()),
    )
    assert elsewhere.status_code == 404


async def test_scheduling_outside_the_school_year_names_the_field_and_the_year(
    api: Api, world: dict[str, Any]
) -> None:
    timetable_id = world["timetables"][api.school.class5]

    in_2031 = await api.client.post(
        f"/timetables/{timetable_id}/schedule",
        json={"first_day": "2031-03-02", "last_day": "2031-03-27"},
        headers=api.admin,
    )

    assert in_2031.status_code == 422, in_2031.text
    assert in_2031.json()["field"] == "first_day"
    assert "2025-09-01 to 2026-06-19" in in_2031.json()["message"]
    slot_in_2031 = await api.client.post(
        f"/timetables/{timetable_id}/slots",
        json={
            "effective_from": "2031-03-02",
            "slot": slot(1, api.school.teacher, str(api.school.maths)),
        },
        headers=api.admin,
    )
    assert slot_in_2031.status_code == 422, slot_in_2031.text
    assert slot_in_2031.json()["field"] == "effective_from"
    assert "2025-07-01 to 2026-08-31" in slot_in_2031.json()["message"]


async def test_a_slot_changed_from_a_date_replans_later_lessons_only(
    api: Api, world: dict[str, Any]
) -> None:
    s = api.school
    timetable_id = world["timetables"][s.class8]
    week = (
        await api.client.get(
            f"/timetables/{timetable_id}", params={"on": "2026-04-01"}, headers=api.admin
        )
    ).json()["slots"]
    wednesday = next(x for x in week if x["weekday"] == 3)
    changed = await api.client.put(
        f"/timetables/{timetable_id}/slots/{wednesday['slot_id']}",
        json={"effective_from": "2026-04-01", "slot": slot(3, s.teacher, str(s.maths), period=3)},
        headers=api.admin,
    )
    assert changed.status_code == 201, changed.text
    scheduled = await api.client.post(
        f"/timetables/{timetable_id}/schedule",
        json={"first_day": "2026-03-30", "last_day": "2026-04-03"},
        headers=api.admin,
    )
    assert scheduled.status_code == 201, scheduled.text
    assert (await lesson_on(api, s.class8, date(2026, 3, 25)))["starts_at"] == "08:30:00"
    assert (await lesson_on(api, s.class8, date(2026, 4, 1)))["starts_at"] == "10:30:00"


async def test_csv_import_reports_every_bad_row_and_imports_a_clean_file(
    api: Api, world: dict[str, Any]
) -> None:
    s = api.school
    timetable_id = world["timetables"][s.class5]
    bad = (
        "diena;stunda;sākums;beigas;priekšmets;skolotājs\n"
        f"pirmdiena;1;08:30;09:10;matematika;{s.teacher}\n"
        f"otrdiena;x;08:30;09:10;matematika;{s.teacher}\n"
        f"trešdiena;2;09:20;10:00;fizika;{s.teacher}\n"
        f"ceturtdiena;1;08:30;09:10;matematika;{uuid.uuid4()}\n"
    )
    url = f"/timetables/{timetable_id}/import"
    dry = await api.client.post(
        url, params={"effective_from": "2026-04-06"}, content=bad.encode(), headers=api.admin
    )
    assert dry.status_code == 422, dry.text
    errors = dry.json()["details"]["errors"]
    assert {(e["row"], e["column"]) for e in errors} == {
        (3, "period"),
        (4, "subject"),
        (5, "teacher"),
    }
    good = (
        bad.splitlines()[0]
        + "\n"
        + "\n".join(
            f"{day};1;08:30;09:10;matematika;{s.teacher}"
            for day in ("pirmdiena", "otrdiena", "trešdiena", "ceturtdiena")
        )
    )
    clean = await api.client.post(
        url, params={"effective_from": "2026-04-06"}, content=good.encode(), headers=api.admin
    )
    assert clean.status_code == 200 and len(clean.json()["slots"]) == 4
    week = (
        await api.client.get(
            f"/timetables/{timetable_id}", params={"on": "2026-04-06"}, headers=api.admin
        )
    ).json()["slots"]
    assert len(week) == 5, "a dry run changes nothing"
    done = await api.client.post(
        url,
        params={"effective_from": "2026-04-06", "dry_run": "false"},
        content=good.encode(),
        headers=api.admin,
    )
    assert done.status_code == 201, done.text
    week = (
        await api.client.get(
            f"/timetables/{timetable_id}", params={"on": "2026-04-06"}, headers=api.admin
        )
    ).json()["slots"]
    assert sorted(x["weekday"] for x in week) == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("class_attr", "deadline"),
    [("class5", time(15, 0)), ("class8", time(16, 0))],
)
async def test_entry_deadlines_on_both_sides_of_daylight_saving(
    api: Api, world: dict[str, Any], class_attr: str, deadline: time
) -> None:
    """Riga moves to summer time on 29 March 2026: 15:00/16:00 stay wall-clock times."""
    class_id = getattr(api.school, class_attr)
    minute = timedelta(minutes=1)
    cases = [
        (date(2026, 3, 26), -minute, False),
        (date(2026, 3, 27), minute, True),
        (date(2026, 3, 30), -minute, False),
        (date(2026, 3, 31), minute, True),
    ]
    for day, offset, late in cases:
        lesson = await lesson_on(api, class_id, day)
        api.at(riga(day, deadline) + offset)
        recorded = await record(api, lesson["lesson_id"], api.teacher)
        assert recorded.status_code == 201, recorded.text
        body = recorded.json()
        assert (body["late"], body["minutes_late"]) == (late, 1 if late else 0), (day, offset)
        stream = await api.runtime.store.load(f"lesson-{lesson['lesson_id']}")
        assert [e.event_type for e in stream].count("LessonEntryLate") == (1 if late else 0)


async def test_recording_refusals_name_the_reason(api: Api, world: dict[str, Any]) -> None:
    s = api.school
    lesson = await lesson_on(api, s.class5, date(2026, 3, 2))
    lesson_id = lesson["lesson_id"]
    api.at(riga(date(2026, 3, 2), time(8, 0)))
    future = await record(api, lesson_id, api.teacher)
    assert future.status_code == 422 and future.json()["error"] == "lesson_in_future"
    api.at(riga(date(2026, 3, 2), time(10, 0)))
    missing = await record(api, str(uuid.uuid4()), api.teacher)
    assert missing.status_code == 404 and missing.json()["field"] == "lesson_id"
    other_school = await record(api, lesson_id, api.as_(s.teacher, "teacher", school=uuid.uuid4()))
    assert other_school.status_code == 404
    # a teacher of other classes does not see the lesson: the same answer as a made-up one
    stranger = await record(api, lesson_id, api.as_(s.other_teacher, "teacher"))
    assert (stranger.status_code, stranger.json()) == (404, missing.json())
    # the class teacher sees it but does not give it
    seer = await record(api, lesson_id, api.as_(s.class_teacher, "teacher", "class_teacher"))
    assert seer.status_code == 403, seer.text
    blank = await record(api, lesson_id, api.teacher, topic="   ")
    assert blank.status_code == 422 and blank.json()["field"] == "topic"
    neither = await record(api, lesson_id, api.teacher, no_homework=False)
    assert neither.status_code == 422 and neither.json()["field"] == "homework"
    years_away = await record(
        api,
        lesson_id,
        api.teacher,
        no_homework=False,
        homework={"text": "Lasīt", "due_date": "2031-03-03"},
    )
    assert years_away.status_code == 422, years_away.text
    assert years_away.json()["field"] == "homework.due_date"
    assert "2026-03-03 to 2026-06-30" in years_away.json()["message"]
    assert (await api.client.get(f"/lessons/{lesson_id}", headers=api.admin)).json()[
        "recorded"
    ] is False


async def test_corrections_keep_the_history(api: Api, world: dict[str, Any]) -> None:
    lesson = await lesson_on(api, api.school.class5, date(2026, 3, 3))
    api.at(riga(date(2026, 3, 3), time(12, 0)))
    homework = {"text": "Uzdevumi 1–5", "due_date": "2026-03-05"}
    assert (
        await record(api, lesson["lesson_id"], api.teacher, no_homework=False, homework=homework)
    ).status_code == 201
    corrected = await api.client.post(
        f"/lessons/{lesson['lesson_id']}/corrections",
        json={"topic": "Decimāldaļskaitļi", "no_homework": True, "reason": "typo"},
        headers=api.teacher,
    )
    assert corrected.status_code == 201, corrected.text
    history = corrected.json()["history"]
    assert [h["topic"] for h in history] == ["Daļskaitļi", "Decimāldaļskaitļi"]
    assert history[0]["homework"]["text"] == "Uzdevumi 1–5" and history[1]["no_homework"]
    stream = [e.event_type for e in await api.runtime.store.load(f"lesson-{lesson['lesson_id']}")]
    assert stream.count("HomeworkAssigned") == 1 and "LessonRecordCorrected" in stream


async def test_substitutes_record_and_cancelled_lessons_cannot_be(
    api: Api, world: dict[str, Any]
) -> None:
    s = api.school
    api.at(riga(date(2026, 3, 20), time(12, 0)))
    by_identity = await lesson_on(api, s.class5, date(2026, 3, 17))
    sub = api.as_(s.substitute, "teacher")
    recorded = await record(api, by_identity["lesson_id"], sub)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["substitute_teacher_id"] == str(s.substitute)
    # on a day identity does not assign the substitute, the class's lesson is not theirs to see
    outside = await lesson_on(api, s.class5, date(2026, 3, 23))
    assert (await record(api, outside["lesson_id"], sub)).status_code == 404

    planned = await lesson_on(api, s.class5, date(2026, 3, 6))
    other = api.as_(s.other_teacher, "teacher")
    assert (await record(api, planned["lesson_id"], other)).status_code == 404
    assigned = await api.client.post(
        f"/lessons/{planned['lesson_id']}/substitution",
        json={"substitute_teacher_id": str(s.other_teacher)},
        headers=api.admin,
    )
    assert assigned.status_code == 201, assigned.text
    assert (await record(api, planned["lesson_id"], other)).status_code == 201

    dropped = await lesson_on(api, s.class5, date(2026, 3, 4))
    cancelled = await api.client.post(
        f"/lessons/{dropped['lesson_id']}/cancellation",
        json={"reason": "ekskursija"},
        headers=api.admin,
    )
    assert cancelled.status_code == 201
    refused = await record(api, dropped["lesson_id"], api.teacher)
    assert refused.status_code == 409 and refused.json()["error"] == "lesson_cancelled"


async def test_who_may_read_lessons(api: Api, world: dict[str, Any]) -> None:
    s = api.school
    api.at(riga(date(2026, 3, 20), time(17, 0)))
    of5 = await lesson_on(api, s.class5, date(2026, 3, 18))
    of8 = await lesson_on(api, s.class8, date(2026, 3, 18))
    assert (
        await api.client.get(f"/lessons/{of5['lesson_id']}", headers=api.class_teacher)
    ).status_code == 200
    assert (
        await api.client.get(f"/lessons/{of8['lesson_id']}", headers=api.class_teacher)
    ).status_code == 404
    assert (
        await api.client.get(f"/lessons/{of8['lesson_id']}", headers=api.deputy)
    ).status_code == 200
    assert (
        await api.client.get(
            f"/lessons/{of8['lesson_id']}",
            headers=api.as_(s.deputy, "deputy_director", school=uuid.uuid4()),
        )
    ).status_code == 404

    mine = (await api.client.get("/open-lessons", headers=api.teacher)).json()
    assert of5["lesson_id"] in {x["lesson_id"] for x in mine}
    assert all(x["overdue"] for x in mine if x["lesson_date"] < "2026-03-20")
    for_class = await api.client.get(
        "/open-lessons", params={"class_id": str(s.class5)}, headers=api.class_teacher
    )
    assert for_class.status_code == 200
    assert {x["class_id"] for x in for_class.json()} == {str(s.class5)}
    school_wide = (await api.client.get("/open-lessons", headers=api.deputy)).json()
    assert {x["class_id"] for x in school_wide} == {str(s.class5), str(s.class8)}
    since_forever = await api.client.get(
        "/open-lessons", params={"first_day": "0001-01-01"}, headers=api.deputy
    )
    assert since_forever.status_code == 422, since_forever.text
    assert since_forever.json()["field"] == "first_day"
    assert "at most 400 days back" in since_forever.json()["message"]
    assert (
        await api.client.get(
            "/open-lessons", params={"class_id": str(s.class8)}, headers=api.class_teacher
        )
    ).status_code == 404
    assert (
        await api.client.get(
            "/open-lessons",
            params={"teacher_id": str(s.teacher)},
            headers=api.as_(s.other_teacher, "teacher"),
        )
    ).status_code == 403


async def overdue_counts(runtime: Runtime) -> dict[str, int]:
    async with runtime.db.raw() as conn:
        rows = await conn.fetch(
            "SELECT stream_id, count(*) AS n FROM events WHERE event_type = 'LessonEntryOverdue' "
            "GROUP BY stream_id"
        )
    return {r["stream_id"]: r["n"] for r in rows}


async def test_the_overdue_job_raises_each_lesson_once(api: Api, world: dict[str, Any]) -> None:
    s = api.school
    now = riga(date(2026, 3, 16), time(16, 30))
    api.at(now)
    open_before = [
        x
        for x in (await api.client.get("/open-lessons", headers=api.deputy)).json()
        if x["overdue"]
    ]
    assert open_before, "some lessons are past their deadline"
    first, twin = await asyncio.gather(
        raise_overdue(api.runtime, now), raise_overdue(api.runtime, now)
    )
    restarted = Runtime.create(api.runtime.settings)
    try:
        again = await raise_overdue(restarted, now)
    finally:
        await restarted.close()
    counts = await overdue_counts(api.runtime)
    assert first + twin == len(open_before) == len(counts)
    assert again == 0 and set(counts.values()) == {1}
    late = await lesson_on(api, s.class5, date(2026, 3, 16))
    assert late["overdue"] and not late["recorded"]


async def test_the_worker_raises_overdue_entries_and_a_restart_repeats_none(
    api: Api, world: dict[str, Any]
) -> None:
    """The job runs on the real clock, long after March 2026: every open lesson is overdue."""

    async def all_overdue() -> bool:
        api.at(riga(date(2026, 4, 30), time(18, 0)))
        found = (
            await api.client.get(
                "/lessons",
                params={"first_day": "2026-03-01", "last_day": "2026-04-30"},
                headers=api.deputy,
            )
        ).json()
        return all(x["overdue"] for x in found if not x["recorded"] and not x["cancelled"])

    settings = api.runtime.settings
    async with running_worker(SERVICE, settings):
        await eventually(all_overdue, timeout=30, what="the overdue job caught up")
    first = await overdue_counts(api.runtime)
    april = await api.client.post(
        f"/timetables/{world['timetables'][api.school.class5]}/schedule",
        json={"first_day": "2026-04-01", "last_day": "2026-04-10"},
        headers=api.admin,
    )
    assert april.status_code == 201 and april.json()["scheduled"] > 0
    async with running_worker(SERVICE, settings):
        await eventually(all_overdue, timeout=30, what="the restarted job caught up")
    after = await overdue_counts(api.runtime)
    assert len(after) > len(first) and set(after.values()) == {1}
