"""`/ltxadmin`: per-guild quotas, queue pause, bans, channels, limits, audit log.

The group and its run-time permission check are in base.py; the moderation
commands come from bot/moderation. The global pause re-checks
`config.owner_ids`. Every change is written to the guild's audit log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.actor import role_ids_of
from bot.admin.base import AdminBase
from bot.admin.format import audit_text, quota_text, rules_text, settings_text, workers_text
from bot.admin.perms import is_bot_owner
from bot.errors import NotBotOwner
from bot.moderation.cog import ModerationCommands
from engine.errors import ParamInvalid
from engine.jobs import GuildSettings, JobStatus, QuotaScope

if TYPE_CHECKING:
    pass

Target = discord.Member | discord.Role


def _scope(target: Target | None) -> tuple[QuotaScope, int | None, str]:
    if target is None:
        return QuotaScope.GUILD, None, "server default"
    if isinstance(target, discord.Role):
        return QuotaScope.ROLE, target.id, f"role {target.id}"
    return QuotaScope.USER, target.id, f"user {target.id}"


class AdminCog(ModerationCommands):
    """Every `/ltxadmin` command: these, and those it inherits (see base.py)."""

    quota = app_commands.Group(name="quota", description="Daily quotas.", parent=AdminBase.admin)
    channels = app_commands.Group(
        name="channels", description="Channels where the bot takes jobs.", parent=AdminBase.admin
    )
    limits = app_commands.Group(
        name="limits",
        description="Server maxima for duration and resolution.",
        parent=AdminBase.admin,
    )

    # --- quotas ------------------------------------------------------------------------

    @quota.command(name="set", description="Set a daily quota for the server, a role or a user.")
    @app_commands.describe(
        target="A role or a member; leave empty for the server default.",
        jobs_per_day="Jobs per day (0 blocks).",
        gpu_minutes_per_day="GPU minutes per day (0 blocks).",
    )
    async def quota_set(
        self,
        interaction: discord.Interaction,
        target: Target | None = None,
        jobs_per_day: app_commands.Range[int, 0, 100_000] | None = None,
        gpu_minutes_per_day: app_commands.Range[float, 0.0, 1_440_000.0] | None = None,
    ) -> None:
        guild_id = await self.require_admin(interaction)
        if jobs_per_day is None and gpu_minutes_per_day is None:
            raise ParamInvalid(
                param="jobs_per_day", value=None, allowed="set jobs_per_day and/or gpu_minutes"
            )
        scope, target_id, label = _scope(target)
        gpu_s = None if gpu_minutes_per_day is None else gpu_minutes_per_day * 60
        await self.guild_admin.set_quota(
            guild_id, scope, target_id, jobs_per_day=jobs_per_day, gpu_seconds_per_day=gpu_s
        )
        await self.record_change(
            interaction,
            "quota.set",
            label,
            guild_id,
            jobs_per_day=jobs_per_day,
            gpu_seconds_per_day=gpu_s,
        )
        rules = await self.guild_admin.quota_rules(guild_id)
        await self.reply(interaction, f"Quota set for {label}.\n{rules_text(rules)}")

    @quota.command(name="show", description="Show the quota rules, or where a member stands.")
    @app_commands.describe(member="Show this member's remaining quota instead of the rules.")
    async def quota_show(
        self, interaction: discord.Interaction, member: discord.Member | None = None
    ) -> None:
        guild_id = await self.require_admin(interaction)
        if member is None:
            text = rules_text(await self.guild_admin.quota_rules(guild_id))
        else:
            status = await self.bot.engine.quota(guild_id, member.id, role_ids_of(member))
            text = f"<@{member.id}>:\n" + quota_text(status, who="They")
        await self.reply(interaction, text)

    @quota.command(
        name="reset", description="Remove the quota rule of the server, a role or a user."
    )
    @app_commands.describe(target="A role or a member; leave empty for the server default.")
    async def quota_reset(
        self, interaction: discord.Interaction, target: Target | None = None
    ) -> None:
        guild_id = await self.require_admin(interaction)
        scope, target_id, label = _scope(target)
        removed = await self.guild_admin.clear_quota(guild_id, scope, target_id)
        await self.record_change(interaction, "quota.reset", label, guild_id, removed=removed)
        text = f"Quota rule for {label} removed." if removed else f"There was no rule for {label}."
        await self.reply(interaction, text)

    # --- queue ---------------------------------------------------------------------------

    @AdminBase.admin.command(
        name="pause", description="Stop accepting new jobs (queued jobs still run)."
    )
    @app_commands.describe(everywhere="Pause every server (bot owners only).")
    async def pause(self, interaction: discord.Interaction, everywhere: bool = False) -> None:
        await self._set_paused(interaction, True, everywhere)

    @AdminBase.admin.command(name="resume", description="Accept new jobs again.")
    @app_commands.describe(everywhere="Resume the global pause (bot owners only).")
    async def resume(self, interaction: discord.Interaction, everywhere: bool = False) -> None:
        await self._set_paused(interaction, False, everywhere)

    async def _set_paused(
        self, interaction: discord.Interaction, paused: bool, everywhere: bool
    ) -> None:
        guild_id = await self.require_admin(interaction)
        action = "pause" if paused else "resume"
        if everywhere:
            if not is_bot_owner(interaction.user.id, self.bot.config.owner_ids):
                raise NotBotOwner(user_id=interaction.user.id)
            await self.guild_admin.set_global_paused(paused)
            await self.record_change(
                interaction, f"{action}.global", None, None, from_guild=guild_id
            )
            await self.record_change(interaction, f"{action}.global", None, guild_id)
            where = "every server"
        else:
            await self.guild_admin.update_guild_settings(guild_id, paused=paused)
            await self.record_change(interaction, action, None, guild_id)
            where = "this server"
        state = "paused: new jobs are refused" if paused else "open again"
        await self.reply(interaction, f"The queue is {state} on {where}.")

    # --- bans ------------------------------------------------------------------------------

    @AdminBase.admin.command(
        name="ban", description="Stop a member from queueing jobs on this server."
    )
    @app_commands.describe(user="The member to ban.", reason="Shown to them when they try.")
    async def ban(
        self,
        interaction: discord.Interaction,
        user: discord.User,
        reason: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        guild_id = await self.require_admin(interaction)
        await self.guild_admin.ban(guild_id, user.id, reason=reason)
        await self.record_change(interaction, "ban", f"user {user.id}", guild_id, reason=reason)
        await self.reply(interaction, f"<@{user.id}> can no longer queue jobs here.")

    @AdminBase.admin.command(name="unban", description="Let a banned member queue jobs again.")
    @app_commands.describe(user="The member to unban.")
    async def unban(self, interaction: discord.Interaction, user: discord.User) -> None:
        guild_id = await self.require_admin(interaction)
        removed = await self.guild_admin.unban(guild_id, user.id)
        await self.record_change(interaction, "unban", f"user {user.id}", guild_id, removed=removed)
        text = f"<@{user.id}> may queue jobs again." if removed else f"<@{user.id}> was not banned."
        await self.reply(interaction, text)

    # --- channels ------------------------------------------------------------------------

    @channels.command(
        name="allow", description="Take jobs in this channel (limits the bot to the list)."
    )
    @app_commands.describe(channel="The channel to add to the allow-list.")
    async def channels_allow(
        self, interaction: discord.Interaction, channel: discord.TextChannel | discord.Thread
    ) -> None:
        await self._change_channels(interaction, add=channel.id)

    @channels.command(name="remove", description="Remove a channel from the allow-list.")
    @app_commands.describe(channel="The channel to remove.")
    async def channels_remove(
        self, interaction: discord.Interaction, channel: discord.TextChannel | discord.Thread
    ) -> None:
        await self._change_channels(interaction, remove=channel.id)

    @channels.command(name="clear", description="Allow every channel again.")
    async def channels_clear(self, interaction: discord.Interaction) -> None:
        await self._change_channels(interaction, clear=True)

    @channels.command(name="list", description="Show the channel allow-list.")
    async def channels_list(self, interaction: discord.Interaction) -> None:
        guild_id = await self.require_admin(interaction)
        await self.reply(
            interaction, self._settings_text(await self.guild_admin.guild_settings(guild_id))
        )

    async def _change_channels(
        self,
        interaction: discord.Interaction,
        *,
        add: int | None = None,
        remove: int | None = None,
        clear: bool = False,
    ) -> None:
        guild_id = await self.require_admin(interaction)
        current = set((await self.guild_admin.guild_settings(guild_id)).allowed_channel_ids)
        if clear:
            current.clear()
        if add is not None:
            current.add(add)
        if remove is not None:
            current.discard(remove)
        settings = await self.guild_admin.update_guild_settings(
            guild_id, allowed_channel_ids=current
        )
        action = "channels.clear" if clear else ("channels.allow" if add else "channels.remove")
        target = None if clear else f"channel {add or remove}"
        await self.record_change(
            interaction, action, target, guild_id, allowed=sorted(settings.allowed_channel_ids)
        )
        await self.reply(interaction, self._settings_text(settings))

    # --- limits ----------------------------------------------------------------------------

    @limits.command(
        name="set", description="Lower this server's maxima (0 restores the global one)."
    )
    @app_commands.describe(
        max_duration_s="Longest video in seconds.",
        max_width="Widest output in pixels.",
        max_height="Tallest output in pixels.",
    )
    async def limits_set(
        self,
        interaction: discord.Interaction,
        max_duration_s: app_commands.Range[float, 0.0, 3600.0] | None = None,
        max_width: app_commands.Range[int, 0, 8192] | None = None,
        max_height: app_commands.Range[int, 0, 8192] | None = None,
    ) -> None:
        guild_id = await self.require_admin(interaction)
        given = {
            "max_duration_s": max_duration_s,
            "max_width": max_width,
            "max_height": max_height,
        }
        changes = {k: (v or None) for k, v in given.items() if v is not None}
        if not changes:
            raise ParamInvalid(param="limits", value=None, allowed="give at least one maximum")
        settings = await self.guild_admin.update_guild_settings(guild_id, **changes)
        await self.record_change(interaction, "limits.set", None, guild_id, **changes)
        await self.reply(interaction, self._settings_text(settings))

    @limits.command(name="show", description="Show this server's settings and maxima.")
    async def limits_show(self, interaction: discord.Interaction) -> None:
        guild_id = await self.require_admin(interaction)
        await self.reply(
            interaction, self._settings_text(await self.guild_admin.guild_settings(guild_id))
        )

    def _settings_text(self, settings: GuildSettings) -> str:
        s = self.bot.config.limits
        return settings_text(
            settings,
            max_duration_s=s.max_duration_s,
            max_width=s.max_width,
            max_height=s.max_height,
        )

    # --- workers ----------------------------------------------------------------------------

    @AdminBase.admin.command(
        name="workers", description="The GPU workers: which are up, busy, and with which modes."
    )
    async def workers(self, interaction: discord.Interaction) -> None:
        guild_id = await self.require_admin(interaction)
        running = await self.bot.engine.jobs(JobStatus.RUNNING, guild_id=guild_id)
        text = workers_text(self.bot.engine.workers(), {j.id for j in running})
        await self.reply(interaction, text or "Jobs run on this bot's own GPU: no workers to list.")

    # --- audit ------------------------------------------------------------------------------

    @AdminBase.admin.command(name="audit", description="The latest admin actions on this server.")
    @app_commands.describe(count="How many entries to show.")
    async def audit(
        self, interaction: discord.Interaction, count: app_commands.Range[int, 1, 50] = 20
    ) -> None:
        guild_id = await self.require_admin(interaction)
        entries = await self.guild_admin.audit_log(guild_id, limit=count)
        await self.reply(interaction, audit_text(entries))
