"""`/ltxadmin` moderation: prompt rules, age-restricted modes, the report
channel, the prompt log and its retention.

Subcommands of the shared `/ltxadmin` group (see bot/admin/base.py); the
rules themselves are the engine's (engine/moderation), checked in admission.
Every change lands in the audit log; reads (list, test, log) do not.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import Choice, Range

from bot.admin.base import AdminBase
from bot.moderation._format import LOG_PAGE, log_text, matches_text, rule_line, rules_text
from engine.moderation import MAX_PATTERN_CHARS, test_rule
from engine.moderation.model import MAX_LOG_RETENTION_DAYS
from engine.modes import MODE_NAMES

KINDS = [
    Choice(name="Term (whole words, any case or accent)", value="term"),
    Choice(name="Regex (RE2 syntax)", value="regex"),
]
SCOPES = [
    Choice(name="Block everywhere", value="block"),
    Choice(name="Only in age-restricted channels", value="age_restricted"),
]
MODES = [Choice(name=m, value=m) for m in MODE_NAMES]
POSTING = ("view_channel", "send_messages", "embed_links")


class ModerationCommands(AdminBase):
    rule = app_commands.Group(
        name="rule", description="Prompt rules: what may be asked for here.", parent=AdminBase.admin
    )

    @rule.command(name="add", description="Refuse prompts that match a term or a regex.")
    @app_commands.describe(
        kind="A term matches whole words; a regex is RE2 syntax.",
        pattern="The term or regex (case and accents are ignored).",
        scope="Block it everywhere, or allow it only in age-restricted channels.",
    )
    @app_commands.choices(kind=KINDS, scope=SCOPES)
    async def rule_add(
        self,
        interaction: discord.Interaction,
        kind: str,
        pattern: Range[str, 1, MAX_PATTERN_CHARS],
        scope: str = "block",
    ) -> None:
        guild_id = await self.require_admin(interaction)
        rule = await self.moderation.add_rule(guild_id, kind, pattern, scope, interaction.user.id)
        await self.record_change(
            interaction,
            "rule.add",
            f"rule {rule.id}",
            guild_id,
            kind=rule.kind.value,
            pattern=rule.pattern,
            scope=rule.scope.value,
        )
        await self.reply(interaction, f"Rule added: {rule_line(rule)}")

    @rule.command(name="remove", description="Remove a prompt rule.")
    @app_commands.describe(rule_id="The rule's number, as `/ltxadmin rule list` shows it.")
    async def rule_remove(
        self, interaction: discord.Interaction, rule_id: Range[int, 1, 2**53]
    ) -> None:
        guild_id = await self.require_admin(interaction)
        removed = await self.moderation.remove_rule(guild_id, rule_id)
        await self.record_change(
            interaction, "rule.remove", f"rule {rule_id}", guild_id, removed=removed
        )
        text = f"Rule #{rule_id} removed." if removed else f"There is no rule #{rule_id} here."
        await self.reply(interaction, text)

    @rule.command(name="list", description="Show the prompt rules and age-restricted modes.")
    async def rule_list(self, interaction: discord.Interaction) -> None:
        guild_id = await self.require_admin(interaction)
        rules = await self.moderation.prompt_rules(guild_id)
        modes = await self.moderation.age_restricted_modes(guild_id)
        await self.reply(interaction, rules_text(rules, modes))

    @rule.command(name="test", description="Show what a rule would match in a text.")
    @app_commands.describe(
        kind="A term matches whole words; a regex is RE2 syntax.",
        pattern="The term or regex to try.",
        text="A prompt to try it on.",
    )
    @app_commands.choices(kind=KINDS)
    async def rule_test(
        self,
        interaction: discord.Interaction,
        kind: str,
        pattern: Range[str, 1, MAX_PATTERN_CHARS],
        text: Range[str, 1, 1000],
    ) -> None:
        await self.require_admin(interaction)
        await self.reply(interaction, matches_text(text, test_rule(kind, pattern, text)))

    @AdminBase.admin.command(
        name="agegate", description="Allow a mode only in age-restricted channels, or anywhere."
    )
    @app_commands.describe(mode="The mode.", restricted="True: only in age-restricted channels.")
    @app_commands.choices(mode=MODES)
    async def agegate(self, interaction: discord.Interaction, mode: str, restricted: bool) -> None:
        guild_id = await self.require_admin(interaction)
        modes = await self.moderation.set_mode_age_restricted(guild_id, mode, restricted)
        await self.record_change(
            interaction, "agegate", f"mode {mode}", guild_id, restricted=restricted
        )
        listed = ", ".join(f"**{m}**" for m in sorted(modes)) or "none"
        await self.reply(interaction, f"Modes only in age-restricted channels: {listed}")

    @AdminBase.admin.command(name="reports", description="Where members' reports are posted.")
    @app_commands.describe(channel="The moderators' channel; leave empty to stop posting.")
    async def reports(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        guild_id = await self.require_admin(interaction)
        cid = channel.id if channel else None
        await self.moderation.set_report_channel(guild_id, cid)
        await self.record_change(interaction, "reports.channel", f"channel {cid}", guild_id)
        if channel is None:
            await self.reply(interaction, "Reports are recorded but no longer posted.")
            return
        text = f"Reports are posted in {channel.mention}."
        me = channel.guild.me
        missing = [p for p in POSTING if not getattr(channel.permissions_for(me), p)]
        if missing:
            text += f" ⚠️ The bot lacks {', '.join(missing)} there: grant it, or reports fail."
        await self.reply(interaction, text)

    @AdminBase.admin.command(name="log", description="Who asked for what, where, and how it ended.")
    @app_commands.describe(member="Only this member's jobs.", page="Page, newest first.")
    async def log(
        self,
        interaction: discord.Interaction,
        member: discord.User | None = None,
        page: Range[int, 1, 1000] = 1,
    ) -> None:
        guild_id = await self.require_admin(interaction)
        entries = await self.moderation.prompt_log(
            guild_id,
            user_id=member.id if member else None,
            limit=LOG_PAGE,
            offset=(page - 1) * LOG_PAGE,
        )
        settings = await self.moderation.moderation_settings(guild_id)
        await self.reply(interaction, log_text(entries, page, settings.log_retention_days))

    @AdminBase.admin.command(
        name="retention", description="How long the prompt log (and its jobs) are kept."
    )
    @app_commands.describe(days="Days to keep finished jobs in the log.")
    async def retention(
        self, interaction: discord.Interaction, days: Range[int, 1, MAX_LOG_RETENTION_DAYS]
    ) -> None:
        guild_id = await self.require_admin(interaction)
        await self.moderation.set_log_retention(guild_id, days)
        await self.record_change(interaction, "retention", None, guild_id, days=days)
        await self.reply(interaction, f"Finished jobs are kept in the prompt log for {days} days.")
