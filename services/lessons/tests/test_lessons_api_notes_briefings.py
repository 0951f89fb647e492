"""Consultation notes against the 20:00 cut-off, the deadline policy, and safety briefings with
their printable Latvian form."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from datetime import date, time

import pypdf
import pytest

from ezurnals.lessons.domain.policy import seed_rules_set
from ezurnals.lessons.reactions import reactions
from ezurnals.shared.contracts import identity as idn
from ezurnals.shared.contracts.base import EventEnvelope
from ezurnals.shared.testing.auth import TestIssuer
from ezurnals.shared.testing.stack import TestStack

from .conftest import Api, School, lessons_api, lessons_settings, project_school, riga

DAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
async def api(stack: TestStack, issuer: TestIssuer, school: School) -> AsyncIterator[Api]:
    settings = await lessons_settings(stack, issuer, "lessons_notes")
    await project_school(settings, school)
    async with lessons_api(settings, issuer, school) as api:
        api.at(riga(DAY, time(12, 0)))
        yield api


def note(api: Api, **extra: object) -> dict[str, object]:
    """A conversation with one of the school's students."""
    return {
        "kind": "parent_conversation",
        "participant_ids": [str(api.school.students[0])],
        "summary": "Sarunājām par mājasdarbiem",
        "held_on": DAY.isoformat(),
        **extra,
    }


async def test_consultation_notes_close_at_20_00_unless_a_deputy_overrides(api: Api) -> None:
    api.at(riga(DAY, time(19, 59)))
    assert (
        await api.client.post("/consultations", json=note(api), headers=api.teacher)
    ).status_code == 201
    api.at(riga(DAY, time(20, 1)))
    late = await api.client.post("/consultations", json=note(api), headers=api.teacher)
    assert late.status_code == 422, late.text
    assert late.json()["field"] == "held_on"
    assert late.json()["details"]["cutoff_local_time"] == "20:00"
    reason = {"override_reason": "Saruna beidzās vēlu"}
    teacher = await api.client.post("/consultations", json=note(api, **reason), headers=api.teacher)
    assert teacher.status_code == 403
    deputy = await api.client.post("/consultations", json=note(api, **reason), headers=api.deputy)
    assert (
        deputy.status_code == 201 and deputy.json()["override_reason"] == reason["override_reason"]
    )
    school_day = (
        await api.client.get(
            "/consultations", params={"held_on": DAY.isoformat()}, headers=api.deputy
        )
    ).json()
    own = (
        await api.client.get(
            "/consultations", params={"held_on": DAY.isoformat()}, headers=api.teacher
        )
    ).json()
    assert len(school_day) == 2 and len(own) == 1


async def test_a_note_of_another_school_year_is_refused_even_with_an_override(api: Api) -> None:
    api.at(riga(DAY, time(12, 0)))

    refused = await api.client.post(
        "/consultations",
        json=note(api, held_on="2021-03-01", override_reason="Aizmirsu ierakstīt"),
        headers=api.deputy,
    )

    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "held_on"
    assert "2025-09-01 to 2026-06-19" in refused.json()["message"]


async def test_a_deadline_policy_version_starts_today_or_later(api: Api) -> None:
    api.at(riga(DAY, time(12, 0)))
    bands = [
        {"first_grade": 1, "last_grade": 6, "deadline": "14:00"},
        {"first_grade": 7, "last_grade": 12, "deadline": "16:00"},
    ]
    past = await api.client.post(
        "/deadline-policy",
        json={"effective_from": "2026-03-01", "deadlines": bands, "consultation_cutoff": "20:00"},
        headers=api.admin,
    )
    assert past.status_code == 422 and past.json()["field"] == "effective_from"
    gap = await api.client.post(
        "/deadline-policy",
        json={
            "effective_from": "2026-04-01",
            "deadlines": bands[:1],
            "consultation_cutoff": "20:00",
        },
        headers=api.admin,
    )
    assert gap.status_code == 422 and gap.json()["field"] == "deadlines"
    assert (
        await api.client.post(
            "/deadline-policy",
            json={
                "effective_from": "2026-04-01",
                "deadlines": bands,
                "consultation_cutoff": "20:00",
            },
            headers=api.teacher,
        )
    ).status_code == 403
    ok = await api.client.post(
        "/deadline-policy",
        json={"effective_from": "2026-04-01", "deadlines": bands, "consultation_cutoff": "20:00"},
        headers=api.admin,
    )
    assert ok.status_code == 201, ok.text
    versions = (await api.client.get("/deadline-policy", headers=api.teacher)).json()["versions"]
    assert [v["effective_from"] for v in versions] == ["2020-09-17", "2026-04-01"]


async def test_a_briefing_its_acknowledgements_and_who_is_not_briefed(api: Api) -> None:
    s = api.school
    api.at(riga(DAY, time(12, 0)))
    kind = await api.client.post(
        "/briefing-types",
        json={"name_key": "ugunsdrosiba", "name": "Ugunsdrošība"},
        headers=api.admin,
    )
    assert kind.status_code == 201, kind.text
    type_id = kind.json()["briefing_type_id"]
    not_yet = await api.client.get(
        f"/classes/{s.class5}/not-briefed",
        params={"briefing_type_id": type_id},
        headers=api.class_teacher,
    )
    assert sorted(not_yet.json()["student_ids"]) == sorted(str(x) for x in s.students)

    stranger = await api.client.post(
        "/briefings",
        json={
            "briefing_type_id": type_id,
            "class_id": str(s.class5),
            "conducted_on": DAY.isoformat(),
            "topic": "Evakuācija",
        },
        headers=api.as_(s.other_teacher, "teacher"),
    )
    assert stranger.status_code == 404  # a class the teacher does not teach is not seen
    given = await api.client.post(
        "/briefings",
        json={
            "briefing_type_id": type_id,
            "class_id": str(s.class5),
            "conducted_on": DAY.isoformat(),
            "topic": "Evakuācija",
        },
        headers=api.class_teacher,
    )
    assert given.status_code == 201, given.text
    briefing_id = given.json()["briefing_id"]
    assert sorted(given.json()["student_ids"]) == sorted(str(x) for x in s.students)
    first, second, third = s.students
    paper = await api.client.post(
        f"/briefings/{briefing_id}/acknowledgements",
        json={"student_id": str(first), "how": "paper"},
        headers=api.class_teacher,
    )
    assert paper.status_code == 201, paper.text
    in_app = await api.client.post(
        f"/briefings/{briefing_id}/acknowledgements",
        json={"student_id": str(second), "how": "app"},
        headers=api.as_(second, "student"),
    )
    assert in_app.status_code == 201
    for_someone_else = await api.client.post(
        f"/briefings/{briefing_id}/acknowledgements",
        json={"student_id": str(third), "how": "app"},
        headers=api.as_(second, "student"),
    )
    assert for_someone_else.status_code == 403
    outsider = await api.client.post(
        f"/briefings/{briefing_id}/acknowledgements",
        json={"student_id": str(uuid.uuid4()), "how": "paper"},
        headers=api.class_teacher,
    )
    assert outsider.status_code == 422 and outsider.json()["field"] == "student_id"
    left = await api.client.get(
        f"/classes/{s.class5}/not-briefed", params={"briefing_type_id": type_id}, headers=api.deputy
    )
    assert left.json()["student_ids"] == [str(third)]
    elsewhere = await api.client.get(
        f"/briefings/{briefing_id}",
        headers=api.as_(s.deputy, "deputy_director", school=uuid.uuid4()),
    )
    assert elsewhere.status_code == 404


async def test_a_briefing_dated_outside_the_school_year_is_the_dates_fault(api: Api) -> None:
    s = api.school
    api.at(riga(DAY, time(12, 0)))
    kind = await api.client.post(
        "/briefing-types",
        json={"name_key": "cels", "name": "Ceļu satiksme"},
        headers=api.admin,
    )
    assert kind.status_code == 201, kind.text
    briefing = {
        "briefing_type_id": kind.json()["briefing_type_id"],
        "class_id": str(s.class5),
        "conducted_on": "2021-09-02",
        "topic": "Ceļu satiksmes noteikumi",
    }

    long_ago = await api.client.post("/briefings", json=briefing, headers=api.class_teacher)
    group = await api.client.post(
        "/briefings",
        json={**briefing, "class_id": None, "student_ids": [str(s.students[0])]},
        headers=api.class_teacher,
    )
    tomorrow = await api.client.post(
        "/briefings",
        json={**briefing, "conducted_on": "2026-03-03"},
        headers=api.class_teacher,
    )

    for refused in (long_ago, group):
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == "conducted_on"
        assert "2025-09-01 to 2026-06-19" in refused.json()["message"]
    assert tomorrow.status_code == 422, tomorrow.text
    assert tomorrow.json()["field"] == "conducted_on"
    assert "2026-03-02 or earlier" in tomorrow.json()["message"]


async def test_the_printed_form_lists_the_students_with_latvian_letters(api: Api) -> None:
    s = api.school
    api.at(riga(DAY, time(12, 0)))
    kind = await api.client.post(
        "/briefing-types",
        json={"name_key": "celu-satiksme", "name": "Ceļu satiksmes drošība"},
        headers=api.admin,
    )
    given = await api.client.post(
        "/briefings",
        json={
            "briefing_type_id": kind.json()["briefing_type_id"],
            "class_id": str(s.class5),
            "conducted_on": DAY.isoformat(),
            "topic": "Drošs ceļš uz skolu",
        },
        headers=api.deputy,
    )
    assert given.status_code == 201, given.text
    url = f"/briefings/{given.json()['briefing_id']}/form"
    names = dict(
        zip(map(str, s.students), ["Ģirts Ābols", "Līga Šņore", "Žanis Ķēniņš"], strict=True)
    )
    partial = await api.client.post(
        url, json={"names": dict(list(names.items())[:2])}, headers=api.class_teacher
    )
    assert partial.status_code == 422 and partial.json()["field"] == "names"
    pdf = await api.client.post(
        url, json={"names": names, "conducted_by_name": "Ilze Bērziņa"}, headers=api.class_teacher
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    for name in [
        *names.values(),
        "Ceļu satiksmes drošība",
        "Drošs ceļš uz skolu",
        "5.a",
        "Ilze Bērziņa",
        "Paraksts",
    ]:
        assert name in text, name


async def test_a_registered_school_gets_the_seed_deadlines_as_an_event_once(api: Api) -> None:
    """Attendance, reporting and the web app learn the deadline only from lessons' events, so
    lessons records the seed rules for a school identity registered; a redelivery adds none."""
    s = api.school
    stream = f"deadline-policy-{s.school_id}"
    seeded = [e.parse() for e in await api.runtime.store.load(stream)]
    assert seeded[0] == seed_rules_set(s.school_id)
    assert seeded[0].deadlines[0].deadline == time(15, 0)
    assert seeded[0].deadlines[-1].deadline == time(16, 0)
    assert str(seeded[0].effective_from) == "2020-09-17"
    again = idn.SchoolRegistered(school_id=s.school_id, name="Skola", time_zone="Europe/Riga")
    envelope = EventEnvelope(
        event_type=again.event_type,
        schema_version=again.schema_version,
        stream_id=f"school-{s.school_id}",
        stream_version=1,
        school_id=s.school_id,
        payload=again.model_dump(mode="json"),
    )
    (reaction,) = reactions(api.runtime.settings)
    async with api.runtime.db.raw() as conn, conn.transaction():
        await reaction.apply(conn, envelope, again)
    assert [e.parse() for e in await api.runtime.store.load(stream)] == seeded


async def test_a_note_names_only_the_schools_own_people(api: Api) -> None:
    """Someone the school does not know (another school's pupil or parent) is not yours: the
    note is refused as for a person that does not exist, naming the participant."""
    stranger = str(uuid.uuid4())
    body = note(api, participant_ids=[str(api.school.students[0]), stranger])
    refused = await api.client.post("/consultations", json=body, headers=api.teacher)
    assert refused.status_code == 404, refused.text
    assert (refused.json()["field"], refused.json()["message"]) == (
        "participant_ids[1]",
        "no such person",
    )
