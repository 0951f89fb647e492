"""``ezurnals bench load --sweep``: the rush at rising offered loads, one school, until the stack
saturates; the capacity at the service level is the highest step that still meets it.

Each step is one ``measure`` of ``bench load``: the client's and the servers' percentiles per
endpoint, the end-to-end lag, errors, the CPU of every process and the CPU per command and per
diary read. The sweep stops after the first step that misses the service level badly or cannot
offer its rate, since every step above would only take longer to say the same.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ezurnals.tools.bench_load import (
    client_lag_row,
    measure,
    ms,
    prepare_school,
    print_endpoints,
    school_config,
    stack_for,
)

#: (commands/s, diary reads/s) offered at each step.
DEFAULT_STEPS = "20+20,50+150,100+300,200+600,300+1000"
#: The service level a step must meet to count toward the capacity (limits are exclusive).
SERVICE_LEVEL: dict[str, tuple[str, float]] = {
    "command_ms_p99": ("commands p99 < 150 ms", 150.0),
    "diary_ms_p99": ("diary p99 < 50 ms", 50.0),
    "lag_ms_p99": ("lag p99 < 1 s", 1000.0),
    "errors": ("zero errors", 0.0),
}
#: A step past saturation: a p99 this many times its limit, errors in more than this share of
#: the requests, or less than this share of the offered rate achieved.
BADLY = 2.0
ERROR_SHARE = 0.01
ACHIEVED_SHARE = 0.9


def parse_steps(text: str) -> list[tuple[float, float]]:
    """``"20+20,100+300"`` → [(20, 20), (100, 300)]: commands/s + diary reads/s per step."""
    steps = []
    for part in text.split(","):
        commands, _, reads = part.strip().partition("+")
        try:
            step = (float(commands), float(reads or 0))
        except ValueError:
            raise ValueError(
                f"a step is COMMANDS+READS per second, e.g. 100+300: {part!r}"
            ) from None
        if step[0] <= 0 or step[1] < 0:
            raise ValueError(f"a step offers commands/s > 0 and diary reads/s ≥ 0: {part!r}")
        steps.append(step)
    if not steps:
        raise ValueError("no steps")
    return steps


def verdict(step: dict[str, Any], rate: float, read_rate: float) -> dict[str, Any]:
    """Whether a step meets the service level, and why not; whether it is past saturation."""
    missed = []
    if step["errors"]:
        missed.append(f"{SERVICE_LEVEL['errors'][0]}: {step['errors']} errors")
    for key, (text, limit) in SERVICE_LEVEL.items():
        value = step.get(key)
        if key == "errors" or (key == "diary_ms_p99" and read_rate == 0):
            continue
        if value is None:
            missed.append(f"{text}: no samples")
        elif value >= limit:
            missed.append(f"{text}: {value:,.1f} ms")
    saturated = []
    for key, (text, limit) in SERVICE_LEVEL.items():
        value = step.get(key)
        if key != "errors" and value is not None and value >= BADLY * limit:
            saturated.append(f"{text}: {value:,.1f} ms, over {BADLY:g}× the limit")
    requests = step["commands"] + step["diary_reads"] + step["errors"]
    if requests and step["errors"] > ERROR_SHARE * requests:
        saturated.append(f"errors in {step['errors'] / requests:.1%} of the requests")
    # A step that could not offer its load says nothing about that load: it is past saturation,
    # and does not count toward the capacity either.
    short = []
    if step["commands_per_s"] < ACHIEVED_SHARE * rate:
        short.append(f"achieved {step['commands_per_s']:,.1f} of {rate:g} commands/s")
    if read_rate and step["diary_reads_per_s"] < ACHIEVED_SHARE * read_rate:
        short.append(f"achieved {step['diary_reads_per_s']:,.1f} of {read_rate:g} reads/s")
    return {
        "within_service_level": not missed and not short,
        "missed": missed + short,
        "saturated": saturated + short,
    }


def capacity(steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The highest offered step that met the service level (None if none did)."""
    passing = [s for s in steps if s["verdict"]["within_service_level"]]
    if not passing:
        return None
    best = max(passing, key=lambda s: (s["offered"]["commands_per_s"], s["offered"]["diary_per_s"]))
    return {
        "offered_commands_per_s": best["offered"]["commands_per_s"],
        "offered_diary_reads_per_s": best["offered"]["diary_per_s"],
        "commands_per_s": best["commands_per_s"],
        "diary_reads_per_s": best["diary_reads_per_s"],
    }


async def run_bench_sweep(
    *,
    stack_file: Path | None,
    steps: list[tuple[float, float]],
    duration: float,
    students: int,
    days: int,
    writers: int,
    readers: int,
    guardians: int,
    seed: int | None,
    pause: float,
    console: Console,
    until_saturated: bool = True,
) -> dict[str, Any]:
    """One school, then each step in turn for ``duration`` seconds, ``pause`` seconds apart
    (the pipeline drains the step before); stops after the first step past saturation
    (``until_saturated``; else runs every step)."""
    from ezurnals.tools.seed import load_urls, operator_secret

    async with stack_for(stack_file, console) as stack:
        urls = load_urls(None, stack)
        seed = seed if seed is not None else random.randrange(10**9)
        school = await prepare_school(
            urls,
            operator_secret(stack.parent),
            students=students,
            days=days,
            seed=seed,
            guardians=guardians,
            console=console,
        )
        done: list[dict[str, Any]] = []
        for number, (rate, read_rate) in enumerate(steps):
            if number:
                await asyncio.sleep(pause)
            step = await measure(
                urls,
                school,
                stack,
                duration=duration,
                rate=rate,
                read_rate=read_rate,
                writers=writers,
                readers=readers,
                seed=seed + number,
                console=console,
            )
            step["offered"] = {"commands_per_s": rate, "diary_per_s": read_rate}
            step["verdict"] = verdict(step, rate, read_rate)
            done.append(step)
            print_step(step, console)
            if until_saturated and step["verdict"]["saturated"]:
                break
        figures = {
            "steps": done,
            "capacity_at_service_level": capacity(done),
            "service_level": {k: text for k, (text, _) in SERVICE_LEVEL.items()},
            "saturation": (
                f"stops after a step with a p99 at {BADLY:g}× its limit, errors in over "
                f"{ERROR_SHARE:.0%} of the requests, or under {ACHIEVED_SHARE:.0%} of the "
                "offered rate achieved (nor does such a step count toward the capacity)"
            ),
            "client_distorted_steps": [
                i for i, s in enumerate(done) if s["client_loop_lag_ms"]["distorted"]
            ],
            "config": {
                "stack": str(stack_file) if stack_file else "started by bench load",
                "step_duration_s": duration,
                "pause_between_steps_s": pause,
                "until_saturated": until_saturated,
                "steps_offered": [list(s) for s in steps],
                **school_config(school, writers=writers, readers=readers, seed=seed),
            },
        }
        print_sweep(figures, console)
        return figures


def print_step(step: dict[str, Any], console: Console) -> None:
    offered = step["offered"]
    print_endpoints(
        step["endpoints"],
        console,
        title=(
            f"step {offered['commands_per_s']:g} + {offered['diary_per_s']:g} /s: "
            "client | server (its /metrics histogram)"
        ),
    )


def print_sweep(f: dict[str, Any], console: Console) -> None:
    def spread(values: dict[str, Any] | None) -> str:
        values = values or {}
        return " / ".join(ms(values.get(p)) for p in ("p50", "p95", "p99"))

    def offered(s: dict[str, Any]) -> str:
        return f"{s['offered']['commands_per_s']:g} + {s['offered']['diary_per_s']:g}"

    latency = Table(title="ezurnals bench load --sweep: p50 / p95 / p99 ms, client | server")
    for col in ("offered cmd + diary /s", "achieved", "commands", "diary"):
        latency.add_column(col, justify="right")
    resources = Table(title="ezurnals bench load --sweep: lag, errors, CPU, service level")
    for col in (
        "offered cmd + diary /s",
        "lag p50 / p99 ms",
        "errors",
        "CPU ms / cmd",
        "CPU ms / read",
        "stack CPU %",
        "client loop lag p99 ms",
        "service level",
    ):
        resources.add_column(col, justify="right")
    for s in f["steps"]:
        client_cmd = {p: s[f"command_ms_{p}"] for p in ("p50", "p95", "p99")}
        client_diary = {p: s[f"diary_ms_{p}"] for p in ("p50", "p95", "p99")}
        latency.add_row(
            offered(s),
            f"{s['commands_per_s']:,.1f} + {s['diary_reads_per_s']:,.1f}",
            f"{spread(client_cmd)} | {spread(s['server_command_ms'])}",
            f"{spread(client_diary)} | {spread(s['server_diary_ms'])}",
        )
        stack_cpu = sum(
            v for k, v in s["cpu_percent_of_one_core"].items() if not k.startswith("bench load")
        )
        lag = s["client_loop_lag_ms"]
        resources.add_row(
            offered(s),
            f"{ms(s['lag_ms_p50'])} / {ms(s['lag_ms_p99'])}",
            str(s["errors"]),
            ms(s["cpu_ms_per_command"]),
            ms(s["cpu_ms_per_diary_read"]),
            f"{stack_cpu:,.0f}",
            f"{ms(lag['p99'])}" + (" [red]DISTORTED[/]" if lag["distorted"] else ""),
            "[green]met[/]" if s["verdict"]["within_service_level"] else "[red]missed[/]",
        )
    console.print(latency)
    console.print(resources)
    for s in f["steps"]:
        missed, saturated = s["verdict"]["missed"], s["verdict"]["saturated"]
        for reason in missed + [r for r in saturated if r not in missed]:
            console.print(f"• {offered(s)}: {reason}")
        if s["client_loop_lag_ms"]["distorted"]:
            console.print(" ".join(client_lag_row(s["client_loop_lag_ms"])))
    best = f["capacity_at_service_level"]
    if best is None:
        console.print("[red]capacity at the service level: no step met it[/]")
    else:
        console.print(
            "capacity at the service level: "
            f"{best['offered_commands_per_s']:g} commands/s + "
            f"{best['offered_diary_reads_per_s']:g} diary reads/s offered "
            f"({best['commands_per_s']:,.1f} + {best['diary_reads_per_s']:,.1f} achieved)"
        )


def plot(figures: dict[str, Any], path: Path) -> Path:
    """p99 against achieved throughput, each step a point, the service level's limits as
    lines: commands (client and server), diary reads (client and server), end-to-end lag."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    steps = figures["steps"]
    offered = [f"{s['offered']['commands_per_s']:g}+{s['offered']['diary_per_s']:g}" for s in steps]
    commands = [s["commands_per_s"] for s in steps]
    reads = [s["diary_reads_per_s"] for s in steps]
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(15, 4.5))
    panels = (
        (
            left,
            commands,
            "achieved commands/s",
            "commands p99 ms",
            [
                ("client", [s["command_ms_p99"] for s in steps]),
                ("server histogram", [s["server_command_ms"]["p99"] for s in steps]),
            ],
            SERVICE_LEVEL["command_ms_p99"][1],
        ),
        (
            middle,
            reads,
            "achieved diary reads/s",
            "diary p99 ms",
            [
                ("client", [s["diary_ms_p99"] for s in steps]),
                ("server histogram", [s["server_diary_ms"]["p99"] for s in steps]),
            ],
            SERVICE_LEVEL["diary_ms_p99"][1],
        ),
        (
            right,
            commands,
            "achieved commands/s",
            "end-to-end lag p99 ms",
            [("201 → diary", [s["lag_ms_p99"] for s in steps])],
            SERVICE_LEVEL["lag_ms_p99"][1],
        ),
    )
    for axis, xs, xlabel, ylabel, series, limit in panels:
        for label, ys in series:
            points = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
            if points:
                axis.plot(*zip(*points, strict=True), marker="o", label=label)
        for x, y, name in zip(xs, series[0][1], offered, strict=True):
            if y is not None:
                axis.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
        axis.axhline(limit, color="red", linestyle="--", label=f"limit {limit:g} ms")
        axis.set_xlabel(xlabel)
        axis.set_ylabel(ylabel)
        axis.set_ylim(bottom=0)
        axis.grid(True, alpha=0.3)
        axis.legend()
    fig.suptitle("ezurnals bench load --sweep: p99 against achieved throughput")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)
    return path
