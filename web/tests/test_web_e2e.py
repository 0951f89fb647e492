"""The journal's everyday loop in a real headless Chromium: a teacher records a lesson with two
absences and a grade; the parent sees them in the diary and submits an excuse; the class teacher
accepts it; the parent sees the absence excused. Then every other role's pages: the parent's
grades, notification settings and access log; the class teacher's family access letters,
statements, report cards and summary journal (PDF); the administration's compliance, briefings and
policies; one-time codes; an expired staff password; English, a phone screen, labels and
landmarks. A screenshot of each step goes to test-artifacts/web/."""

from __future__ import annotations

import asyncio
import io
import struct
import time
import uuid
import zlib
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from pypdf import PdfReader

from ezurnals.shared.contracts.school_year import starting
from ezurnals.shared.testing.stack import eventually

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
PASSWORD = "kalnu-ezers-rudens-2026"
PHONE = {"width": 390, "height": 844}


def tiny_png() -> bytes:
    """A 1×1 white PNG, as a scanned note would arrive (the service checks the format)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def new_page(browser: Browser, **options: Any) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(locale="lv-LV", **options)
    context.set_default_timeout(20_000)
    return context, await context.new_page()


async def sign_in(
    page: Page, web: str, username: str, totp: str | None = None, password: str = PASSWORD
) -> None:
    await page.goto(f"{web}/sign-in")
    await page.get_by_label("Lietotājvārds").fill(username)
    await page.get_by_label("Parole").fill(password)
    if totp:
        await page.get_by_label("Vienreizējais kods").fill(totp)
    await page.get_by_role("button", name="Pieteikties").click()
    await page.wait_for_load_state()
    assert "/sign-in" not in page.url, await page.content()


async def shot(page: Page, name: str) -> None:
    await page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


async def every_field_is_labelled(page: Page) -> None:
    unlabelled = await page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
              .filter(el => el.type !== 'hidden')
              .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
              .map(el => el.name || el.id)"""
    )
    assert unlabelled == [], unlabelled


async def has_landmarks(page: Page) -> None:
    """A language, one main region, one h1, a skip link to the content; focus lands on main."""
    found = await page.evaluate(
        """() => ({lang: document.documentElement.lang,
                   main: document.querySelectorAll('main').length,
                   h1: document.querySelectorAll('h1').length,
                   skip: document.querySelector('a.skip')?.getAttribute('href')})"""
    )
    assert found == {"lang": found["lang"], "main": 1, "h1": 1, "skip": "#content"}, found
    assert found["lang"] in ("lv", "en")


async def pdf_pages(page: Page, click: Any) -> list[str]:
    """Click what downloads a PDF; the text of each of its pages."""
    async with page.expect_download() as download_info:
        await click()
    download = await download_info.value
    await download.save_as(ARTIFACTS / download.suggested_filename)
    content = await asyncio.to_thread((ARTIFACTS / download.suggested_filename).read_bytes)
    assert content.startswith(b"%PDF-"), content[:20]
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(content)).pages]


async def pdf_text(page: Page, click: Any) -> str:
    """Click what downloads a PDF; the document's text."""
    return "\n".join(await pdf_pages(page, click))


async def fits_the_screen(page: Page) -> None:
    overflow = await page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"


async def reload_until(page: Page, url: str, selector: str, what: str, timeout: float = 60) -> None:
    """Events reach reporting through Kafka: look again until the page shows it."""
    deadline = time.monotonic() + timeout
    while True:
        await page.goto(url)
        if await page.locator(selector).count():
            return
        if time.monotonic() > deadline:
            await shot(page, f"failed-{what.replace(' ', '-')}")
            raise AssertionError(f"{what}: {selector} not shown within {timeout:.0f}s")
        await asyncio.sleep(0.5)


def iso_week(day: Any) -> str:
    year, number, _ = day.isocalendar()
    return f"{year:04d}-W{number:02d}"


async def test_a_lesson_with_two_absences_is_excused_by_the_class_teacher(
    world: Any, browser: Browser
) -> None:
    web, lesson_id = world.web, world.lesson_id
    absent_child, other_absent, present = world.students

    # 1. The teacher opens the lesson from the not-yet-recorded list and records it.
    context, page = await new_page(browser, viewport={"width": 1280, "height": 900})
    await sign_in(page, web, world.teacher.username)
    assert page.url.endswith("/teacher")
    await page.locator("#open-lessons").get_by_role("link").first.click()
    await page.wait_for_url(f"**/lessons/{lesson_id}")
    await every_field_is_labelled(page)
    await expect_text(page, "#deadline", "Ierakstīšanas termiņš")
    await page.get_by_label("Tēma").fill("Daļskaitļu saskaitīšana")
    await page.locator(f"label[for='absent-{absent_child.person_id}']").click()
    await page.locator(f"#absent-{other_absent.person_id}").focus()
    await page.keyboard.press("Space")
    await page.get_by_label("Darbs", exact=True).fill("Daļskaitļi: patstāvīgais darbs")
    await page.get_by_label("Darba veids").select_option("test")
    await page.locator(f"#grade-{present.person_id}").fill("8")
    await page.locator(f"#grade-{absent_child.person_id}").fill("nv")
    # Neither homework nor "no homework": refused, and nothing typed or tapped is lost.
    await page.get_by_role("button", name="Saglabāt").click()
    await expect_text(page, "#form-error", "homework")
    assert await page.get_by_label("Tēma").input_value() == "Daļskaitļu saskaitīšana"
    assert await page.locator(f"#absent-{absent_child.person_id}").is_checked()
    assert await page.locator(f"#absent-{other_absent.person_id}").is_checked()
    assert not await page.locator(f"#absent-{present.person_id}").is_checked()
    assert await page.locator(f"#grade-{present.person_id}").input_value() == "8"
    await page.get_by_label("Mājasdarbs", exact=True).fill("Uzdevumi 12.–15. lpp.")
    await page.get_by_label("Līdz").fill((world.day + timedelta(days=7)).isoformat())
    await shot(page, "01-teacher-lesson-filled")
    await page.get_by_role("button", name="Saglabāt").click()
    await page.wait_for_selector("#saved")
    await expect_text(page, "#lesson-state", "Ierakstīta ar nokavējumu")
    await expect_text(page, "#lesson-state", "Apmeklējums ir ierakstīts")
    await expect_text(page, f"#grade-{present.person_id}-given", "8")
    await shot(page, "02-teacher-lesson-saved")
    sheet = await world.ok(
        "GET",
        "grading",
        f"/classes/{world.class_id}/subjects/{world.subject_id}/sheet",
        world.tokens["teacher"],
    )
    given = [
        (row["student_id"], g["value"], g["work_kind"], g["work_title"])
        for row in sheet["students"]
        for g in row["grades"]
        if g["lesson_id"] == lesson_id
    ]
    assert sorted(given) == sorted(
        [
            (present.person_id, "8", "test", "Daļskaitļi: patstāvīgais darbs"),
            (absent_child.person_id, "nv", "test", "Daļskaitļi: patstāvīgais darbs"),
        ]
    )
    taken = await world.ok(
        "GET", "attendance", f"/lessons/{lesson_id}/attendance", world.tokens["teacher"]
    )
    assert {m["student_id"] for m in taken["marks"]} == {
        absent_child.person_id,
        other_absent.person_id,
    }
    cookies = {c["name"]: c for c in await context.cookies()}
    assert cookies["ez_at"]["httpOnly"] and cookies["ez_at"]["sameSite"] == "Strict"
    assert cookies["ez_rt"]["httpOnly"] and cookies["ez_rt"]["sameSite"] == "Strict"
    await context.close()

    # 2. The parent, on a phone, sees the absence in the diary and submits an excuse.
    parent, page = await new_page(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    await sign_in(page, web, world.guardian.username)
    assert "/diary" in page.url
    row = f"tr[data-lesson='{lesson_id}']"
    diary = f"{web}/diary?week={iso_week(world.day)}"
    await reload_until(page, diary, f"{row}[data-excuse='unexcused']", "absence in the diary")
    await expect_text(page, row, "Daļskaitļu saskaitīšana")
    await expect_text(page, row, "Neattaisnots")
    await every_field_is_labelled(page)
    await fits_the_screen(page)
    await shot(page, "03-parent-diary-absence")
    assert await page.locator(f"#excuse-{lesson_id}").is_checked()
    await page.get_by_label("Iemesls").fill("Saslima ar gripu")
    await page.get_by_label("Dokuments").select_option("parent_note")
    await page.get_by_label("Pielikums").set_input_files(
        {"name": "zime.png", "mimeType": "image/png", "buffer": tiny_png()}
    )
    await page.get_by_role("button", name="Iesniegt").click()
    await expect_text(page, "main", "Attaisnojums ir iesniegts.")
    await expect_text(page, "#requests", "Gaida lēmumu")
    await expect_text(page, row, "Gaida lēmumu")
    assert await page.locator(f"#excuse-{lesson_id}").count() == 0
    await shot(page, "04-parent-excuse-submitted")

    # 3. The class teacher accepts it.
    context, page = await new_page(browser, viewport={"width": 1280, "height": 900})
    await sign_in(page, web, world.class_teacher.username)
    await page.get_by_role("link", name="Attaisnojumi").click()
    card = page.locator("#waiting li").filter(has_text=absent_child.first_name)
    await expect_text(page, "#waiting", f"{absent_child.first_name} {absent_child.last_name}")
    await expect_text(page, "#waiting", "Saslima ar gripu")
    await every_field_is_labelled(page)
    await shot(page, "05-class-teacher-excuse-waiting")
    attachment = await card.get_by_role("link", name="Skatīt pielikumu").get_attribute("href")
    document = await page.request.get(f"{web}{attachment}")
    assert document.status == 200 and await document.body() == tiny_png()
    await card.get_by_role("button", name="Pieņemt").click()
    await expect_text(page, "main", "Attaisnojums pieņemts.")
    await expect_text(page, "#decided", "Pieņemts")
    await shot(page, "06-class-teacher-accepted")
    await context.close()

    # 4. The parent sees the absence excused.
    page = await parent.new_page()
    await reload_until(page, diary, f"{row}[data-excuse='excused']", "excused in the diary")
    await expect_text(page, row, "Attaisnots")
    await expect_text(page, "#requests", "Pieņemts")
    await fits_the_screen(page)
    await shot(page, "07-parent-sees-excused")
    await page.get_by_role("link", name="English").click()
    await expect_text(page, "h1", "Diary")
    await expect_text(page, row, "Excused")
    await shot(page, "08-parent-in-english")
    await parent.close()


async def expect_text(page: Page, selector: str, text: str) -> None:
    locator = page.locator(selector).first
    await locator.wait_for()
    content = await locator.inner_text()
    assert text in content, f"{text!r} not in {selector}: {content!r}"


async def test_the_api_is_proxied_with_the_callers_authorization(world: Any) -> None:
    async with httpx.AsyncClient(base_url=world.web) as client:
        me = await client.get(
            "/api/identity/me",
            headers={"Authorization": f"Bearer {world.tokens['guardian']}"},
        )
        assert me.status_code == 200, me.text
        assert me.json()["person_id"] == world.guardian.person_id
        day = str(world.day)
        listed = await client.get(
            "/api/lessons/lessons",
            params={"first_day": day, "last_day": day, "teacher_id": world.teacher.person_id},
            headers={"Authorization": f"Bearer {world.tokens['teacher']}"},
        )
        assert [x["lesson_id"] for x in listed.json()] == [world.lesson_id], listed.text
        anonymous = await client.get("/api/identity/me")
        assert anonymous.status_code == 401
        unknown = await client.get("/api/nothing/here")
        assert unknown.status_code == 404 and unknown.json()["field"] == "service"


async def test_control_characters_are_a_4xx_and_every_server_keeps_answering(world: Any) -> None:
    """Issue 16: a NUL in a topic was a 500 from PostgreSQL, and the lessons server then dropped
    the keep-alive connection. Now: the service's edge refuses it (422 naming the field) on a
    connection that stays open, the web app's pages refuse it before calling a service, and a
    service's 4xx that a page does not handle is a 4xx page, not a 502."""
    teacher = {"Authorization": f"Bearer {world.tokens['teacher']}"}
    record = f"/api/lessons/lessons/{world.lesson_id}/record"
    async with httpx.AsyncClient(base_url=world.urls["lessons"], headers=teacher) as lessons:
        refused = await lessons.post(record, json={"topic": "Daļskaitļi\x00", "no_homework": True})
        assert refused.status_code == 422, refused.text
        assert (refused.json()["error"], refused.json()["field"]) == ("control_character", "topic")
        after = await lessons.get(f"/api/lessons/lessons/{world.lesson_id}")
        assert after.status_code == 200, after.text
        stream = after.extensions["network_stream"].get_extra_info("client_addr")
        assert stream == refused.extensions["network_stream"].get_extra_info("client_addr")
    async with httpx.AsyncClient(
        base_url=world.web, cookies={"ez_at": world.tokens["teacher"]}
    ) as web:
        page = await web.post(
            f"/lessons/{world.lesson_id}", data={"topic": "Daļskaitļi\x07", "no_homework": "1"}
        )
        assert page.status_code == 422 and "neatļauta vadības rakstzīme" in page.text
        not_an_id = await web.get("/lessons/not-a-lesson")
        assert not_an_id.status_code == 422, not_an_id.text
        assert "Pieprasījums nav derīgs" in not_an_id.text
        assert (await web.get(f"/lessons/{world.lesson_id}")).status_code == 200


async def test_another_familys_child_is_not_found(world: Any, browser: Browser) -> None:
    context, page = await new_page(browser)
    await sign_in(page, world.web, world.guardian.username)
    own, stranger = world.students[0], world.students[1]
    response = await page.goto(f"{world.web}/diary?student={stranger.person_id}")
    assert response is not None and response.status == 200
    await expect_text(page, "h1", f"{own.first_name} {own.last_name}")
    assert stranger.first_name not in await page.locator("main").inner_text()
    response = await page.goto(f"{world.web}/lessons/{world.lesson_id}")
    assert response is not None and response.status == 404
    await context.close()


async def test_signing_out_ends_the_session(world: Any, browser: Browser) -> None:
    context, page = await new_page(browser)
    await page.goto(f"{world.web}/sign-in")
    await page.get_by_label("Lietotājvārds").fill(world.teacher.username)
    await page.get_by_label("Parole").fill("not-the-password")
    await page.get_by_role("button", name="Pieteikties").click()
    await expect_text(page, "[role=alert]", "Nepareizs lietotājvārds vai parole.")
    await sign_in(page, world.web, world.teacher.username)
    await page.get_by_role("button", name="Iziet").click()
    await page.wait_for_url("**/sign-in")
    assert not [c for c in await context.cookies() if c["name"] == "ez_at" and c["value"]]
    await page.goto(f"{world.web}/teacher")
    assert "/sign-in" in page.url
    await context.close()


async def test_the_parent_sees_grades_sets_notifications_and_reads_the_access_log(
    world: Any, browser: Browser
) -> None:
    context, page = await new_page(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    await sign_in(page, world.web, world.guardian.username)
    await page.get_by_role("link", name="Vērtējumi").click()
    await page.wait_for_url("**/grades")
    await expect_text(page, "#grades-table", "Matemātika")
    await expect_text(page, "#grades-table", "Daļskaitļi: patstāvīgais darbs")
    await expect_text(page, "#grades-table .grade", "nv")
    await has_landmarks(page)
    await fits_the_screen(page)
    await shot(page, "09-parent-grades")

    await page.get_by_role("link", name="Paziņojumi").click()
    await every_field_is_labelled(page)
    await fits_the_screen(page)
    await page.get_by_label("Īsziņa").check()
    await page.get_by_label("Kavējums", exact=True).check()
    await page.get_by_role("button", name="Saglabāt").click()
    await expect_text(page, "#form-error", "phone")
    assert await page.get_by_label("Kavējums", exact=True).is_checked()
    await page.get_by_label("Īsziņa").uncheck()
    await page.get_by_label("E-pasts", exact=True).check()
    await page.get_by_label("E-pasta adrese").fill("inese.perkone@example.lv")
    await page.get_by_label("Uzreiz").check()
    await page.get_by_role("button", name="Saglabāt").click()
    await expect_text(page, "main", "Saglabāts.")
    assert await page.get_by_label("E-pasta adrese").input_value() == "inese.perkone@example.lv"
    await shot(page, "10-parent-notifications")
    saved = await world.ok("GET", "reporting", "/notifications/settings", world.tokens["guardian"])
    assert (saved["email"], saved["channels"], saved["events"], saved["delivery"]) == (
        "inese.perkone@example.lv",
        ["email"],
        ["absence_recorded"],
        "immediate",
    )

    await page.get_by_role("link", name="Kas skatīja datus").click()
    await page.wait_for_url("**/access-log")
    # The teacher's lesson screen listed the class: identity records that read itself.
    await expect_text(page, "#access-log", "klases saraksts")
    await expect_text(page, "#access-log", "skolotājs")
    await has_landmarks(page)
    await fits_the_screen(page)
    await shot(page, "11-parent-access-log")
    await context.close()


async def test_the_class_teacher_prints_access_letters_and_statements(
    world: Any, browser: Browser
) -> None:
    context, page = await new_page(
        browser, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    await sign_in(page, world.web, world.class_teacher.username)
    await page.get_by_role("link", name="Klase", exact=True).click()
    await page.wait_for_url("**/class")
    await expect_text(page, "h1", "5.a")
    still_absent = world.students[1]
    await expect_text(
        page, "#class-absences", f"{still_absent.last_name} {still_absent.first_name}"
    )
    await every_field_is_labelled(page)
    await has_landmarks(page)
    await expect_text(page, "#readiness", "0 / 3")
    await shot(page, "12-class-teacher-class")

    letters = await pdf_text(
        page, page.get_by_role("button", name="Izdot piekļuves vēstules (PDF)").click
    )
    assert "5.a" in letters and still_absent.last_name in letters, letters[:500]
    assert "Cēsu pamatskola" in letters or "pamatskola" in letters, letters[:500]

    # Statements are for a month that has ended; the form offers the last one.
    month = (world.day.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert await page.get_by_label("Mēnesis").input_value() == month
    await page.get_by_label("Mēnesis").fill(month)
    await page.get_by_role("button", name="Sagatavot izrakstus").click()
    await expect_text(page, "main", "Izraksti sagatavoti.")
    statements = await pdf_text(
        page, page.locator("#statements").get_by_role("button", name="Lejupielādēt PDF").click
    )
    assert "izraksts" in statements, statements[:500]
    for student in world.students:
        assert student.last_name in statements, (student.last_name, statements[:800])
    await shot(page, "13-class-teacher-statements")

    # No finalised period grades yet: report cards are refused, saying so, not a server error.
    await page.get_by_role("button", name="Izdot liecības").click()
    await expect_text(page, "#form-error", "missing")
    await context.close()


async def test_the_class_teacher_issues_and_prints_report_cards(
    world: Any, browser: Browser
) -> None:
    """A report card needs a finalised semester grade in every subject of the class for every
    student. A second subject joins the class (taught by the class teacher); in each, the teacher
    grades a piece of work, confirms or overrides the suggested semester grades and finalises
    them through the grading API. Once reporting has them all, the class page issues the cards
    and prints them, and the summary journal."""
    admin, class_teacher = world.tokens["admin"], world.class_teacher
    start = world.day.year if world.day.month >= 7 else world.day.year - 1
    school_year = starting(start)  # "2026/2027", the one spelling
    latvian = str(uuid.uuid4())
    await world.ok(
        "POST",
        "lessons",
        "/subjects",
        admin,
        json={
            "subject_id": latvian,
            "name_key": "latviesu-valoda",
            "name": "Latviešu valoda",
            "curriculum_hours": {"5": 140},
        },
    )
    await world.ok(
        "POST",
        "identity",
        f"/classes/{world.class_id}/teaching",
        admin,
        json={
            "teacher_id": class_teacher.person_id,
            "subject_id": latvian,
            "valid_from": f"{start}-07-01",
        },
    )
    readiness = f"/classes/{world.class_id}/report-cards/semester1"

    async def missing(subject: str) -> set[str]:
        found = await world.ok("GET", "reporting", readiness, world.tokens["class_teacher"])
        return {m["student_id"] for m in found["missing"] if m["subject"] == subject}

    everyone = {s.person_id for s in world.students}

    async def new_subject_listed() -> bool:
        return await missing("Latviešu valoda") == everyone

    await eventually(new_subject_listed, timeout=60, interval=0.3, what="reporting lists it")

    # (subject, its teacher, the work's grades, the semester grades: None confirms the suggestion)
    books = (
        (world.subject_id, "teacher", ("7", "5", "9"), (None, "6", None)),
        (latvian, "class_teacher", ("8", "10", "4"), ("9", None, None)),
    )
    given_on = min(world.day, date(start, 12, 31))
    finals: dict[tuple[str, str], str] = {}
    for subject_id, role, work_grades, semester_grades in books:
        book = f"/classes/{world.class_id}/subjects/{subject_id}"
        token = world.tokens[role]
        work = {
            "work": {
                "title": "Semestra pārbaudes darbs",
                "kind": "test",
                "given_on": str(given_on),
            },
            "marks": [
                {"student_id": s.person_id, "value": v, "grade_id": str(uuid.uuid4())}
                for s, v in zip(world.students, work_grades, strict=True)
            ],
        }

        async def graded(book: str = book, token: str = token, work: Any = work) -> bool:
            """Refused (nothing recorded) until grading has the subject and the teaching."""
            response = await world.call("POST", "grading", f"{book}/grades", token, json=work)
            assert response.status_code in (201, 403, 404), response.text
            return bool(response.status_code == 201)

        await eventually(graded, timeout=60, interval=0.3, what=f"grading lets the {role} grade")
        entries = [
            {"student_id": s.person_id} | ({"value": v} if v else {})
            for s, v in zip(world.students, semester_grades, strict=True)
        ]
        answer = await world.ok(
            "PUT", "grading", f"{book}/periods/semester1/grades", token, json={"entries": entries}
        )
        set_grades = {g["student_id"]: g for g in answer["grades"]}
        for student, wanted in zip(world.students, semester_grades, strict=True):
            grade = set_grades[student.person_id]
            if wanted is None:
                assert grade["value"] == grade["suggested_value"] and not grade["overridden"]
            else:
                assert grade["value"] == wanted, grade
            finals[student.person_id, subject_id] = grade["value"]
        done = await world.ok("POST", "grading", f"{book}/periods/semester1/finalize", token)
        assert done == {"period": "semester1", "locked": True, "students": 3}, done

    async def nothing_missing() -> bool:
        found = await world.ok("GET", "reporting", readiness, world.tokens["class_teacher"])
        return found["students"] == 3 and not found["missing"]

    await eventually(nothing_missing, timeout=60, interval=0.3, what="reporting has every grade")

    context, page = await new_page(
        browser, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    await sign_in(page, world.web, class_teacher.username)
    await page.get_by_role("link", name="Klase", exact=True).click()
    await page.wait_for_url("**/class")
    cards = page.locator("#report-cards")
    await expect_text(page, "#readiness", "0 / 3")
    assert await page.locator("#missing-grades").count() == 0
    await cards.get_by_role("button", name="Izdot liecības").click()
    await expect_text(page, "[role=status]", "Izdotas liecības")
    await expect_text(page, "#readiness", "3 / 3")
    await every_field_is_labelled(page)
    await shot(page, "18-class-teacher-report-cards-issued")

    download = cards.locator("form[action$='/report-cards']").get_by_role("button", name="PDF")
    pages = await pdf_pages(page, download.click)
    names = [f"{s.first_name} {s.last_name}" for s in world.students]
    # One card a page, in the order of the names.
    assert [n for text in pages for n in names if f"Skolēns: {n}" in text] == sorted(names)
    for student, name in zip(world.students, names, strict=True):
        [card] = [text for text in pages if f"Skolēns: {name}" in text]
        lines = card.splitlines()
        assert "Cēsu pamatskola" in lines and "Liecība" in lines, card
        assert f"1. semestris, {school_year}. mācību gads" in lines, card
        assert "Klase: 5.a" in lines, card
        math = finals[student.person_id, world.subject_id]
        language = finals[student.person_id, latvian]
        assert f"Latviešu valoda 140 {language} semestra vērtējums" in lines, card
        assert f"Matemātika — {math} semestra vērtējums" in lines, card
        teacher = f"{class_teacher.first_name} {class_teacher.last_name}"
        assert f"Klases audzinātājs: {teacher}" in card, card

    journal = await pdf_text(
        page, cards.locator("form[action$='/summary-journal']").get_by_role("button").click
    )
    assert "Mācību sasniegumu kopsavilkuma žurnāls" in journal, journal
    assert f"5.a klase, {school_year}. mācību gads" in journal, journal
    assert "Latviešu valoda 140 st." in journal and "Matemātika" in journal, journal
    for name in names:
        assert name in journal, (name, journal)
    await context.close()


async def test_the_administration_sees_compliance_briefings_and_policies(
    world: Any, browser: Browser
) -> None:
    context, page = await new_page(browser, viewport={"width": 1280, "height": 900})
    await sign_in(page, world.web, world.admin.username)
    await page.get_by_role("link", name="Administrācija").click()
    await page.wait_for_url("**/admin")
    row = f"#compliance tr[data-teacher='{world.teacher.person_id}']"
    await reload_until(page, f"{world.web}/admin", row, "compliance row")
    await expect_text(page, row, world.teacher.last_name)
    await expect_text(page, "#compliance-totals", "ar nokavējumu")
    await every_field_is_labelled(page)
    await has_landmarks(page)
    await shot(page, "14-admin-compliance")

    await page.get_by_role("link", name="Skolas noteikumi").click()
    await expect_text(page, "#deadline-policy", "15:00")
    await every_field_is_labelled(page)
    await shot(page, "15-admin-policies")

    await page.get_by_role("link", name="Instruktāžas").first.click()
    await page.get_by_label("Nosaukums").fill("Ugunsdrošība")
    await page.get_by_role("button", name="Pievienot").click()
    await expect_text(page, "#briefing-types", "Ugunsdrošība")
    await page.locator("#nb-class").select_option(world.class_id)
    await (
        page.locator("#not-briefed-title ~ form").get_by_role("button", name="Izvēlieties").click()
    )
    await expect_text(page, "#not-briefed", world.students[0].last_name)
    await every_field_is_labelled(page)
    await shot(page, "16-admin-briefings")
    await context.close()


async def test_the_lesson_screen_in_english_on_a_phone(world: Any, browser: Browser) -> None:
    context, page = await new_page(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    await sign_in(page, world.web, world.teacher.username)
    await page.goto(f"{world.web}/lang/en?next=/lessons/{world.lesson_id}")
    await page.wait_for_url(f"**/lessons/{world.lesson_id}")
    await expect_text(page, "#grades legend", "Grades")
    assert await page.get_by_label("Topic").input_value() == "Daļskaitļu saskaitīšana"
    await expect_text(page, "#lesson-state", "Recorded late")
    await every_field_is_labelled(page)
    await has_landmarks(page)
    await fits_the_screen(page)
    await shot(page, "17-teacher-lesson-phone-english")
    await page.get_by_role("link", name="Latviski").click()
    await expect_text(page, "#grades legend", "Vērtējumi")
    await context.close()


async def test_a_staff_member_turns_on_one_time_codes(world: Any, browser: Browser) -> None:
    context, page = await new_page(browser)
    await sign_in(page, world.web, world.class_teacher.username)
    await page.get_by_role("link", name="Konts").click()
    await page.get_by_role("button", name="Ieslēgt vienreizējos kodus").click()
    secret = (await page.locator("#totp-secret code").inner_text()).strip()
    await page.get_by_label("Vienreizējais kods").fill(
        "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    )
    await page.get_by_role("button", name="Apstiprināt").click()
    await expect_text(page, "#form-error", "code")
    await every_field_is_labelled(page)
    await page.get_by_label("Vienreizējais kods").fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Apstiprināt").click()
    await expect_text(page, "main", "Vienreizējie kodi ieslēgti.")
    await page.get_by_role("button", name="Iziet").click()
    await page.wait_for_url("**/sign-in")

    await page.get_by_label("Lietotājvārds").fill(world.class_teacher.username)
    await page.get_by_label("Parole").fill(PASSWORD)
    await page.get_by_role("button", name="Pieteikties").click()
    await expect_text(page, "[role=alert]", "Nepareizs lietotājvārds vai parole.")
    await sign_in(page, world.web, world.class_teacher.username, pyotp.TOTP(secret).now())
    await expect_text(page, "h1", "Stundas")
    await context.close()


async def test_an_expired_staff_password_is_changed_before_anything_else(
    world: Any, system: Any, browser: Browser
) -> None:
    """Staff passwords last 60 days (rule 9). A new teacher's account is activated while
    identity's clock says 61 days ago: her password is as old as if the clock had moved on.
    (Moving it forward instead would issue tokens every service refuses as issued in the future,
    and leave them valid 61 days too long; this way every token stays of the real time.)"""
    admin = world.tokens["admin"]
    start = world.day.year if world.day.month >= 7 else world.day.year - 1
    hired = await world.ok(
        "POST",
        "identity",
        "/staff",
        admin,
        json={
            "person": {"first_name": "Dace", "last_name": "Bērziņa"},
            "roles": ["teacher"],
            "hired_on": f"{start}-07-01",
        },
    )
    issued = await world.ok("POST", "identity", f"/people/{hired['person_id']}/access-code", admin)
    code = issued["codes"][0]
    identity = system.apps["identity"]
    real_clock = identity.state.clock
    identity.state.clock = lambda: real_clock() - timedelta(days=61)
    try:
        await world.ok(
            "POST", "identity", "/activate", json={"code": code["code"], "password": PASSWORD}
        )
    finally:
        identity.state.clock = real_clock

    # Signing in leads straight to the form that changes the password.
    context, page = await new_page(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    await sign_in(page, world.web, code["username"])
    await page.wait_for_url("**/password**")
    await expect_text(page, "h1", "Mainīt paroli")
    await every_field_is_labelled(page)
    await has_landmarks(page)
    await fits_the_screen(page)
    await shot(page, "19-expired-password")

    # Every service refuses her token with password_expired; a page that meets that refusal
    # leads to the form too, and back to that page afterwards.
    token = next(c["value"] for c in await context.cookies() if c["name"] == "ez_at")
    paths = {
        "lessons": "/open-lessons",
        "attendance": f"/classes/{world.class_id}/unexcused-absences",
        "grading": "/settings",
        "reporting": f"/classes/{world.class_id}/report-cards/semester1",
    }
    for service, path in paths.items():
        refused = await world.call("GET", service, path, token)
        assert refused.status_code == 403, (service, refused.text)
        assert refused.json()["error"] == "password_expired", (service, refused.text)
    await page.goto(f"{world.web}/teacher")
    await page.wait_for_url("**/password?next=%2Fteacher")
    assert await page.locator("input[name=next]").input_value() == "/teacher"

    new_password = "ziemas-saulgrieži-pie-ezera"
    await page.get_by_label("Pašreizējā parole").fill(PASSWORD)
    await page.get_by_label("Jaunā parole", exact=True).fill(new_password)
    await page.get_by_label("Jaunā parole vēlreiz").fill(new_password + "!")
    await page.get_by_role("button", name="Mainīt paroli").click()
    await expect_text(page, "#form-error", "Jaunās paroles nesakrīt.")
    await page.get_by_label("Pašreizējā parole").fill(PASSWORD)
    await page.get_by_label("Jaunā parole", exact=True).fill(PASSWORD)
    await page.get_by_label("Jaunā parole vēlreiz").fill(PASSWORD)
    await page.get_by_role("button", name="Mainīt paroli").click()
    await expect_text(page, "#form-error", "used recently")
    await every_field_is_labelled(page)
    await shot(page, "20-expired-password-reused")
    await page.get_by_label("Pašreizējā parole").fill(PASSWORD)
    await page.get_by_label("Jaunā parole", exact=True).fill(new_password)
    await page.get_by_label("Jaunā parole vēlreiz").fill(new_password)
    await page.get_by_role("button", name="Mainīt paroli").click()
    await page.wait_for_url("**/teacher?notice=password_changed")
    await expect_text(page, "[role=status]", "Parole nomainīta.")
    await expect_text(page, "h1", "Stundas")
    await fits_the_screen(page)
    await shot(page, "21-password-changed")

    # The old password is gone; the new one signs in straight to her lessons.
    await page.get_by_role("button", name="Iziet").click()
    await page.wait_for_url("**/sign-in")
    await page.get_by_label("Lietotājvārds").fill(code["username"])
    await page.get_by_label("Parole").fill(PASSWORD)
    await page.get_by_role("button", name="Pieteikties").click()
    await expect_text(page, "[role=alert]", "Nepareizs lietotājvārds vai parole.")
    await sign_in(page, world.web, code["username"], password=new_password)
    assert page.url.endswith("/teacher"), page.url
    await context.close()
