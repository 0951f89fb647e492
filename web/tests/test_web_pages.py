"""The web app without the services: rendering, languages, security headers, sessions, refusals
of bad input, and the pure helpers behind the pages. Fast: no database, broker or browser."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import AsyncIterator
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from starlette.datastructures import FormData

from ezurnals.web import create_app, i18n, ui
from ezurnals.web.pages.admin import PASSWORD_ROLES, _bands, name_key
from ezurnals.web.pages.classes import school_year_of
from ezurnals.web.pages.family import CHANNELS, NOTIFICATION_EVENTS, _settings_of
from ezurnals.web.pages.teacher import WORK_KINDS, LessonForm, entry_deadline

TEMPLATES = Path(ui.TEMPLATES)
#: Nothing listens here: every service call fails to connect.
NOWHERE = "http://127.0.0.1:9"
#: Keys built in templates from a prefix and a value the services define.
DYNAMIC = {
    "work_": WORK_KINDS,
    "period_": ("semester1", "semester2", "year", "annual", "final", "exam", "reexam"),
    "role_": ("teacher", "class_teacher", "deputy_director", "director", "admin", "guardian"),
    "event_": NOTIFICATION_EVENTS,
    "channel_": CHANNELS,
    "delivery_": ("immediate", "digest"),
    "service_": ("identity", "lessons", "attendance", "grading", "reporting"),
    "status_": ("submitted", "accepted", "rejected"),
    "doc_": ("parent_note", "doctor_certificate", "school_event", "other"),
}


def token(roles: list[str], person: str = "5d1e0f5c-7c1a-4c2e-9a53-1d2b3c4d5e6f") -> str:
    """An unsigned token shaped like identity's: the web app only reads its claims; the services
    (unreachable here) would verify it."""
    claims = {"sub": person, "roles": roles, "exp": time.time() + 600}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"e30.{body}.sig"


@pytest.fixture
async def web() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app({name: NOWHERE for name in ("identity", "lessons", "attendance", "reporting")})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://web") as client:
        yield client
    await app.state.backend.close()


class Controls(HTMLParser):
    """Form controls and the ``for`` of every label, to check each control is labelled."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("input", "select", "textarea") and found.get("type") != "hidden":
            self.controls.append(found)
        if tag == "label" and found.get("for"):
            self.labelled.add(str(found["for"]))


def unlabelled(html: str) -> list[str]:
    parser = Controls()
    parser.feed(html)
    return [
        str(c.get("name"))
        for c in parser.controls
        if c.get("id") not in parser.labelled and not c.get("aria-label")
    ]


def test_both_languages_have_every_word_the_templates_use() -> None:
    assert set(i18n.MESSAGES["lv"]) == set(i18n.MESSAGES["en"])
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r't\("([a-z_0-9]+)"\)', template.read_text("utf-8")))
    used |= {prefix + value for prefix, values in DYNAMIC.items() for value in values}
    missing = sorted(used - set(i18n.MESSAGES["lv"]))
    assert missing == []
    for language in i18n.LANGUAGES:
        assert all(i18n.MESSAGES[language].values()), language


async def test_the_web_app_serves_its_request_metrics(web: httpx.AsyncClient) -> None:
    await web.get("/sign-in")
    await web.get("/no-such-page")
    metrics = await web.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    counted = re.findall(
        r"^ezurnals_http_request_seconds_count\{([^}]*)\} (\S+)$", metrics.text, re.M
    )
    labels = [dict(re.findall(r'(\w+)="([^"]*)"', text)) for text, _ in counted]
    assert {"service": "web", "method": "GET", "route": "/sign-in", "status": "200"} in labels
    assert {"service": "web", "method": "GET", "route": "unmatched", "status": "404"} in labels


async def test_the_sign_in_page_is_latvian_by_default_english_on_request_and_labelled(
    web: httpx.AsyncClient,
) -> None:
    latvian = await web.get("/sign-in")
    assert latvian.status_code == 200
    assert '<html lang="lv">' in latvian.text and "Lietotājvārds" in latvian.text
    assert unlabelled(latvian.text) == []
    english = await web.get("/sign-in", params={"lang": "en"})
    assert '<html lang="en">' in english.text and "Username" in english.text
    switched = await web.get("/lang/en", params={"next": "/sign-in"})
    assert switched.status_code == 303 and switched.headers["location"] == "/sign-in"
    assert "ez_lang=en" in switched.headers["set-cookie"]
    elsewhere = await web.get("/lang/en", params={"next": "//evil.example/x"})
    assert elsewhere.headers["location"] == "/"


async def test_pages_carry_the_security_headers_and_are_never_cached(
    web: httpx.AsyncClient,
) -> None:
    page = await web.get("/sign-in")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text and "style=" not in page.text


@pytest.mark.parametrize(
    "path",
    [
        "/teacher",
        "/diary",
        "/grades",
        "/excuses",
        "/class",
        "/admin",
        "/admin/briefings",
        "/notifications",
        "/access-log",
        "/account",
    ],
)
async def test_every_page_without_a_session_asks_to_sign_in(
    web: httpx.AsyncClient, path: str
) -> None:
    response = await web.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/sign-in?next={path.replace('/', '%2F')}"


@pytest.mark.parametrize(
    ("roles", "path"),
    [(["teacher"], "/teacher"), (["guardian"], "/notifications"), (["admin"], "/admin/policies")],
)
async def test_a_service_that_cannot_be_reached_is_a_503_page_not_a_crash(
    web: httpx.AsyncClient, roles: list[str], path: str
) -> None:
    web.cookies.set("ez_at", token(roles))
    response = await web.get(path)
    assert response.status_code == 503
    assert "Pakalpojums pašlaik nav pieejams" in response.text


async def test_bad_form_input_is_refused_naming_the_field(web: httpx.AsyncClient) -> None:
    web.cookies.set("ez_at", token(["class_teacher", "teacher"]))
    class_id = "0b7f5a5e-3f2b-4a57-b0a6-8a7b1b2c3d4e"
    for month in ("2026-13", "next month", ""):
        response = await web.post(
            f"/class/{class_id}/statements", data={"month": month, "action": "pdf"}
        )
        assert response.status_code == 422, (month, response.text)
        assert "month" in response.text
    wrong_action = await web.post(
        f"/class/{class_id}/report-cards", data={"period": "semester1", "action": "delete"}
    )
    assert wrong_action.status_code == 422 and "action" in wrong_action.text
    not_a_class = await web.post("/class/5.a/summary-journal")
    assert not_a_class.status_code == 422 and "class_id" in not_a_class.text


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("POST", "/sign-in", {"username": "agnese\x00", "password": "x"}),
        ("POST", "/lessons/0b7f5a5e-3f2b-4a57-b0a6-8a7b1b2c3d4e", {"topic": "Daļskaitļi\x1b[2J"}),
        ("POST", "/diary/excuse", {"student": "0b7f5a5e", "reason": "slims\x00"}),
        ("POST", "/excuses/r-1/reject", {"reason": "\x07"}),
        ("GET", "/lessons/a%00b", None),
        ("GET", "/lessons/a%09b", None),
        ("GET", "/excuses/a%0A/attachment", None),
    ],
)
async def test_control_characters_are_refused_before_a_service_is_called(
    web: httpx.AsyncClient, method: str, path: str, data: dict[str, str] | None
) -> None:
    """The services' free-text rule, at the web app's edge too: a 422 page naming the field, in
    Latvian (English on request), not a 500 (a NUL or tab in a path once broke the URL of the
    service call) nor the services' 503 (nothing listens here)."""
    web.cookies.set("ez_at", token(["teacher", "guardian", "class_teacher"]))
    refused = await web.request(method, path, data=data)
    assert refused.status_code == 422, refused.text
    assert "neatļauta vadības rakstzīme" in refused.text
    english = await web.request(method, f"{path}{'&' if '?' in path else '?'}lang=en", data=data)
    assert "control character that is not allowed" in english.text


async def test_the_proxied_apis_refuse_control_characters_as_the_services_do(
    web: httpx.AsyncClient,
) -> None:
    refused = await web.post("/api/lessons/lessons/x/record", json={"topic": "a\x00"})
    assert refused.status_code == 422
    assert refused.json()["error"] == "control_character"
    assert refused.json()["field"] == "topic"


async def test_an_excuse_for_a_student_that_is_not_an_id_is_refused(
    web: httpx.AsyncClient,
) -> None:
    web.cookies.set("ez_at", token(["guardian"]))
    refused = await web.post("/diary/excuse", data={"student": "Līga", "reason": "slima"})
    assert refused.status_code == 422 and "student" in refused.text


def test_each_role_gets_the_menu_it_needs() -> None:
    def menu(*roles: str) -> list[str]:
        return [href for _, href in ui.nav(frozenset(roles))]

    assert menu("teacher") == ["/teacher", "/account"]
    assert menu("teacher", "class_teacher") == ["/teacher", "/excuses", "/class", "/account"]
    assert menu("director") == ["/teacher", "/class", "/admin", "/account"]
    assert menu("guardian") == ["/diary", "/grades", "/notifications", "/access-log"]
    assert menu("student") == ["/diary", "/grades", "/access-log"]
    assert ui.home_of(frozenset({"guardian"})) == "/diary"


def test_the_lesson_form_keeps_typed_grades_and_a_known_kind_of_work() -> None:
    form = LessonForm.of(
        FormData(
            [
                ("topic", " Daļskaitļi "),
                ("no_homework", "1"),
                ("absent", "a"),
                ("grade-a", "nv"),
                ("grade-b", " 8 "),
                ("grade-c", "   "),
                ("work_title", "Patstāvīgais darbs"),
                ("work_kind", "exam-of-doom"),
            ]
        )
    )
    assert form.topic == "Daļskaitļi" and form.no_homework and form.absent == {"a"}
    assert form.grades == {"a": "nv", "b": "8"}
    assert form.work_title == "Patstāvīgais darbs" and form.work_kind == "other"
    assert form.record() == {"topic": "Daļskaitļi", "no_homework": True}


def test_notification_settings_from_the_form_leave_empty_fields_out() -> None:
    settings = _settings_of(
        FormData(
            [
                ("email", " inese@example.lv "),
                ("channels", "email"),
                ("channels", "fax"),
                ("events", "grade_recorded"),
                ("absence_threshold", "abc"),
                ("quiet_from", ""),
            ]
        )
    )
    assert settings["email"] == "inese@example.lv" and settings["phone"] is None
    assert settings["channels"] == ["email"] and settings["events"] == ["grade_recorded"]
    # Not a number: passed on as typed, so the service's 422 names the field.
    assert settings["absence_threshold"] == "abc"
    assert settings["quiet_from"] is None and settings["delivery"] == "immediate"


def test_helpers_for_names_and_school_years() -> None:
    assert name_key("Ugunsdrošība") == "ugunsdrosiba"
    assert name_key("Ceļu satiksme 2.") == "celu-satiksme-2"
    assert name_key("!!!") == "x"
    assert school_year_of(date(2026, 11, 29)) == "2026/2027"
    assert school_year_of(date(2027, 3, 1)) == "2026/2027"


def test_the_deadline_form_sends_back_the_bands_lessons_answered_with_their_new_times() -> None:
    """The web app knows no grade bands of its own: the form lists lessons' latest version's."""
    form = FormData(
        [
            ("first_grade", "1"),
            ("last_grade", "4"),
            ("deadline", "14:00"),
            ("first_grade", "5"),
            ("last_grade", "12"),
            ("deadline", "17:30"),
        ]
    )
    assert _bands(form) == [
        {"first_grade": 1, "last_grade": 4, "deadline": "14:00"},
        {"first_grade": 5, "last_grade": 12, "deadline": "17:30"},
    ]


def test_a_teachers_deadline_is_the_one_lessons_set() -> None:
    riga = ZoneInfo("Europe/Riga")
    policy = {
        "versions": [
            {
                "effective_from": "2020-09-17",
                "deadlines": [
                    {"first_grade": 1, "last_grade": 6, "deadline": "15:00:00"},
                    {"first_grade": 7, "last_grade": 12, "deadline": "16:00:00"},
                ],
            },
            {
                "effective_from": "2026-03-02",
                "deadlines": [{"first_grade": 1, "last_grade": 12, "deadline": "17:30:00"}],
            },
        ]
    }
    on = entry_deadline(policy, date(2026, 3, 2), 5, riga)
    assert on == datetime(2026, 3, 2, 17, 30, tzinfo=riga)
    before = entry_deadline(policy, date(2026, 2, 27), 5, riga)
    assert before == datetime(2026, 2, 27, 15, 0, tzinfo=riga)
    assert entry_deadline({"versions": []}, date(2026, 3, 2), 5, riga) is None


def test_the_password_form_lists_identitys_staff_roles() -> None:
    assert PASSWORD_ROLES == ("teacher", "class_teacher", "deputy_director", "director", "admin")
