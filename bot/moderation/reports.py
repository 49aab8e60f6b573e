"""Reports: a member flags a result, the moderators act on it from their channel.

A Report button on every result (`ltx:report:<job_id>`) records the report
in the store and posts the job (prompt, parameters, inputs, member) to the
channel admins chose, with three buttons: delete the result, ban the member,
dismiss. The report's state is the store's: one open report per member and
job, and `resolve_report` is guarded, so two moderators pressing at once
act once and the second learns who won. Actions re-check Manage Server at
press time and land in the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

import discord

from bot._cooldown import MemberCooldown
from bot.actor import actor_from_interaction
from bot.errors import GuildOnly, NotGuildAdmin, SlowDown
from bot.moderation._format import ACTION_TEXT, report_embed
from bot.moderation.buttons import ModActionButton
from engine.errors import JobNotFound
from engine.jobs import Job
from engine.moderation import Report

if TYPE_CHECKING:
    from bot.client import LtxBot

log = logging.getLogger(__name__)

REPORTS_PER_WINDOW, REPORT_WINDOW_S = 5, 600.0
ACTIONS = tuple(ACTION_TEXT)  # delete, ban, dismiss


def jump_url(job: Job, message_id: int | None = None) -> str | None:
    """A link to the reported message: the one pressed, else the job's result."""
    message_id = message_id or job.result_message_id
    if job.guild_id is None or not message_id:
        return None
    channel_id = job.channel_id
    return f"https://discord.com/channels/{job.guild_id}/{channel_id}/{message_id}"


class Reports:
    def __init__(self, bot: LtxBot) -> None:
        self.bot = bot
        self._cooldown = MemberCooldown(REPORTS_PER_WINDOW, REPORT_WINDOW_S)

    async def _job_here(self, job_id: str, guild_id: int) -> Job:
        job = await self.bot.engine.job(job_id)
        if job is None or job.guild_id != guild_id:
            raise JobNotFound(job_id=job_id)
        return job

    # --- a member reports -------------------------------------------------------------

    async def report(self, interaction: discord.Interaction, job_id: str) -> None:
        guild_id = interaction.guild_id
        if guild_id is None:
            raise GuildOnly()
        job = await self._job_here(job_id, guild_id)
        wait = self._cooldown.hit(interaction.user.id, time.monotonic())
        if wait:
            raise SlowDown(what="report results", retry_after_s=wait)
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await self.bot.engine.moderation.create_report(
            guild_id, job.id, interaction.user.id
        )
        if report.report_message_id is not None:
            text = "You reported this already; the moderators have it."
        elif await self._tell_moderators(report, job, interaction.message):
            text = "Thanks: the server's moderators have been told."
        else:
            text = (
                "Thanks: your report is recorded. This server has no report channel the bot "
                "can post in, so please tell a moderator too."
            )
        log.info("job %s reported by user %s (report %d)", job.id, report.reporter_id, report.id)
        await interaction.followup.send(text, ephemeral=True)

    async def _tell_moderators(
        self, report: Report, job: Job, pressed: discord.Message | None
    ) -> bool:
        settings = await self.bot.engine.moderation.moderation_settings(report.guild_id)
        if settings.report_channel_id is None:
            return False
        channel = self.bot.get_partial_messageable(
            settings.report_channel_id, guild_id=report.guild_id
        )
        try:
            message = await channel.send(
                embed=report_embed(
                    report, job, result_url=jump_url(job, pressed.id if pressed else None)
                ),
                view=report_actions(report.id),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.HTTPException as exc:
            log.warning("report %d could not be posted: %s", report.id, exc)
            return False
        await self.bot.engine.moderation.set_report_message(report.id, message.id)
        return True

    # --- a moderator acts ---------------------------------------------------------------

    async def act(self, interaction: discord.Interaction, report_id: int, action: str) -> None:
        actor = actor_from_interaction(interaction, self.bot.config.owner_ids)
        if actor.guild_id is None or not actor.is_admin:
            raise NotGuildAdmin(user_id=actor.user_id)
        report = await self.bot.engine.moderation.get_report(report_id)
        if report is None or report.guild_id != actor.guild_id:
            raise JobNotFound(job_id=f"(report {report_id})")
        resolved = await self.bot.engine.moderation.resolve_report(report_id, actor.user_id, action)
        if resolved is None:
            now = await self.bot.engine.moderation.get_report(report_id) or report
            done = ACTION_TEXT.get(now.action or "", now.action or "closed")
            await interaction.response.send_message(
                f"Report #{report_id} was already handled: {done} by <@{now.resolved_by}>.",
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return
        job = await self._job_here(report.job_id, report.guild_id)
        await self._apply(action, job, report_id, actor.user_id)
        await self.bot.engine.admin.audit(
            report.guild_id,
            actor.user_id,
            f"report.{action}",
            f"report {report_id}",
            {"job": job.id, "user": job.user_id},
        )
        await interaction.response.edit_message(
            embed=report_embed(resolved, job, result_url=jump_url(job)), view=None
        )

    async def _apply(self, action: str, job: Job, report_id: int, by: int) -> None:
        if action == "ban":
            assert job.guild_id is not None
            await self.bot.engine.admin.ban(
                job.guild_id, job.user_id, reason=f"report #{report_id}"
            )
        elif action == "delete":
            if job.result_message_id:
                channel = self.bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
                with contextlib.suppress(discord.NotFound):  # deleted already
                    await channel.get_partial_message(job.result_message_id).delete()
            # Gone for good: `/ltx show` cannot bring it back.
            if job.result_path:
                await asyncio.to_thread(Path(job.result_path).unlink, missing_ok=True)
        log.info("report %d: %s by user %s (job %s)", report_id, action, by, job.id)


def report_actions(report_id: int) -> discord.ui.View:
    """The moderators' buttons on a report (see bot/moderation/buttons.py)."""
    view = discord.ui.View(timeout=None)
    for action in ACTIONS:
        view.add_item(ModActionButton(action, report_id))
    return view
