"""May this user queue a job here, now? One check, in a fixed order.

The bot calls this before ingesting attachments, so a refusal costs nothing.
The order puts the refusals a user can do nothing about first (paused,
banned, wrong channel) and the ones that pass with time last (queue full,
quota). Each refusal is a typed error from engine.errors carrying its data.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.errors import ChannelNotAllowed, QueueFull, QueuePaused, UserBanned
from engine.jobs._quota import QuotaStatus
from engine.jobs.store import JobStore


async def check_admission(
    store: JobStore,
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
    """Raise QueuePaused, UserBanned, ChannelNotAllowed, QueueFull or
    QuotaExceeded; else return the user's quota standing (None in DMs, where
    no guild sets quotas). Check and create are two steps, so two submissions
    racing can both pass: caps may be overshot by the number of racing
    submissions of one user, never more."""
    if await store.global_paused():
        raise QueuePaused(scope="global")
    if guild_id is not None:
        settings = await store.guild_settings(guild_id)
        if settings.paused:
            raise QueuePaused(scope="guild")
        ban = await store.get_ban(guild_id, user_id)
        if ban is not None:
            raise UserBanned(user_id=user_id, guild_id=guild_id, reason=ban.reason)
        if not settings.channel_allowed(channel_id):
            raise ChannelNotAllowed(
                channel_id=channel_id,
                allowed_channel_ids=tuple(sorted(settings.allowed_channel_ids)),
            )
    if await store.count_queued(user_id=user_id) >= max_queued_per_user:
        raise QueueFull(scope="user", cap=max_queued_per_user)
    if (
        guild_id is not None
        and max_queued_per_guild is not None
        and await store.count_queued(guild_id=guild_id) >= max_queued_per_guild
    ):
        raise QueueFull(scope="guild", cap=max_queued_per_guild)
    if await store.count_queued() >= max_queue_total:
        raise QueueFull(scope="global", cap=max_queue_total)
    if guild_id is None:
        return None
    status = await store.quota_status(guild_id, user_id, role_ids, now=now)
    err = status.error()
    if err is not None:
        raise err
    return status
