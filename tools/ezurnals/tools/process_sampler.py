"""Where the two cores went during a benchmark: the CPU and peak memory of every process of the
stack, read from the kernel by a process of its own.

Not a thread of the load client: a proportional sample (every PostgreSQL backend's page map)
takes from tens of milliseconds to over a second on a busy machine, and a thread holding the GIL
in between stalled the client's event loop by up to a few hundred milliseconds, inside the
latencies it was timing. The sampler is this module run as a child (``python -m``), asked for a
reading by a line on its stdin and answering one on its stdout; it imports only psutil, so it
starts quickly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import psutil

CLIENT = "bench load (this client)"
SAMPLER = "bench load (its sampler)"


#: Per process: (when it was read, time.monotonic(); memory in bytes; CPU seconds so far).
Reading = dict[str, tuple[float, int, float]]


def sample_processes(pids: dict[str, int], proportional: bool) -> Reading:
    """Every process read once (in the sampler's process). PostgreSQL counts with all its
    backends; its memory (``proportional`` only, else 0) is the proportional set size, so
    shared buffers count once."""
    found: Reading = {}
    for name, pid in {**pids, SAMPLER: os.getpid()}.items():
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            tree = [process]
            if name == "postgres":
                tree += process.children(recursive=True)
                used = sum(_pss(p) for p in tree) if proportional else 0
            else:
                used = process.memory_info().rss
            found[name] = (time.monotonic(), used, sum(_cpu_seconds(p) for p in tree))
    return found


class ProcessSampler:
    """The peak resident memory of each process of the stack, and the CPU each used between the
    first and the last sample. Use as an async context manager (it owns the sampling process)."""

    def __init__(self, stack_file: Path) -> None:
        self.stack_file = stack_file
        self.peak_mb: dict[str, float] = defaultdict(float)
        self._cpu: dict[str, tuple[float, float]] = {}
        self._cpu_first: dict[str, tuple[float, float]] = {}
        #: How long each sample took, in ms (in the sampler's process, beside the client).
        self.sample_ms: list[float] = []
        self._child: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> ProcessSampler:
        self._child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        assert child.stdin is not None
        child.stdin.close()  # the child ends at the end of its input
        try:
            await asyncio.wait_for(child.wait(), 10.0)
        except TimeoutError:
            child.kill()
            await child.wait()

    def _pids(self) -> dict[str, int]:
        pids: dict[str, int] = {CLIENT: os.getpid()}
        with contextlib.suppress(OSError, ValueError):
            stack = json.loads(self.stack_file.read_text())
            pids |= {**stack.get("processes", {}), **stack.get("infrastructure", {})}
        return pids

    async def sample(self, *, proportional: bool = True) -> None:
        """``proportional``: PostgreSQL's memory too, which reads every backend's page map."""
        child = self._child
        assert child and child.stdin and child.stdout, "use ProcessSampler with async with"
        started = time.perf_counter()
        asked = {"pids": self._pids(), "proportional": proportional}
        child.stdin.write(json.dumps(asked).encode() + b"\n")
        await child.stdin.drain()
        found: Reading = json.loads(await child.stdout.readline())
        self.sample_ms.append((time.perf_counter() - started) * 1000)
        for name, (at, used, cpu) in found.items():
            self.peak_mb[name] = max(self.peak_mb[name], round(used / 2**20, 1))
            self._cpu[name] = (at, cpu)
            self._cpu_first.setdefault(name, self._cpu[name])

    def cpu_seconds(self) -> dict[str, float]:
        """Per process, the CPU seconds used between the first and the last sample."""
        return {name: used - self._cpu_first[name][1] for name, (_, used) in self._cpu.items()}

    def cpu_percent(self) -> dict[str, float]:
        """Per process, the CPU used between the first and last sample, in % of one core
        (PostgreSQL's backends counted while they lived)."""
        out = {}
        for name, (at, used) in self._cpu.items():
            first_at, first_used = self._cpu_first[name]
            if at > first_at:
                out[name] = round(100 * (used - first_used) / (at - first_at), 1)
        return dict(sorted(out.items(), key=lambda item: -item[1]))

    async def run(self, stop: asyncio.Event) -> None:
        """A sample every second until ``stop``; PostgreSQL's memory every fifth."""
        ticks = 0
        while not stop.is_set():
            await self.sample(proportional=ticks % 5 == 0)
            ticks += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)


def _cpu_seconds(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system)


def _pss(process: psutil.Process) -> int:
    try:
        return int(process.memory_full_info().pss)
    except (psutil.Error, AttributeError):
        return int(process.memory_info().rss)


def main() -> None:
    """The sampler's process: one reading per line asked on stdin, until stdin closes."""
    for line in sys.stdin:
        asked = json.loads(line)
        print(json.dumps(sample_processes(asked["pids"], asked["proportional"])), flush=True)


if __name__ == "__main__":
    main()
