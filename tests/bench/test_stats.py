"""The figures' arithmetic: nearest-rank percentiles, pair ratios, verdicts."""

from __future__ import annotations

import math

import pytest

from bench._stats import (
    latency_profile,
    pair_differences,
    pair_ratios,
    percentile,
    summarize,
    verdict,
)


def test_percentiles_are_nearest_rank_and_always_a_measured_value():
    values = [float(v) for v in range(1, 51)]  # 1..50, shuffled below
    shuffled = values[25:] + values[:25]
    assert percentile(shuffled, 50) == 25.0
    assert percentile(shuffled, 99) == 50.0  # 99% of 50 samples: the 50th
    assert percentile(shuffled, 0) == 1.0
    assert latency_profile([0.3, 0.1, 0.2]) == {"p50": 0.2, "p99": 0.3, "max": 0.3}
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_summary_and_its_printed_form():
    s = summarize([0.012, 0.010, 0.015])
    assert (s.median, s.min, s.max, s.n) == (0.012, 0.010, 0.015, 3)
    assert s.fmt("ms", scale=1000) == "12.0 ms (10.0–15.0, n=3)"
    assert summarize([]).n == 0 and summarize([]).fmt() == "n/a"


def test_ratios_and_differences_are_taken_pair_by_pair():
    assert pair_ratios([2.0, 3.0], [1.0, 2.0]) == [2.0, 1.5]
    assert pair_differences([2.0, 3.0], [1.5, 3.5]) == [0.5, -0.5]
    with pytest.raises(ValueError):
        pair_ratios([1.0], [1.0, 2.0])


def test_verdicts_say_by_how_much_a_target_is_missed():
    assert verdict(0.2, 0.25) == "met"
    assert verdict(0.5, 0.25) == "missed by 100.0%"
    assert verdict(1.0243, 1.02) == "missed by 0.4%"
    assert verdict(10.0, 5.0, below=False) == "met"
    assert verdict(math.nan, 1.0) == "not measured"
