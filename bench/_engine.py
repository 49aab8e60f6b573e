"""The engine as the bot runs it (store, scheduler, Engine, Runtime), plus probes
that timestamp its boundaries without changing a line of `engine/`.

Probes replace bound methods with timing wrappers on the *instances* only:
`Runtime.run` (when a job's prompt reaches the runtime), `PromptExecutor.execute`
(ComfyUI's own work, for both the bot's path and the raw baseline), the
PromptServer stand-in's `send_sync` (when ComfyUI starts each node, on its own
thread) and `Engine.process_one` (when the worker is done with a job). Each
wrapper costs a `perf_counter()` call and a dict or list write.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._workloads import FPS, OUTPUT_NODE, Workload
from engine.comfy.boot import boot
from engine.comfy.locate import find_comfy_dir
from engine.comfy.runtime import Runtime
from engine.comfy.types import RuntimeConfig
from engine.front import Engine
from engine.jobs import TERMINAL, Job, JobStatus, JobStore, QueueCaps
from engine.modes import Limits, build_workflow, get_mode, parse_params
from engine.prepare import ModePreparer
from engine.scheduler import make_scheduler
from engine.timeouts import TimeoutPolicy

# Benchmarks pick sizes the deployment limits would refuse; these admit them.
LIMITS = Limits(max_duration_s=3600.0, max_width=8192, max_height=8192)
POLICY = TimeoutPolicy(min_s=900.0, max_s=3600.0, cold_load_s=0.0)


async def start_runtime(
    work: Path, device: str, model_dir: Path | None, comfy_dir: Path | None = None
) -> Runtime:
    """Boot (once per process) and return a Runtime on its own thread."""
    models = (("upscale_models", model_dir),) if model_dir is not None else ()
    config = RuntimeConfig.under(
        find_comfy_dir(comfy_dir), work / "comfy", device=device, model_dirs=models
    )
    runtime = Runtime(config)
    await runtime.start()
    return runtime


def job_params(w: Workload, seed: int) -> dict[str, Any]:
    """A t2v job's stored parameters: the workload's size and frames, this seed."""
    raw = {
        "prompt": "benchmark",
        "width": w.size,
        "height": w.size,
        "duration_s": w.duration_s,
        "fps": FPS,
        "seed": seed,
    }
    return parse_params("t2v", raw, LIMITS).model_dump(mode="json")


def raw_prompt(workflows_dir: Path, params: dict[str, Any], run_id: str) -> dict[str, Any]:
    """The very prompt the job path builds for these parameters, with its own
    output prefix so SaveVideo runs again (as the runtime does for each job)."""
    model = get_mode("t2v").params_model.model_validate(params)
    prompt = build_workflow("t2v", model, {}, workflows_dir).prompt
    prompt[OUTPUT_NODE]["inputs"]["filename_prefix"] = f"bench-raw/{run_id}/t2v"
    return prompt


class Timeline:
    """JobEvents that timestamps a job's start and end and lets callers wait."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.finished: dict[str, float] = {}
        self.jobs: dict[str, Job] = {}
        self._done: dict[str, asyncio.Event] = defaultdict(asyncio.Event)

    async def job_changed(self, job: Job, progress: Any = None) -> None:
        if job.status is JobStatus.RUNNING and progress is None:
            self.started[job.id] = time.perf_counter()
        elif job.status in TERMINAL:
            self.finished[job.id] = time.perf_counter()
            self.jobs[job.id] = job
            self._done[job.id].set()

    async def wait(self, job_id: str) -> Job:
        await self._done[job_id].wait()
        job = self.jobs[job_id]
        if job.status is not JobStatus.SUCCEEDED:
            raise RuntimeError(
                f"benchmark job {job_id} ended {job.status.value}: {job.error_detail}"
            )
        return job


@dataclass
class Probe:
    """Timestamps (perf_counter seconds) keyed by prompt id or job id."""

    run_called: dict[str, float] = field(default_factory=dict)
    run_returned: dict[str, float] = field(default_factory=dict)
    exec_started: dict[str, float] = field(default_factory=dict)
    exec_ended: dict[str, float] = field(default_factory=dict)
    process_ended: dict[str, float] = field(default_factory=dict)
    # prompt id -> [(time, node id)] of ComfyUI's "executing" messages, taken on
    # the executor's own thread as it sends them (None: the run ended)
    executing: dict[str, list[tuple[float, str | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def watch_runtime(self, runtime: Runtime) -> None:
        original = runtime.run

        async def run(prompt: dict[str, Any], *, prompt_id: str, **kwargs: Any) -> Any:
            self.run_called[prompt_id] = time.perf_counter()
            try:
                return await original(prompt, prompt_id=prompt_id, **kwargs)
            finally:
                self.run_returned[prompt_id] = time.perf_counter()

        runtime.run = run  # type: ignore[method-assign]

    def watch_executor(self, executor: Any) -> None:
        original = executor.execute

        def execute(prompt: dict[str, Any], prompt_id: str, *args: Any, **kwargs: Any) -> Any:
            self.exec_started[prompt_id] = time.perf_counter()
            try:
                return original(prompt, prompt_id, *args, **kwargs)
            finally:
                self.exec_ended[prompt_id] = time.perf_counter()

        executor.execute = execute
        server = executor.server  # the runtime's PromptServer stand-in
        send_sync = server.send_sync

        def record(event: Any, data: Any, sid: str | None = None) -> None:
            if event == "executing" and isinstance(data, dict):
                node = data.get("node")
                prompt_id = data.get("prompt_id") or server.last_prompt_id
                self.executing[str(prompt_id)].append(
                    (time.perf_counter(), None if node is None else str(node))
                )
            send_sync(event, data, sid)

        server.send_sync = record

    def watch_engine(self, engine: Engine) -> None:
        original = engine.worker.process_one

        async def process_one(job: Job) -> Job:
            try:
                return await original(job)
            finally:
                self.process_ended[job.id] = time.perf_counter()

        engine.worker.process_one = process_one  # type: ignore[method-assign]

    def node_seconds(self, prompt_id: str, node_id: str) -> float | None:
        """From ComfyUI starting `node_id` to it starting the next node, on the
        executor's thread; None when the node never ran (served from the cache)."""
        seen = self.executing.get(prompt_id, [])
        for (at, node), (after, _) in itertools.pairwise(seen):
            if node == node_id:
                return after - at
        return None


def executor_of(runtime: Runtime) -> Any:
    """ComfyUI's process-wide PromptExecutor, the one the runtime drives."""
    return boot(runtime.config).executor


def prompt_id_of(job: Job, attempt: int = 1) -> str:
    """The prompt id `Engine.process_one` + `execute()` give a job's first try."""
    return f"{job.id}-a{job.attempts}-{attempt}"


def make_engine(
    store: JobStore, runtime: Runtime, workflows_dir: Path, outputs_dir: Path
) -> tuple[Engine, Timeline]:
    """An Engine composed the way `ltxbot.app.start_engine` composes it."""
    engine = Engine.build(
        store=store,
        scheduler=make_scheduler("round_robin"),
        runtime=runtime,
        preparer=ModePreparer(workflows_dir, runtime.config.input_dir),
        outputs_dir=outputs_dir,
        policy=POLICY,
        caps=QueueCaps(max_queued_per_user=10_000, max_queue_total=10_000),
        events=(timeline := Timeline()),
    )
    return engine, timeline


async def submit(engine: Engine, params: dict[str, Any], user_id: int = 1) -> Job:
    return await engine.submit(
        guild_id=1, channel_id=1, user_id=user_id, mode="t2v", params=params, inputs={}
    )


def forget_outputs(*paths: Path) -> None:
    """Results are checked, then removed: a long run must not fill the disk."""
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
