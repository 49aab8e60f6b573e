"""The one door between the Discord frontend and the engine, as typed Protocols.

The bot holds an `EngineApi` and nothing else of the engine's runtime: not the
job store, not the scheduler, not ComfyUI. What crosses is plain data (ints,
strings, JSON-able dicts) in and frozen dataclasses out (`Job`, `QuotaStatus`,
`GuildSettings`, ...), and job changes arrive on one stream handed to both
sides at construction (`JobChanges`). That is the contract a remote engine
(GPU workers on other machines, issue 14) implements a second time, so no
in-process object may cross it: no callbacks, no handles, no connections.

Three parts, by who decides:
- `JobsApi`: a member's jobs. Submit, retry and cancel are decided by the
  engine, once: admission (pause, ban, channel, prompt rules, caps, quota)
  and ownership run inside the insert's transaction, so the bot's early
  `precheck` is advisory only.
- `GuildAdminApi`: a server's settings, quotas, bans, the pause switch, and
  the audit log (`/ltxadmin`).
- `ModerationApi`: prompt rules, age-restricted modes, reports and the
  prompt log.

`engine.front.Engine` implements all three in-process (ltxbot/app.py builds
it); the tests run the bot on the wire-level fake against that implementation.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from engine.events import Progress
from engine.jobs import (
    ANY_GUILD,
    AnyGuild,
    AuditEntry,
    GuildSettings,
    Job,
    JobStatus,
    Lineage,
    MemberDefaults,
    QuotaRule,
    QuotaScope,
    QuotaStatus,
    Recovery,
)
from engine.moderation import (
    ModerationSettings,
    PromptLogEntry,
    PromptRule,
    Report,
    RuleKind,
    RuleScope,
)

# Every change of a job, in order: the job as it now is and, while it runs,
# its progress. Written by the engine, read by one frontend.
JobChanges = AsyncIterable[tuple[Job, Progress | None]]


@dataclass(frozen=True)
class WorkerInfo:
    """A GPU worker the engine drives, as an operator sees it (scale-out)."""

    worker_id: str
    device: str
    modes: tuple[str, ...]
    running_job_id: str | None  # None: idle
    loaded: tuple[str, ...] = ()  # model files it holds loaded
    up_since: float = 0.0  # Unix time
    leaving: bool = False  # stopping: finishes or hands back what it holds, takes nothing new


class JobsApi(Protocol):
    """Submitting, following and delivering a member's jobs."""

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
        """Admit and queue a job; a refusal raises its typed error."""
        ...

    async def retry(
        self,
        job_id: str,
        *,
        guild_id: int | None,
        user_id: int,
        role_ids: Sequence[int] = (),
        is_admin: bool = False,
        channel_nsfw: bool = False,
    ) -> Job:
        """A new take of the job (same parameters and inputs, a new seed) in
        the job's channel, owned by whoever asked; ownership and admission
        are decided here. `channel_nsfw` is that channel's age restriction."""
        ...

    async def final(
        self,
        job_id: str,
        *,
        guild_id: int | None,
        user_id: int,
        role_ids: Sequence[int] = (),
        is_admin: bool = False,
        channel_nsfw: bool = False,
    ) -> Job:
        """The job again with the same seed and prompt, at the Quality preset
        and larger (up to the server's maxima); decided as `retry` is."""
        ...

    async def variations(
        self,
        job_id: str,
        *,
        count: int,
        guild_id: int | None,
        user_id: int,
        role_ids: Sequence[int] = (),
        is_admin: bool = False,
        channel_nsfw: bool = False,
    ) -> tuple[Job, ...]:
        """`count` (1..4) new takes with new seeds, each its own job and quota
        unit, all admitted or none (TooManyTakes says how many would fit)."""
        ...

    async def extend(
        self,
        job_id: str,
        *,
        seconds: float,
        prompt: str | None = None,
        guild_id: int | None,
        user_id: int,
        role_ids: Sequence[int] = (),
        is_admin: bool = False,
        channel_nsfw: bool = False,
    ) -> Job:
        """`seconds` more of the job's result from its last frame (i2v), with
        `prompt` or the job's own; its result is delivered as one video, the
        job's and the continuation joined (engine/extend.py). Decided as
        `retry` is."""
        ...

    async def cancel(
        self,
        job_id: str,
        *,
        by_user_id: int,
        is_admin: bool = False,
        guild_id: int | AnyGuild | None = ANY_GUILD,
    ) -> Job:
        """Cancel a queued job, or stop a running one (its ending arrives as a
        job change)."""
        ...

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
        """Would `submit` refuse this now? Advisory: for refusing before an
        acknowledgement or a download."""
        ...

    async def screen(
        self,
        *,
        guild_id: int | None,
        mode: str,
        params: Mapping[str, Any],
        channel_nsfw: bool,
        asked_by: tuple[int, int] | None = None,
    ) -> None:
        """Raise the Refusal the guild's prompt rules give this job here."""
        ...

    async def job(self, job_id: str) -> Job | None: ...

    async def lineage(self, job_id: str) -> Lineage:
        """The job's parents, its place among their takes and its own takes
        (engine/jobs/lineage.py); JobNotFound when there is no such job."""
        ...

    async def jobs(
        self,
        *statuses: JobStatus,
        user_id: int | None = None,
        guild_id: int | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[Job]:
        """Jobs by status (all when none is named), oldest first by default."""
        ...

    async def job_for_message(self, message_id: int) -> Job | None:
        """The job whose card or result is this Discord message."""
        ...

    async def latest_job(self, guild_id: int | None, user_id: int) -> Job | None:
        """The member's newest queued or running job."""
        ...

    async def quota(self, guild_id: int, user_id: int, role_ids: Sequence[int]) -> QuotaStatus: ...

    async def member_defaults(self, guild_id: int, user_id: int) -> MemberDefaults:
        """The member's own defaults in this guild (`/ltx settings`), read
        from memory once known: for options left out of a command."""
        ...

    async def set_member_defaults(
        self,
        guild_id: int,
        user_id: int,
        *,
        reset: bool = False,
        preset: str | None = None,
        width: int | None = None,
        height: int | None = None,
        fps: int | None = None,
        enhance_prompt: bool | None = None,
    ) -> MemberDefaults:
        """Change the given defaults (None: as is); `reset` clears all first."""
        ...

    async def recovered(self) -> Recovery:
        """What the engine's startup found (computed once, in the store's
        recovery transaction): the queue in order, the jobs requeued or failed
        by the restart, and the finished jobs whose result a previous process
        did not post, for the bot to deliver."""
        ...

    async def record_card(self, job_id: str, message_id: int) -> None:
        """The job's card is this message (set once)."""
        ...

    async def record_delivery(self, job_id: str, message_id: int) -> bool:
        """The result was posted as this message (0: given up for good); False
        when another delivery recorded it first."""
        ...

    def position(self, job_id: str) -> int | None:
        """0: running; 1: runs next; None: not in line."""
        ...

    def eta(self, job_id: str) -> float | None:
        """Unix time the job should finish, if it is in line."""
        ...

    def workers(self) -> tuple[WorkerInfo, ...]:
        """The workers jobs run on, where they run on workers of their own
        (scale-out); empty where this process runs them itself."""
        ...


class GuildAdminApi(Protocol):
    """A server's own settings, quotas and bans, and who changed what."""

    async def guild_settings(self, guild_id: int) -> GuildSettings: ...

    async def update_guild_settings(self, guild_id: int, **changes: Any) -> GuildSettings: ...

    async def set_global_paused(self, paused: bool) -> None: ...

    async def ban(self, guild_id: int, user_id: int, *, reason: str | None) -> None: ...

    async def unban(self, guild_id: int, user_id: int) -> bool: ...

    async def set_quota(
        self,
        guild_id: int,
        scope: QuotaScope,
        target_id: int | None,
        *,
        jobs_per_day: int | None,
        gpu_seconds_per_day: float | None,
    ) -> None: ...

    async def clear_quota(
        self, guild_id: int, scope: QuotaScope, target_id: int | None
    ) -> bool: ...

    async def quota_rules(self, guild_id: int) -> list[QuotaRule]: ...

    async def audit(
        self,
        guild_id: int | None,
        actor_id: int,
        action: str,
        target: str | None,
        detail: Mapping[str, Any],
    ) -> None: ...

    async def audit_log(self, guild_id: int | None, *, limit: int = 20) -> list[AuditEntry]: ...


class ModerationApi(Protocol):
    """Prompt rules, age gates, reports and the prompt log of a server."""

    async def add_rule(
        self,
        guild_id: int,
        kind: RuleKind | str,
        pattern: str,
        scope: RuleScope | str,
        by_user_id: int,
    ) -> PromptRule: ...

    async def remove_rule(self, guild_id: int, rule_id: int) -> bool: ...

    async def prompt_rules(self, guild_id: int) -> tuple[PromptRule, ...]: ...

    async def set_mode_age_restricted(
        self, guild_id: int, mode: str, restricted: bool
    ) -> frozenset[str]: ...

    async def age_restricted_modes(self, guild_id: int) -> frozenset[str]: ...

    async def moderation_settings(self, guild_id: int) -> ModerationSettings: ...

    async def set_report_channel(
        self, guild_id: int, channel_id: int | None
    ) -> ModerationSettings: ...

    async def set_log_retention(self, guild_id: int, days: int) -> ModerationSettings: ...

    async def create_report(self, guild_id: int, job_id: str, reporter_id: int) -> Report: ...

    async def set_report_message(self, report_id: int, message_id: int) -> bool: ...

    async def get_report(self, report_id: int) -> Report | None: ...

    async def resolve_report(
        self, report_id: int, by_user_id: int, action: str
    ) -> Report | None: ...

    async def prompt_log(
        self,
        guild_id: int,
        *,
        user_id: int | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[PromptLogEntry, ...]: ...


class EngineApi(JobsApi, Protocol):
    """Everything the bot may ask of the engine: a member's jobs directly,
    a server's administration and moderation through `admin` and
    `moderation`."""

    @property
    def admin(self) -> GuildAdminApi: ...

    @property
    def moderation(self) -> ModerationApi: ...
