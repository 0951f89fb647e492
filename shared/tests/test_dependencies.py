"""The shared library depends on no service, no web app and no tool: every service builds on it,
and its image must not carry another service or the developer's tools."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1] / "ezurnals"
NOT_SHARED = ("identity", "lessons", "attendance", "grading", "reporting", "web", "tools")


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
    return modules


def test_the_scan_sees_every_import_form(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import ezurnals.web\ndef f():\n    from ezurnals.tools.up import x\n")
    assert imported_modules(module) == {"ezurnals.web", "ezurnals.tools.up"}


@pytest.mark.parametrize(
    "path", sorted(SHARED.rglob("*.py")), ids=lambda p: p.relative_to(SHARED).as_posix()
)
def test_shared_imports_no_service_web_app_or_tool(path: Path) -> None:
    forbidden = {
        module
        for module in imported_modules(path)
        if module.split(".")[:2] in (["ezurnals", name] for name in NOT_SHARED)
    }
    assert forbidden == set()
