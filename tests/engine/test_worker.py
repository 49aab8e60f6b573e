"""The engine's job path end to end: SQLite store, scheduler, the real executor
on CPU with the model-free test workflows, and every ending of a job."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import av
import pytest

from engine.events import Progress
from engine.front import Engine
from engine.jobs import Job, JobStatus, JobStore
from engine.modes import Limits, parse_params
from engine.prepare import ModePreparer, check_live_workflows
from engine.scheduler import make_scheduler
from engine.timeouts import TimeoutPolicy

TEST_WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
REAL_WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


class Recorder:
    """JobEvents that keeps what it was told, in order, named by what happened."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, object]] = []
        self.progress_seen = asyncio.Event()

    async def job_changed(self, job: Job, progress: Progress | None = None) -> None:
        if progress is not None:
            self.calls.append(("progress", job.id, progress))
            if progress.fraction > 0:
                self.progress_seen.set()
        elif job.status is JobStatus.RUNNING:
            self.calls.append(("started", job.id, job.status))
        elif job.status is JobStatus.QUEUED:
            self.calls.append(("requeued", job.id, job.status))
        else:
            self.calls.append(("finished", job.id, job.status))

    def kinds(self, job_id: str) -> list[str]:
        return [kind for kind, jid, _ in self.calls if jid == job_id]


def slow_workflows(tmp_path: Path, blur_nodes: int = 25) -> Path:
    """The t2v test workflow with a chain of blur nodes: slow, interruptible."""
    directory = tmp_path / "slow-workflows"
    directory.mkdir()
    graph = json.loads((TEST_WORKFLOWS / "t2v.json").read_text())
    source = next(k for k, v in graph.items() if v["class_type"] == "EmptyImage")
    video = next(k for k, v in graph.items() if v["class_type"] == "CreateVideo")
    prev = source
    for i in range(blur_nodes):
        node_id = str(100 + i)
        graph[node_id] = {
            "class_type": "ImageBlur",
            "inputs": {"image": [prev, 0], "blur_radius": 15, "sigma": 1.0 + i / 100},
        }
        prev = node_id
    graph[video]["inputs"]["images"] = [prev, 0]
    (directory / "t2v.json").write_text(json.dumps(graph))
    return directory


@pytest.fixture
async def store(tmp_path):
    store = await JobStore.open(tmp_path / "jobs.sqlite3")
    yield store
    await store.close()


def make_engine(store, runtime, tmp_path, workflows=TEST_WORKFLOWS, policy=None) -> Engine:
    engine = Engine.build(
        store=store,
        scheduler=make_scheduler("round_robin"),
        runtime=runtime,
        preparer=ModePreparer(workflows, runtime.config.input_dir),
        outputs_dir=tmp_path / "outputs",
        policy=policy or TimeoutPolicy(min_s=60, max_s=120),
        events=Recorder(),
    )
    return engine


def t2v(size: int = 256, **extra) -> dict:
    raw = {
        "prompt": "a lighthouse at dusk",
        "width": size,
        "height": size,
        "duration_s": 1,
        "fps": 8,
    }
    return parse_params("t2v", raw | extra, Limits()).model_dump()


async def submit(engine: Engine, user_id: int = 1, **params) -> Job:
    return await engine.submit(
        guild_id=10, channel_id=20, user_id=user_id, mode="t2v", params=t2v(**params), inputs={}
    )


async def test_a_job_runs_to_a_decodable_video_in_the_data_dir(store, runtime, tmp_path):
    engine = make_engine(store, runtime, tmp_path)
    assert await check_live_workflows(runtime, TEST_WORKFLOWS) == [
        "t2v", "a2v", "i2v", "lipsync", "keyframe", "style"
    ]  # fmt: skip
    job = await submit(engine)
    assert engine.position(job.id) == 1
    done = await engine.worker.process_one(await engine.scheduler.get())
    assert done.status is JobStatus.SUCCEEDED
    assert done.attempts == 1 and done.gpu_seconds > 0
    result = Path(done.result_path)
    assert result.parent == tmp_path / "outputs"
    with av.open(str(result)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (256, 256)
        assert len(list(container.decode(stream))) == 9  # 1 s at 8 fps, 8k+1 frames
    kinds = engine.events.kinds(job.id)
    assert kinds[0] == "started" and kinds[-1] == "finished"
    fractions = [p.fraction for k, jid, p in engine.events.calls if k == "progress"]
    assert fractions and fractions == sorted(fractions) and fractions[-1] == 1.0


async def test_cancelling_a_queued_job_never_runs_it(store, runtime, tmp_path):
    engine = make_engine(store, runtime, tmp_path)
    first = await submit(engine, user_id=1)
    second = await submit(engine, user_id=2)
    cancelled = await engine.cancel(second.id, by_user_id=2)
    assert cancelled.status is JobStatus.CANCELLED
    assert engine.position(second.id) is None
    assert engine.events.kinds(second.id) == ["finished"]
    done = await engine.worker.process_one(await engine.scheduler.get())
    assert done.id == first.id
    assert len(engine.scheduler) == 0
    assert (await store.get(second.id)).started_at is None  # never ran, never charged


async def test_only_the_owner_or_an_admin_may_cancel(store, runtime, tmp_path):
    from engine.errors import NotJobOwner

    engine = make_engine(store, runtime, tmp_path)
    job = await submit(engine, user_id=1)
    with pytest.raises(NotJobOwner):
        await engine.cancel(job.id, by_user_id=99)
    assert (await engine.cancel(job.id, by_user_id=99, is_admin=True)).status is JobStatus.CANCELLED


async def test_cancelling_a_running_job_interrupts_it(store, runtime, tmp_path):
    engine = make_engine(store, runtime, tmp_path, workflows=slow_workflows(tmp_path))
    job = await submit(engine)
    run = asyncio.create_task(engine.worker.process_one(await engine.scheduler.get()))
    await engine.events.progress_seen.wait()
    assert engine.position(job.id) == 0
    still_running = await engine.cancel(job.id, by_user_id=1)
    assert still_running.status is JobStatus.RUNNING
    done = await run
    assert done.status is JobStatus.CANCELLED
    assert done.gpu_seconds > 0  # a running job is charged the time it used
    assert engine.events.kinds(job.id)[-1] == "finished"


async def test_a_job_that_times_out_twice_fails_as_a_refunded_system_fault(
    store, runtime, tmp_path
):
    policy = TimeoutPolicy(min_s=0.2, max_s=0.2, cold_load_s=0)
    engine = make_engine(store, runtime, tmp_path, slow_workflows(tmp_path), policy)
    await submit(engine)
    done = await engine.worker.process_one(await engine.scheduler.get())
    assert done.status is JobStatus.FAILED
    assert done.error_code == "timeout"
    assert "attempt 2" in done.error_detail
    assert done.system_fault is True
    attempts = {p.attempt for k, jid, p in engine.events.calls if k == "progress"}
    assert attempts == {1, 2}


async def test_a_missing_input_fails_with_a_clear_error(store, runtime, tmp_path):
    engine = make_engine(store, runtime, tmp_path)
    raw = {"prompt": "x", "width": 256, "height": 256, "duration_s": 1, "fps": 8}
    params = parse_params("i2v", raw, Limits()).model_dump()
    job = await engine.submit(
        guild_id=10, channel_id=20, user_id=1, mode="i2v", params=params, inputs={"image": "0" * 64}
    )
    done = await engine.worker.process_one(await engine.scheduler.get())
    assert done.id == job.id
    assert done.status is JobStatus.FAILED
    assert done.error_code == "input_rejected"


async def test_stopping_the_worker_requeues_the_running_job(store, runtime, tmp_path):
    engine = make_engine(store, runtime, tmp_path, workflows=slow_workflows(tmp_path))
    job = await submit(engine)
    worker = asyncio.create_task(engine.worker.run_forever())
    await engine.events.progress_seen.wait()
    worker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await worker
    again = await store.get(job.id)
    assert again.status is JobStatus.QUEUED
    assert again.note and "restarted" in again.note
    assert engine.events.kinds(job.id)[-1] == "requeued"


async def test_workflow_that_does_not_fit_comfyui_refuses_startup(runtime, tmp_path):
    from engine.errors import WorkflowInvalid

    broken = tmp_path / "broken"
    shutil.copytree(TEST_WORKFLOWS, broken, ignore=shutil.ignore_patterns("*.py"))
    graph = json.loads((broken / "i2v.json").read_text())
    next(iter(graph.values()))["class_type"] = "NoSuchNode"
    (broken / "i2v.json").write_text(json.dumps(graph))
    with pytest.raises(WorkflowInvalid) as err:
        await check_live_workflows(runtime, broken)
    assert "i2v.json" in str(err.value) and "NoSuchNode" in str(err.value)


async def test_an_image_job_reads_its_ingested_input(store, runtime, tmp_path):
    from PIL import Image

    from engine.media import MediaLimits, ingest

    source = tmp_path / "cat.png"
    Image.new("RGB", (400, 300), (200, 40, 40)).save(source)
    stored = ingest(source, "image", runtime.config.input_dir, MediaLimits(), input_name="image")
    engine = make_engine(store, runtime, tmp_path)
    raw = {"prompt": "the cat yawns", "width": 320, "height": 256, "duration_s": 1, "fps": 8}
    params = parse_params("i2v", raw, Limits()).model_dump()
    job = await engine.submit(
        guild_id=10, channel_id=20, user_id=1, mode="i2v", params=params,
        inputs={"image": stored.sha256},
    )  # fmt: skip
    done = await engine.worker.process_one(await engine.scheduler.get())
    assert done.id == job.id and done.status is JobStatus.SUCCEEDED, done.error_detail
    with av.open(done.result_path) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert frame.shape == (256, 320, 3)
    red, green, _ = frame[128, 160]
    assert red > 150 and green < 90  # the picture itself, not an empty frame


async def test_missing_models_are_named_with_their_sizes_and_mode(store, runtime, tmp_path):
    """The real t2v workflow on a box without its model files: the job fails
    with the same message `ltx-bot render` gives (sizes and mode included)."""
    engine = make_engine(store, runtime, tmp_path, workflows=REAL_WORKFLOWS)
    await submit(engine)
    done = await engine.worker.process_one(await engine.scheduler.get())
    assert done.status is JobStatus.FAILED
    assert done.error_code == "model_missing"
    assert "missing model files for t2v (" in done.error_detail
    assert "(0.0 GB)" not in done.error_detail
    assert "ltx-2.3-22b-dev-fp8.safetensors" in done.error_detail
    assert done.error_detail.endswith("Run `ltx-bot models download --mode t2v`")


async def test_cancel_decides_ownership_within_the_guild_asked_from(store, runtime, tmp_path):
    from engine.errors import JobNotFound, NotJobOwner

    engine = make_engine(store, runtime, tmp_path)
    job = await submit(engine, user_id=1)  # in guild 10
    with pytest.raises(JobNotFound):  # another guild's admin has no power here
        await engine.cancel(job.id, by_user_id=99, is_admin=True, guild_id=11)
    with pytest.raises(NotJobOwner):
        await engine.cancel(job.id, by_user_id=99, guild_id=10)
    with pytest.raises(JobNotFound):
        await engine.cancel("zzzzzzzz", by_user_id=1, guild_id=10)
    cancelled = await engine.cancel(job.id, by_user_id=99, is_admin=True, guild_id=10)
    assert cancelled.status is JobStatus.CANCELLED
