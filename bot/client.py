"""The Discord client: composition of the frontend's parts, and the reader of job changes.

`LtxBot(config, engine, changes=...)` takes every dependency explicitly (the
app composes it): `config` is the bot's small frozen `BotConfig`, `engine` the
one door to the engine (`engine.api.EngineApi`: the bot never sees the job
store), and `changes` the stream of job changes the engine writes to
(`engine.events.JobChangeStream`, handed to both at construction). Each change
only hands the job's state to the card service; card edits and deliveries
run in owned tasks that `close()` cancels and awaits. On startup the bot
syncs its commands, then finishes what a previous process left: undelivered
results are delivered (never twice), cards of requeued or card-less jobs are
brought up to date.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
import discord
from discord.ext import commands

from bot._endpoints import configure_endpoints
from bot.actor import actor_from_interaction
from bot.admin.cog import AdminCog
from bot.cards.service import REFRESH_TOP, CardService
from bot.cards.throttle import ThrottlePolicy
from bot.config import BotConfig
from bot.delivery.service import Delivery, UploadLimits
from bot.errors import LtxTree
from bot.ltx.cog import LtxCog
from bot.ltx.history import HistoryPage
from bot.ltx.jobs import JobActions
from bot.moderation.buttons import ModActionButton, ReportButton
from bot.moderation.reports import Reports
from bot.retry.buttons import (
    CancelButton,
    ExtendButton,
    FinalButton,
    RetryButton,
    VariationsSelect,
)
from bot.retry.cog import RetryCog
from bot.tasks import TaskOwner
from engine.api import EngineApi, JobChanges
from engine.jobs import JobStatus

log = logging.getLogger(__name__)


class LtxBot(commands.Bot):
    """The ltx-bot Discord client; follows the engine's stream of job changes."""

    def __init__(
        self,
        config: BotConfig,
        engine: EngineApi,
        *,
        throttle: ThrottlePolicy | None = None,
        sync_commands: bool = True,
        guild_ready_timeout: float = 2.0,
        changes: JobChanges | None = None,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # guild, channel and role cache: limits, permissions
        intents.guild_reactions = True  # 🔁 on results
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            tree_cls=LtxTree,
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=guild_ready_timeout,
        )
        self.config = config
        self.engine = engine
        self.sync_on_start = sync_commands
        self.tasks = TaskOwner()
        self.upload_limits = UploadLimits(self)
        self.delivery = Delivery(
            client=self,
            jobs=engine,
            work_dir=config.delivery_dir,
            limits=self.upload_limits,
            screen=engine.screen,
        )
        self.cards = CardService(
            client=self,
            engine=engine,
            delivery=self.delivery,
            tasks=self.tasks,
            policy=throttle or ThrottlePolicy(),
        )
        self.jobs = JobActions(self)
        self.reports = Reports(self)
        self.http_session: aiohttp.ClientSession | None = None
        # Unix time the gateway connection was lost (None while connected): for
        # the heartbeat, so the health check fails after a long outage.
        self.gateway_down_since: float | None = None
        self._changes = changes
        # The reader of `changes`: it lives as long as the client, so it is not
        # one of `tasks`, whose idleness means "nothing left to post".
        self._follower: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------------------

    async def login(self, token: str) -> None:
        configure_endpoints(self.config.discord_api_base, self.config.discord_gateway_url)
        await super().login(token)

    async def setup_hook(self) -> None:
        self.http_session = aiohttp.ClientSession()
        self.add_dynamic_items(
            RetryButton,
            FinalButton,
            ExtendButton,
            VariationsSelect,
            CancelButton,
            ReportButton,
            ModActionButton,
            HistoryPage,
        )
        await self.add_cog(LtxCog(self))
        await self.add_cog(AdminCog(self))
        await self.add_cog(RetryCog(self))
        if self.sync_on_start:
            await self.sync_commands()
        self.tasks.spawn(self._recover(), name="recover")
        if self._changes is not None and self._follower is None:
            self._follower = asyncio.get_running_loop().create_task(
                self._follow(self._changes), name="job-changes"
            )

    async def sync_commands(self) -> None:
        """Register the slash commands: to the dev guild only (instant) or globally."""
        if self.config.dev_guild_id:
            guild = discord.Object(self.config.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()

    async def close(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            await asyncio.gather(self._follower, return_exceptions=True)
        await self.tasks.close()
        if self.http_session is not None:
            await self.http_session.close()
        await super().close()

    async def on_disconnect(self) -> None:
        if self.gateway_down_since is None:
            self.gateway_down_since = time.time()

    async def on_ready(self) -> None:
        self.gateway_down_since = None

    async def on_resumed(self) -> None:
        self.gateway_down_since = None

    async def _recover(self) -> None:
        """Finish what a previous process left undone (see module doc)."""
        await self.wait_until_ready()
        # Found by the engine's startup, in the same transaction that requeued
        # what the crash left running: no second query, no race with it.
        for job in (await self.engine.recovered()).undelivered:
            self.cards.update(job, recovering=True)
        queued = await self.engine.jobs(JobStatus.QUEUED, JobStatus.RUNNING)
        for job in queued:
            position = self.engine.position(job.id)
            near = position is not None and position <= REFRESH_TOP
            if job.card_message_id is None or job.note or near or job.status is JobStatus.RUNNING:
                self.cards.update(job)

    # --- job changes -------------------------------------------------------------------------

    async def _follow(self, changes: JobChanges) -> None:
        """Every change the engine reports, in order: the job's card follows it
        (and delivery, once the job is finished)."""
        async for job, progress in changes:
            try:
                self.cards.update(job, progress)
            except Exception:  # one bad card must not stop every later one
                log.exception("card update failed for job %s", job.id)

    # --- components (buttons survive restarts; see bot/retry/buttons.py) ------------------

    async def retry_from_interaction(self, interaction: discord.Interaction, job_id: str) -> None:
        await self.jobs.retry_interaction(interaction, job_id)

    async def cancel_from_interaction(self, interaction: discord.Interaction, job_id: str) -> None:
        actor = actor_from_interaction(interaction, self.config.owner_ids)
        await self.jobs.cancel_interaction(interaction, actor, job_id)
