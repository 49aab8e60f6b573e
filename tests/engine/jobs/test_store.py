"""Jobs and their transitions (engine/jobs/store.py)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from engine.errors import JobNotFound
from engine.jobs import TRANSITIONS, Job, JobStatus, JobStore
from tests.engine.jobs._helpers import T0, Clock, new_job

Q, R, S, F, C = (
    JobStatus.QUEUED,
    JobStatus.RUNNING,
    JobStatus.SUCCEEDED,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
)


async def _drive(store: JobStore, job: Job, to: JobStatus) -> Job | None:
    """Ask the store for the one operation that enters `to`."""
    if to is R:
        return await store.start(job.id)
    if to is S:
        return await store.succeed(job.id, result_path="out.mp4", gpu_seconds=2.0)
    if to is F:
        return await store.fail(
            job.id, error_code="oops", error_detail="d", system_fault=False, gpu_seconds=1.0
        )
    if to is C:
        return await store.cancel(job.id)
    return await store.requeue(job.id, note="restarted")


async def _job_in(store: JobStore, status: JobStatus) -> Job:
    job = await new_job(store)
    path = {Q: [], R: [R], S: [R, S], F: [R, F], C: [C]}[status]
    for step in path:
        job = await _drive(store, job, step)
        assert job is not None
    assert job.status is status
    return job


async def test_create_stores_everything_needed_to_run_again(store: JobStore) -> None:
    first = await new_job(store)
    job = await store.create(
        guild_id=5,
        channel_id=6,
        user_id=7,
        mode="i2v",
        params={"prompt": "p", "seed": 123, "nested": {"a": [1, 2]}},
        inputs={"image": "ab" * 32},
        retry_of=first.id,
    )
    assert job.status is Q and job.attempts == 0 and job.seq == first.seq + 1
    assert job.created_at == T0 and job.started_at is None
    again = await store.get(job.id)
    assert again == job
    assert dict(again.params) == {"prompt": "p", "seed": 123, "nested": {"a": [1, 2]}}
    assert dict(again.inputs) == {"image": "ab" * 32}
    assert (again.guild_id, again.channel_id, again.user_id, again.retry_of) == (5, 6, 7, first.id)
    with pytest.raises(TypeError):
        again.params["seed"] = 1  # type: ignore[index]


async def test_create_retry_of_unknown_job_raises(store: JobStore) -> None:
    with pytest.raises(JobNotFound) as info:
        await new_job(store, retry_of="zzzzzzzz")
    assert info.value.job_id == "zzzzzzzz"
    assert await store.list() == []


@pytest.mark.parametrize(("src", "dst"), list(itertools.product(JobStatus, JobStatus)))
async def test_every_transition_is_guarded(store: JobStore, src: JobStatus, dst: JobStatus) -> None:
    job = await _job_in(store, src)
    result = await _drive(store, job, dst)
    after = await store.get(job.id)
    if dst in TRANSITIONS[src]:
        assert result is not None and result.status is dst
        assert after == result
    else:
        assert result is None
        assert after == job  # nothing changed at all


async def test_second_start_returns_none(store: JobStore) -> None:
    job = await new_job(store)
    started = await store.start(job.id)
    assert started is not None and started.attempts == 1 and started.started_at == T0
    assert await store.start(job.id) is None
    assert await store.start("nosuchid") is None
    assert (await store.get(job.id)).attempts == 1


async def test_concurrent_start_from_two_connections_exactly_one_wins(db_path: Path) -> None:
    a = await JobStore.open(db_path)
    b = await JobStore.open(db_path)
    try:
        jobs = [await new_job(a) for _ in range(20)]
        for job in jobs:
            results = await asyncio.gather(
                a.start(job.id), b.start(job.id), a.start(job.id), b.start(job.id)
            )
            winners = [r for r in results if r is not None]
            assert len(winners) == 1
            assert winners[0].attempts == 1
            assert (await b.get(job.id)).status is R
    finally:
        await a.close()
        await b.close()


async def test_engine_finish_racing_a_cancel_has_one_winner(store: JobStore) -> None:
    job = await _job_in(store, R)
    done, cancelled = await asyncio.gather(
        store.succeed(job.id, result_path="x.mp4", gpu_seconds=1.0), store.cancel(job.id)
    )
    assert (done is None) != (cancelled is None)
    final = await store.get(job.id)
    assert final.status is (S if done else C)


async def test_running_job_outcomes_record_their_data(store: JobStore, clock: Clock) -> None:
    ok = await _job_in(store, R)
    clock.advance(30)
    ok = await store.succeed(ok.id, result_path="outputs/a.mp4", gpu_seconds=12.5)
    assert (ok.result_path, ok.gpu_seconds, ok.finished_at) == ("outputs/a.mp4", 12.5, T0 + 30)
    assert ok.terminal and not ok.delivered

    bad = await _job_in(store, R)
    bad = await store.fail(
        bad.id, error_code="out_of_memory", error_detail="VAE", system_fault=True, gpu_seconds=3
    )
    assert (bad.error_code, bad.error_detail, bad.system_fault, bad.gpu_seconds) == (
        "out_of_memory",
        "VAE",
        True,
        3.0,
    )

    stop = await _job_in(store, R)
    stop = await store.cancel(stop.id, gpu_seconds=4.0, note="by owner")
    assert (stop.gpu_seconds, stop.note, stop.finished_at) == (4.0, "by owner", T0 + 30)
    assert isinstance(stop.started_at, float)


async def test_requeue_keeps_place_and_counts_attempts(store: JobStore) -> None:
    first = await new_job(store)
    later = await new_job(store)
    await store.start(first.id)
    back = await store.requeue(first.id, note="restarted")
    assert (back.status, back.attempts, back.started_at, back.note) == (Q, 1, None, "restarted")
    assert [j.id for j in await store.list(Q)] == [first.id, later.id]
    assert (await store.start(first.id)).attempts == 2


async def test_list_filters_and_orders(store: JobStore) -> None:
    a1 = await new_job(store, user_id=1, guild_id=1)
    b1 = await new_job(store, user_id=2, guild_id=1)
    a2 = await new_job(store, user_id=1, guild_id=2)
    await store.start(b1.id)
    assert [j.id for j in await store.list()] == [a1.id, b1.id, a2.id]
    assert [j.id for j in await store.list(Q)] == [a1.id, a2.id]
    assert [j.id for j in await store.list(Q, R, guild_id=1)] == [a1.id, b1.id]
    assert [j.id for j in await store.list(user_id=1)] == [a1.id, a2.id]
    assert [j.id for j in await store.list(limit=2, newest_first=True)] == [a2.id, b1.id]
    assert await store.count_queued() == 2
    assert await store.count_queued(user_id=1) == 2
    assert await store.count_queued(user_id=2) == 0


async def test_find_by_message_and_latest_for_user(store: JobStore) -> None:
    old = await new_job(store)
    new = await new_job(store)
    dm = await new_job(store, guild_id=None)
    await store.set_card(old.id, 111)
    await _drive(store, old, R)
    await store.succeed(old.id, result_path="r.mp4", gpu_seconds=1)
    assert await store.set_result_posted(old.id, 222)
    assert (await store.find_by_message(111)).id == old.id
    assert (await store.find_by_message(222)).id == old.id
    assert await store.find_by_message(333) is None

    assert (await store.latest_for_user(1, 10)).id == new.id
    assert (await store.latest_for_user(None, 10)).id == dm.id
    assert (await store.latest_for_user(1, 10, statuses=(S,))).id == old.id
    assert (await store.latest_for_user(1, 10, statuses=())).id == new.id
    assert await store.latest_for_user(1, 99) is None


async def test_set_card_unknown_job_raises(store: JobStore) -> None:
    with pytest.raises(JobNotFound):
        await store.set_card("nosuchid", 1)


async def test_result_is_posted_at_most_once(db_path: Path, store: JobStore) -> None:
    job = await _job_in(store, R)
    assert not await store.set_result_posted(job.id, 5)  # not finished yet
    await store.succeed(job.id, result_path="r.mp4", gpu_seconds=1)
    assert [j.id for j in await store.undelivered()] == [job.id]
    other = await JobStore.open(db_path)
    try:
        results = await asyncio.gather(
            store.set_result_posted(job.id, 6), other.set_result_posted(job.id, 7)
        )
        assert sorted(results) == [False, True]
        assert not await other.set_result_posted(job.id, 8)
    finally:
        await other.close()
    assert (await store.get(job.id)).result_message_id == (6 if results[0] else 7)
    assert await store.undelivered() == []
    assert not await store.set_result_posted("nosuchid", 9)


async def test_undelivered_covers_results_and_cancelled_cards(store: JobStore) -> None:
    ok = await _job_in(store, S)
    bad = await _job_in(store, F)
    cancelled_with_card = await new_job(store)
    await store.set_card(cancelled_with_card.id, 50)
    await store.cancel(cancelled_with_card.id)
    await _job_in(store, C)  # no card: nothing to update
    await _job_in(store, Q)
    await _job_in(store, R)
    assert [j.id for j in await store.undelivered()] == [ok.id, bad.id, cancelled_with_card.id]
    assert await store.set_result_posted(cancelled_with_card.id, 50)
    assert [j.id for j in await store.undelivered()] == [ok.id, bad.id]
