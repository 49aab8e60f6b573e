"""Job actions shared by commands, buttons and reactions: submit, retry, cancel.

Each takes an `Actor` (who, where, admin or not) so the same rules apply
however the user asked. Admission and ownership are the engine's: its
advisory `precheck` runs before any download (or, for a retry press, before
the acknowledgement), and the insert decides for good; attachments
are fetched at submit time (CDN URLs expire) with the declared size checked
first and the download capped, then ingested in a thread; parameters are parsed
against the deployment limits narrowed by the guild's maxima.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import discord
from pydantic import BaseModel

from bot.actor import Actor, actor_from_interaction, actor_from_member, is_nsfw_channel
from bot.errors import GuildOnly
from bot.ltx._visible import is_cdn_url
from engine.errors import InputRejected, JobNotFound
from engine.jobs import Job, JobStatus
from engine.media import CappedDownload, StoredInput, check_declared, ingest
from engine.modes import Limits, get_mode

if TYPE_CHECKING:
    from bot.client import LtxBot

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
INTAKE_CONCURRENCY = 4
CARD_WAIT_S = 2.0
CARD_LINK_WAIT_S = 600.0


class AckGate:
    """Counts commands not acknowledged yet; work after an acknowledgement
    waits (briefly) while any are pending, so acknowledgements go first."""

    def __init__(self, max_wait_s: float = 2.0) -> None:
        self._pending = 0
        self._clear = asyncio.Event()
        self._clear.set()
        self._max_wait_s = max_wait_s

    def arrived(self) -> None:
        self._pending += 1
        self._clear.clear()

    def acknowledged(self) -> None:
        self._pending -= 1
        if self._pending <= 0:
            self._pending = 0
            self._clear.set()

    async def wait(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._max_wait_s):
                await self._clear.wait()


class JobActions:
    def __init__(self, bot: LtxBot) -> None:
        self.bot = bot
        # The work after an acknowledgement (store queries, downloads, the job
        # insert) runs a few at a time: under a burst of commands, the event
        # loop then spends its time acknowledging the others within Discord's
        # window instead of on two hundred half-done submissions at once.
        self.intake = asyncio.Semaphore(INTAKE_CONCURRENCY)
        self.acks = AckGate()

    # --- facts ------------------------------------------------------------------------------

    async def limits_for(self, guild_id: int | None) -> Limits:
        """The deployment's limits narrowed by the guild's own maxima."""
        limits = self.bot.config.limits
        if guild_id is None:
            return limits
        return (await self.bot.engine.admin.guild_settings(guild_id)).tighten(limits)

    async def admit(
        self, actor: Actor, mode: str | None = None, params: BaseModel | None = None
    ) -> None:
        """Raise the refusal (disk, paused, banned, channel, prompt rules when
        `mode` is given, queue caps, quota), if any. Advisory: the engine's
        precheck, the same function and caps the submit's transaction decides
        with, run early so a refused user waits for no download. A pass is not
        a promise (see Engine.precheck)."""
        if actor.guild_id is None:
            raise GuildOnly()
        await self.bot.engine.precheck(
            guild_id=actor.guild_id,
            channel_id=actor.channel_id,
            user_id=actor.user_id,
            role_ids=actor.role_ids,
            mode=mode,
            params=None if params is None else params.model_dump(mode="json"),
            channel_nsfw=actor.channel_nsfw,
        )

    async def screen(self, actor: Actor, mode: str, params: BaseModel) -> None:
        """Raise the Refusal of the guild's prompt rules, from memory: called
        before the acknowledgement, so a refused prompt is answered at once."""
        await self.bot.engine.screen(
            guild_id=actor.guild_id,
            mode=mode,
            params=params.model_dump(mode="json"),
            channel_nsfw=actor.channel_nsfw,
            asked_by=(actor.user_id, actor.channel_id),
        )

    def check_attachments(self, mode: str, attachments: Mapping[str, discord.Attachment]) -> None:
        """The declared size and type, before anything is acknowledged or fetched."""
        kinds = {slot.name: slot.kind for slot in get_mode(mode).media}
        for name, attachment in attachments.items():
            check_declared(
                name,
                attachment.size,
                attachment.content_type,
                kinds[name],
                self.bot.config.media_limits,
            )

    async def fetch_inputs(
        self, mode: str, attachments: Mapping[str, discord.Attachment], *, tag: str
    ) -> dict[str, StoredInput]:
        """Download each attachment (capped) and ingest it (in a thread)."""
        kinds = {slot.name: slot.kind for slot in get_mode(mode).media}
        tmp = self.bot.config.downloads_dir
        stored: dict[str, StoredInput] = {}
        for name, attachment in attachments.items():
            path = tmp / f"{tag}-{name}"
            try:
                await self._download(attachment, path, kinds[name], name)
                stored[name] = await asyncio.to_thread(
                    ingest,
                    path,
                    kinds[name],
                    self.bot.config.inputs_dir,
                    self.bot.config.media_limits,
                    input_name=name,
                )
            finally:
                path.unlink(missing_ok=True)
        return stored

    async def _download(
        self, attachment: discord.Attachment, path: Path, kind: str, name: str
    ) -> None:
        session = self.bot.http_session
        assert session is not None, "setup_hook creates the session"
        settings = self.bot.config
        if not is_cdn_url(attachment.url, settings.discord_api_base):
            log.warning("attachment %s is not on Discord's CDN: refused", attachment.id)
            raise InputRejected(
                input_name=name,
                reason="the file is not on Discord's CDN",
                accepted="a file attached to the command",
            )
        limit = aiohttp.ClientTimeout(total=settings.download_timeout_s, sock_read=15)
        try:
            with CappedDownload(path, kind, self.bot.config.media_limits, input_name=name) as sink:
                async with session.get(
                    attachment.url, allow_redirects=False, timeout=limit
                ) as response:
                    response.raise_for_status()
                    if response.status != 200:  # a redirect: never followed
                        raise aiohttp.ClientError(f"status {response.status}")
                    async for chunk in response.content.iter_chunked(CHUNK):
                        sink.write(chunk)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("download of %s failed: %s", attachment.url, exc)
            raise InputRejected(
                input_name=name,
                reason="Discord's copy of the file could not be downloaded",
                accepted="the same file, attached again",
            ) from exc

    # --- submit -----------------------------------------------------------------------------

    async def submit(
        self,
        actor: Actor,
        mode: str,
        params: BaseModel,
        inputs: Mapping[str, StoredInput],
        *,
        retry_of: str | None = None,
    ) -> tuple[Job, int | None]:
        """Queue the job and make sure its card is up; returns the job and card id.
        The job row keeps the parsed parameters (seed included) and the inputs'
        content hashes: all a retry or a restart needs."""
        async with self.intake:
            job = await self._enqueue(actor, mode, params, inputs, retry_of)
        return job, await self.card_of(job)

    async def card_of(self, job: Job) -> int | None:
        """The job's card id once posted (waited for at most CARD_WAIT_S)."""
        try:
            async with asyncio.timeout(CARD_WAIT_S):
                return await self.bot.cards.card_for(job)
        except TimeoutError:
            log.warning("card of job %s not posted within %.0f s", job.id, CARD_WAIT_S)
            return None

    async def link_card_later(self, job: Job, reply: discord.WebhookMessage) -> None:
        """Edit the private "Queued" reply once the job's card is posted (the
        interaction token lives 15 minutes; this waits less than that)."""
        try:
            async with asyncio.timeout(CARD_LINK_WAIT_S):
                card_id = await self.bot.cards.card_for(job)
        except TimeoutError:
            return
        if card_id is not None:
            with contextlib.suppress(discord.HTTPException):
                await reply.edit(content=queued_text(job, card_id))

    async def _enqueue(
        self,
        actor: Actor,
        mode: str,
        params: BaseModel,
        inputs: Mapping[str, StoredInput],
        retry_of: str | None,
    ) -> Job:
        return await self.bot.engine.submit(
            guild_id=actor.guild_id,
            channel_id=actor.channel_id,
            user_id=actor.user_id,
            role_ids=actor.role_ids,
            mode=mode,
            params=params.model_dump(mode="json"),
            inputs={slot: stored.sha256 for slot, stored in inputs.items()},
            retry_of=retry_of,
            channel_nsfw=actor.channel_nsfw,
        )

    # --- retry ------------------------------------------------------------------------------

    async def retry(self, actor: Actor, job_id: str) -> tuple[Job, int | None]:
        """The same parameters and inputs with a new seed, decided by the
        engine (ownership, admission, the new seed); returns the job and its
        card id."""
        old = await self.bot.engine.job(job_id)
        # The new job goes where the old one was, not where the reaction was,
        # and is judged by that channel's age restriction as it is now.
        nsfw = old is not None and is_nsfw_channel(self.bot.get_channel(old.channel_id))
        async with self.intake:
            job = await self.bot.engine.retry(
                job_id,
                guild_id=actor.guild_id,
                user_id=actor.user_id,
                role_ids=actor.role_ids,
                is_admin=actor.is_admin,
                channel_nsfw=nsfw,
            )
        return job, await self.card_of(job)

    async def retry_interaction(self, interaction: discord.Interaction, job_id: str) -> None:
        actor = actor_from_interaction(interaction, self.bot.config.owner_ids)
        self.bot.upload_limits.observe(interaction)
        await self.admit(actor)  # refusals before the acknowledgement: fast and ephemeral
        await interaction.response.defer(ephemeral=True, thinking=True)
        job, card_id = await self.retry(actor, job_id)
        await interaction.followup.send(queued_text(job, card_id), ephemeral=True)

    async def retry_reaction(
        self, member: discord.Member, message_id: int, channel_id: int
    ) -> None:
        """🔁 on a result: like the button, but refusals are a reply (no interaction)."""
        job = await self.bot.engine.job_for_message(message_id)
        if job is None or job.result_message_id != message_id:
            return
        actor = actor_from_member(
            member, channel_id=channel_id, owner_ids=self.bot.config.owner_ids
        )
        await self.retry(actor, job.id)

    # --- cancel -----------------------------------------------------------------------------

    async def cancel(self, actor: Actor, job_id: str | None) -> Job:
        if job_id is None:
            latest = await self.bot.engine.latest_job(actor.guild_id, actor.user_id)
            if latest is None:
                raise JobNotFound(job_id="(none waiting or running)")
            job_id = latest.id
        cancelled = await self.bot.engine.cancel(
            job_id, by_user_id=actor.user_id, is_admin=actor.is_admin, guild_id=actor.guild_id
        )
        return cancelled  # its card follows from the engine's job change, once

    async def cancel_interaction(
        self, interaction: discord.Interaction, actor: Actor, job_id: str | None
    ) -> None:
        job = await self.cancel(actor, job_id)
        await interaction.response.send_message(cancelled_text(job), ephemeral=True)


def queued_text(job: Job, card_id: int | None) -> str:
    where = (
        f" — https://discord.com/channels/{job.guild_id}/{job.channel_id}/{card_id}"
        if card_id
        else ""
    )
    return f"Queued as job `{job.id}`{where}"


def cancelled_text(job: Job) -> str:
    if job.status is JobStatus.CANCELLED:
        return f"Job `{job.id}` is cancelled."
    if not job.terminal:
        return f"Stopping job `{job.id}`…"
    return f"Job `{job.id}` could not be cancelled: it has already {job.status.value}."
