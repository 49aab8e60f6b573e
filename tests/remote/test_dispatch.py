"""The bot's engine driving `ltx-bot worker` processes through Redis (SAQ).

Each failure of issue 14 on real processes: a worker killed (SIGKILL) or
frozen (SIGSTOP) mid-job, Redis restarted mid-run, the bot's side restarted
mid-job, a cancel, and a worker that lacks a mode. Every job must end once,
with its result on disk, and a lost attempt's late report must be refused.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from pathlib import Path

import av
import pytest

from engine.jobs import JobStatus
from engine.modes.stages import ENCODING, PREPARING
from tests.remote.conftest import LONG, LONGER, WorkerProcess, bot_side, until
from tools.redis_harness import adverts

DISPATCHER = "engine.remote.dispatcher"  # the logger of the dispatcher and its outcomes


@pytest.fixture
def dispatcher_warnings(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """The dispatcher's warnings so far: each lost attempt and each refused
    report is one, so a test can count them."""
    caplog.set_level(logging.WARNING, logger=DISPATCHER)
    return lambda: [r.getMessage() for r in caplog.records if r.name == DISPATCHER]


def _frames(path: str) -> int:
    with av.open(path) as container:
        return sum(1 for _ in container.decode(video=0))


async def _running_on(bot, job_id: str) -> str:
    async def placed():
        job = await bot.job(job_id)
        return bot.flight_worker(job_id) if job.status is JobStatus.RUNNING else None

    return await until(placed, 60, f"job {job_id} running on a worker")


async def _moved_off(bot, job_id: str, old: str) -> str:
    async def elsewhere():
        job = await bot.job(job_id)
        where = bot.flight_worker(job_id) if job.status is JobStatus.RUNNING else None
        return where if where not in (None, old) else None

    return await until(elsewhere, 60, f"job {job_id} running on a worker other than {old}")


async def test_two_workers_run_two_jobs_at_once(redis_server, workers, tmp_path: Path):
    async with bot_side(tmp_path / "bot", redis_server.url) as bot:
        first = await bot.submit(user_id=10, **LONG)
        second = await bot.submit(user_id=11, **LONG)
        placed = {await _running_on(bot, first.id), await _running_on(bot, second.id)}
        assert placed == {"w1", "w2"}  # one job each, at the same time
        done = [await bot.wait_status(j.id, JobStatus.SUCCEEDED) for j in (first, second)]
        for job in done:
            assert job.attempts == 1 and job.result_path is not None
            assert Path(job.result_path).parent == tmp_path / "bot" / "outputs"
            # 5 s at 24 fps (8n+1 frames), decoded from the bot's own copy
            assert _frames(job.result_path) == 121
            # The worker's progress reached the bot's frontend with its stage
            # (the stand-in graph has no sampler, so no preview still).
            stages = {p.stage for job_id, p in bot.progress if job_id == job.id}
            assert stages - {None} and stages - {None} <= {PREPARING, ENCODING}, stages


async def test_a_worker_killed_mid_job_is_replaced_and_the_job_ends_once(
    redis_server, workers, tmp_path: Path
):
    by_id = {w.worker_id: w for w in workers}
    async with bot_side(tmp_path / "bot", redis_server.url) as bot:
        job = await bot.submit(**LONGER)
        victim = await _running_on(bot, job.id)
        by_id[victim].send(signal.SIGKILL)
        await _moved_off(bot, job.id, victim)  # within the lease (3 s) plus a poll
        done = await bot.wait_status(job.id, JobStatus.SUCCEEDED)
        assert done.attempts == 2 and _frames(done.result_path) == 241
        assert victim not in await adverts(redis_server.url)  # its lease lapsed


async def test_a_frozen_workers_late_result_is_refused(
    redis_server, workers, tmp_path: Path, dispatcher_warnings
):
    by_id = {w.worker_id: w for w in workers}
    async with bot_side(tmp_path / "bot", redis_server.url) as bot:
        job = await bot.submit(**LONGER)
        frozen = await _running_on(bot, job.id)
        by_id[frozen].send(signal.SIGSTOP)  # presumed dead once its advert lapses
        done = await bot.wait_status(job.id, JobStatus.SUCCEEDED)
        assert done.attempts == 2
        result = await asyncio.to_thread(Path(done.result_path).read_bytes)
        by_id[frozen].send(signal.SIGCONT)  # it comes back and reports attempt 1

        async def refused():
            return any("stale result refused: attempt 1" in m for m in dispatcher_warnings())

        await until(refused, 60, "the late report of attempt 1")
        after = await bot.job(job.id)
        assert (after.status, after.attempts) == (JobStatus.SUCCEEDED, 2)
        assert await asyncio.to_thread(Path(after.result_path).read_bytes) == result


async def test_cancel_stops_the_job_on_its_worker(redis_server, workers, tmp_path: Path):
    async with bot_side(tmp_path / "bot", redis_server.url) as bot:
        # 601 frames: LONGER at 24 fps could end (1.7 s on an idle 2-core box)
        # before the worker's abort check (every second) saw the cancel.
        job = await bot.submit(**{**LONGER, "fps": 60})
        worker = await _running_on(bot, job.id)
        await bot.engine.cancel(job.id, by_user_id=job.user_id)
        cancelled = await bot.wait_status(job.id, JobStatus.CANCELLED, within=8)
        assert cancelled.result_path is None

        async def freed():
            return (await adverts(redis_server.url))[worker].running is None

        await until(freed, 8, f"worker {worker} free again")


async def test_redis_restarted_mid_run_loses_no_job(redis_server, workers, tmp_path: Path):
    async with bot_side(tmp_path / "bot", redis_server.url) as bot:
        job = await bot.submit(**LONGER)
        await _running_on(bot, job.id)
        await redis_server.restart()  # no persistence: everything in it is gone
        done = await bot.wait_status(job.id, JobStatus.SUCCEEDED, within=120)
        assert done.attempts == 2 and _frames(done.result_path) == 241
        await asyncio.sleep(1.0)  # room for a wrong second ending to show up
        assert (await bot.job(job.id)).finished_at == done.finished_at


async def test_the_bot_restarted_mid_job_adopts_what_its_workers_ran(
    redis_server, workers, tmp_path: Path
):
    async with bot_side(tmp_path / "bot", redis_server.url) as bot:
        finished = await bot.submit(user_id=10, **{**LONGER, "duration_s": 2.0})  # 49 frames
        ongoing = await bot.submit(user_id=11, **LONGER)  # 241 frames
        queued = await bot.submit(user_id=12)
        on = {await _running_on(bot, j.id) for j in (finished, ongoing)}
        assert on == {"w1", "w2"}
        finished_on = bot.flight_worker(finished.id)
        ongoing_on = bot.flight_worker(ongoing.id)
    # The bot's side is gone mid-job (its task cancelled, nothing recorded).
    # One attempt ends while it is away; the other still runs when it is back.

    async def holding(worker_id: str, key: str | None):
        return (await adverts(redis_server.url))[worker_id].running == key

    await until(lambda: holding(finished_on, f"{finished.id}-a1"), 30, "the attempt in hand")
    await until(lambda: holding(finished_on, None), 120, "the attempt to end while away")
    assert (await adverts(redis_server.url))[ongoing_on].running == f"{ongoing.id}-a1"
    async with bot_side(tmp_path / "bot", redis_server.url) as bot:
        for job in (finished, ongoing, queued):
            done = await bot.wait_status(job.id, JobStatus.SUCCEEDED, within=120)
            assert done.attempts == 1, job.id  # adopted: none ran twice
            assert _frames(done.result_path) > 0
        assert _frames((await bot.job(ongoing.id)).result_path) == 241
        first = await bot.job(finished.id)
        await asyncio.sleep(1.0)  # room for a second ending to show up
        assert (await bot.job(finished.id)).finished_at == first.finished_at


async def test_a_worker_is_never_given_a_mode_it_cannot_run(redis_server, tmp_path: Path):
    only_i2v = WorkerProcess("w-i2v", redis_server.url, tmp_path / "workers", modes=["i2v"])
    t2v = WorkerProcess("w-t2v", redis_server.url, tmp_path / "workers", modes=["t2v"])
    await only_i2v.start()
    try:

        async def up():
            return "w-i2v" in await adverts(redis_server.url)

        await until(up, 120, "the i2v worker's advert")
        assert (await adverts(redis_server.url))["w-i2v"].modes == ("i2v",)
        async with bot_side(tmp_path / "bot", redis_server.url) as bot:
            job = await bot.submit()
            await asyncio.sleep(2.0)
            assert (await bot.job(job.id)).status is JobStatus.QUEUED  # no one can run it
            await t2v.start()
            done = await bot.wait_status(job.id, JobStatus.SUCCEEDED, within=120)
            assert done.attempts == 1
            assert "w-t2v" in await adverts(redis_server.url)
    finally:
        await only_i2v.kill()
        await t2v.kill()


async def test_a_worker_stopped_cleanly_hands_its_job_back_at_once(
    redis_server, workers, tmp_path: Path, dispatcher_warnings
):
    by_id = {w.worker_id: w for w in workers}
    async with bot_side(tmp_path / "bot", redis_server.url) as bot:
        job = await bot.submit(**LONGER)
        leaving = await _running_on(bot, job.id)
        by_id[leaving].send(signal.SIGTERM)  # an operator takes the worker out
        await _moved_off(bot, job.id, leaving)
        done = await bot.wait_status(job.id, JobStatus.SUCCEEDED)
        assert (done.status, done.attempts) == (JobStatus.SUCCEEDED, 2)
        # Handed back by its report, not found dead when its advert lapsed.
        lost = [m for m in dispatcher_warnings() if "lost:" in m]
        assert lost == [f"job={job.id} attempt=1 lost: its worker shut down"], lost
        assert await asyncio.wait_for(by_id[leaving].proc.wait(), 30) == 0


async def test_an_extend_runs_on_a_worker_and_is_joined_by_the_bot(
    redis_server, workers, tmp_path: Path
):
    """The continuation's input (the parent's last frame) travels to the
    worker through Redis; the join happens where the parent's file is."""
    from tests.bot.e2e.test_extend import frames_of

    async with bot_side(tmp_path / "bot", redis_server.url) as bot:
        parent = await bot.wait_status((await bot.submit()).id, JobStatus.SUCCEEDED)
        child = await bot.engine.extend(parent.id, seconds=1.0, guild_id=1, user_id=10)
        assert child.mode == "i2v" and child.extends == parent.id
        done = await bot.wait_status(child.id, JobStatus.SUCCEEDED)
        joined = _frames(done.result_path)
        assert joined == _frames(parent.result_path) + frames_of(child) - 1
