"""Several jobs admitted together or none (engine/jobs/batch.py)."""

from __future__ import annotations

import asyncio

import pytest

from engine.errors import JobNotFound, QueuePaused, QuotaExceeded
from engine.jobs import JobStore, QueueCaps, QuotaScope, TooManyTakes
from tests.engine.jobs._helpers import new_job

G, CH, U = 1, 100, 10


def _takes(n: int) -> list[dict]:
    return [{"prompt": "a cat", "seed": seed} for seed in range(n)]


async def _batch(store: JobStore, parent_id: str, n: int, caps: QueueCaps | None = None):
    return await store.create_batch(
        guild_id=G,
        channel_id=CH,
        user_id=U,
        mode="t2v",
        params=_takes(n),
        inputs={"image": "ab" * 32},
        parent_id=parent_id,
        caps=caps or QueueCaps(max_queued_per_user=10, max_queue_total=50),
    )


async def test_a_batch_is_n_queued_children_of_the_parent(store: JobStore) -> None:
    parent = await new_job(store)
    jobs = await _batch(store, parent.id, 3)
    assert [j.params["seed"] for j in jobs] == [0, 1, 2]
    assert all(j.retry_of == parent.id and j.inputs == {"image": "ab" * 32} for j in jobs)
    assert await store.count_queued(user_id=U) == 4


async def test_beyond_the_cap_none_is_queued(store: JobStore) -> None:
    parent = await new_job(store)  # one of the user's 3 waiting slots
    with pytest.raises(TooManyTakes) as info:
        await _batch(store, parent.id, 3, QueueCaps(max_queued_per_user=3, max_queue_total=50))
    assert (info.value.asked, info.value.room, info.value.limit) == (3, 2, "queue")
    assert await store.count_queued(user_id=U) == 1


async def test_beyond_the_quota_none_is_queued(store: JobStore) -> None:
    parent = await new_job(store)
    await store.set_quota(G, QuotaScope.USER, U, jobs_per_day=3, gpu_seconds_per_day=None)
    with pytest.raises(TooManyTakes) as info:
        await _batch(store, parent.id, 4)
    assert (info.value.room, info.value.limit) == (2, "quota")
    assert len(await store.list()) == 1
    await store.set_quota(G, QuotaScope.USER, U, jobs_per_day=1, gpu_seconds_per_day=None)
    with pytest.raises(QuotaExceeded):  # no room at all: the quota's own refusal
        await _batch(store, parent.id, 1)


async def test_other_refusals_and_an_unknown_parent(store: JobStore) -> None:
    parent = await new_job(store)
    await store.update_guild_settings(G, paused=True)
    with pytest.raises(QueuePaused):
        await _batch(store, parent.id, 2)
    with pytest.raises(JobNotFound):
        await _batch(store, "nope", 1)
    assert len(await store.list()) == 1


async def test_concurrent_batches_never_overshoot_the_cap(store: JobStore) -> None:
    parent = await new_job(store, user_id=99)
    caps = QueueCaps(max_queued_per_user=5, max_queue_total=50)
    outcomes = await asyncio.gather(
        *(_batch(store, parent.id, 2, caps) for _ in range(6)), return_exceptions=True
    )
    admitted = [o for o in outcomes if isinstance(o, list)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(admitted) == 2 and len(refused) == 4  # 2 + 2, then room for 1 of 2: none
    assert await store.count_queued(user_id=U) == 4
