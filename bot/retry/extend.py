"""Extend on a result: a modal asks how many seconds more and, optionally, a new prompt.

The press is answered with the modal, so everything that can refuse without
the member's answer is asked first, within Discord's window: the engine's
advisory precheck (paused, banned, quota, caps) and ownership (the owner or
a server admin; the engine decides both again when the job is inserted). A
refusal is an ephemeral message instead of the modal. The modal lives in
this process for `MODAL_TIMEOUT_S`; the button itself is a `DynamicItem`
(bot/retry/buttons.py) and works on any result, however old.

On submit the answer is acknowledged (ephemeral, thinking), then the engine
queues the continuation (engine/extend.py: i2v from the last frame, delivered
joined onto this result) in the parent's channel, judged by that channel's
age restriction as it is now; its card replies to the parent's result.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import ui

from bot.actor import Actor, actor_from_interaction, is_nsfw_channel
from bot.errors import send_error
from bot.ltx.jobs import queued_text
from engine.errors import ParamInvalid
from engine.jobs import check_owner
from engine.modes import Limits

if TYPE_CHECKING:
    from bot.client import LtxBot

MODAL_TIMEOUT_S = 600.0
DEFAULT_SECONDS = 4
CHOICES_S = (2, 4, 6)
_SECONDS = re.compile(r"\s*\+?\s*(\d+(?:[.,]\d+)?)\s*(?:s|sec|secs|seconds?)?\s*", re.IGNORECASE)


def seconds_hint(limits: Limits) -> str:
    """The suggested lengths that fit the server's maximum, in words."""
    fitting = [str(s) for s in CHOICES_S if s <= limits.max_duration_s] or [
        f"{limits.max_duration_s:g}"
    ]
    return f"{', '.join(fitting)} (at most {limits.max_duration_s:g})"


def parse_seconds(text: str, limits: Limits) -> float:
    """ "4", "+4", "4 s", "2.5" → seconds; anything else is refused with what fits."""
    m = _SECONDS.fullmatch(text or "")
    value = float(m.group(1).replace(",", ".")) if m else 0.0
    if not 0 < value <= limits.max_duration_s + 1e-9:
        raise ParamInvalid(param="seconds", value=text, allowed=seconds_hint(limits))
    return value


class ExtendModal(ui.Modal):
    """How much more, and with what prompt (empty: the same)."""

    def __init__(self, bot: LtxBot, job_id: str, limits: Limits, prompt: str) -> None:
        super().__init__(title="Extend this video", timeout=MODAL_TIMEOUT_S)
        self.bot, self.job_id, self.limits = bot, job_id, limits
        self.seconds: ui.TextInput[Any] = ui.TextInput(
            label="Seconds to add",
            custom_id="seconds",
            default=str(min(DEFAULT_SECONDS, int(limits.max_duration_s)) or 1),
            placeholder=seconds_hint(limits)[:100],
            max_length=8,
        )
        self.prompt: ui.TextInput[Any] = ui.TextInput(
            label="Prompt for the continuation (optional)",
            custom_id="prompt",
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=min(4000, limits.max_prompt_chars),
            placeholder=(f"Empty: the same — {prompt}" if prompt else "What happens next")[:100],
        )
        self.add_item(self.seconds)
        self.add_item(self.prompt)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        try:
            await extend_submitted(self, interaction)
        except Exception as exc:  # noqa: BLE001 - as every button: the user gets the error
            await send_error(interaction, exc)


async def extend_pressed(bot: LtxBot, interaction: discord.Interaction, job_id: str) -> None:
    """The refusals that need no answer, then the modal."""
    actor = actor_from_interaction(interaction, bot.config.owner_ids)
    bot.upload_limits.observe(interaction)
    await bot.jobs.admit(actor)
    job = check_owner(
        await bot.engine.job(job_id),
        job_id,
        guild_id=actor.guild_id,
        user_id=actor.user_id,
        is_admin=actor.is_admin,
    )
    limits = await bot.jobs.limits_for(actor.guild_id)
    prompt = str(job.params.get("prompt") or "")
    await interaction.response.send_modal(ExtendModal(bot, job_id, limits, prompt))


async def extend_submitted(modal: ExtendModal, interaction: discord.Interaction) -> None:
    bot = modal.bot
    seconds = parse_seconds(modal.seconds.value, modal.limits)
    actor: Actor = actor_from_interaction(interaction, bot.config.owner_ids)
    await interaction.response.defer(ephemeral=True, thinking=True)
    old = await bot.engine.job(modal.job_id)
    nsfw = old is not None and is_nsfw_channel(bot.get_channel(old.channel_id))
    async with bot.jobs.intake:
        job = await bot.engine.extend(
            modal.job_id,
            seconds=seconds,
            prompt=modal.prompt.value or None,
            guild_id=actor.guild_id,
            user_id=actor.user_id,
            role_ids=actor.role_ids,
            is_admin=actor.is_admin,
            channel_nsfw=nsfw,
        )
    card_id = await bot.jobs.card_of(job)
    await interaction.followup.send(
        f"{queued_text(job, card_id)} (Extend: +{seconds:g} s, delivered joined onto "
        f"`{modal.job_id}`)",
        ephemeral=True,
    )
