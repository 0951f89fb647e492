"""Kafka: topics, the outbox relay (write side) and projection consumers (read side)."""
