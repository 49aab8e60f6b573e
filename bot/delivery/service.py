"""Posting results: exactly once, as a reply to the card, always playable.

A result is a channel message (never the interaction token, which dies after
15 minutes) that replies to the job card, mentions the owner and carries the
mp4 fitted under the destination's upload limit, plus a Retry button and a 🔁
reaction. The full-quality file stays in the data dir; what is uploaded is a
temporary re-encode. Exactly-once across crashes: the engine's guarded
`record_delivery`, a nonce per job (discord.py sends it with
`enforce_nonce`), and on recovery a look through the channel's recent history
for a reply to the card that already got through: every message since the
job finished, however many. A post refused with 403/404 is given up for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import discord

from bot.actor import is_nsfw_channel
from bot.delivery._marks import is_result_message, job_marker, result_nonce
from bot.errors import failure_text, user_message
from bot.retry.buttons import RETRY_EMOJI, result_view
from engine.api import JobsApi
from engine.errors import OutputTooLarge
from engine.jobs import Job, JobStatus
from engine.media import fit_to_limit, upload_limit
from engine.moderation import Refusal

log = logging.getLogger(__name__)


class Screen(Protocol):
    """The engine's `screen`: raises the Refusal of the guild's prompt rules."""

    async def __call__(
        self, *, guild_id: int | None, mode: str, params: Mapping[str, Any], channel_nsfw: bool
    ) -> None: ...


# A result is posted only after its job finished: recovery reads every message
# from that moment on (however busy the channel), less this much clock skew.
FINISH_SKEW_S = 60.0
ENCODE_SLOTS = 2  # concurrent fits of results to the upload limit
GAVE_UP = 0  # result_message_id of a delivery refused for good (403/404)
TOO_LARGE = 40005  # Discord's JSON error code for "request entity too large"


class UploadLimits:
    """The largest upload each guild is known to accept.

    Interactions carry `attachment_size_limit`; the guild object carries its
    boost-tier `filesize_limit`. Results are posted long after the interaction,
    so the last value seen per guild is remembered (in memory: after a restart
    the guild's own limit applies until the next interaction).
    """

    def __init__(self, client: discord.Client) -> None:
        self._client = client
        self._seen: dict[int | None, int] = {}

    def observe(self, interaction: discord.Interaction) -> None:
        limit = getattr(interaction, "filesize_limit", None)
        if limit:
            self._seen[interaction.guild_id] = int(limit)

    def for_guild(self, guild_id: int | None) -> int:
        guild = self._client.get_guild(guild_id) if guild_id else None
        # Nothing known falls back to Discord's default for unboosted servers.
        return upload_limit(self._seen.get(guild_id), guild.filesize_limit if guild else None)


def is_too_large(exc: discord.HTTPException) -> bool:
    return exc.status == 413 or exc.code == TOO_LARGE


def result_text(job: Job) -> str:
    return (
        f"<@{job.user_id}> your **{job.mode}** video is ready — job {job_marker(job.id)}. "
        f"Press **Retry** or react {RETRY_EMOJI} for another take with a new seed, pick "
        "**Variations** for up to four, or **Final** for this take at Quality, larger."
    )


def failure_reply(job: Job) -> str:
    return (
        f"<@{job.user_id}> job {job_marker(job.id)} failed: "
        f"{failure_text(job.error_code, job.error_detail)}"
    )


def withheld_text(job: Job, refusal: Refusal) -> str:
    return (
        f"<@{job.user_id}> your **{job.mode}** video (job {job_marker(job.id)}) is done, but it "
        f"is not posted: {user_message(refusal)}"
    )


def too_large_text(job: Job, limit: int) -> str:
    return (
        f"<@{job.user_id}> your **{job.mode}** video (job {job_marker(job.id)}) is done, but "
        f"even a smaller version does not fit this server's {limit / 2**20:.0f} MB upload "
        f"limit. The full-quality file is kept; `/ltx show job:{job.id}` can bring it back."
    )


class Delivery:
    """Posts each finished job's outcome once. Owned by the bot."""

    def __init__(
        self,
        *,
        client: discord.Client,
        jobs: JobsApi,
        work_dir: Path,
        limits: UploadLimits,
        screen: Screen | None = None,
    ) -> None:
        self._client = client
        self._jobs = jobs
        self._screen = screen
        self._work_dir = work_dir
        self.limits = limits
        self._locks: dict[str, asyncio.Lock] = {}
        # Re-encodes run on the bot's CPU, beside the event loop and ComfyUI's
        # own threads: a burst of `/ltx show`s or finished jobs waits its turn.
        self._encodes = asyncio.Semaphore(ENCODE_SLOTS)

    async def deliver(self, job: Job, *, card_id: int | None, recovering: bool = False) -> None:
        """Post `job`'s result (or failure notice) unless it was posted already."""
        lock = self._locks.setdefault(job.id, asyncio.Lock())
        try:
            async with lock:
                await self._deliver(job, card_id=card_id, recovering=recovering)
        finally:
            if not lock.locked():
                self._locks.pop(job.id, None)

    async def _deliver(self, job: Job, *, card_id: int | None, recovering: bool) -> None:
        fresh = await self._jobs.job(job.id)
        if fresh is None or fresh.delivered or not fresh.terminal:
            return
        job = fresh
        channel = self._client.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        if job.status is JobStatus.CANCELLED:
            # The card says it all; mark it so recovery leaves the job alone.
            await self._jobs.record_delivery(job.id, card_id or 0)
            return
        if recovering and card_id is not None:
            found = await self._find_posted(channel, job, card_id)
            if found is not None:
                log.info("job %s: result %s was already posted", job.id, found.id)
                if job.status is JobStatus.SUCCEEDED:
                    await self._react(found)
                await self._jobs.record_delivery(job.id, found.id)
                return
        try:
            if job.status is JobStatus.SUCCEEDED:
                message = await self._post_video(channel, job, card_id)
            else:
                message = await channel.send(
                    failure_reply(job),
                    reference=self._reference(job, card_id),  # type: ignore[arg-type]  # see _reference
                    allowed_mentions=discord.AllowedMentions(users=[discord.Object(job.user_id)]),
                    nonce=result_nonce(job.id),
                )
        except (discord.Forbidden, discord.NotFound) as exc:
            # The channel is gone or closed to the bot: retrying on every restart
            # would only add to Discord's invalid-request count. Given up for good.
            log.warning("job %s: delivery refused (%s); not retried", job.id, exc.status)
            await self._jobs.record_delivery(job.id, GAVE_UP)
            return
        await self._jobs.record_delivery(job.id, message.id)

    def _reference(self, job: Job, card_id: int | None) -> discord.MessageReference | None:
        # send() takes reference=None (its default) but its overloads omit None,
        # hence the ignores where this is passed.
        if card_id is None:
            return None
        return discord.MessageReference(
            message_id=card_id,
            channel_id=job.channel_id,
            guild_id=job.guild_id,
            fail_if_not_exists=False,
        )

    async def _find_posted(
        self, channel: discord.PartialMessageable, job: Job, card_id: int
    ) -> discord.Message | None:
        """A reply to the card with the job's mark, posted by us before a crash."""
        me = self._client.user
        if me is None:
            return None
        since = card_id
        if job.finished_at is not None:
            moment = datetime.datetime.fromtimestamp(job.finished_at - FINISH_SKEW_S, datetime.UTC)
            since = max(since, discord.utils.time_snowflake(moment))
        async for message in channel.history(
            limit=None, after=discord.Object(since), oldest_first=True
        ):
            ref = message.reference.message_id if message.reference else None
            if is_result_message(
                author_id=message.author.id,
                reference_id=ref,
                content=message.content,
                bot_id=me.id,
                card_id=card_id,
                job_id=job.id,
            ):
                return message
        return None

    async def _withheld(self, job: Job) -> Refusal | None:
        """The refusal the guild's rules give the job in its channel as it is
        now: a channel can stop being age-restricted while its job runs."""
        if self._screen is None or job.guild_id is None:
            return None
        nsfw = is_nsfw_channel(self._client.get_channel(job.channel_id))
        try:
            await self._screen(
                guild_id=job.guild_id, mode=job.mode, params=job.params, channel_nsfw=nsfw
            )
        except Refusal as refusal:
            return refusal
        return None

    async def _post_video(
        self, channel: discord.PartialMessageable, job: Job, card_id: int | None
    ) -> discord.Message:
        limit = self.limits.for_guild(job.guild_id)
        mentions = discord.AllowedMentions(users=[discord.Object(job.user_id)])
        refusal = await self._withheld(job)
        if refusal is not None:
            log.warning("job %s: result withheld (%s)", job.id, refusal.describe())
            return await channel.send(
                withheld_text(job, refusal),
                reference=self._reference(job, card_id),  # type: ignore[arg-type]  # see _reference
                allowed_mentions=mentions,
                nonce=result_nonce(job.id),
            )
        for shrink in (0, 1):
            try:
                path = await self.fit(job, limit, shrink=shrink)
            except OutputTooLarge:
                log.warning("job %s: no encode fits %d bytes", job.id, limit)
                break
            try:
                message = await channel.send(
                    result_text(job),
                    file=discord.File(path, filename=f"ltx-{job.id}.mp4"),
                    reference=self._reference(job, card_id),  # type: ignore[arg-type]  # see _reference
                    allowed_mentions=mentions,
                    view=result_view(job.id),
                    nonce=result_nonce(job.id),
                )
            except discord.HTTPException as exc:
                if not is_too_large(exc):
                    raise
                log.warning("job %s: upload of %s refused as too large", job.id, path)
                continue
            finally:
                path.unlink(missing_ok=True)
            await self._react(message)
            return message
        return await channel.send(
            too_large_text(job, limit),
            reference=self._reference(job, card_id),  # type: ignore[arg-type]  # see _reference
            allowed_mentions=mentions,
            view=result_view(job.id),
            nonce=result_nonce(job.id),
        )

    async def fit(self, job: Job, limit: int, *, shrink: int = 0) -> Path:
        """Re-encode the full-quality result under `limit` into a temporary file."""
        if not job.result_path:
            raise FileNotFoundError(f"job {job.id} has no result file")
        self._work_dir.mkdir(parents=True, exist_ok=True)
        # Unique per call: two shows of one job at once must not share a file
        # (one would upload or delete the other's half-written encode).
        dst = self._work_dir / f"{job.id}-{shrink}-{secrets.token_hex(4)}.mp4"
        async with self._encodes:
            try:
                await asyncio.to_thread(
                    fit_to_limit, Path(job.result_path), dst, limit, shrink=shrink
                )
            except BaseException:
                dst.unlink(missing_ok=True)
                raise
        return dst

    async def _react(self, message: discord.Message | discord.PartialMessage) -> None:
        with contextlib.suppress(discord.HTTPException):
            await message.add_reaction(RETRY_EMOJI)
