"""Pure quota policy (engine/jobs/_quota.py)."""

from __future__ import annotations

import pytest

from engine.errors import QuotaExceeded
from engine.jobs._quota import (
    Charge,
    QuotaLimit,
    QuotaRule,
    QuotaScope,
    Usage,
    day_window,
    effective_limit,
    evaluate,
    is_charged,
    usage,
)
from tests.engine.jobs._helpers import NEXT_MIDNIGHT, T0

G = 1
DEFAULT = QuotaRule(G, QuotaScope.GUILD, None, jobs_per_day=2, gpu_seconds_per_day=100.0)
ROLE_A = QuotaRule(G, QuotaScope.ROLE, 501, jobs_per_day=5, gpu_seconds_per_day=50.0)
ROLE_B = QuotaRule(G, QuotaScope.ROLE, 502, jobs_per_day=3, gpu_seconds_per_day=None)
USER = QuotaRule(G, QuotaScope.USER, 7, jobs_per_day=1, gpu_seconds_per_day=400.0)
OTHER_USER = QuotaRule(G, QuotaScope.USER, 8, jobs_per_day=99, gpu_seconds_per_day=9999.0)
RULES = [DEFAULT, ROLE_A, ROLE_B, USER, OTHER_USER]


def test_most_generous_rule_wins_per_dimension() -> None:
    limit = effective_limit(RULES, 7, [501, 502])
    assert (limit.jobs_per_day, limit.gpu_seconds_per_day) == (5, 400.0)
    assert (limit.jobs_rule, limit.gpu_rule) == (ROLE_A, USER)
    assert limit.source == "jobs: role 501; gpu: user 7"


def test_rules_of_others_and_of_roles_not_held_do_not_apply() -> None:
    limit = effective_limit(RULES, 9, [502, 999])
    assert (limit.jobs_per_day, limit.gpu_seconds_per_day) == (3, 100.0)
    assert limit.source == "jobs: role 502; gpu: server default"


def test_a_stricter_user_rule_does_not_lower_the_default() -> None:
    limit = effective_limit([DEFAULT, USER], 7, [])
    assert limit.jobs_per_day == 2 and limit.jobs_rule == DEFAULT


def test_unset_dimension_falls_to_other_rules_not_unlimited() -> None:
    only_gpu = QuotaRule(G, QuotaScope.USER, 7, jobs_per_day=None, gpu_seconds_per_day=1000.0)
    limit = effective_limit([DEFAULT, only_gpu], 7, [])
    assert (limit.jobs_per_day, limit.gpu_seconds_per_day) == (2, 1000.0)


def test_no_rule_is_unlimited_and_role_rule_alone_limits_only_its_holders() -> None:
    assert effective_limit([], 7, [1]) == QuotaLimit(None, None)
    assert effective_limit([], 7, [1]).source == "no limit"
    assert effective_limit([ROLE_B], 7, []).jobs_per_day is None
    assert effective_limit([ROLE_B], 7, [502]).jobs_per_day == 3


def test_ties_name_the_most_specific_rule() -> None:
    role = QuotaRule(G, QuotaScope.ROLE, 501, jobs_per_day=2, gpu_seconds_per_day=100.0)
    user = QuotaRule(G, QuotaScope.USER, 7, jobs_per_day=2, gpu_seconds_per_day=None)
    limit = effective_limit([DEFAULT, role, user], 7, [501])
    assert limit.jobs_rule == user and limit.gpu_rule == role


@pytest.mark.parametrize(
    ("status", "started", "fault", "charged"),
    [
        ("queued", None, False, True),
        ("running", T0, False, True),
        ("succeeded", T0, False, True),
        ("failed", T0, False, True),  # the user's fault (bad input, ...)
        ("failed", T0, True, False),  # the system's fault: refunded
        ("cancelled", None, False, False),  # never started: refunded
        ("cancelled", T0, False, True),  # stopped while running: charged
    ],
)
def test_refunds(status: str, started: float | None, fault: bool, charged: bool) -> None:
    assert is_charged(Charge(status, started, fault, 5.0)) is charged


def test_usage_sums_only_charged_jobs() -> None:
    used = usage(
        [
            Charge("succeeded", T0, False, 10.0),
            Charge("failed", T0, True, 20.0),
            Charge("cancelled", T0, False, 4.0),
            Charge("cancelled", None, False, 0.0),
            Charge("queued", None, False, 0.0),
        ]
    )
    assert used == Usage(jobs=3, gpu_seconds=14.0)


def test_day_window_is_utc_midnight_to_midnight() -> None:
    assert day_window(T0) == (NEXT_MIDNIGHT - 86_400, NEXT_MIDNIGHT)
    assert day_window(NEXT_MIDNIGHT) == (NEXT_MIDNIGHT, NEXT_MIDNIGHT + 86_400)
    assert day_window(NEXT_MIDNIGHT - 0.001)[1] == NEXT_MIDNIGHT


def test_evaluate_reports_remaining_and_the_exhausted_dimension() -> None:
    limit = QuotaLimit(3, 60.0, DEFAULT, DEFAULT)
    ok = evaluate(limit, Usage(2, 59.0), NEXT_MIDNIGHT)
    assert (ok.allowed, ok.reason, ok.remaining_jobs, ok.remaining_gpu_seconds) == (
        True,
        None,
        1,
        1.0,
    )
    assert ok.error() is None

    jobs_out = evaluate(limit, Usage(3, 0.0), NEXT_MIDNIGHT)
    assert (jobs_out.allowed, jobs_out.reason, jobs_out.remaining_jobs) == (
        False,
        "jobs_per_day",
        0,
    )
    err = jobs_out.error()
    assert isinstance(err, QuotaExceeded)
    assert (err.dimension, err.limit, err.used, err.resets_at) == (
        "jobs_per_day",
        3,
        3,
        NEXT_MIDNIGHT,
    )

    gpu_out = evaluate(limit, Usage(1, 75.0), NEXT_MIDNIGHT)
    assert (gpu_out.reason, gpu_out.remaining_gpu_seconds) == ("gpu_seconds_per_day", 0.0)
    assert gpu_out.error().used == 75.0

    free = evaluate(QuotaLimit(None, None), Usage(1000, 1e6), NEXT_MIDNIGHT)
    assert free.allowed and free.remaining_jobs is None and free.remaining_gpu_seconds is None
