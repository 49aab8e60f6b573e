"""Figures as the issue asks for them: a median with its min and max over several
runs, percentiles for latency distributions, ratios measured pair by pair.

Pure functions over lists of floats, so every benchmark reports the same way
and the smoke test can check shapes without caring about timings.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Summary:
    """Median, min and max of `n` values (NaN for all three when there are none)."""

    median: float
    min: float
    max: float
    n: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)

    def fmt(self, unit: str = "", scale: float = 1.0, digits: int = 1) -> str:
        """'12.3 ms (10.1–15.0, n=5)': the form every table in docs/benchmarks.md uses."""
        if self.n == 0:
            return "n/a"
        m, lo, hi = (f"{v * scale:.{digits}f}" for v in (self.median, self.min, self.max))
        sep = " " if unit else ""
        return f"{m}{sep}{unit} ({lo}–{hi}, n={self.n})"


def summarize(values: Sequence[float]) -> Summary:
    if not values:
        return Summary(math.nan, math.nan, math.nan, 0)
    return Summary(statistics.median(values), min(values), max(values), len(values))


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (`q` in 0..100): always one of the measured values,
    so p99 of 50 samples is the largest one, never an interpolation."""
    if not values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"q={q} is outside 0..100")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_profile(values: Sequence[float]) -> dict[str, float]:
    """p50, p99 and max of one run's latencies, in the values' own unit."""
    return {
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "max": max(values) if values else math.nan,
    }


def pair_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """a[i] / b[i] for runs measured side by side (same iteration, alternated)."""
    if len(numerators) != len(denominators):
        raise ValueError("ratios need the same number of runs on both sides")
    return [a / b for a, b in zip(numerators, denominators, strict=True)]


def pair_differences(a: Sequence[float], b: Sequence[float]) -> list[float]:
    if len(a) != len(b):
        raise ValueError("differences need the same number of runs on both sides")
    return [x - y for x, y in zip(a, b, strict=True)]


def verdict(value: float, target: float, *, below: bool = True) -> str:
    """'met' or 'missed by X%' against a target that `value` should stay under
    (or, with below=False, reach)."""
    if math.isnan(value):
        return "not measured"
    ok = value < target if below else value >= target
    if ok:
        return "met"
    return f"missed by {abs(value - target) / target * 100:.1f}%"
