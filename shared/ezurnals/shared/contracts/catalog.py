"""Imports every contract module so the registry knows every event on the bus."""

from ezurnals.shared.contracts import attendance, grading, identity, lessons

PRODUCERS = {
    "identity": identity,
    "lessons": lessons,
    "attendance": attendance,
    "grading": grading,
}

__all__ = ["PRODUCERS"]
