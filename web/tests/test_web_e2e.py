"""The journal's everyday loop in a real headless Chromium: a teacher records a lesson with two
absences; the parent sees them in the diary and submits an excuse; the class teacher accepts it;
the parent sees the absence excused. A screenshot of each step goes to test-artifacts/web/."""

from __future__ import annotations

import asyncio
import struct
import time
import zlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

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


async def sign_in(page: Page, web: str, username: str) -> None:
    await page.goto(f"{web}/sign-in")
    await page.get_by_label("Lietotājvārds").fill(username)
    await page.get_by_label("Parole").fill(PASSWORD)
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
    # Neither homework nor "no homework": refused, and nothing typed or tapped is lost.
    await page.get_by_role("button", name="Saglabāt").click()
    await expect_text(page, "#form-error", "homework")
    assert await page.get_by_label("Tēma").input_value() == "Daļskaitļu saskaitīšana"
    assert await page.locator(f"#absent-{absent_child.person_id}").is_checked()
    assert await page.locator(f"#absent-{other_absent.person_id}").is_checked()
    assert not await page.locator(f"#absent-{present.person_id}").is_checked()
    await page.get_by_label("Mājasdarbs", exact=True).fill("Uzdevumi 12.–15. lpp.")
    await page.get_by_label("Līdz").fill((world.day + timedelta(days=7)).isoformat())
    await shot(page, "01-teacher-lesson-filled")
    await page.get_by_role("button", name="Saglabāt").click()
    await page.wait_for_selector("#saved")
    await expect_text(page, "#lesson-state", "Ierakstīta ar nokavējumu")
    await expect_text(page, "#lesson-state", "Apmeklējums ir ierakstīts")
    await shot(page, "02-teacher-lesson-saved")
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
