"""Job cards: one channel message per job, kept current without flooding Discord.

Engine events must never wait on Discord, so `CardService.update` only hands
the newest job state to the job's card actor: one owned task per active job
that posts the card (if nobody has), edits it at most as often as the throttle
allows (coalescing everything that arrived meanwhile into one edit), and at the
end makes the final edit and hands the job to delivery. Whoever sees a job
first (the command that submitted it, an engine event, startup recovery)
creates the actor, so a card is posted exactly once per process, and the
store's `card_message_id` makes it once across restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import discord

from bot.cards.render import PREVIEW_FILE, render_card
from bot.cards.throttle import EditThrottle, ThrottlePolicy
from bot.delivery.service import Delivery
from bot.retry.buttons import card_view
from bot.tasks import TaskOwner
from engine.api import JobsApi
from engine.jobs import Job, JobStatus

log = logging.getLogger(__name__)

REFRESH_TOP = 10  # queued cards whose position is refreshed when the queue moves
NO_MENTIONS = discord.AllowedMentions.none()


def card_nonce(job_id: str) -> str:
    """Discord de-duplicates a repeated card post (crash between post and store)."""
    return f"ltxc-{job_id}"


class CardService:
    """Owns the card actors. Methods are safe to call from engine callbacks."""

    def __init__(
        self,
        *,
        client: discord.Client,
        engine: JobsApi,
        delivery: Delivery,
        tasks: TaskOwner,
        policy: ThrottlePolicy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.engine = engine
        self.delivery = delivery
        self.tasks = tasks
        self.policy = policy
        self.clock = clock
        self._actors: dict[str, _CardActor] = {}

    def update(self, job: Job, progress: Any = None, *, recovering: bool = False) -> None:
        """The newest state of `job` (and its progress, while running)."""
        actor = self._actors.get(job.id)
        if actor is None:
            if self.tasks.closed:
                return
            actor = _CardActor(self, job, recovering=recovering)
            self._actors[job.id] = actor
            actor.start()
        changed = actor.feed(job, progress)
        if changed:
            self.queue_moved()

    async def card_for(self, job: Job) -> int | None:
        """Make sure `job` has a card and return its message id once posted
        (callers bound the wait with `asyncio.timeout`)."""
        self.update(job)
        actor = self._actors.get(job.id)
        if actor is None:
            fresh = await self.engine.job(job.id)
            return fresh.card_message_id if fresh else None
        await actor.posted.wait()
        return actor.card_id

    def queue_moved(self) -> None:
        """Positions changed: wake the cards near the front of the queue."""
        for actor in list(self._actors.values()):
            if actor.job.status is JobStatus.QUEUED:
                position = self.engine.position(actor.job.id)
                if position is not None and position <= REFRESH_TOP:
                    actor.wake.set()

    def _forget(self, actor: _CardActor) -> None:
        if self._actors.get(actor.job.id) is actor:
            del self._actors[actor.job.id]


class _CardActor:
    """The one task that writes one job's card."""

    def __init__(self, service: CardService, job: Job, *, recovering: bool) -> None:
        self.s = service
        self.job = job
        self.recovering = recovering
        self.progress: Any = None
        # The job succeeded and its video is being posted (fit + upload).
        self.uploading = False
        self.card_id: int | None = None
        self.posted = asyncio.Event()
        self.wake = asyncio.Event()
        self.finished = asyncio.Event()
        self.throttle = EditThrottle(service.policy)
        # what the card last showed (`Embed.to_dict()`, a TypedDict) and the
        # live still attached to it (None: no attachment)
        self._shown: Mapping[str, object] | None = None
        self._shown_still: bytes | None = None

    def start(self) -> None:
        self.s.tasks.spawn(self._run(), name=f"card:{self.job.id}")

    def feed(self, job: Job, progress: Any) -> bool:
        """Take a newer state; returns whether the status changed."""
        if self.job.terminal and not job.terminal:
            return False  # a late event for a job already finished
        changed = job.status is not self.job.status
        self.job = job
        if job.status is JobStatus.RUNNING:
            self.throttle.start(self.s.clock())
            if progress is not None:
                self.progress = progress
        else:
            self.progress = None
        if job.terminal:
            self.finished.set()
        self.wake.set()
        return changed

    async def _run(self) -> None:
        try:
            await self.s.client.wait_until_ready()
            fresh = await self.s.engine.job(self.job.id)
            if fresh is None:
                return
            if fresh.terminal and not self.job.terminal:
                self.feed(fresh, None)
            self.card_id = fresh.card_message_id
            if fresh.terminal and fresh.delivered:
                return  # a finished story: never touched again
            if self.card_id is None:
                await self._post()
            else:
                self.wake.set()
            self.posted.set()
            await self._follow()
            # A finished video says "Uploading" while delivery fits and posts
            # it, then "Done": the card never claims a result not there yet.
            self.uploading = self.job.status is JobStatus.SUCCEEDED
            await self._edit()
            await self.s.delivery.deliver(
                self.job, card_id=self.card_id, recovering=self.recovering
            )
            if self.uploading:
                self.uploading = False
                await self._edit_when_allowed()
        finally:
            self.posted.set()
            self.s._forget(self)

    async def _follow(self) -> None:
        """Edit while the job lives: wait for news, respect the throttle, coalesce."""
        while not self.job.terminal:
            await self.wake.wait()
            self.wake.clear()
            if self.job.terminal:
                return
            delay = self.throttle.delay(self.s.clock())
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self.finished.wait()
                if self.job.terminal:
                    return
                self.wake.clear()
            await self._edit()

    async def _edit_when_allowed(self) -> None:
        """The edit after the upload, spaced by the throttle like progress
        (the upload itself usually took longer than the spacing)."""
        delay = self.throttle.delay(self.s.clock())
        if delay > 0:
            await asyncio.sleep(delay)
        await self._edit()

    def _render(self) -> tuple[discord.Embed, discord.ui.View | None]:
        job = self.job
        live = not job.terminal
        card = render_card(
            job,
            position=self.s.engine.position(job.id) if live else None,
            eta=self.s.engine.eta(job.id) if live else None,
            progress=self.progress,
            uploading=self.uploading,
        )
        return card.embed, card_view(job.id) if card.cancellable else None

    async def _post(self) -> None:
        embed, view = self._render()
        channel = self.s.client.get_partial_messageable(
            self.job.channel_id, guild_id=self.job.guild_id
        )
        try:
            message = await channel.send(
                embed=embed,
                # send() takes view=None and reference=None (their defaults)
                # but its overloads omit None
                view=view,  # type: ignore[arg-type]
                reference=await self._parent_result(),  # type: ignore[arg-type]
                allowed_mentions=NO_MENTIONS,
                nonce=card_nonce(self.job.id),
            )
        except discord.HTTPException:
            log.warning("could not post the card of job %s", self.job.id, exc_info=True)
            return
        self.card_id = message.id
        await self.s.engine.record_card(self.job.id, message.id)
        self._shown = embed.to_dict()
        self.throttle.mark(self.s.clock())

    async def _parent_result(self) -> discord.MessageReference | None:
        """A take's card replies to the result it came from (same channel), so
        a thread of takes reads top to bottom."""
        if self.job.retry_of is None:
            return None
        parent = await self.s.engine.job(self.job.retry_of)
        here = self.job.channel_id
        if parent is None or not parent.result_message_id or parent.channel_id != here:
            return None
        return discord.MessageReference(
            message_id=parent.result_message_id,
            channel_id=parent.channel_id,
            guild_id=parent.guild_id,
            fail_if_not_exists=False,
        )

    def _still(self) -> bytes | None:
        """The live preview the card should carry now: only while running."""
        if self.job.status is not JobStatus.RUNNING or self.progress is None:
            return None
        return getattr(self.progress, "preview", None)

    async def _edit(self) -> None:
        if self.card_id is None:
            return
        embed, view = self._render()
        shown = embed.to_dict()
        still = self._still()
        if shown == self._shown and still == self._shown_still:
            return
        channel = self.s.client.get_partial_messageable(
            self.job.channel_id, guild_id=self.job.guild_id
        )
        extra: dict[str, Any] = {}
        if still is not None:
            # Each edit that shows a still uploads it again, replacing the last:
            # the embed's `attachment://` reference then always has its file.
            extra["attachments"] = [discord.File(io.BytesIO(still), filename=PREVIEW_FILE)]
        elif self._shown_still is not None:
            extra["attachments"] = []  # the job moved on: the still goes
        try:
            await channel.get_partial_message(self.card_id).edit(embed=embed, view=view, **extra)
        except discord.NotFound:
            log.info("card %s of job %s is gone; not editing it", self.card_id, self.job.id)
            self.card_id = None
        except discord.HTTPException:
            log.warning("could not edit the card of job %s", self.job.id, exc_info=True)
        else:
            self._shown = shown
            self._shown_still = still
        self.throttle.mark(self.s.clock())
