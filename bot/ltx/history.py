"""`/ltx history`: a member's recent results as a Components V2 gallery, paged.

Only you see it (ephemeral). Each page is a `discord.ui.LayoutView`: a heading,
then per result its parameters, a jump link to the result message, its video
in a `MediaGallery`, and the result's own buttons (Retry, Final, Extend and
Variations: the same `DynamicItem`s as on the result, so they work from here
exactly as there), then Prev/Next.

Discord's signed CDN links expire, so nothing stored is a URL: the store
knows each result's message, and every render fetches that message and uses
its attachment's URL as Discord hands it out now. A result whose message is
gone (deleted, or the channel hidden from the bot) is listed without media.

Prev/Next are persistent (`DynamicItem`, `ltx:hist:<user>:<page>:<p|n>`), not
timeout-bound: like every other button of the bot they keep working after a
restart and hold nothing in memory; the page is rendered afresh from the
database on each press, so a new result shows up on the next turn. Pressing
someone else's is refused (the message is ephemeral, so that needs a forged
payload, but the check is cheap).

`PAGE_SIZE` results a page keeps the message well inside Discord's 40
components (each result: a text, a gallery, two action rows of 3 + 1 items).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import ui

from bot.errors import GuildOnly, send_error
from bot.retry.buttons import ExtendButton, FinalButton, RetryButton, VariationsSelect
from engine.jobs import Job, JobStatus

if TYPE_CHECKING:
    from bot.client import LtxBot

log = logging.getLogger(__name__)

PAGE_SIZE = 3
MAX_LISTED = 100  # the newest results looked at
PROMPT_CHARS = 200


async def history_interaction(bot: LtxBot, interaction: discord.Interaction) -> None:
    """The command: page 0, ephemeral."""
    if interaction.guild_id is None:
        raise GuildOnly()
    await interaction.response.defer(ephemeral=True, thinking=True)
    view = await render_page(bot, interaction.guild_id, interaction.user.id, 0)
    await interaction.followup.send(view=view, ephemeral=True)


async def results_of(bot: LtxBot, guild_id: int, user_id: int) -> list[Job]:
    """The member's delivered results on this server, newest first."""
    jobs = await bot.engine.jobs(
        JobStatus.SUCCEEDED,
        user_id=user_id,
        guild_id=guild_id,
        limit=MAX_LISTED,
        newest_first=True,
    )
    return [j for j in jobs if j.result_message_id]


async def render_page(bot: LtxBot, guild_id: int, user_id: int, page: int) -> ui.LayoutView:
    results = await results_of(bot, guild_id, user_id)
    pages = max(1, -(-len(results) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    view = ui.LayoutView(timeout=None)
    if not results:
        view.add_item(ui.TextDisplay("## Your results\nNothing yet: make a video with `/ltx`."))
        return view
    view.add_item(
        ui.TextDisplay(f"## Your results\nPage {page + 1} of {pages} · {len(results)} in all")
    )
    shown = results[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    for n, job in enumerate(shown):
        if n:
            view.add_item(ui.Separator())
        for item in await entry(bot, job):
            view.add_item(item)
    view.add_item(
        ui.ActionRow(
            HistoryPage(user_id, max(page - 1, 0), "p", disabled=page == 0),
            HistoryPage(user_id, min(page + 1, pages - 1), "n", disabled=page >= pages - 1),
        )
    )
    return view


async def entry(bot: LtxBot, job: Job) -> list[ui.Item[Any]]:
    """One result: its parameters and link, its video as fetched now, its buttons."""
    assert job.result_message_id is not None
    link = f"https://discord.com/channels/{job.guild_id}/{job.channel_id}/{job.result_message_id}"
    url = await media_url(bot, job)
    text = f"{describe(job)}\n[Open the result]({link})"
    items: list[ui.Item[Any]] = [ui.TextDisplay(text if url else f"{text} · its message is gone")]
    if url:
        items.append(ui.MediaGallery(discord.MediaGalleryItem(url, description=f"job {job.id}")))
    items.append(ui.ActionRow(RetryButton(job.id), FinalButton(job.id), ExtendButton(job.id)))
    items.append(ui.ActionRow(VariationsSelect(job.id)))
    return items


async def media_url(bot: LtxBot, job: Job) -> str | None:
    """The result's attachment URL, fresh from Discord (signed links expire)."""
    assert job.result_message_id is not None
    channel = bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
    try:
        message = await channel.fetch_message(job.result_message_id)
    except discord.HTTPException as exc:
        log.info("history: result message of job %s not fetched (%s)", job.id, exc)
        return None
    return message.attachments[0].url if message.attachments else None


def describe(job: Job) -> str:
    p = job.params
    parts = [f"**`{job.id}`**", job.mode]
    if p.get("width") and p.get("height"):
        parts.append(f"{p['width']}×{p['height']}")
    if p.get("duration_s"):
        parts.append(f"{float(p['duration_s']):g} s")
    if p.get("fps"):
        parts.append(f"{p['fps']} fps")
    if p.get("preset"):
        parts.append(str(p["preset"]).capitalize())
    if p.get("seed") is not None:
        parts.append(f"seed {p['seed']}")
    if job.extends:
        parts.append(f"extends `{job.extends}`")
    parts.append(f"<t:{int(job.created_at)}:R>")
    prompt = str(p.get("prompt") or "").replace("\n", " ")
    if len(prompt) > PROMPT_CHARS:
        prompt = prompt[: PROMPT_CHARS - 1] + "…"
    return " · ".join(parts) + (f"\n> {prompt}" if prompt else "")


PAGE_ID = r"ltx:hist:(?P<user>\d+):(?P<page>\d+):(?P<dir>[pn])"


class HistoryPage(ui.DynamicItem[ui.Button[Any]], template=PAGE_ID):
    """Prev (`p`) or Next (`n`): the page it leads to is in its custom id."""

    def __init__(self, user_id: int, page: int, direction: str, *, disabled: bool = False) -> None:
        super().__init__(
            ui.Button(
                label="◀ Prev" if direction == "p" else "Next ▶",
                style=discord.ButtonStyle.secondary,
                custom_id=f"ltx:hist:{user_id}:{page}:{direction}",
                disabled=disabled,
            )
        )
        self.user_id, self.page = user_id, page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> HistoryPage:
        return cls(int(match["user"]), int(match["page"]), match["dir"])

    async def callback(self, interaction: discord.Interaction[LtxBot]) -> None:  # type: ignore[override]
        try:
            if interaction.guild_id is None:
                raise GuildOnly()
            if interaction.user.id != self.user_id:
                await interaction.response.send_message(
                    "That is someone else's history: `/ltx history` shows yours.", ephemeral=True
                )
                return
            await interaction.response.defer()
            bot, guild_id = interaction.client, interaction.guild_id
            view = await render_page(bot, guild_id, self.user_id, self.page)
            await interaction.edit_original_response(view=view)
        except Exception as exc:  # noqa: BLE001 - as every button: the user gets the error
            await send_error(interaction, exc)


def add_history_command(group: discord.app_commands.Group, bot: LtxBot) -> None:
    @group.command(name="history", description="Your recent results, with their buttons.")
    async def history(interaction: discord.Interaction) -> None:
        await history_interaction(bot, interaction)
