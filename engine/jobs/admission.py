"""May this user queue a job here, now? Decided once, with the insert.

`AdmissionMixin._admit` is the whole decision, in a fixed order: the refusals
a user can do nothing about first (paused, banned, wrong channel, a prompt
the guild's rules refuse here), the ones that pass with time last (queue
full, quota). Each refusal is a typed error from engine.errors carrying its
data. `JobStore.create(caps=...)` runs it in
the same BEGIN IMMEDIATE transaction as the INSERT, so simultaneous
submissions cannot both take a user's last slot: the caps and quotas hold
exactly, across tasks and across connections.

`JobStore.admission()` (and `check_admission`) run the same function outside
that transaction. That is advisory, for refusing before work that would be
wasted (a download, an acknowledgement): it may pass a job that the insert
then refuses, never the other way round, and the insert's answer is the one
that counts.

Ownership (retry, cancel) is decided by `JobStore.owned_job` once: a job's
owner and guild never change, so the read cannot go stale the way a count can.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final

from engine.errors import (
    ChannelNotAllowed,
    JobNotFound,
    NotJobOwner,
    QueueFull,
    QueuePaused,
    UserBanned,
)
from engine.jobs._admin_store import AdminStoreMixin
from engine.jobs._quota import QuotaStatus
from engine.jobs._quota_store import QuotaStoreMixin
from engine.jobs._rows import job_of
from engine.jobs.model import Job
from engine.moderation.store import ModerationStoreMixin


@dataclass(frozen=True)
class QueueCaps:
    """The operator's queue caps: the one place they live. ltxbot/app.py
    builds them from the settings and hands them to the engine, which passes
    them to every admission (the bot's advisory check included)."""

    max_queued_per_user: int = 3
    max_queue_total: int = 50
    max_queued_per_guild: int | None = None
    min_free_mb: float = 0.0  # on the outputs' disk; the engine checks it (not SQL)


@dataclass(frozen=True)
class Applicant:
    """Who asks for a job, and where: what admission decides on. `mode` and
    `texts` (the prompt and negative prompt) are what the guild's prompt
    rules judge, for a channel that is age-restricted or not; with no mode
    (an early check before the parameters are known) rules are skipped."""

    guild_id: int | None
    channel_id: int
    user_id: int
    role_ids: tuple[int, ...] = ()
    mode: str | None = None
    texts: tuple[str, ...] = ()
    channel_nsfw: bool = False


class AnyGuild(Enum):
    """The type of ANY_GUILD."""

    ANY = "any"


# For callers that act on a job by id alone (tests, tools): no guild check.
ANY_GUILD: Final = AnyGuild.ANY


def check_owner(
    job: Job | None,
    job_id: str,
    *,
    guild_id: int | AnyGuild | None,
    user_id: int,
    is_admin: bool,
) -> Job:
    """The job, if `user_id` may act on it from `guild_id`: its owner, or an
    admin of the guild it belongs to. A job of another guild is not found (a
    guild's admins have no power elsewhere, and ids are not confirmed)."""
    if job is None or (guild_id is not ANY_GUILD and job.guild_id != guild_id):
        raise JobNotFound(job_id=job_id)
    if job.user_id != user_id and not is_admin:
        raise NotJobOwner(job_id=job.id, user_id=user_id, owner_id=job.user_id)
    return job


class AdmissionMixin(QuotaStoreMixin, AdminStoreMixin, ModerationStoreMixin):
    """Part of JobStore: the admission decision and job ownership."""

    async def _count_queued(self, *, user_id: int | None, guild_id: int | None) -> int:
        sql, args = "SELECT count(*) FROM jobs WHERE status = 'queued'", []
        if user_id is not None:
            sql += " AND user_id = ?"
            args.append(user_id)
        if guild_id is not None:
            sql += " AND guild_id = ?"
            args.append(guild_id)
        row = await self._fetch_one(sql, args)
        return int(row[0]) if row else 0

    async def _admit(
        self, who: Applicant, caps: QueueCaps, *, now: float | None = None
    ) -> QuotaStatus | None:
        """The decision; the caller holds the lock (and, to make it final, the
        write transaction). Reads the database, not the settings cache, so a
        change made by another connection is seen."""
        if await self._global_paused():
            raise QueuePaused(scope="global")
        guild_id, user_id = who.guild_id, who.user_id
        if guild_id is not None:
            settings = await self._guild_settings(guild_id)
            if settings.paused:
                raise QueuePaused(scope="guild")
            ban = await self._get_ban(guild_id, user_id)
            if ban is not None:
                raise UserBanned(user_id=user_id, guild_id=guild_id, reason=ban.reason)
            if not settings.channel_allowed(who.channel_id):
                raise ChannelNotAllowed(
                    channel_id=who.channel_id,
                    allowed_channel_ids=tuple(sorted(settings.allowed_channel_ids)),
                )
            if who.mode is not None:
                guard = await self._prompt_guard(guild_id)
                refusal = guard.check(who.mode, who.texts, channel_nsfw=who.channel_nsfw)
                if refusal is not None:
                    raise refusal
        if await self._count_queued(user_id=user_id, guild_id=None) >= caps.max_queued_per_user:
            raise QueueFull(scope="user", cap=caps.max_queued_per_user)
        per_guild = caps.max_queued_per_guild
        if (
            guild_id is not None
            and per_guild is not None
            and await self._count_queued(user_id=None, guild_id=guild_id) >= per_guild
        ):
            raise QueueFull(scope="guild", cap=per_guild)
        if await self._count_queued(user_id=None, guild_id=None) >= caps.max_queue_total:
            raise QueueFull(scope="global", cap=caps.max_queue_total)
        if guild_id is None:
            return None
        status = await self._quota_status(guild_id, user_id, who.role_ids, now=now)
        err = status.error()
        if err is not None:
            raise err
        return status

    async def admission(
        self, who: Applicant, caps: QueueCaps, *, now: float | None = None
    ) -> QuotaStatus | None:
        """Advisory: what `create(caps=...)` would decide now (see module doc).
        Raises the refusal, else returns the quota standing (None in DMs)."""
        async with self._read():
            return await self._admit(who, caps, now=now)

    async def owned_job(
        self, job_id: str, *, guild_id: int | AnyGuild | None, user_id: int, is_admin: bool
    ) -> Job:
        """The job `user_id` asks to retry or cancel from `guild_id`; raises
        JobNotFound or NotJobOwner (see check_owner)."""
        async with self._read():
            row = await self._fetch_one("SELECT * FROM jobs WHERE id = ?", [job_id])
        job = job_of(row) if row else None
        return check_owner(job, job_id, guild_id=guild_id, user_id=user_id, is_admin=is_admin)


async def check_admission(
    store: AdmissionMixin,
    *,
    guild_id: int | None,
    channel_id: int,
    user_id: int,
    role_ids: Sequence[int] = (),
    max_queued_per_user: int,
    max_queue_total: int,
    max_queued_per_guild: int | None = None,
    now: float | None = None,
) -> QuotaStatus | None:
    """`store.admission()` with the caps spelled out: advisory, like it."""
    return await store.admission(
        Applicant(guild_id, channel_id, user_id, tuple(role_ids)),
        QueueCaps(max_queued_per_user, max_queue_total, max_queued_per_guild),
        now=now,
    )
