"""`/ltx`: the six generation modes plus queue, cancel, show and quota.

The generation commands are built when the cog loads, one per `ModeSpec`
(`_commands.py`), so their `Range` bounds are this deployment's limits (Discord
then refuses out-of-range values in the client). Parameters are also parsed
server-side, against the guild's own narrower maxima too, before the
interaction is acknowledged: a bad value gets an ephemeral message saying what
is allowed. Then the interaction is deferred (ephemerally) at once, and only
after that come the checks that query the job store (pause, ban, channel,
queue caps, quota), so a burst of commands is acknowledged in milliseconds
however busy the store is; their refusals are private followups. Then the
attachments are downloaded.
"""

import time
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import Choice
from discord.ext import commands

from bot._cooldown import MemberCooldown
from bot.actor import actor_from_interaction, is_nsfw_channel
from bot.admin.format import clip, quota_text, workers_text
from bot.cards.render import render_card
from bot.delivery.service import is_too_large
from bot.errors import BotCannotPost, GuildOnly, SlowDown
from bot.ltx._commands import build_mode_command
from bot.ltx._params import split_options
from bot.ltx._visible import can_see, missing_post_permissions, result_kept, show_publicly
from bot.ltx.history import add_history_command
from bot.ltx.jobs import queued_text
from bot.ltx.lineage import lineage_lines
from bot.ltx.settings import add_settings_command, with_defaults
from bot.retry.buttons import result_view
from engine.errors import JobNotFound, OutputTooLarge
from engine.jobs import Job, JobStatus
from engine.modes import MODE_NAMES, MediaInfo, get_mode, parse_params

if TYPE_CHECKING:
    from bot.client import LtxBot

QUEUE_SHOWN = 15
# `/ltx show` re-posts of finished videos each member may ask for per window.
SHOWS_PER_WINDOW, SHOW_WINDOW_S = 3, 60.0


class LtxCog(commands.Cog):
    def __init__(self, bot: "LtxBot") -> None:
        self.bot = bot
        # Each `/ltx show` of a finished job re-encodes it on the bot's CPU.
        self._shows = MemberCooldown(SHOWS_PER_WINDOW, SHOW_WINDOW_S)
        self.group = build_group(self)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.group)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.group.name)

    # --- generation --------------------------------------------------------------------

    async def generate(
        self, interaction: discord.Interaction, mode: str, options: dict[str, Any]
    ) -> None:
        """One generation command; `options` are every option of `/ltx <mode>`,
        None where omitted (the mode's model then decides)."""
        jobs = self.bot.jobs
        actor = actor_from_interaction(interaction, self.bot.config.owner_ids)
        self.bot.upload_limits.observe(interaction)
        slots = [slot.name for slot in get_mode(mode).media]
        raw, attachments = split_options(options, slots)
        if actor.guild_id is not None:  # the member's own defaults, from memory
            mine = await self.bot.engine.member_defaults(actor.guild_id, actor.user_id)
            raw = with_defaults(mode, raw, mine)
        # Before the acknowledgement: parameters against this guild's limits
        # (held in memory) and the attachments' declared size and type.
        missing = missing_post_permissions(interaction) if interaction.guild_id else ()
        if missing:
            raise BotCannotPost(missing=missing)
        limits = await jobs.limits_for(actor.guild_id)
        asked = parse_params(mode, raw, limits)  # without the media's facts yet
        await jobs.screen(actor, mode, asked)  # prompt rules
        jobs.check_attachments(mode, attachments)
        # The acknowledgement never waits on job-store queries: under a burst
        # they queue behind other users' writes. The deferral is ephemeral, so
        # a refusal from here on (pause, ban, channel, caps, quota) is private.
        jobs.acks.arrived()
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
        finally:
            jobs.acks.acknowledged()
        await jobs.acks.wait()
        async with jobs.intake:
            await jobs.admit(actor, mode, asked)
            # Now the slow part: CDN URLs expire, so the files are fetched right away.
            inputs = await jobs.fetch_inputs(mode, attachments, tag=str(interaction.id))
        params = parse_params(
            mode, raw, limits, {slot: MediaInfo.of(s) for slot, s in inputs.items()}
        )
        job, card_id = await jobs.submit(actor, mode, params, inputs)
        reply = await interaction.followup.send(
            queued_text(job, card_id), ephemeral=True, wait=True
        )
        if card_id is None:
            # Cards are paced by the channel's rate limit; the user is told at
            # once, and the link is added when the card is up.
            self.bot.tasks.spawn(jobs.link_card_later(job, reply), name=f"card-link-{job.id}")

    # --- queue, cancel, show, quota ----------------------------------------------------------

    async def queue(self, interaction: discord.Interaction) -> None:
        if interaction.guild_id is None:
            raise GuildOnly()
        engine = self.bot.engine
        jobs = await self.bot.engine.jobs(
            JobStatus.RUNNING, JobStatus.QUEUED, guild_id=interaction.guild_id
        )
        hidden = sum(1 for j in jobs if not can_see(interaction, j))
        jobs = [j for j in jobs if can_see(interaction, j)]
        jobs.sort(key=lambda j: (j.status is not JobStatus.RUNNING, engine.position(j.id) or 0))
        lines = []
        for job in jobs[:QUEUE_SHOWN]:
            mine = " ← yours" if job.user_id == interaction.user.id else ""
            if job.status is JobStatus.RUNNING:
                where = "running"
            else:
                where = f"#{engine.position(job.id) or '?'}"
            eta = engine.eta(job.id)
            when = f" · <t:{int(eta)}:R>" if eta else ""
            lines.append(f"`{job.id}` {job.mode} by <@{job.user_id}> — {where}{when}{mine}")
        if len(jobs) > QUEUE_SHOWN:
            lines.append(f"… and {len(jobs) - QUEUE_SHOWN} more.")
        if hidden:
            lines.append(f"{hidden} more in channels you cannot see.")
        text = "\n".join(lines) or "The queue is empty."
        # Where jobs run on GPU workers of their own (scale-out), which are up.
        workers = workers_text(engine.workers(), {j.id for j in jobs})
        text += f"\n\n{workers}" if workers else ""
        await interaction.response.send_message(
            clip(text), ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    async def cancel(self, interaction: discord.Interaction, job: str | None) -> None:
        actor = actor_from_interaction(interaction, self.bot.config.owner_ids)
        await self.bot.jobs.cancel_interaction(interaction, actor, job.strip() if job else None)

    async def show(self, interaction: discord.Interaction, job: str) -> None:
        found = await self.bot.engine.job(job.strip())
        if (
            found is None
            or found.guild_id != interaction.guild_id
            or not can_see(interaction, found)
        ):
            raise JobNotFound(job_id=job)
        if found.status is not JobStatus.SUCCEEDED or not found.result_path:
            engine = self.bot.engine
            card = render_card(
                found,
                position=engine.position(found.id),
                eta=engine.eta(found.id),
            )
            family = lineage_lines(await engine.lineage(found.id))
            if family:
                card.embed.add_field(name="Lineage", value="\n".join(family), inline=False)
            await interaction.response.send_message(embed=card.embed, ephemeral=True)
            return
        if not result_kept(found):  # deleted by retention
            days = self.bot.config.retention_days
            await interaction.response.send_message(
                f"Job `{found.id}`'s video is no longer kept (results are kept {days:g} days).",
                ephemeral=True,
            )
            return
        # Judged by the rules and the channel's age restriction as they are now.
        await self.bot.engine.screen(
            guild_id=found.guild_id,
            mode=found.mode,
            params=found.params,
            channel_nsfw=is_nsfw_channel(interaction.channel),
        )
        wait = self._shows.hit(interaction.user.id, time.monotonic())
        if wait:
            raise SlowDown(what="re-post a video with /ltx show", retry_after_s=wait)
        self.bot.upload_limits.observe(interaction)
        private = not show_publicly(interaction, found)
        await interaction.response.defer(thinking=True, ephemeral=private)
        await self.reshow(interaction, found, private=private)

    async def reshow(
        self, interaction: discord.Interaction, job: Job, *, private: bool = False
    ) -> None:
        """Re-deliver an old result through this (fresh) interaction; `private`:
        only to the member who asked."""
        delivery = self.bot.delivery
        limit = delivery.limits.for_guild(job.guild_id)
        family = "".join(
            f"\n{line}" for line in lineage_lines(await self.bot.engine.lineage(job.id))
        )
        for shrink in (0, 1):
            try:
                path = await delivery.fit(job, limit, shrink=shrink)
            except OutputTooLarge:
                break
            try:
                await interaction.followup.send(
                    f"Job `{job.id}` ({job.mode}) by <@{job.user_id}>:{family}",
                    file=discord.File(path, filename=f"ltx-{job.id}.mp4"),
                    view=result_view(job.id),
                    allowed_mentions=discord.AllowedMentions.none(),
                    ephemeral=private,
                )
                return
            except discord.HTTPException as exc:
                if not is_too_large(exc):
                    raise
            finally:
                path.unlink(missing_ok=True)
        await interaction.followup.send(
            f"Job `{job.id}`'s video does not fit this server's upload limit, even smaller.",
            ephemeral=True,
        )

    async def quota(self, interaction: discord.Interaction) -> None:
        actor = actor_from_interaction(interaction, self.bot.config.owner_ids)
        if actor.guild_id is None:
            raise GuildOnly()
        status = await self.bot.engine.quota(actor.guild_id, actor.user_id, actor.role_ids)
        await interaction.response.send_message(quota_text(status), ephemeral=True)

    async def job_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[Choice[str]]:
        """The user's recent jobs in this guild (for `cancel` and `show`)."""
        if interaction.guild_id is None:
            return []
        jobs = await self.bot.engine.jobs(
            user_id=interaction.user.id, guild_id=interaction.guild_id, limit=25, newest_first=True
        )
        now = time.time()
        choices = []
        for job in jobs:
            if current and not job.id.startswith(current.strip().lower()):
                continue
            age = int((now - job.created_at) / 60)
            label = f"{job.id} · {job.mode} · {job.status.value} · {age} min ago"
            choices.append(Choice(name=label[:100], value=job.id))
        return choices


def build_group(cog: LtxCog) -> app_commands.Group:
    """The `/ltx` command tree, with bounds from the bot's settings."""
    # Jobs belong to a server (its quotas, its queue, its channels): no DMs.
    group = app_commands.Group(name="ltx", description="Make videos with LTX-2.3.", guild_only=True)
    limits = cog.bot.config.limits
    for mode in MODE_NAMES:
        group.add_command(build_mode_command(get_mode(mode), limits, cog.generate))

    @group.command(name="queue", description="Show the jobs waiting and running on this server.")
    async def queue(interaction: discord.Interaction) -> None:
        await cog.queue(interaction)

    @group.command(name="cancel", description="Cancel one of your jobs (the latest if none given).")
    @app_commands.describe(job="The job id shown on its card (default: your latest job).")
    async def cancel(interaction: discord.Interaction, job: str | None = None) -> None:
        await cog.cancel(interaction, job)

    @group.command(name="show", description="Bring back a job's result and its buttons.")
    @app_commands.describe(job="The job id shown on its card.")
    async def show(interaction: discord.Interaction, job: str) -> None:
        await cog.show(interaction, job)

    @group.command(name="quota", description="Your remaining daily quota on this server.")
    async def quota(interaction: discord.Interaction) -> None:
        await cog.quota(interaction)

    add_settings_command(group, cog.bot)
    add_history_command(group, cog.bot)
    cancel.autocomplete("job")(cog.job_autocomplete)
    show.autocomplete("job")(cog.job_autocomplete)
    return group
