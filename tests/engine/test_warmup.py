"""The warm-up: a tiny job of the default mode, run by the worker before its
first job, on the real ComfyUI (the test workflows; the bundled LTX-2.3 graph
on stand-in weights in the slow test)."""

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
from engine.timeouts import TimeoutPolicy
from engine.warmup import WARMUP_ID, warm_up, warmup_job
from ltxbot.app import warmup_mode
from ltxbot.settings import Settings
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
    engine.worker.warmup_mode = "t2v"
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


async def test_a_warm_up_that_cannot_run_is_skipped_and_jobs_still_run(
    store, runtime, tmp_path, caplog
):
    caplog.set_level(logging.INFO)
    only_t2v = tmp_path / "only-t2v"
    only_t2v.mkdir()
    shutil.copy(TEST_WORKFLOWS / "t2v.json", only_t2v / "t2v.json")
    engine = make_engine(store, runtime, tmp_path, workflows=only_t2v)
    engine.worker.warmup_mode = "i2v"  # no workflow for it here
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
    engine.worker.warmup_mode = "t2v"
    job = await submit(engine)  # waiting before the worker starts, as after a restart
    async with _worker_running(engine):
        done = await _wait_done(engine, job.id)
    assert done.status is JobStatus.SUCCEEDED, done.error_detail
    messages = _messages(caplog)
    assert "warm-up skipped: 1 jobs already queued" in messages
    assert not any(m.startswith("warm-up: loading") for m in messages)


async def test_warm_up_reports_why_it_was_skipped(store, runtime, tmp_path):
    engine = make_engine(store, runtime, tmp_path, workflows=tmp_path / "empty")
    report = await warm_up(runtime, engine.worker.preparer, TimeoutPolicy(), mode="t2v")
    assert (report.ok, report.mode, report.skipped) == (False, "t2v", "workflow_missing")


@pytest.mark.parametrize(
    ("setting", "vram", "expected"),
    [
        ("auto", None, None),  # a CPU box: the first job loads the models
        ("auto", 80 * 2**30, "t2v"),
        ("on", None, "t2v"),
        ("off", 80 * 2**30, None),
    ],
)
def test_the_warm_up_follows_the_setting_and_the_device(setting, vram, expected):
    settings = Settings(_env_file=None, warmup=setting)
    runtime = SimpleNamespace(info=SimpleNamespace(vram_bytes=vram))
    assert warmup_mode(settings, runtime) == expected  # type: ignore[arg-type]


def test_the_warm_up_job_is_the_smallest_default_t2v():
    job = warmup_job("t2v")
    assert (job.params["width"], job.params["height"]) == (256, 256)
    assert job.params["preset"] == "balanced" and not job.params["enhance_prompt"]


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
        policy = TimeoutPolicy()
        report = await warm_up(runtime, preparer, policy)
        assert report.ok, report
        mm = sys.modules["comfy.model_management"]
        assert mm.current_loaded_models, "the warm-up loaded no model"
        # A member's first job after it: every loader's output comes from
        # ComfyUI's cache (nothing is read from disk again).
        job = warmup_job("t2v")
        job = dataclasses.replace(job, id="first", params={**job.params, "seed": 5})
        prepared = await preparer.prepare(job)
        loaders = {nid for nid, node in prepared.prompt.items() if node["class_type"] in _LOADERS}
        assert len(loaders) == len(_LOADERS), loaders
        run = await execute(
            runtime, prepared.prompt, prepared.outputs, run_id="first", policy=policy,
            first_budget_s=300,
        )  # fmt: skip
        assert loaders <= set(run.result.cached_nodes), (loaders, run.result.cached_nodes)
    finally:
        text_node.unregister(sys.modules["nodes"])
        await runtime.close()
