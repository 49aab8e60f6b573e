"""The time budget of each attempt."""

from __future__ import annotations

from engine.timeouts import TimeoutPolicy


def test_the_retry_budget_is_clamped_by_the_upper_bound():
    policy = TimeoutPolicy(min_s=60, max_s=1800)
    assert policy.attempts(300) == [300, 600]
    assert policy.attempts(1200) == [1200, 1800]  # not 2400
    assert policy.attempts(1800) == [1800, 1800]
    assert policy.deadline_s(1200) == 1200 + 1800 + 2 * policy.interrupt_grace_s
