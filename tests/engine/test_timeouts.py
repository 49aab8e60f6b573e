"""The time budget of each attempt."""

from __future__ import annotations

from engine.timeouts import TimeoutPolicy


def test_the_retry_budget_is_clamped_by_the_upper_bound():
    policy = TimeoutPolicy(min_s=60, max_s=1800)
    assert policy.attempts(300) == [300, 600]
    assert policy.attempts(1200) == [1200, 1800]  # not 2400
    assert policy.attempts(1800) == [1800, 1800]
    assert policy.deadline_s(1200) == 1200 + 1800 + 2 * policy.interrupt_grace_s


def test_a_learned_estimate_may_raise_the_budget_up_to_the_bound():
    policy = TimeoutPolicy(min_s=60, max_s=1800, safety=3, cold_load_s=90)
    assert policy.budget(40, cold=False) == 120
    assert policy.budget(40, cold=False, learned_s=100) == 300  # a slower GPU
    assert policy.budget(40, cold=True, learned_s=100) == 390
    assert policy.budget(40, cold=False, learned_s=5000) == 1800


def test_a_learned_estimate_tightens_to_half_the_constants_and_never_below_min():
    policy = TimeoutPolicy(min_s=60, max_s=1800, safety=3, cold_load_s=90)
    assert policy.budget(200, cold=False) == 600
    assert policy.budget(200, cold=False, learned_s=150) == 450  # within the floor
    assert policy.budget(200, cold=False, learned_s=10) == 300  # half of 600, not 30
    assert policy.budget(15, cold=False, learned_s=1) == 60  # the policy's minimum
    # An operator's own workflow (no constant): at most half the upper bound off.
    assert policy.budget(None, cold=False, learned_s=10) == 900
    assert policy.budget(None, cold=False, learned_s=None) == 1800
