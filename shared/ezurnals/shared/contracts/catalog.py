"""Imports every contract module so the registry knows every event on the bus."""

from ezurnals.shared.contracts import attendance, audit, grading, identity, lessons, reporting

PRODUCERS = {
    "identity": identity,
    "lessons": lessons,
    "attendance": attendance,
    "grading": grading,
    "reporting": reporting,
    "audit": audit,
}

__all__ = ["PRODUCERS"]
