"""🔁 on a result message queues the same job again with a new seed.

Reactions carry no interaction, so there is nothing to answer ephemerally: a
refusal (quota, not the owner, ...) is a short reply to the result that
mentions the user, at most one per member per `REFUSAL_WINDOW_S` (more 🔁 in
that window are refused silently, so nobody can make the bot flood a channel).
The bot's own 🔁 (added so users can click it) is ignored.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot._cooldown import MemberCooldown
from bot.errors import user_message
from bot.retry.buttons import RETRY_EMOJI
from engine.errors import LtxError

if TYPE_CHECKING:
    from bot.client import LtxBot

log = logging.getLogger(__name__)

REFUSAL_WINDOW_S = 30.0


class RetryCog(commands.Cog):
    def __init__(self, bot: LtxBot) -> None:
        self.bot = bot
        self._refusals = MemberCooldown(1, REFUSAL_WINDOW_S)

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if str(payload.emoji) != RETRY_EMOJI or payload.member is None:
            return
        if self.bot.user is not None and payload.user_id == self.bot.user.id:
            return
        # Owned by the bot (not discord.py's event task), so closing the bot ends it.
        self.bot.tasks.spawn(self._retry(payload), name=f"retry-reaction:{payload.message_id}")

    async def _retry(self, payload: discord.RawReactionActionEvent) -> None:
        assert payload.member is not None
        try:
            await self.bot.jobs.retry_reaction(
                payload.member, payload.message_id, payload.channel_id
            )
        except LtxError as exc:
            await self._refuse(payload, exc)

    async def _refuse(self, payload: discord.RawReactionActionEvent, exc: LtxError) -> None:
        if self._refusals.hit(payload.user_id, time.monotonic()):
            log.info(
                "retry by user %s refused again (%s); not replying so soon", payload.user_id, exc
            )
            return
        channel = self.bot.get_partial_messageable(payload.channel_id, guild_id=payload.guild_id)
        text = user_message(exc) or str(exc)
        try:
            await channel.send(
                f"<@{payload.user_id}> {text}",
                reference=discord.MessageReference(
                    message_id=payload.message_id,
                    channel_id=payload.channel_id,
                    guild_id=payload.guild_id,
                    fail_if_not_exists=False,
                ),
                allowed_mentions=discord.AllowedMentions(users=[discord.Object(payload.user_id)]),
            )
        except discord.HTTPException:
            log.warning("could not tell user %s why a retry was refused", payload.user_id)
