"""Restart recovery of the job store: every state, reopened from disk."""

from __future__ import annotations

from pathlib import Path

from engine.jobs import JobStatus, JobStore
from tests.engine.jobs._helpers import new_job

Q, R, S, F, C = (
    JobStatus.QUEUED,
    JobStatus.RUNNING,
    JobStatus.SUCCEEDED,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
)


async def _crash_loop(store: JobStore, times: int) -> str:
    """A job that was running `times` times (the process died under each)."""
    job = await new_job(store)
    for i in range(times):
        assert (await store.start(job.id)).attempts == i + 1
        if i + 1 < times:
            await store.requeue(job.id, note="restarted")
    return job.id


async def test_recover_after_restart_in_every_state(db_path: Path) -> None:
    store = await JobStore.open(db_path)
    queued_1 = (await new_job(store)).id
    running = await _crash_loop(store, 1)
    queued_2 = (await new_job(store)).id
    poisoned = await _crash_loop(store, 3)
    done = (await new_job(store)).id
    await store.start(done)
    await store.succeed(done, result_path="a.mp4", gpu_seconds=1)
    delivered = (await new_job(store)).id
    await store.start(delivered)
    await store.succeed(delivered, result_path="b.mp4", gpu_seconds=1)
    assert await store.set_result_posted(delivered, 900)
    failed = (await new_job(store)).id
    await store.start(failed)
    await store.fail(failed, error_code="x", error_detail="", system_fault=False, gpu_seconds=0)
    cancelled_card = (await new_job(store)).id
    await store.set_card(cancelled_card, 77)
    await store.cancel(cancelled_card)
    cancelled_bare = (await new_job(store)).id
    await store.cancel(cancelled_bare)
    await store.close()  # "the process died"

    store = await JobStore.open(db_path)
    try:
        rec = await store.recover(max_attempts=3)
        assert [j.id for j in rec.queued] == [queued_1, running, queued_2]
        assert [j.id for j in rec.requeued] == [running]
        back = rec.requeued[0]
        assert (back.status, back.attempts, back.note, back.started_at) == (Q, 1, "restarted", None)
        assert [j.id for j in rec.failed] == [poisoned]
        dead = rec.failed[0]
        assert (dead.status, dead.error_code, dead.system_fault, dead.attempts) == (
            F,
            "interrupted",
            True,
            3,
        )
        assert [j.id for j in rec.undelivered] == [poisoned, done, failed, cancelled_card]
        assert delivered not in {j.id for j in rec.undelivered}

        # Running it again (a second restart without progress) changes nothing.
        again = await store.recover(max_attempts=3)
        assert again.requeued == () and again.failed == ()
        assert [j.id for j in again.queued] == [queued_1, running, queued_2]
        assert [j.id for j in again.undelivered] == [j.id for j in rec.undelivered]

        # The requeued job runs again and counts the new attempt.
        assert (await store.start(running)).attempts == 2
    finally:
        await store.close()


async def test_recover_on_an_empty_store(store: JobStore) -> None:
    rec = await store.recover()
    assert (rec.queued, rec.requeued, rec.failed, rec.undelivered) == ((), (), (), ())


async def test_delivered_results_never_come_back(db_path: Path) -> None:
    store = await JobStore.open(db_path)
    job = await new_job(store)
    await store.start(job.id)
    await store.succeed(job.id, result_path="a.mp4", gpu_seconds=1)
    assert await store.set_result_posted(job.id, 1)
    await store.close()
    for _ in range(2):
        store = await JobStore.open(db_path)
        try:
            assert (await store.recover()).undelivered == ()
            assert not await store.set_result_posted(job.id, 2)
        finally:
            await store.close()
