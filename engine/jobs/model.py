"""The job status model: one enum, one transition table, one frozen row type.

The table is the single source of truth for what may follow what; the store
derives every guarded `UPDATE ... WHERE status IN (...)` from it, so a new
transition is added here and nowhere else.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TRANSITIONS: Mapping[JobStatus, frozenset[JobStatus]] = MappingProxyType(
    {
        JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED}),
        # running -> queued is the requeue after a restart or crash.
        JobStatus.RUNNING: frozenset(
            {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED}
        ),
        JobStatus.SUCCEEDED: frozenset(),
        JobStatus.FAILED: frozenset(),
        JobStatus.CANCELLED: frozenset(),
    }
)

TERMINAL: frozenset[JobStatus] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


def sources(target: JobStatus) -> frozenset[JobStatus]:
    """States from which `target` may be entered (the guard of an UPDATE)."""
    return frozenset(s for s, nxt in TRANSITIONS.items() if target in nxt)


def new_job_id() -> str:
    """8 lowercase base32 characters (40 random bits): short enough to type in
    `/ltx show job:abc12xyz`, URL-safe, and collisions are retried by the store."""
    return base64.b32encode(secrets.token_bytes(5)).decode("ascii").lower()


@dataclass(frozen=True)
class Job:
    """One row of the jobs table, as of the moment it was read.

    It holds everything needed to run the job again (mode, params with the
    resolved seed, content-addressed inputs), so a retry or a restart never
    needs the original Discord interaction.
    """

    id: str
    seq: int
    guild_id: int | None
    channel_id: int
    user_id: int
    mode: str
    params: Mapping[str, Any]
    inputs: Mapping[str, str]
    status: JobStatus
    attempts: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    error_code: str | None
    error_detail: str | None
    system_fault: bool
    result_path: str | None
    gpu_seconds: float
    card_message_id: int | None
    result_message_id: int | None
    retry_of: str | None
    note: str | None
    # The job whose result this one continues (Extend, migration 0005): the
    # worker delivers the two joined. None: an ordinary job.
    extends: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def delivered(self) -> bool:
        """The result (or, for a cancelled job, the final card) was posted."""
        return self.result_message_id is not None


@dataclass(frozen=True)
class Recovery:
    """What `JobStore.recover()` found at startup.

    `queued`: every queued job in run order (seq), requeued ones included.
    `requeued`: jobs that were running when the process died, now queued again.
    `failed`: running jobs that had used up their attempts (a job that kills the
    process every time must not crash-loop the bot); they are also undelivered.
    `undelivered`: finished jobs whose result has not been posted yet.
    `running`: jobs left running on remote workers, to be adopted (only when
    recovering with `keep_running`; otherwise they are requeued or failed).
    """

    queued: tuple[Job, ...] = ()
    requeued: tuple[Job, ...] = ()
    failed: tuple[Job, ...] = ()
    undelivered: tuple[Job, ...] = ()
    running: tuple[Job, ...] = ()
