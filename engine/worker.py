"""The single GPU consumer and the facade the frontend talks to.

`Engine.run_forever()` is the one task that takes jobs off the scheduler, so
jobs never overlap on the GPU. `process_one()` decides every ending of a job
(succeeded, failed, timed out, cancelled, or requeued when the worker is
stopped) and is the only caller of the store's status transitions for running
jobs, in the style of SAQ's `Worker.process`.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.comfy.runtime import Runtime
from engine.disk import check_free_space, free_mb
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
from engine.jobs import (
    ANY_GUILD,
    AnyGuild,
    Applicant,
    Job,
    JobStatus,
    JobStore,
    QueueCaps,
    QuotaStatus,
    Recovery,
)
from engine.moderation import Refusal, user_texts
from engine.prepare import Prepared, Preparer
from engine.scheduler import Scheduler
from engine.timeouts import TimeoutPolicy

# QueueCaps lives in engine/jobs/admission.py; re-exported for existing callers.
__all__ = ["Engine", "Prepared", "Preparer", "QueueCaps"]  # Prepared*: engine/prepare.py

log = logging.getLogger(__name__)

RESTART_NOTE = "restarted"
STOP_NOTE = "the bot restarted while this job ran; it is back in the queue"


@dataclass(frozen=True)
class _Running:
    job: Job
    cancel: asyncio.Event
    since: float
    estimate_s: float


class Engine:
    def __init__(
        self,
        *,
        store: JobStore,
        scheduler: Scheduler,
        runtime: Runtime,
        preparer: Preparer,
        outputs_dir: Path,
        policy: TimeoutPolicy | None = None,
        caps: QueueCaps | None = None,
        events: JobEvents | None = None,
    ) -> None:
        self.store = store
        self.scheduler = scheduler
        self.runtime = runtime
        self.preparer = preparer
        self.outputs_dir = outputs_dir
        self.policy = policy or TimeoutPolicy()
        self.caps = caps or QueueCaps()
        self.events: JobEvents = events or NoEvents()
        self._running: _Running | None = None
        # Unix time after which the running job is far past its budget (heartbeat).
        self.run_deadline: float | None = None
        self._warm = False
        self._idle = asyncio.Event()
        self._idle.set()

    # -- startup ---------------------------------------------------------------
    async def recover(self) -> Recovery:
        """Requeue what a crash left running and load the queue in order."""
        recovery = await self.store.recover()
        self.scheduler.load(recovery.queued)
        return recovery

    # -- submission and cancel ---------------------------------------------------
    async def precheck(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        role_ids: Sequence[int] = (),
        mode: str | None = None,
        params: Mapping[str, Any] | None = None,
        channel_nsfw: bool = False,
    ) -> QuotaStatus | None:
        """Advisory: would `submit` refuse this now? The same disk check and the
        same admission function, with the same caps, but outside the insert's
        transaction, so a pass here can still be refused by `submit` (a
        concurrent submission took the last slot). For refusing before work
        that would be wasted: an acknowledgement, a download. Prompt rules are
        judged when `mode` is given."""
        check_free_space(self.outputs_dir, self.caps.min_free_mb)
        texts = user_texts(params or {})
        who = Applicant(guild_id, channel_id, user_id, tuple(role_ids), mode, texts, channel_nsfw)
        try:
            return await self.store.admission(who, self.caps)
        except Refusal as refusal:
            await self._log_refusal(refusal, who, params or {})
            raise

    async def screen(
        self,
        *,
        guild_id: int | None,
        mode: str,
        params: Mapping[str, Any],
        channel_nsfw: bool,
        asked_by: tuple[int, int] | None = None,
    ) -> None:
        """Raise the Refusal the guild's prompt rules give this job here, if
        any, from the rules held in memory: for an answer before anything
        else (the command's acknowledgement, a result's post). `submit`
        decides again from the database. `asked_by` (user id, channel id):
        this is a member asking for a new job, so a refusal goes in the
        prompt log."""
        if guild_id is None:
            return
        guard = await self.store.prompt_guard(guild_id)
        refusal = guard.check(mode, user_texts(params), channel_nsfw=channel_nsfw)
        if refusal is None:
            return
        if asked_by is not None:
            who = Applicant(guild_id, asked_by[1], asked_by[0], mode=mode)
            await self._log_refusal(refusal, who, params)
        raise refusal

    async def _log_refusal(
        self, refusal: Refusal, who: Applicant, params: Mapping[str, Any]
    ) -> None:
        """One line in the prompt log per refused attempt: an attempt ends at
        its first refusal, whichever check gave it."""
        if who.guild_id is None or who.mode is None:
            return
        log.info("prompt refused for user %s: %s", who.user_id, refusal.describe())
        await self.store.record_refusal(
            guild_id=who.guild_id,
            channel_id=who.channel_id,
            user_id=who.user_id,
            mode=who.mode,
            params=params,
            refusal=refusal,
        )

    async def submit(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        role_ids: Sequence[int] = (),
        mode: str,
        params: dict[str, Any],
        inputs: dict[str, str],
        retry_of: str | None = None,
        channel_nsfw: bool = False,
    ) -> Job:
        """Admission (pause, ban, channel, prompt rules, caps, quota) and the
        insert in one transaction (JobStore.create), then enqueue. This is the decision; a
        refusal raises its typed error and nothing is stored.

        `inputs` maps a media slot to the sha256 of an ingested input file.
        """
        check_free_space(self.outputs_dir, self.caps.min_free_mb)
        try:
            job = await self.store.create(
                guild_id=guild_id,
                channel_id=channel_id,
                user_id=user_id,
                mode=mode,
                params=params,
                inputs=inputs,
                retry_of=retry_of,
                caps=self.caps,
                role_ids=role_ids,
                channel_nsfw=channel_nsfw,
            )
        except Refusal as refusal:
            await self._log_refusal(
                refusal, Applicant(guild_id, channel_id, user_id, mode=mode), params
            )
            raise
        self.scheduler.put(job)
        return job

    async def cancel(
        self,
        job_id: str,
        *,
        by_user_id: int,
        is_admin: bool = False,
        guild_id: int | AnyGuild | None = ANY_GUILD,
    ) -> Job:
        """Cancel a queued job now, or interrupt a running one. Ownership is
        decided here (JobStore.owned_job): the owner, or an admin of the job's
        guild; `guild_id` is where the request came from (a job of another
        guild is not found).

        For a running job the returned Job is still `running`; `process_one`
        records the cancellation and reports it as a job change.
        """
        job = await self.store.owned_job(
            job_id,
            guild_id=guild_id,
            user_id=by_user_id,
            is_admin=is_admin,
        )
        if job.status is JobStatus.QUEUED:
            self.scheduler.remove(job_id)
            cancelled = await self.store.cancel(job_id, note="cancelled while queued")
            if cancelled is not None:
                await self._notify(cancelled)
                return cancelled
            job = await self.store.get(job_id) or job
        if job.status is JobStatus.RUNNING and self.running_job_id == job_id:
            self._running.cancel.set()  # type: ignore[union-attr]
        return job

    # -- the consumer ------------------------------------------------------------
    async def run_forever(self) -> None:
        while True:
            job = await self.scheduler.get()
            self._idle.clear()
            try:
                await self.process_one(job)
            finally:
                self._idle.set()

    async def wait_idle(self) -> None:
        await self._idle.wait()

    async def process_one(self, job: Job) -> Job:
        """Run one job to its ending and record it. Never raises for job failures."""
        started = await self.store.start(job.id)
        if started is None:  # cancelled (or taken) while it waited
            return await self.store.get(job.id) or job
        cancel = asyncio.Event()
        self._running = _Running(started, cancel, time.time(), self._job_estimate(started))
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
            budget = self.policy.budget(prepared.estimate_s, cold=not self._warm)
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

    # -- queue views ---------------------------------------------------------------
    @property
    def running_job_id(self) -> str | None:
        return self._running.job.id if self._running else None

    def position(self, job_id: str) -> int | None:
        """1-based place in line (1 runs next); 0 for the running job."""
        if self.running_job_id == job_id:
            return 0
        return self.scheduler.position(job_id)

    def eta(self, job_id: str, *, now: float | None = None) -> float | None:
        """Unix time the job should finish, from the estimates of what runs first."""
        now = time.time() if now is None else now
        ahead = 0.0
        if self._running is not None:
            ahead += max(0.0, self._running.estimate_s - (now - self._running.since))
            if self._running.job.id == job_id:
                return now + ahead
        for queued in self.scheduler.ordered():
            ahead += self._job_estimate(queued)
            if queued.id == job_id:
                return now + ahead
        return None

    def _job_estimate(self, job: Job) -> float:
        est = self.preparer.estimate(job)
        return est if est is not None else self.policy.min_s
