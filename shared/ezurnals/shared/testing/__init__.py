"""Test support shared by every service: infrastructure fixtures (PostgreSQL, Kafka) and helpers."""
