"""What a job card says. Pure: a job, its queue facts and progress in; text out.

The card is the one place a user watches their job, so it carries the job id
(for `/ltx show` and `/ltx cancel`), the key parameters, the queue position and an
ETA as a Discord timestamp (`<t:unix:R>` counts down in the client, no edits
needed), progress while running, and on failure what went wrong and what to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import discord

from bot.errors import failure_text
from engine.events import Progress
from engine.modes.stages import PREPARING, UPLOADING, stage_of

PROMPT_SHOWN = 300
BAR_CELLS = 12
# The live still rides on the card as this attachment (bot/cards/service.py).
PREVIEW_FILE = "preview.jpg"

COLOURS = {
    "queued": discord.Colour.light_grey(),
    "running": discord.Colour.blurple(),
    "succeeded": discord.Colour.green(),
    "failed": discord.Colour.red(),
    "cancelled": discord.Colour.dark_grey(),
}


@dataclass(frozen=True)
class CardText:
    """A rendered card: the embed plus whether it still offers a Cancel button."""

    embed: discord.Embed
    cancellable: bool


def status_value(job: Any) -> str:
    status = job.status
    return str(getattr(status, "value", status))


def progress_bar(fraction: float, cells: int = BAR_CELLS) -> str:
    fraction = min(1.0, max(0.0, fraction))
    full = round(fraction * cells)
    return "█" * full + "░" * (cells - full) + f" {fraction * 100:.0f}%"


def duration_text(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    if minutes >= 60:
        hours, minutes = divmod(minutes, 60)
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def params_text(params: Mapping[str, Any]) -> str:
    """The parameters a user cares about, in a fixed order, on one line."""
    parts: list[str] = []
    width, height = params.get("width"), params.get("height")
    if width and height:
        parts.append(f"{width}×{height}")
    duration = params.get("duration_s", params.get("duration"))
    if duration is not None:
        parts.append(f"{float(duration):g} s")
    if params.get("fps") is not None:
        parts.append(f"{params['fps']} fps")
    if params.get("preset"):
        parts.append(str(params["preset"]).capitalize())
    if params.get("seed") is not None:
        parts.append(f"seed {params['seed']}")
    return " · ".join(parts) or "defaults"


def stage_text(progress: Progress) -> str:
    """ "Generating · step 3 of 8 · 12s": the stage a member understands (from
    the node's type, engine/modes/stages.py), its step, the time so far."""
    stage = getattr(progress, "stage", None) or stage_of(progress.node_type, 0)
    step = ""
    if progress.step is not None and progress.total:
        step = f" · step {progress.step} of {progress.total}"
    return f"{stage}{step} · {duration_text(progress.elapsed_s)}"


def _status_line(
    job: Any,
    *,
    position: int | None,
    eta: float | None,
    progress: Progress | None,
    uploading: bool = False,
) -> str:
    status = status_value(job)
    if status == "queued":
        where = f"position **{position}**" if position is not None else "waiting"
        line = f"⏳ Queued — {where}"
        if eta is not None:
            line += f" · ready <t:{int(eta)}:R>"
        return line
    if status == "running":
        if progress is None:
            line = f"⚙️ Running — {PREPARING}"
        else:
            line = f"⚙️ Running — {progress_bar(progress.fraction)}\n{stage_text(progress)}"
        if eta is not None:
            line += f" · done <t:{int(eta)}:R>"
        return line
    if status == "succeeded":
        took = ""
        if job.started_at and job.finished_at:
            took = f" in {duration_text(job.finished_at - job.started_at)}"
        if uploading:
            return f"📤 {UPLOADING} — made{took}; the video is on its way here."
        return f"✅ Done{took}."
    if status == "cancelled":
        return "🚫 Cancelled."
    return "❌ Failed — " + failure_text(job.error_code, job.error_detail)


def render_card(
    job: Any,
    *,
    position: int | None = None,
    eta: float | None = None,
    progress: Progress | None = None,
    uploading: bool = False,
) -> CardText:
    """The card of `job` in its current state. `uploading`: the job succeeded
    and the bot is posting its video now (the step after the engine's stages:
    fitting the file to the upload limit and sending it can take a while)."""
    status = status_value(job)
    params = job.params or {}
    embed = discord.Embed(
        title=f"{job.mode} · job {job.id}",
        colour=COLOURS.get(status, discord.Colour.default()),
    )
    prompt = str(params.get("prompt") or "").strip()
    if prompt:
        shown = prompt if len(prompt) <= PROMPT_SHOWN else prompt[: PROMPT_SHOWN - 1] + "…"
        embed.description = f"> {shown}"
    embed.add_field(name="Settings", value=params_text(params), inline=False)
    if job.inputs:
        embed.add_field(name="Inputs", value=", ".join(sorted(job.inputs)), inline=False)
    embed.add_field(name="By", value=f"<@{job.user_id}>", inline=True)
    embed.add_field(
        name="Status",
        value=_status_line(job, position=position, eta=eta, progress=progress, uploading=uploading),
    )
    if status == "running" and progress is not None and progress.preview:
        embed.set_image(url=f"attachment://{PREVIEW_FILE}")
    if job.note and status in ("queued", "running"):
        embed.add_field(name="Note", value=note_text(job.note), inline=False)
    if job.retry_of:
        # Retry, Variations, Final and Extend all record their parent here;
        # what kind of take it is, /ltx show's lineage says.
        made = "extends" if job.extends else "from"
        embed.set_footer(text=f"{made} {job.retry_of} · /ltx show job:{job.id}")
    else:
        embed.set_footer(text=f"/ltx show job:{job.id} · /ltx cancel job:{job.id}")
    return CardText(embed=embed, cancellable=status in ("queued", "running"))


NOTES = {
    "restarted": "The bot restarted; your job is back in the queue.",
    "timeout": "The first attempt ran out of time; retrying once with a longer budget.",
}


def note_text(note: str) -> str:
    """Engine notes are short codes or sentences; known codes get a friendly line."""
    for key, text in NOTES.items():
        if note.lower().startswith(key):
            return text
    return note
