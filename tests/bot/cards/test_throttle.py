import pytest

from bot.cards.throttle import EditThrottle, ThrottlePolicy


def test_first_edit_is_immediate_then_spaced_by_the_minimum():
    t = EditThrottle(ThrottlePolicy(min_interval_s=3.0))
    t.start(100.0)
    assert t.delay(100.0) == 0.0
    t.mark(100.0)
    assert t.delay(101.0) == pytest.approx(2.0)
    assert t.delay(103.0) == 0.0


def test_interval_grows_on_long_jobs_and_is_capped():
    policy = ThrottlePolicy(min_interval_s=3, backoff_after_s=60, growth=0.1, max_interval_s=30)
    assert policy.interval(10) == 3
    assert policy.interval(59.9) == 3
    assert policy.interval(120) == pytest.approx(12)
    assert policy.interval(10_000) == 30


def test_backoff_counts_from_the_start_of_the_run():
    t = EditThrottle(ThrottlePolicy(min_interval_s=3, backoff_after_s=60, growth=0.1))
    t.start(0.0)
    t.mark(200.0)
    assert t.delay(210.0) == pytest.approx(11.0)  # 21 s spacing at 210 s


def test_bad_policy_is_refused():
    with pytest.raises(ValueError):
        ThrottlePolicy(min_interval_s=5, max_interval_s=1)
