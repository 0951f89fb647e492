"""The metrics every service exposes on ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUEST_LATENCY = Histogram(
    "ezurnals_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5),
)
RELAY_PUBLISHED = Counter(
    "ezurnals_relay_published_total", "Events published by the outbox relay", ["service"]
)
RELAY_LAG = Gauge(
    "ezurnals_relay_lag_seconds", "Age of the oldest event not yet published", ["service"]
)
RELAY_BACKLOG = Gauge(
    "ezurnals_relay_backlog_events", "Events in the outbox not yet published", ["service"]
)
#: Set only by the worker whose consumer owns the partitions, summed over the partitions of each
#: topic it owns (0 for a topic it owns none of): sum it over the worker pods for a topic's lag.
CONSUMER_LAG = Gauge(
    "ezurnals_consumer_lag_events",
    "Messages behind the partition ends, summed over the topic's partitions this worker owns",
    ["consumer", "topic"],
)
CONSUMER_APPLIED = Counter(
    "ezurnals_consumer_applied_total", "Events applied to read models", ["consumer"]
)
DEAD_LETTERS = Counter(
    "ezurnals_dead_letters_total", "Events sent to a dead-letter topic", ["consumer", "topic"]
)
DEAD_LETTERS_STORED = Gauge(
    "ezurnals_dead_letters_stored",
    "Events this service's consumers dead-lettered (all time)",
    ["service"],
)
BROKER_REACHABLE = Gauge(
    "ezurnals_broker_reachable",
    "1 when the broker answered the worker's last check, 0 when it did not",
    ["service"],
)
