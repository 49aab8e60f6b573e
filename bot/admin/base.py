"""The `/ltxadmin` group and what every admin command shares.

Admin commands live in more than one feature package (server settings in
bot/admin, moderation in bot/moderation), but Discord shows one `/ltxadmin`.
discord.py copies a cog's top-level groups with all their subgroups, bound to
the cog, so the group is declared once here, each feature adds its
subcommands to it in a class derived from `AdminBase`, and one cog
(`bot.admin.cog.AdminCog`) inherits them all.

A separate top-level command with `default_permissions(manage_guild=True)` and
`guild_only`, so Discord hides it from regular members. Server owners can
override command permissions, so every call re-checks Manage Server at run
time (`require_admin`). Replies are ephemeral.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.actor import actor_from_interaction
from bot.admin.format import clip
from bot.errors import NotGuildAdmin

if TYPE_CHECKING:
    from bot.client import LtxBot


class AdminBase(commands.Cog):
    admin = app_commands.Group(
        name="ltxadmin",
        description="Server settings for the LTX video bot (Manage Server).",
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )

    def __init__(self, bot: LtxBot) -> None:
        self.bot = bot
        self.guild_admin = bot.engine.admin
        self.moderation = bot.engine.moderation

    async def require_admin(self, interaction: discord.Interaction) -> int:
        """Re-check Manage Server now; returns the guild id."""
        actor = actor_from_interaction(interaction, self.bot.config.owner_ids)
        if interaction.guild_id is None or not actor.is_admin:
            raise NotGuildAdmin(user_id=interaction.user.id)
        return interaction.guild_id

    async def record_change(
        self,
        interaction: discord.Interaction,
        action: str,
        target: str | None,
        guild_id: int | None,
        **detail: object,
    ) -> None:
        """Every change lands in the guild's audit log (reads are not logged)."""
        await self.guild_admin.audit(guild_id, interaction.user.id, action, target, detail)

    @staticmethod
    async def reply(interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message(
            clip(text), ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )
