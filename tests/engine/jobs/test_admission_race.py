"""Admission under concurrency: many submissions at once never overshoot.

The decision and the insert share one BEGIN IMMEDIATE transaction
(JobStore.create with caps), so N simultaneous submissions against a cap of
k admit exactly k, whether they share the one store (the production design:
one connection, one writer) or come through several connections to the file.
The Engine-level tests run the public submit path; before admission moved
into the transaction they admitted far more than the cap.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from engine.errors import LtxError, QueueFull
from engine.front import Engine
from engine.jobs import JobStore, QueueCaps, QuotaScope
from engine.scheduler import make_scheduler

G, CH, U = 1, 100, 10
N = 50


class _NoPreparer:
    """submit never prepares; the engine only needs the attribute."""

    async def prepare(self, job):  # pragma: no cover - never called
        raise AssertionError("not run in these tests")

    def estimate(self, job) -> float | None:
        return None


def _engine(store: JobStore, tmp_path: Path, caps: QueueCaps) -> Engine:
    return Engine.build(
        store=store,
        scheduler=make_scheduler("round_robin"),
        runtime=None,  # type: ignore[arg-type]  # submit never touches it
        preparer=_NoPreparer(),
        outputs_dir=tmp_path / "outputs",
        caps=caps,
    )


async def _fire(submits) -> tuple[int, Counter[str]]:
    """Run the coroutines at once; count admissions and refusals by kind."""
    results = await asyncio.gather(*submits, return_exceptions=True)
    refused: Counter[str] = Counter()
    for r in results:
        if isinstance(r, BaseException):
            if not isinstance(r, LtxError):
                raise r
            refused[f"{r.code}:{getattr(r, 'scope', getattr(r, 'dimension', ''))}"] += 1
    return sum(not isinstance(r, BaseException) for r in results), refused


def _submit(engine: Engine, user_id: int = U):
    return engine.submit(
        guild_id=G, channel_id=CH, user_id=user_id, mode="t2v", params={"seed": 1}, inputs={}
    )


async def test_one_users_cap_holds_under_fifty_concurrent_submits(store, tmp_path) -> None:
    engine = _engine(store, tmp_path, QueueCaps(max_queued_per_user=5, max_queue_total=1000))
    admitted, refused = await _fire(_submit(engine) for _ in range(N))
    assert (admitted, refused) == (5, Counter({"queue_full:user": N - 5}))
    assert await store.count_queued(user_id=U) == 5
    assert len(engine.scheduler.ordered()) == 5


async def test_the_global_cap_holds_under_fifty_users_at_once(store, tmp_path) -> None:
    engine = _engine(store, tmp_path, QueueCaps(max_queued_per_user=5, max_queue_total=7))
    admitted, refused = await _fire(_submit(engine, user_id=U + i) for i in range(N))
    assert (admitted, refused) == (7, Counter({"queue_full:global": N - 7}))
    assert await store.count_queued() == 7


async def test_a_daily_quota_holds_under_fifty_concurrent_submits(store, tmp_path) -> None:
    await store.set_quota(G, QuotaScope.GUILD, None, jobs_per_day=4, gpu_seconds_per_day=None)
    engine = _engine(store, tmp_path, QueueCaps(max_queued_per_user=100, max_queue_total=1000))
    admitted, refused = await _fire(_submit(engine) for _ in range(N))
    assert (admitted, refused) == (4, Counter({"quota_exceeded:jobs_per_day": N - 4}))
    assert (await store.quota_status(G, U, ())).used_jobs == 4


async def test_caps_hold_across_several_connections_to_one_file(db_path, clock) -> None:
    """BEGIN IMMEDIATE serialises connections too: five stores on the file,
    ten submissions each, one user capped at 5, all at once."""
    stores = [await JobStore.open(db_path, clock=clock) for _ in range(5)]
    caps = QueueCaps(max_queued_per_user=5, max_queue_total=1000)
    try:
        admitted, refused = await _fire(
            s.create(
                guild_id=G, channel_id=CH, user_id=U, mode="t2v", params={}, inputs={}, caps=caps
            )
            for _ in range(N // len(stores))
            for s in stores
        )
        assert (admitted, refused) == (5, Counter({"queue_full:user": N - 5}))
        assert await stores[0].count_queued(user_id=U) == 5
    finally:
        for s in stores:
            await s.close()


async def test_a_refusal_inserts_nothing_and_the_precheck_is_only_advice(store, tmp_path) -> None:
    engine = _engine(store, tmp_path, QueueCaps(max_queued_per_user=1, max_queue_total=10))
    await engine.precheck(guild_id=G, channel_id=CH, user_id=U)  # passes: nothing queued
    await _submit(engine)  # another submission takes the one slot meanwhile
    with pytest.raises(QueueFull):
        await _submit(engine)  # the transaction is the decision
    assert len(await store.list()) == 1
