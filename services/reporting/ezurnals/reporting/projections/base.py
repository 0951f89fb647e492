"""Reporting's projections are statement projections (the shared one, under its old name)."""

from __future__ import annotations

from ezurnals.shared.messaging.statements import Statement, StatementProjection

SqlProjection = StatementProjection

__all__ = ["SqlProjection", "Statement"]
