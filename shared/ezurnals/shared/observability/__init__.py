"""Logs (structlog JSON with the correlation id) and Prometheus metrics."""
