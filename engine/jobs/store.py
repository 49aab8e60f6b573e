"""The durable job store (stub: signatures and contracts; filled in next)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.jobs._quota import QuotaRule, QuotaScope, QuotaStatus
from engine.jobs.admin import AuditEntry, GuildSettings
from engine.jobs.model import Job, JobStatus, Recovery


class JobStore:
    """The only writer of job status. Illegal transitions return None."""

    @classmethod
    async def open(cls, path: Path) -> JobStore:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def create(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        mode: str,
        params: Mapping[str, Any],
        inputs: Mapping[str, str],
        retry_of: str | None = None,
    ) -> Job:
        raise NotImplementedError

    async def get(self, job_id: str) -> Job | None:
        raise NotImplementedError

    async def list(
        self,
        *statuses: JobStatus,
        user_id: int | None = None,
        guild_id: int | None = None,
        limit: int | None = None,
    ) -> list[Job]:
        raise NotImplementedError

    async def count_queued(self, *, user_id: int | None = None) -> int:
        raise NotImplementedError

    async def start(self, job_id: str) -> Job | None:
        raise NotImplementedError

    async def succeed(self, job_id: str, *, result_path: str, gpu_seconds: float) -> Job | None:
        raise NotImplementedError

    async def fail(
        self,
        job_id: str,
        *,
        error_code: str,
        error_detail: str,
        system_fault: bool,
        gpu_seconds: float,
    ) -> Job | None:
        raise NotImplementedError

    async def cancel(self, job_id: str, *, gpu_seconds: float = 0.0) -> Job | None:
        raise NotImplementedError

    async def requeue(self, job_id: str, *, note: str) -> Job | None:
        raise NotImplementedError

    async def recover(self) -> Recovery:
        raise NotImplementedError

    async def set_card(self, job_id: str, message_id: int) -> None:
        raise NotImplementedError

    async def set_result_posted(self, job_id: str, message_id: int) -> bool:
        raise NotImplementedError

    async def undelivered(self) -> list[Job]:
        raise NotImplementedError

    async def find_by_message(self, message_id: int) -> Job | None:
        raise NotImplementedError

    async def latest_for_user(
        self, guild_id: int | None, user_id: int, statuses: Sequence[JobStatus] = ()
    ) -> Job | None:
        raise NotImplementedError

    async def set_quota(
        self,
        guild_id: int,
        scope: QuotaScope,
        target_id: int | None,
        *,
        jobs_per_day: int | None,
        gpu_seconds_per_day: float | None,
    ) -> None:
        raise NotImplementedError

    async def clear_quota(self, guild_id: int, scope: QuotaScope, target_id: int | None) -> bool:
        raise NotImplementedError

    async def quota_rules(self, guild_id: int) -> list[QuotaRule]:
        raise NotImplementedError

    async def quota_status(
        self, guild_id: int, user_id: int, role_ids: Sequence[int], *, now: float | None = None
    ) -> QuotaStatus:
        raise NotImplementedError

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        raise NotImplementedError

    async def update_guild_settings(self, guild_id: int, **changes: Any) -> GuildSettings:
        raise NotImplementedError

    async def set_global_paused(self, paused: bool) -> None:
        raise NotImplementedError

    async def global_paused(self) -> bool:
        raise NotImplementedError

    async def ban(self, guild_id: int, user_id: int, *, reason: str | None) -> None:
        raise NotImplementedError

    async def unban(self, guild_id: int, user_id: int) -> bool:
        raise NotImplementedError

    async def is_banned(self, guild_id: int, user_id: int) -> bool:
        raise NotImplementedError

    async def audit(
        self,
        guild_id: int | None,
        actor_id: int,
        action: str,
        target: str | None,
        detail: Mapping[str, Any],
    ) -> None:
        raise NotImplementedError

    async def audit_log(self, guild_id: int | None, *, limit: int = 20) -> list[AuditEntry]:
        raise NotImplementedError
