"""Final and Variations on a result: more takes, decided by the engine.

Like Retry (bot/ltx/jobs.py): the press is answered within Discord's window
(the engine's advisory precheck first, so a paused queue, a ban or a spent
quota is an ephemeral refusal at once), then the engine decides ownership and
admission for good. Variations are admitted together or not at all: asking for
more takes than the member's queue cap or quota leaves is refused with how
many would fit. The new jobs go to the parent's channel, judged by that
channel's age restriction as it is now; their cards reply to the parent's
result (bot/cards/service.py).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord

from bot.actor import Actor, actor_from_interaction, is_nsfw_channel
from bot.ltx.jobs import queued_text
from engine.jobs import Job

if TYPE_CHECKING:
    from bot.client import LtxBot


async def _start(bot: LtxBot, interaction: discord.Interaction) -> Actor:
    """Who pressed, the advisory refusals before the acknowledgement, then the
    (ephemeral) acknowledgement."""
    actor = actor_from_interaction(interaction, bot.config.owner_ids)
    bot.upload_limits.observe(interaction)
    await bot.jobs.admit(actor)
    await interaction.response.defer(ephemeral=True, thinking=True)
    return actor


async def _parent_nsfw(bot: LtxBot, job_id: str) -> bool:
    old = await bot.engine.job(job_id)
    return old is not None and is_nsfw_channel(bot.get_channel(old.channel_id))


async def final_interaction(bot: LtxBot, interaction: discord.Interaction, job_id: str) -> None:
    actor = await _start(bot, interaction)
    nsfw = await _parent_nsfw(bot, job_id)
    async with bot.jobs.intake:
        job = await bot.engine.final(
            job_id,
            guild_id=actor.guild_id,
            user_id=actor.user_id,
            role_ids=actor.role_ids,
            is_admin=actor.is_admin,
            channel_nsfw=nsfw,
        )
    card_id = await bot.jobs.card_of(job)
    await interaction.followup.send(final_text(job, card_id), ephemeral=True)


async def variations_interaction(
    bot: LtxBot, interaction: discord.Interaction, job_id: str, count: int
) -> None:
    actor = await _start(bot, interaction)
    nsfw = await _parent_nsfw(bot, job_id)
    async with bot.jobs.intake:
        jobs = await bot.engine.variations(
            job_id,
            count=count,
            guild_id=actor.guild_id,
            user_id=actor.user_id,
            role_ids=actor.role_ids,
            is_admin=actor.is_admin,
            channel_nsfw=nsfw,
        )
    cards = await asyncio.gather(*(bot.jobs.card_of(job) for job in jobs))
    lines = [queued_text(job, card_id) for job, card_id in zip(jobs, cards, strict=True)]
    await interaction.followup.send("\n".join(lines), ephemeral=True)


def final_text(job: Job, card_id: int | None) -> str:
    size = f"{job.params.get('width')}×{job.params.get('height')}"
    return f"{queued_text(job, card_id)} (Final: Quality preset, {size})"
