"""No personal data in the logs: a small seeded school run through the public APIs of a real
`ezurnals up` (every API and worker logging structlog JSON at DEBUG), then every log file of
the run searched for every seeded person's first name, surname and personal code.

The search is shown to work on the same run: the names and codes it looks for come back from
identity's API (a personal file the administration reads), and the search finds them there.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from ezurnals.shared.settings import SERVICES
from ezurnals.tools.seed import (
    RIGA,
    SchoolRun,
    SeedOptions,
    SeedResult,
    current_school_year,
    load_urls,
    operator_secret,
    run_seed,
)
from ezurnals.tools.seeding.client import PASSWORD
from ezurnals.tools.seeding.plan import Person, SchoolYear
from ezurnals.tools.testing import running_up

pytestmark = pytest.mark.slow

STUDENTS = 16
SEED = 20261129


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`ezurnals up` with every process logging JSON at DEBUG into ``<data>/logs``."""
    root = tmp_path_factory.mktemp("privacy")
    data = root / "data"
    (data / "logs").mkdir(parents=True)
    env = {"EZURNALS_LOG_LEVEL": "DEBUG", "EZURNALS_LOG_JSON": "true"}
    with running_up(data, data / "logs" / "up.log", env=env):
        yield data


@pytest.fixture(scope="module")
async def seeded(data_dir: Path) -> SeedResult:
    now = datetime.now(RIGA)
    options = SeedOptions(
        schools=1,
        year=SchoolYear.of(current_school_year(now.date())),
        days=1,
        seed=SEED,
        max_students=STUDENTS,
    )
    console = Console(file=io.StringIO(), width=120)
    result = await run_seed(load_urls(data_dir, None), options, operator_secret(data_dir), console)
    assert result.stats.errors == 0, result.stats.messages
    return result


def created_people(run: SchoolRun) -> list[Person]:
    """Everyone the seeder registered in identity: the admin, staff, students, guardians."""
    people = [run.plan.admin, *(p for key, p in run.plan.people.items() if key in run.ids)]
    assert any(p.personal_code for p in people), "the seed gave no personal codes"
    return people


def needles(people: list[Person]) -> dict[str, re.Pattern[str]]:
    """Each name, surname and personal code, as written and as JSON escapes it (structlog's
    JSON is ASCII: "Bērziņa" is logged as "B\\u0113rzi\\u0146a"), as a whole word."""
    words = {
        value
        for p in people
        for value in (p.first_name, p.last_name, p.personal_code)
        if value is not None
    }
    found: dict[str, re.Pattern[str]] = {}
    for word in words:
        forms = {word, json.dumps(word)[1:-1], json.dumps(word, ensure_ascii=False)[1:-1]}
        alternatives = "|".join(re.escape(f) for f in sorted(forms))
        found[word] = re.compile(rf"(?<![\w\\])(?:{alternatives})(?!\w)")
    return found


def search(text: str, patterns: dict[str, re.Pattern[str]]) -> dict[str, str]:
    """Which of the words occur in ``text``, each with the line it occurs in."""
    hits: dict[str, str] = {}
    for line in text.splitlines():
        for word, pattern in patterns.items():
            if word not in hits and pattern.search(line):
                hits[word] = line[:300]
    return hits


def log_files(data_dir: Path) -> list[Path]:
    """Every process's log (APIs, workers, web app, broker, `up` itself) and the embedded
    PostgreSQL server's, which would hold the values of a failing statement."""
    found = [p for p in (data_dir / "logs").rglob("*") if p.is_file()]
    found += [p for p in (data_dir / "postgres").glob("log*") if p.is_file()]
    return sorted(found)


async def test_the_logs_hold_no_seeded_name_or_personal_code(
    data_dir: Path, seeded: SeedResult
) -> None:
    [run] = seeded.schools
    people = created_people(run)
    patterns = needles(people)
    assert len(patterns) >= 2 * STUDENTS

    # The search finds what it looks for: a student's file, as identity's API returns it.
    urls = load_urls(data_dir, None)
    student = next(
        run.plan.people[key]
        for key in run.plan.students
        if key in run.ids and run.plan.people[key].personal_code
    )
    async with httpx.AsyncClient(timeout=30) as http:
        signed = await http.post(
            f"{urls['identity']}/api/identity/sign-in",
            json={"username": run.usernames["admin"], "password": PASSWORD},
        )
        assert signed.status_code == 200, signed.text
        admin = {"Authorization": f"Bearer {signed.json()['access_token']}"}
        file = await http.get(
            f"{urls['identity']}/api/identity/people/{run.ids[student.key]}", headers=admin
        )
        assert file.status_code == 200, file.text
    assert file.json()["personal_data"]["personal_code"] == student.personal_code
    shown = search(file.text, patterns)
    assert {student.first_name, student.last_name, student.personal_code} <= set(shown)
    # … also as a JSON log line would carry it.
    as_logged = json.dumps({"event": "example", "person": file.json()["personal_data"]})
    assert student.last_name in search(as_logged, patterns)

    # Every API and worker wrote JSON logs of this run.
    files = log_files(data_dir)
    for service in SERVICES:
        for process in ("api", "worker"):
            path = data_dir / "logs" / f"{service}-{process}.log"
            assert path in files, f"no {path.name} among {[f.name for f in files]}"
            lines = [line for line in path.read_text().splitlines() if line.startswith("{")]
            assert lines, f"{path.name} holds no JSON log line"
            assert all("event" in json.loads(line) for line in lines[:50]), lines[:3]

    leaks = {
        f"{path.name}: {word}": line
        for path in files
        for word, line in search(path.read_text(errors="replace"), patterns).items()
    }
    assert not leaks, json.dumps(leaks, ensure_ascii=False, indent=1)[:5000]
