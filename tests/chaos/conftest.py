"""One real ``ezurnals up`` for this folder: embedded PostgreSQL and Kafka, every service."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ezurnals.tools.testing import running_up


@pytest.fixture(scope="session")
def up_dir() -> Iterator[Path]:
    """The stack's data dir, with ``stack.json`` written. Outside pytest's tmp dir: that one is
    private to root, while the embedded server runs as its own user."""
    root = Path(tempfile.mkdtemp(prefix="ezurnals-chaos-"))
    try:
        with running_up(root / "data", root / "up.log"):
            yield root / "data"
    finally:
        shutil.rmtree(root, ignore_errors=True)
