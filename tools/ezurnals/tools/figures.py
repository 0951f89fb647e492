"""How every benchmark rounds and summarises what it measured."""

from __future__ import annotations

import statistics


def rounded(value: float) -> float:
    """Two decimals, or three significant digits for a figure below one (never rounded to 0)."""
    return round(value, 2) if abs(value) >= 1 else float(f"{value:.3g}")


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (to a tenth, e.g. 99.9), interpolated; NaN without values."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=1000, method="inclusive")[round(p * 10) - 1]
