"""Admission and the job store (engine/jobs): quotas, caps, bans, ownership."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from engine.errors.base import LtxError


@dataclass(eq=False)
class QuotaExceeded(LtxError):
    """A daily quota is used up. `dimension` is "jobs_per_day" or
    "gpu_seconds_per_day"; `resets_at` is the unix time of the next reset."""

    dimension: str = ""
    limit: float = 0.0
    used: float = 0.0
    resets_at: float = 0.0

    code: ClassVar[str] = "quota_exceeded"

    def describe(self) -> str:
        return (
            f"daily quota {self.dimension} used up ({self.used:g} of {self.limit:g}); "
            f"resets at {self.resets_at:.0f}"
        )


@dataclass(eq=False)
class QueueFull(LtxError):
    """Too many jobs waiting: `scope` "user" (one user's cap), "guild" (one
    server's share of the queue) or "global"."""

    scope: str = "global"
    cap: int = 0

    code: ClassVar[str] = "queue_full"

    def describe(self) -> str:
        return f"queue full ({self.scope} cap {self.cap})"


@dataclass(eq=False)
class QueuePaused(LtxError):
    """New jobs are not accepted: `scope` "guild" or "global"."""

    scope: str = "global"

    code: ClassVar[str] = "queue_paused"

    def describe(self) -> str:
        return f"queue paused ({self.scope})"


@dataclass(eq=False)
class UserBanned(LtxError):
    user_id: int = 0
    guild_id: int | None = None
    reason: str | None = None

    code: ClassVar[str] = "user_banned"

    def describe(self) -> str:
        return f"user {self.user_id} is banned here" + (f": {self.reason}" if self.reason else "")


@dataclass(eq=False)
class ChannelNotAllowed(LtxError):
    """The guild restricts the bot to `allowed_channel_ids`."""

    channel_id: int = 0
    allowed_channel_ids: tuple[int, ...] = ()

    code: ClassVar[str] = "channel_not_allowed"

    def describe(self) -> str:
        allowed = ", ".join(str(c) for c in self.allowed_channel_ids)
        return f"channel {self.channel_id} is not allowed; allowed: {allowed}"


@dataclass(eq=False)
class JobNotFound(LtxError):
    job_id: str = ""

    code: ClassVar[str] = "job_not_found"

    def describe(self) -> str:
        return f"no job {self.job_id!r}"


@dataclass(eq=False)
class NotJobOwner(LtxError):
    """`user_id` tried to act on a job that belongs to `owner_id`."""

    job_id: str = ""
    user_id: int = 0
    owner_id: int = 0

    code: ClassVar[str] = "not_job_owner"

    def describe(self) -> str:
        return f"job {self.job_id} belongs to user {self.owner_id}, not {self.user_id}"


@dataclass(eq=False)
class ExtendTooLong(LtxError):
    """An Extend of job `job_id`, whose video lasts `current_s` seconds (the
    clips it joins included), by `asked_s` more would pass `max_s`, the
    longest an extended video may last here (engine/extend.py)."""

    job_id: str = ""
    current_s: float = 0.0
    asked_s: float = 0.0
    max_s: float = 0.0

    code: ClassVar[str] = "extend_too_long"

    @property
    def room_s(self) -> float:
        """The most it may still grow, rounded down to a tenth of a second."""
        return max(0.0, math.floor((self.max_s - self.current_s) * 10 + 1e-6) / 10)

    def describe(self) -> str:
        return (
            f"job {self.job_id} lasts {self.current_s:g} s; {self.asked_s:g} s more would "
            f"pass the {self.max_s:g} s an extended video may last"
        )


@dataclass(eq=False)
class JobInterrupted(LtxError):
    """The process died while the job ran, `attempts` times in a row; the job
    is failed instead of requeued so one poisonous job cannot crash-loop the bot."""

    attempts: int = 0

    code: ClassVar[str] = "interrupted"
    system_fault: ClassVar[bool] = True

    def describe(self) -> str:
        return f"interrupted by a restart {self.attempts} times"


@dataclass(eq=False)
class SchemaTooNew(LtxError):
    """The database was written by a newer ltx-bot; opening it could corrupt it."""

    path: str = ""
    found: int = 0
    known: int = 0

    code: ClassVar[str] = "schema_too_new"
    system_fault: ClassVar[bool] = True

    def describe(self) -> str:
        return (
            f"{self.path} has schema version {self.found}, this ltx-bot knows up to "
            f"{self.known}; upgrade ltx-bot or use another data dir"
        )
