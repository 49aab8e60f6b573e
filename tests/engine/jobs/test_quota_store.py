"""Quota rules and usage through the store (engine/jobs/_quota_store.py)."""

from __future__ import annotations

import pytest

from engine.jobs import JobStore, QuotaRule, QuotaScope
from tests.engine.jobs._helpers import NEXT_MIDNIGHT, Clock, new_job

G, OTHER_G, U = 1, 2, 10


async def _run(store: JobStore, job_id: str, gpu: float) -> None:
    await store.start(job_id)
    await store.succeed(job_id, result_path="r.mp4", gpu_seconds=gpu)


async def test_rules_set_replace_list_clear(store: JobStore) -> None:
    await store.set_quota(G, QuotaScope.USER, 7, jobs_per_day=1, gpu_seconds_per_day=None)
    await store.set_quota(G, QuotaScope.GUILD, None, jobs_per_day=3, gpu_seconds_per_day=60)
    await store.set_quota(G, QuotaScope.ROLE, 5, jobs_per_day=None, gpu_seconds_per_day=9)
    await store.set_quota(G, QuotaScope.USER, 7, jobs_per_day=4, gpu_seconds_per_day=None)
    assert await store.quota_rules(G) == [
        QuotaRule(G, QuotaScope.GUILD, None, 3, 60.0),
        QuotaRule(G, QuotaScope.ROLE, 5, None, 9.0),
        QuotaRule(G, QuotaScope.USER, 7, 4, None),
    ]
    assert await store.quota_rules(OTHER_G) == []
    assert await store.clear_quota(G, QuotaScope.ROLE, 5)
    assert not await store.clear_quota(G, QuotaScope.ROLE, 5)
    assert await store.clear_quota(G, QuotaScope.GUILD, None)
    assert await store.quota_rules(G) == [QuotaRule(G, QuotaScope.USER, 7, 4, None)]


@pytest.mark.parametrize(
    ("scope", "target", "jobs", "gpu"),
    [
        (QuotaScope.GUILD, 5, 1, None),  # the default has no target
        (QuotaScope.USER, None, 1, None),  # a user rule needs one
        (QuotaScope.USER, 5, None, None),  # sets nothing
        (QuotaScope.USER, 5, -1, None),
        (QuotaScope.ROLE, 5, None, -0.5),
    ],
)
async def test_bad_rules_are_refused(store: JobStore, scope, target, jobs, gpu) -> None:
    with pytest.raises(ValueError):
        await store.set_quota(G, scope, target, jobs_per_day=jobs, gpu_seconds_per_day=gpu)
    assert await store.quota_rules(G) == []


async def test_status_uses_most_generous_rule_and_counts_jobs(store: JobStore) -> None:
    await store.set_quota(G, QuotaScope.GUILD, None, jobs_per_day=2, gpu_seconds_per_day=None)
    await store.set_quota(G, QuotaScope.ROLE, 50, jobs_per_day=3, gpu_seconds_per_day=None)
    for _ in range(2):
        await new_job(store, user_id=U)
    plain = await store.quota_status(G, U, [])
    assert (plain.allowed, plain.reason, plain.used_jobs, plain.limit.jobs_per_day) == (
        False,
        "jobs_per_day",
        2,
        2,
    )
    vip = await store.quota_status(G, U, [50])
    assert (vip.allowed, vip.remaining_jobs, vip.limit.source) == (True, 1, "jobs: role 50")


async def test_refunds_come_from_the_jobs_table(store: JobStore) -> None:
    await store.set_quota(G, QuotaScope.GUILD, None, jobs_per_day=10, gpu_seconds_per_day=1000)
    ok = await new_job(store, user_id=U)
    await _run(store, ok.id, 30.0)
    system = await new_job(store, user_id=U)
    await store.start(system.id)
    await store.fail(
        system.id, error_code="oom", error_detail="", system_fault=True, gpu_seconds=50
    )
    mine = await new_job(store, user_id=U)
    await store.start(mine.id)
    await store.fail(mine.id, error_code="bad", error_detail="", system_fault=False, gpu_seconds=7)
    never = await new_job(store, user_id=U)
    await store.cancel(never.id)
    stopped = await new_job(store, user_id=U)
    await store.start(stopped.id)
    await store.cancel(stopped.id, gpu_seconds=11.0)
    waiting = await new_job(store, user_id=U)

    st = await store.quota_status(G, U, [])
    # charged: ok, mine, stopped, waiting; refunded: system fault, never started
    assert (st.used_jobs, st.used_gpu_seconds) == (4, 48.0)
    assert (st.remaining_jobs, st.remaining_gpu_seconds) == (6, 952.0)

    await store.cancel(waiting.id)  # cancelling a queued job refunds it at once
    assert (await store.quota_status(G, U, [])).used_jobs == 3


async def test_gpu_seconds_limit(store: JobStore) -> None:
    await store.set_quota(G, QuotaScope.USER, U, jobs_per_day=None, gpu_seconds_per_day=60)
    job = await new_job(store, user_id=U)
    await _run(store, job.id, 59.5)
    assert (await store.quota_status(G, U, [])).allowed
    job = await new_job(store, user_id=U)
    await _run(store, job.id, 1.0)
    st = await store.quota_status(G, U, [])
    assert (st.allowed, st.reason, st.used_gpu_seconds) == (False, "gpu_seconds_per_day", 60.5)
    assert st.error().limit == 60


async def test_day_resets_at_utc_midnight(store: JobStore, clock: Clock) -> None:
    await store.set_quota(G, QuotaScope.GUILD, None, jobs_per_day=1, gpu_seconds_per_day=None)
    await new_job(store, user_id=U)
    st = await store.quota_status(G, U, [])
    assert not st.allowed and st.resets_at == NEXT_MIDNIGHT
    assert not (await store.quota_status(G, U, [], now=NEXT_MIDNIGHT - 0.001)).allowed
    clock.t = NEXT_MIDNIGHT
    st = await store.quota_status(G, U, [])
    assert st.allowed and st.used_jobs == 0 and st.resets_at == NEXT_MIDNIGHT + 86_400


async def test_guilds_do_not_share_rules_or_usage(store: JobStore) -> None:
    await store.set_quota(G, QuotaScope.GUILD, None, jobs_per_day=1, gpu_seconds_per_day=None)
    await store.set_quota(OTHER_G, QuotaScope.USER, U, jobs_per_day=50, gpu_seconds_per_day=None)
    for _ in range(3):
        await new_job(store, user_id=U, guild_id=OTHER_G)
    here = await store.quota_status(G, U, [])
    assert (here.allowed, here.used_jobs, here.limit.jobs_per_day) == (True, 0, 1)
    there = await store.quota_status(OTHER_G, U, [])
    assert (there.used_jobs, there.limit.jobs_per_day) == (3, 50)
    other_user = await store.quota_status(OTHER_G, U + 1, [])
    assert other_user.used_jobs == 0 and other_user.limit.jobs_per_day is None
