"""The admission check (engine/jobs/admission.py)."""

from __future__ import annotations

import pytest

from engine.errors import ChannelNotAllowed, QueueFull, QueuePaused, QuotaExceeded, UserBanned
from engine.jobs import JobStore, QuotaScope, check_admission
from tests.engine.jobs._helpers import new_job

G, CH, U = 1, 100, 10


async def _check(store: JobStore, **kw):
    args = dict(guild_id=G, channel_id=CH, user_id=U, max_queued_per_user=2, max_queue_total=4)
    args.update(kw)
    return await check_admission(store, **args)


async def test_open_guild_admits_and_reports_quota(store: JobStore) -> None:
    status = await _check(store)
    assert status is not None and status.allowed and status.remaining_jobs is None
    assert await _check(store, guild_id=None) is None  # DMs: no guild quota


async def test_refusals_in_order(store: JobStore) -> None:
    await store.set_global_paused(True)
    await store.update_guild_settings(G, paused=True, allowed_channel_ids=[5])
    await store.ban(G, U, reason="spam")
    with pytest.raises(QueuePaused) as info:
        await _check(store)
    assert info.value.scope == "global"

    await store.set_global_paused(False)
    with pytest.raises(QueuePaused) as info:
        await _check(store)
    assert info.value.scope == "guild"
    await _check(store, guild_id=2)  # another guild is not paused

    await store.update_guild_settings(G, paused=False)
    with pytest.raises(UserBanned) as info:
        await _check(store)
    assert (info.value.user_id, info.value.reason) == (U, "spam")

    await store.unban(G, U)
    with pytest.raises(ChannelNotAllowed) as info:
        await _check(store)
    assert info.value.allowed_channel_ids == (5,)
    await _check(store, channel_id=5)


async def test_queue_caps_and_quota(store: JobStore) -> None:
    await new_job(store, user_id=U)
    await new_job(store, user_id=U)
    with pytest.raises(QueueFull) as info:
        await _check(store)
    assert (info.value.scope, info.value.cap) == ("user", 2)

    await new_job(store, user_id=U + 1)
    await new_job(store, user_id=U + 2)
    with pytest.raises(QueueFull) as info:
        await _check(store, user_id=U + 3)
    assert (info.value.scope, info.value.cap) == ("global", 4)

    await store.set_quota(G, QuotaScope.USER, U + 3, jobs_per_day=0, gpu_seconds_per_day=None)
    with pytest.raises(QuotaExceeded) as info:
        await _check(store, user_id=U + 3, max_queue_total=10)
    assert (info.value.dimension, info.value.limit) == ("jobs_per_day", 0)


async def test_one_server_cannot_fill_the_queue(store: JobStore) -> None:
    """A per-server cap below the global one leaves room for the other servers."""
    for user in (20, 21, 22):
        await new_job(store, user_id=user, guild_id=G)
    with pytest.raises(QueueFull) as info:
        await _check(store, max_queued_per_guild=3, max_queue_total=10)
    assert info.value.scope == "guild" and info.value.cap == 3
    await _check(store, guild_id=2, max_queued_per_guild=3, max_queue_total=10)


async def test_owned_job_is_the_one_ownership_decision(store: JobStore) -> None:
    from engine.errors import JobNotFound, NotJobOwner
    from engine.jobs import ANY_GUILD

    job = await new_job(store, user_id=U, guild_id=G)
    assert (await store.owned_job(job.id, guild_id=G, user_id=U, is_admin=False)).id == job.id
    assert await store.owned_job(job.id, guild_id=G, user_id=U + 1, is_admin=True)
    with pytest.raises(NotJobOwner):
        await store.owned_job(job.id, guild_id=G, user_id=U + 1, is_admin=False)
    with pytest.raises(JobNotFound):  # another guild's admin, or a DM
        await store.owned_job(job.id, guild_id=G + 1, user_id=U + 1, is_admin=True)
    with pytest.raises(JobNotFound):
        await store.owned_job(job.id, guild_id=None, user_id=U, is_admin=False)
    assert await store.owned_job(job.id, guild_id=ANY_GUILD, user_id=U, is_admin=False)
