"""The warm-up: a tiny job per mode, run by the worker before its first job,
on the real ComfyUI (the test workflows; the bundled LTX-2.3 graphs on
stand-in weights in the slow tests), and the rule that picks the modes."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import shutil
import sys
from types import SimpleNamespace

import pytest

from engine.execute import execute
from engine.jobs import JobStatus
from engine.media import lookup
from engine.timeouts import TimeoutPolicy
from engine.warmup import (
    WARMUP_ID,
    warm_up,
    warm_up_in_order,
    warmup_job,
)
from tests.engine.modes.test_ltx_graphs import settings as settings  # the fixture
from tests.engine.test_worker import TEST_WORKFLOWS, make_engine, submit
from tests.engine.test_worker import store as store  # the fixture


async def _wait_done(engine, job_id: str, timeout_s: float = 120.0):
    async with asyncio.timeout(timeout_s):
        while True:
            job = await engine.store.get(job_id)
            if job is not None and job.terminal:
                return job
            await asyncio.sleep(0.05)


async def _logged(caplog, prefix: str) -> None:
    async with asyncio.timeout(60):
        while True:
            if any(m.startswith(prefix) for m in _messages(caplog)):
                return
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def _worker_running(engine):
    """The engine's worker task, as `ltx-bot run` starts it, for the block."""
    task = asyncio.create_task(engine.worker.run_forever())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# The loaders of the t2v sampling path (the checkpoint, the distilled LoRA,
# the latent upsampler, the audio VAE).
_LOADERS = {
    "CheckpointLoaderSimple",
    "LoraLoaderModelOnly",
    "LatentUpscaleModelLoader",
    "LTXVAudioVAELoader",
}


def _messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records]


async def test_the_worker_warms_up_before_its_first_job(store, runtime, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    engine = make_engine(store, runtime, tmp_path)
    engine.worker.warmup_modes = ("t2v",)
    async with _worker_running(engine):
        await _logged(caplog, "warm-up: loading")  # a member asks while it warms up
        job = await submit(engine)
        done = await _wait_done(engine, job.id)
    assert done.status is JobStatus.SUCCEEDED, done.error_detail
    messages = _messages(caplog)
    loaded = next(i for i, m in enumerate(messages) if m.startswith("warm-up: the t2v models"))
    started = next(i for i, m in enumerate(messages) if f"job={job.id} queued→running" in m)
    assert loaded < started, messages
    # The first job counts as warm: its budget has no cold-load allowance.
    assert engine.worker._warm
    # The warm-up is no job: no row, no event, and its file is gone.
    assert await store.get(WARMUP_ID) is None
    assert [j.id for j in await store.list()] == [job.id]
    assert {jid for _, jid, _ in engine.events.calls} == {job.id}
    assert not list(runtime.config.output_dir.rglob("*.mp4"))


async def test_the_worker_warms_each_mode_in_order_with_synthetic_pictures_for_keyframe(
    store, runtime, tmp_path, caplog
):
    caplog.set_level(logging.INFO)
    engine = make_engine(store, runtime, tmp_path)
    engine.worker.warmup_modes = ("t2v", "keyframe")
    engine.worker.inputs_dir = runtime.config.input_dir  # the preparer's
    async with _worker_running(engine):
        await _logged(caplog, "warm-up: the keyframe models loaded")
        job = await submit(engine)
        done = await _wait_done(engine, job.id)
    assert done.status is JobStatus.SUCCEEDED, done.error_detail
    steps = [m for m in _messages(caplog) if m.startswith("warm-up")]
    assert [m.rsplit(" in ", 1)[0] for m in steps] == [
        "warm-up: loading the t2v models",
        "warm-up: the t2v models loaded",
        "warm-up: loading the keyframe models",
        "warm-up: the keyframe models loaded",
    ], steps
    assert engine.worker._warm
    assert await store.get(WARMUP_ID) is None
    assert not list(runtime.config.output_dir.rglob("*.mp4"))  # both files deleted


async def test_a_warm_up_feeds_each_media_slot_a_synthetic_input(store, runtime, tmp_path):
    """keyframe's two pictures differ (a first and a last frame); a2v gets a tone."""
    engine = make_engine(store, runtime, tmp_path)
    seen: list = []
    inner = engine.worker.preparer

    class Spy:
        async def prepare(self, job):
            seen.append(job)
            return await inner.prepare(job)

    inputs_dir = runtime.config.input_dir
    for mode in ("keyframe", "a2v"):
        report = await warm_up(runtime, Spy(), TimeoutPolicy(), mode=mode, inputs_dir=inputs_dir)
        assert report.ok, report
    keyframe, a2v = seen
    first, last = (lookup(inputs_dir, keyframe.inputs[s]) for s in ("first_image", "last_image"))
    assert first.sha256 != last.sha256
    assert (first.kind, first.width, first.height) == ("image", 256, 256)
    audio = lookup(inputs_dir, a2v.inputs["audio"])
    assert audio.kind == "audio" and audio.duration_s == pytest.approx(1.0, abs=0.05)


async def test_a_mode_that_needs_a_video_is_skipped_naming_why(store, runtime, tmp_path, caplog):
    engine = make_engine(store, runtime, tmp_path)
    inputs_dir = runtime.config.input_dir
    policy = TimeoutPolicy()
    report = await warm_up(
        runtime, engine.worker.preparer, policy, mode="style", inputs_dir=inputs_dir
    )
    assert (report.ok, report.skipped) == (False, "needs_video")
    assert any("style" in m and "video input" in m for m in _messages(caplog)), caplog.text
    # Media but nowhere to put them: skipped as well, before anything runs.
    report = await warm_up(runtime, engine.worker.preparer, policy, mode="keyframe")
    assert (report.ok, report.skipped) == (False, "no_inputs_dir")


async def test_a_warm_up_that_cannot_run_is_skipped_and_jobs_still_run(
    store, runtime, tmp_path, caplog
):
    caplog.set_level(logging.INFO)
    only_t2v = tmp_path / "only-t2v"
    only_t2v.mkdir()
    shutil.copy(TEST_WORKFLOWS / "t2v.json", only_t2v / "t2v.json")
    engine = make_engine(store, runtime, tmp_path, workflows=only_t2v)
    engine.worker.warmup_modes = ("i2v",)  # no workflow for it here
    engine.worker.inputs_dir = runtime.config.input_dir
    async with _worker_running(engine):
        await _logged(caplog, "warm-up skipped")
        job = await submit(engine)
        done = await _wait_done(engine, job.id)
    assert done.status is JobStatus.SUCCEEDED, done.error_detail
    skipped = [m for m in _messages(caplog) if m.startswith("warm-up skipped")]
    assert len(skipped) == 1 and "i2v" in skipped[0], skipped
    # The first job stayed cold: it had the cold-load allowance.
    assert not any(m.startswith("warm-up: the") for m in _messages(caplog))


async def test_jobs_already_queued_at_the_start_go_first_without_a_warm_up(
    store, runtime, tmp_path, caplog
):
    caplog.set_level(logging.INFO)
    engine = make_engine(store, runtime, tmp_path)
    engine.worker.warmup_modes = ("t2v", "keyframe")
    engine.worker.inputs_dir = runtime.config.input_dir
    job = await submit(engine)  # waiting before the worker starts, as after a restart
    async with _worker_running(engine):
        done = await _wait_done(engine, job.id)
    assert done.status is JobStatus.SUCCEEDED, done.error_detail
    messages = _messages(caplog)
    assert "warm-up skipped: 1 jobs already queued" in messages
    assert not any(m.startswith("warm-up: loading") for m in messages)


async def test_a_job_that_arrives_during_a_warm_up_stops_the_modes_after_it(
    store, runtime, tmp_path, caplog
):
    caplog.set_level(logging.INFO)
    engine = make_engine(store, runtime, tmp_path)
    engine.worker.warmup_modes = ("t2v", "keyframe")
    engine.worker.inputs_dir = runtime.config.input_dir
    inner = engine.worker.preparer
    asked: list = []

    class MemberAsksDuringTheWarmUp:
        """The real preparer; a member's job is submitted while the first
        warm-up is being prepared, so it is queued before that one ends."""

        async def prepare(self, job):
            if job.id == WARMUP_ID and not asked:
                asked.append(await submit(engine))
            return await inner.prepare(job)

        def estimate(self, job):
            return inner.estimate(job)

    engine.worker.preparer = MemberAsksDuringTheWarmUp()
    async with _worker_running(engine):
        await _logged(caplog, "warm-up stopped")
        done = await _wait_done(engine, asked[0].id)
    assert done.status is JobStatus.SUCCEEDED, done.error_detail
    messages = _messages(caplog)
    assert "warm-up stopped before keyframe: 1 jobs queued meanwhile" in messages
    assert not any(m.startswith("warm-up: loading the keyframe") for m in messages)
    assert any(m.startswith("warm-up: the t2v models loaded") for m in messages)


async def test_warm_up_in_order_checks_the_queue_before_every_mode():
    queued = [0]
    ran: list[str] = []

    async def warm_one(mode):
        ran.append(mode)
        if mode == "i2v":
            queued[0] = 2  # two jobs arrive while i2v warms up
        return SimpleNamespace(ok=True)

    reports = await warm_up_in_order(
        ("t2v", "i2v", "keyframe", "a2v"), warm_one, waiting=lambda: queued[0]
    )
    assert ran == ["t2v", "i2v"] and len(reports) == 2


async def test_warm_up_reports_why_it_was_skipped(store, runtime, tmp_path):
    engine = make_engine(store, runtime, tmp_path, workflows=tmp_path / "empty")
    report = await warm_up(runtime, engine.worker.preparer, TimeoutPolicy(), mode="t2v")
    assert (report.ok, report.mode, report.skipped) == (False, "t2v", "workflow_missing")


# -- which modes ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_the_bundled_t2v_warm_up_leaves_its_models_loaded_for_the_first_job(
    settings, tmp_path
):
    from engine.comfy.runtime import Runtime
    from ltxbot.app import runtime_config
    from tests.engine.modes.test_ltx_graphs import StandInText
    from tests.standins import text_node

    runtime = Runtime(runtime_config(settings))
    await runtime.start()
    text_node.register(sys.modules["nodes"])
    try:
        from engine.prepare import ModePreparer

        preparer = StandInText(ModePreparer(settings.workflows_dir, settings.inputs_dir))
        report = await warm_up(runtime, preparer, TimeoutPolicy())
        assert report.ok, report
        mm = sys.modules["comfy.model_management"]
        assert mm.current_loaded_models, "the warm-up loaded no model"
        # A member's first job after it: every loader's output comes from
        # ComfyUI's cache (nothing is read from disk again).
        loaders, cached = await _first_job_loaders(runtime, preparer, "t2v")
        assert len(loaders) == len(_LOADERS), loaders
        assert cached == loaders, (loaders, cached)
    finally:
        text_node.unregister(sys.modules["nodes"])
        await runtime.close()


async def _first_job_loaders(runtime, preparer, mode: str) -> tuple[set, set]:
    """(the mode's loader nodes, those a first job took from ComfyUI's cache)."""
    job = dataclasses.replace(warmup_job(mode), id=f"first-{mode}")
    job = dataclasses.replace(job, params={**job.params, "seed": 5})
    prepared = await preparer.prepare(job)
    loaders = {nid for nid, node in prepared.prompt.items() if node["class_type"] in _LOADERS}
    run = await execute(
        runtime, prepared.prompt, prepared.outputs, run_id=job.id, policy=TimeoutPolicy(),
        first_budget_s=300,
    )  # fmt: skip
    return loaders, loaders & set(run.result.cached_nodes)


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_the_bundled_t2v_then_keyframe_warm_up_and_what_the_default_cache_keeps(settings):
    """Both tiny jobs run, keyframe's on synthetic pictures. ComfyUI's
    default cache then drops t2v's models for keyframe's: why the auto rule
    warms keyframe only with --cache-lru (engine.warmup.cache_keeps_both).
    ComfyUI boots once per process, so the LRU case, which keeps both (tried
    by hand: --cache-lru 1000), cannot boot here beside this one."""
    from engine.comfy.runtime import Runtime
    from engine.prepare import ModePreparer
    from ltxbot.app import runtime_config
    from tests.engine.modes.test_ltx_graphs import StandInText
    from tests.standins import text_node

    settings.inputs_dir.mkdir(parents=True, exist_ok=True)
    runtime = Runtime(runtime_config(settings))
    await runtime.start()
    text_node.register(sys.modules["nodes"])
    try:
        preparer = StandInText(ModePreparer(settings.workflows_dir, settings.inputs_dir))
        reports = await warm_up_in_order(
            ("t2v", "keyframe"),
            lambda m: warm_up(
                runtime, preparer, TimeoutPolicy(), mode=m, inputs_dir=settings.inputs_dir
            ),
            waiting=lambda: 0,
        )
        assert [(r.mode, r.ok) for r in reports] == [("t2v", True), ("keyframe", True)], reports
        loaders, cached = await _first_job_loaders(runtime, preparer, "t2v")
        assert len(loaders) == len(_LOADERS), loaders
        assert not cached, cached  # all loaded again: the first t2v would run cold
    finally:
        text_node.unregister(sys.modules["nodes"])
        await runtime.close()
