"""ETAs learned from the jobs table (engine/eta.py), on a real SQLite store."""

from __future__ import annotations

import math

import pytest

from engine.eta import LearnedPreparer, LearningEvents, RunTimes
from engine.events import JobChangeStream
from engine.jobs import JobStatus, JobStore
from engine.prepare import ModePreparer
from ltxbot.settings import REPO_ROOT

WORKFLOWS = REPO_ROOT / "tests" / "workflows"
PIXELS_256 = 256 * 256 * 25  # 1 s at 24 fps keeps 25 frames


def params(width: int = 256, height: int = 256, preset: str = "balanced", seed: int = 1) -> dict:
    return {
        "prompt": "a cat",
        "seed": seed,
        "width": width,
        "height": height,
        "duration_s": 1.0,
        "fps": 24,
        "preset": preset,
        "enhance_prompt": False,
    }


async def finished(store: JobStore, seconds: float, **kw) -> object:
    job = await store.create(
        guild_id=1, channel_id=2, user_id=3, mode="t2v", params=params(**kw), inputs={}
    )
    await store.start(job.id)
    return await store.succeed(job.id, result_path="/x.mp4", gpu_seconds=seconds)


async def queued(store: JobStore, **kw):
    return await store.create(
        guild_id=1, channel_id=2, user_id=3, mode="t2v", params=params(**kw), inputs={}
    )


@pytest.fixture
async def store(tmp_path):
    async with await JobStore.open(tmp_path / "jobs.sqlite3") as s:
        yield s


async def test_loaded_from_the_table_the_median_of_the_same_shape_wins(store, tmp_path):
    for seconds in (2.0, 9.0, 2.2):  # 9.0: a cold first run, loading models
        await finished(store, seconds)
    failed = await queued(store)
    await store.start(failed.id)
    await store.fail(
        failed.id, error_code="x", error_detail="", system_fault=False, gpu_seconds=50.0
    )
    times = await RunTimes.load(store)
    assert len(times) == 3  # successes only

    assert times.estimate(await queued(store)) == 2.2
    # Twice the frame-pixels, one size seen: linear in pixels from the median.
    assert times.estimate(await queued(store, width=512)) == pytest.approx(4.4)
    assert times.estimate(await queued(store, preset="fast")) is None  # no data: constants

    constants = ModePreparer(WORKFLOWS, tmp_path)
    preparer = LearnedPreparer(constants, times)
    fast = await queued(store, preset="fast")
    assert preparer.estimate(fast) == constants.estimate(fast) > 0
    assert preparer.estimate(await queued(store)) == 2.2


async def test_other_sizes_follow_a_robust_power_law_with_a_bounded_exponent(store):
    times = RunTimes()
    # seconds = 0.5 x (pixels / P)^1.5 at three sizes, one wild outlier
    for width, seconds in ((256, 0.5), (512, 0.5 * 2**1.5), (1024, 0.5 * 4**1.5), (512, 40.0)):
        times.observe(await finished(store, seconds, width=width))
    guess = times.estimate(await queued(store, width=256, height=512))  # 2x pixels, unseen
    assert guess == pytest.approx(0.5 * 2**1.5, rel=0.01)

    steep = RunTimes()
    for width, seconds in ((256, 1.0), (512, 8.0), (1024, 64.0)):  # pixels^3
        steep.observe(await finished(store, seconds, width=width, preset="quality"))
    guess = steep.estimate(await queued(store, width=2048, preset="quality"))
    # The slope is capped at 2; the intercept is the median one under that slope.
    assert guess == pytest.approx(2.0 * 8.0**2, rel=0.01)
    assert math.isfinite(guess)


async def test_learning_events_learn_each_success_once_and_pass_every_change_on(store):
    times, stream = RunTimes(), JobChangeStream()
    events = LearningEvents(times, stream)
    running = await queued(store)
    running = await store.start(running.id)
    await events.job_changed(running)
    for seconds in (3.0, 3.0):
        done = await finished(store, seconds)
        await events.job_changed(done)
        await events.job_changed(done)  # the same ending told twice
    assert len(times) == 2
    seen = []
    async for job, _ in stream:
        seen.append(job.status)
        if len(seen) == 5:
            break
    assert seen == [JobStatus.RUNNING, *[JobStatus.SUCCEEDED] * 4]
    assert times.estimate(await queued(store)) is None  # two runs are not enough
    await events.job_changed(await finished(store, 4.0))
    assert times.estimate(await queued(store)) == 3.0
