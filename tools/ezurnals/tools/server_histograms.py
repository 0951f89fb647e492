"""The services' own request-duration histograms, scraped from ``/metrics`` before and after a
run: what each server measured of the same requests the load client timed, so the gap between the
two (queueing in the client, connection handling, the network stack) shows per endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import defaultdict
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from ezurnals.tools.figures import rounded

HISTOGRAM = "ezurnals_http_request_seconds"

#: (service, method, route) → {upper bound in s: cumulative count}; +Inf included.
Buckets = dict[tuple[str, str, str], dict[float, float]]


def parse_histograms(text: str) -> Buckets:
    """The request-duration buckets of successful requests (2xx, as the client only times
    those), summed over statuses."""
    found: Buckets = defaultdict(lambda: defaultdict(float))
    for family in text_string_to_metric_families(text):
        if family.name != HISTOGRAM:
            continue
        for sample in family.samples:
            labels = sample.labels
            if sample.name != f"{HISTOGRAM}_bucket" or not labels.get("status", "").startswith("2"):
                continue
            key = (labels["service"], labels["method"], labels["route"])
            found[key][float(labels["le"])] += sample.value
    return {key: dict(buckets) for key, buckets in found.items()}


async def scrape(http: aiohttp.ClientSession, urls: dict[str, str], services: list[str]) -> Buckets:
    """Every service's histograms at this moment (a service that does not answer has none)."""

    async def one(service: str) -> Buckets:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with http.get(f"{urls[service]}/metrics") as response:
                if response.status == 200:
                    return parse_histograms(await response.text())
        return {}

    found: Buckets = {}
    for part in await asyncio.gather(*(one(s) for s in services)):
        found.update(part)
    return found


def delta(before: Buckets, after: Buckets) -> Buckets:
    """The requests observed between two scrapes."""
    out: Buckets = {}
    for key, buckets in after.items():
        old = before.get(key, {})
        diff = {le: count - old.get(le, 0.0) for le, count in buckets.items()}
        if diff.get(math.inf, 0.0) > 0:
            out[key] = diff
    return out


def quantile(buckets: dict[float, float], q: float) -> float | None:
    """Prometheus's ``histogram_quantile``: linear within the bucket holding the rank, in ms.
    A rank in the +Inf bucket answers the highest finite bound (a lower bound of the truth)."""
    total = buckets.get(math.inf, 0.0)
    if total <= 0:
        return None
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for le in sorted(buckets):
        count = buckets[le]
        if count >= rank:
            if math.isinf(le):
                return lower_bound * 1000
            inside = count - lower_count
            share = (rank - lower_count) / inside if inside > 0 else 1.0
            return (lower_bound + (le - lower_bound) * share) * 1000
        lower_bound, lower_count = le, count
    return lower_bound * 1000


def summary(buckets: Buckets, seconds: float) -> dict[str, dict[str, Any]]:
    """Per route (``service METHOD route``): count, rate and p50/p95/p99 in ms, estimated from
    the bucket deltas (as precise as the buckets: 5, 10, 25, 50, 100, 150, 250 ms …)."""
    out = {}
    for (service, method, route), counts in sorted(buckets.items()):
        values = {f"p{p}": quantile(counts, p / 100) for p in (50, 95, 99)}
        total = counts[math.inf]
        out[f"{service} {method} {route}"] = {
            "count": int(total),
            "per_s": rounded(total / max(seconds, 1e-9)),
            **{k: None if v is None else rounded(v) for k, v in values.items()},
        }
    return out


def combined(buckets: Buckets, routes: list[tuple[str, str, str]]) -> dict[str, float | None]:
    """p50/p95/p99 in ms over several routes together (e.g. every command's)."""
    merged: dict[float, float] = defaultdict(float)
    for route in routes:
        for le, count in buckets.get(route, {}).items():
            merged[le] += count
    return {
        f"p{p}": None if (v := quantile(merged, p / 100)) is None else rounded(v)
        for p in (50, 95, 99)
    }
