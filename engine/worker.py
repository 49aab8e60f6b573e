"""The single GPU consumer: the one task that runs jobs.

`Worker.run_forever()` takes jobs off the scheduler one at a time, so jobs
never overlap on the GPU. `process_one()` decides every ending of a job
(succeeded, failed, timed out, cancelled, or requeued when the worker is
stopped) and is the only caller of the store's status transitions for running
jobs, in the style of SAQ's `Worker.process`. The front door the bot talks to
(`engine.front.Engine`) hands jobs in through the scheduler and asks the worker
only what runs now, how long it has left, and to stop it.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from engine import warmup
from engine.api import WorkerInfo
from engine.comfy.runtime import Runtime
from engine.disk import free_mb
from engine.errors import (
    Cancelled,
    EngineHung,
    ExecutionFailed,
    LowDiskSpace,
    LtxError,
    ModelMissing,
)
from engine.events import JobEvents, NoEvents, Progress
from engine.execute import execute
from engine.extend import joined_result
from engine.jobs import Job, JobStore
from engine.prepare import Preparer
from engine.scheduler import Scheduler
from engine.timeouts import TimeoutPolicy

log = logging.getLogger(__name__)

STOP_NOTE = "the bot restarted while this job ran; it is back in the queue"


class Consumer(Protocol):
    """What the front door asks of whatever runs the jobs it admitted: the
    in-process `Worker`, or a dispatcher to workers on other machines."""

    # Unix time after which the running job is far past its budget (heartbeat).
    run_deadline: float | None
    # Jobs found running at startup ran elsewhere and may still be running
    # (remote workers): they are adopted rather than requeued.
    adopts_running: bool

    def adopt(self, jobs: Sequence[Job]) -> None:
        """Take over jobs left running by a previous process of the bot."""
        ...

    @property
    def running_job_id(self) -> str | None: ...

    async def run_forever(self) -> None:
        """The consuming task; ends only by cancellation or `EngineHung`."""
        ...

    async def wait_idle(self) -> None: ...

    def stop(self, job_id: str) -> bool:
        """Interrupt the job if it runs now; its ending arrives as a job change."""
        ...

    def remaining_s(self, now: float) -> float:
        """Estimated seconds left of what runs now (0 when idle)."""
        ...

    def estimate(self, job: Job) -> float:
        """Estimated seconds the job will run."""
        ...

    def workers(self) -> tuple[WorkerInfo, ...]:
        """The remote workers it drives, as last seen (none in-process)."""
        ...


@dataclass(frozen=True)
class _Running:
    job: Job
    cancel: asyncio.Event
    since: float
    estimate_s: float


class Worker:
    """The in-process Consumer: runs each job on this process's ComfyUI."""

    def __init__(
        self,
        *,
        store: JobStore,
        scheduler: Scheduler,
        runtime: Runtime,
        preparer: Preparer,
        outputs_dir: Path,
        policy: TimeoutPolicy | None = None,
        events: JobEvents | None = None,
        warmup_modes: tuple[str, ...] = (),
        inputs_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.scheduler = scheduler
        self.runtime = runtime
        self.preparer = preparer
        self.outputs_dir = outputs_dir
        self.policy = policy or TimeoutPolicy()
        self.events: JobEvents = events or NoEvents()
        self._running: _Running | None = None
        # Unix time after which the running job is far past its budget (heartbeat).
        self.run_deadline: float | None = None
        # What ran here died with the process: recovery requeues it.
        self.adopts_running = False
        # Whether the next job finds its models loaded (no cold-load allowance
        # in its budget). Really per checkpoint family; kept as "a warm-up or
        # a job ran", as it was before several modes were warmed: a first job
        # of the other family gets no cold allowance, then as now.
        self._warm = False
        # The modes whose tiny jobs load the models before the first job, in
        # order (engine/warmup.py); empty: the first job loads them.
        self.warmup_modes = warmup_modes
        # Where the warm-up's synthetic media go: the preparer's inputs dir.
        self.inputs_dir = inputs_dir
        self._idle = asyncio.Event()
        self._idle.set()

    async def run_forever(self) -> None:
        if self.warmup_modes and not self._warm:
            # Not while jobs wait (recovered after a restart, or asked for
            # during an earlier mode's warm-up): they load the models themselves.
            await warmup.warm_up_in_order(
                self.warmup_modes, self.warm_up, waiting=lambda: len(self.scheduler)
            )
        while True:
            job = await self.scheduler.get()
            self._idle.clear()
            try:
                await self.process_one(job)
            finally:
                self._idle.set()

    async def warm_up(self, mode: str) -> warmup.WarmUp:
        """Load `mode`'s models with a tiny job (engine/warmup.py); if it ran,
        the next job is warm (no cold-load allowance in its budget)."""
        self._idle.clear()
        try:
            report = await warmup.warm_up(
                self.runtime, self.preparer, self.policy, mode=mode, inputs_dir=self.inputs_dir
            )
        finally:
            self._idle.set()
        self._warm = self._warm or report.ok
        return report

    async def wait_idle(self) -> None:
        await self._idle.wait()

    def workers(self) -> tuple[WorkerInfo, ...]:
        return ()  # this process is the worker: nothing to list

    def adopt(self, jobs: Sequence[Job]) -> None:
        if jobs:
            raise RuntimeError("the in-process worker cannot adopt jobs: recovery requeues them")

    async def process_one(self, job: Job) -> Job:
        """Run one job to its ending and record it. Never raises for job failures."""
        started = await self.store.start(job.id)
        if started is None:  # cancelled (or taken) while it waited
            return await self.store.get(job.id) or job
        cancel = asyncio.Event()
        self._running = _Running(started, cancel, time.time(), self.estimate(started))
        await self._notify(started)
        exec_started: float | None = None
        hung: EngineHung | None = None

        def spent() -> float:
            # GPU time is charged from when the prompt went to ComfyUI.
            return 0.0 if exec_started is None else time.monotonic() - exec_started

        try:
            prepared = await self.preparer.prepare(started)
            try:
                await self.runtime.validate(prepared.prompt, prepared.outputs)
            except ModelMissing as err:
                raise err.for_mode(started.mode, prepared.model_sizes) from None
            budget = self.policy.budget(
                prepared.estimate_s, cold=not self._warm, learned_s=prepared.learned_s
            )
            exec_started = time.monotonic()
            self.run_deadline = time.time() + self.policy.deadline_s(budget)

            async def progress(p: Progress) -> None:
                await self._notify(started, p)

            execution = await execute(
                self.runtime,
                prepared.prompt,
                prepared.outputs,
                run_id=f"{job.id}-a{started.attempts}",
                policy=self.policy,
                first_budget_s=budget,
                cancel=cancel,
                on_progress=progress,
            )
            self._warm = True
            result_path = self._keep_result(job.id, execution.result.outputs)
            # An Extend's result is the parent and the continuation joined.
            result_path = await joined_result(self.store, started, result_path)
            final = await self.store.succeed(
                job.id, result_path=str(result_path), gpu_seconds=execution.engine_seconds
            )
        except asyncio.CancelledError:
            # The worker is being stopped: the job goes back to the queue.
            requeued = await self.store.requeue(job.id, note=STOP_NOTE)
            if requeued is not None:
                await self._notify(requeued)
            raise
        except Cancelled:
            final = await self.store.cancel(job.id, gpu_seconds=spent(), note="cancelled")
        except LtxError as err:
            hung = err if isinstance(err, EngineHung) else None
            # The transition line says failed and the code; the detail is for debugging.
            log.debug("job=%s failure detail: %s", job.id, err)
            final = await self.store.fail(
                job.id,
                error_code=err.code,
                error_detail=str(err),
                system_fault=err.system_fault,
                gpu_seconds=spent(),
            )
        except Exception as err:  # a bug, not a job failure: keep serving the queue
            log.exception("job %s crashed the worker step", job.id)
            final = await self.store.fail(
                job.id,
                error_code="internal",
                error_detail=f"{type(err).__name__}: {err}",
                system_fault=True,
                gpu_seconds=spent(),
            )
        finally:
            self._running = None
            self.run_deadline = None
        final = final or await self.store.get(job.id) or started
        await self._notify(final)
        if hung is not None:
            raise hung  # nothing more can run in this process (see EngineHung)
        return final

    def _keep_result(self, job_id: str, outputs: Sequence[Any]) -> Path:
        """Move the run's video into the data dir: the full-quality copy that
        `/ltx show` re-delivers, apart from ComfyUI's scratch output folder."""
        videos = [o for o in outputs if o.kind == "video"] or list(outputs)
        if not videos:
            raise ExecutionFailed(node_type="ltx:output", message="the workflow wrote no file")
        source = videos[0].path
        self.outputs_dir.mkdir(parents=True, exist_ok=True)
        dest = self.outputs_dir / f"{job_id}{source.suffix}"
        tmp = dest.with_suffix(dest.suffix + ".part")
        try:
            shutil.copyfile(source, tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            tmp.replace(dest)
        except OSError as err:
            tmp.unlink(missing_ok=True)  # no partial file is left behind
            if err.errno == errno.ENOSPC:
                raise LowDiskSpace(free_mb=free_mb(dest.parent)) from err
            raise
        source.unlink(missing_ok=True)
        return dest

    async def _notify(self, job: Job, progress: Progress | None = None) -> None:
        try:
            await self.events.job_changed(job, progress)
        except Exception:  # a frontend's bug must not end the job or the worker
            log.exception("JobEvents.job_changed failed for job %s", job.id)

    # -- what the front door asks ------------------------------------------------
    @property
    def running_job_id(self) -> str | None:
        return self._running.job.id if self._running else None

    def stop(self, job_id: str) -> bool:
        """Interrupt the job if it is the one running; `process_one` records it."""
        if self._running is None or self._running.job.id != job_id:
            return False
        self._running.cancel.set()
        return True

    def remaining_s(self, now: float) -> float:
        """Estimated seconds left of the running job (0 when idle)."""
        if self._running is None:
            return 0.0
        return max(0.0, self._running.estimate_s - (now - self._running.since))

    def estimate(self, job: Job) -> float:
        est = self.preparer.estimate(job)
        return est if est is not None else self.policy.min_s
