"""Status transitions: the only status writes, and the one log line of each.

Every change is a guarded update derived from TRANSITIONS (see store.py's
module doc). Each one that happens is logged once, here, as
`job=<id> <from>→<to> attempt=<n> mode=<mode> guild=<id> [error=<code>]
[note=<why>]`, in the manner of arq's one line per job event, so an operator
can follow any job from the log alone. A guard that matches nothing logs
nothing: the caller lost a race, and the winner logged its own line. Prompts,
parameters and error details are user content and never appear; error codes
and notes are the engine's own words. Part of JobStore.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from engine.errors import JobInterrupted
from engine.jobs._base import StoreBase
from engine.jobs._rows import UNDELIVERED, guard, job_of
from engine.jobs.model import Job, JobStatus, Recovery

log = logging.getLogger("engine.jobs")

RESTARTED_NOTE = "restarted"
NEW = "new"  # the "from" of a job's first line, when it is queued
_NOTED = frozenset({JobStatus.QUEUED, JobStatus.CANCELLED, JobStatus.FAILED})


def log_transition(job: Job, source: str) -> None:
    """The line for `job`, now in its new status, having left `source`."""
    extra = ""
    if job.retry_of is not None and source == NEW:
        extra += f" retry_of={job.retry_of}"
    if job.terminal:
        extra += f" gpu_s={job.gpu_seconds:.1f}"
    if job.status is JobStatus.FAILED and job.error_code:
        extra += f" error={job.error_code}"
    # The note is set by the transitions into these; elsewhere it is stale.
    if job.note and source != NEW and job.status in _NOTED:
        extra += f" note={job.note!r}"
    log.info(
        "job=%s %s→%s attempt=%d mode=%s guild=%s%s",
        job.id,
        source,
        job.status.value,
        job.attempts,
        job.mode,
        job.guild_id,
        extra,
    )


class TransitionsMixin(StoreBase):
    async def _transition(
        self,
        job_id: str,
        target: JobStatus,
        sets: str,
        args: Sequence[Any],
        attempt: int | None = None,
    ) -> Job | None:
        """The guarded update. `attempt`: only if the job is still on that
        attempt (a remote worker's result is accepted for the current attempt
        only; a worker presumed dead that comes back cannot end a retry)."""
        where, statuses = guard(target)
        src: list[Any] = list(statuses)
        if attempt is not None:
            where += " AND attempts = ?"
            src = [*src, attempt]
        sql = f"UPDATE jobs SET status = ?, {sets} WHERE id = ? AND {where} RETURNING *"
        async with self._write():
            # Read inside the same transaction: the status this update leaves.
            before = await self._fetch_one("SELECT status FROM jobs WHERE id = ?", [job_id])
            row = await self._fetch_one(sql, [target.value, *args, job_id, *src])
        if row is None:
            return None
        job = job_of(row)
        log_transition(job, before["status"] if before else "?")
        return job

    async def start(self, job_id: str) -> Job | None:
        """queued -> running; counts the attempt. None if it was not queued
        (cancelled meanwhile, or another worker won)."""
        return await self._transition(
            job_id, JobStatus.RUNNING, "attempts = attempts + 1, started_at = ?", [self._now()]
        )

    async def succeed(
        self, job_id: str, *, result_path: str, gpu_seconds: float, attempt: int | None = None
    ) -> Job | None:
        """running -> succeeded. `gpu_seconds` (this attempt's measured engine
        time) is added to the job's total, which is what quotas charge."""
        return await self._transition(
            job_id,
            JobStatus.SUCCEEDED,
            "result_path = ?, gpu_seconds = gpu_seconds + ?, finished_at = ?",
            [result_path, float(gpu_seconds), self._now()],
            attempt,
        )

    async def fail(
        self,
        job_id: str,
        *,
        error_code: str,
        error_detail: str,
        system_fault: bool,
        gpu_seconds: float,
        attempt: int | None = None,
    ) -> Job | None:
        """running -> failed. `system_fault` failures are refunded from quotas."""
        return await self._transition(
            job_id,
            JobStatus.FAILED,
            "error_code = ?, error_detail = ?, system_fault = ?,"
            " gpu_seconds = gpu_seconds + ?, finished_at = ?",
            [error_code, error_detail, int(bool(system_fault)), float(gpu_seconds), self._now()],
            attempt,
        )

    async def cancel(
        self,
        job_id: str,
        *,
        gpu_seconds: float = 0.0,
        note: str | None = None,
        attempt: int | None = None,
    ) -> Job | None:
        """queued|running -> cancelled. A job cancelled while queued keeps
        started_at NULL and so costs no quota; a running one is charged the
        `gpu_seconds` it used."""
        return await self._transition(
            job_id,
            JobStatus.CANCELLED,
            "gpu_seconds = gpu_seconds + ?, finished_at = ?, note = coalesce(?, note)",
            [float(gpu_seconds), self._now(), note],
            attempt,
        )

    async def requeue(self, job_id: str, *, note: str, attempt: int | None = None) -> Job | None:
        """running -> queued, keeping its seq (so its place in line) and its
        attempt count; started_at is cleared since it waits again."""
        return await self._transition(
            job_id, JobStatus.QUEUED, "started_at = NULL, note = ?", [note], attempt
        )

    async def recover(self, *, max_attempts: int = 3, keep_running: bool = False) -> Recovery:
        """Startup, in one transaction: running jobs (the process died under
        them) go back to the queue with the note "restarted", unless they have
        had `max_attempts` attempts: those fail with JobInterrupted (a system
        fault, refunded). Returns the queue in order and what is undelivered.

        `keep_running`: the jobs ran on workers elsewhere, which may still be
        running them or have finished meanwhile; they stay running, returned
        in `Recovery.running` for the dispatcher to adopt."""
        if keep_running:
            async with self._write():
                running = await self._fetch(
                    "SELECT * FROM jobs WHERE status = 'running' ORDER BY seq"
                )
                queued = await self._fetch(
                    "SELECT * FROM jobs WHERE status = 'queued' ORDER BY seq"
                )
                undelivered = await self._fetch(
                    f"SELECT * FROM jobs WHERE {UNDELIVERED} ORDER BY seq"
                )
            return Recovery(
                queued=tuple(job_of(r) for r in queued),
                undelivered=tuple(job_of(r) for r in undelivered),
                running=tuple(job_of(r) for r in running),
            )
        now = self._now()
        err = JobInterrupted(attempts=max_attempts)
        # Both guards come from TRANSITIONS: only running jobs may fail or requeue.
        failed_guard, failed_src = guard(JobStatus.FAILED)
        queued_guard, queued_src = guard(JobStatus.QUEUED)
        async with self._write():
            failed = await self._fetch(
                "UPDATE jobs SET status = 'failed', error_code = ?, error_detail = ?,"
                f" system_fault = 1, finished_at = ?, note = ? WHERE {failed_guard}"
                " AND attempts >= ? RETURNING *",
                [err.code, err.describe(), now, RESTARTED_NOTE, *failed_src, max_attempts],
            )
            requeued = await self._fetch(
                "UPDATE jobs SET status = 'queued', started_at = NULL, note = ?"
                f" WHERE {queued_guard} RETURNING *",
                [RESTARTED_NOTE, *queued_src],
            )
            queued = await self._fetch("SELECT * FROM jobs WHERE status = 'queued' ORDER BY seq")
            undelivered = await self._fetch(f"SELECT * FROM jobs WHERE {UNDELIVERED} ORDER BY seq")
        recovery = Recovery(
            queued=tuple(job_of(r) for r in queued),
            requeued=tuple(sorted((job_of(r) for r in requeued), key=lambda j: j.seq)),
            failed=tuple(sorted((job_of(r) for r in failed), key=lambda j: j.seq)),
            undelivered=tuple(job_of(r) for r in undelivered),
        )
        # Both updates are guarded to running rows, so "running" is the source.
        for job in sorted(recovery.failed + recovery.requeued, key=lambda j: j.seq):
            log_transition(job, JobStatus.RUNNING.value)
        return recovery
