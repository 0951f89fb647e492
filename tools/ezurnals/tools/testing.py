"""``ezurnals up`` run as an operator runs it: a subprocess on its own embedded PostgreSQL and
broker, for the tests that need the whole system (seed, privacy, chaos)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path


@contextlib.contextmanager
def running_up(
    data: Path, log: Path, *, env: Mapping[str, str] | None = None, start_timeout: float = 180
) -> Iterator[subprocess.Popen[bytes]]:
    """``up --data-dir data`` until the block ends, yielded once ``stack.json`` is written.

    The stack takes none of the caller's ``DATABASE_URL``, ``KAFKA_BOOTSTRAP_SERVERS`` or
    ``EZURNALS_*`` settings: it starts as on a fresh machine. ``env`` adds variables.
    """
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"} and not k.startswith("EZURNALS_")
    }
    log.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ezurnals.cli.main", "up", "--data-dir", str(data)],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env={**base, **(env or {})},
    )
    try:
        deadline = time.monotonic() + start_timeout
        while not (data / "stack.json").exists():
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
