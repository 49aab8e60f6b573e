"""`/ltx settings`: a member's own defaults, used where a command leaves an option out.

With no option it shows them; with options it changes those (others stay);
`reset:True` clears them first. The engine stores them per member of a server
(engine/jobs/defaults.py) and checks the fixed ranges; the server's maxima
are checked when a command uses them, like any option.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import Choice, Range

from bot.errors import GuildOnly
from engine.jobs import MemberDefaults
from engine.modes import MIN_SIDE, get_mode
from engine.modes.params import FPS_MAX, FPS_MIN, PRESETS

if TYPE_CHECKING:
    from bot.client import LtxBot

SHOWN = (("preset", "Preset"), ("width", "Width"), ("height", "Height"), ("fps", "FPS"))


def with_defaults(mode: str, raw: Mapping[str, Any], defaults: MemberDefaults) -> dict[str, Any]:
    """`raw` (the options given) completed by the member's defaults, for the
    parameters this mode has."""
    fields = get_mode(mode).params_model.model_fields
    out = dict(raw)
    for key, value in defaults.as_params().items():
        if key in fields and key not in out:
            out[key] = value
    return out


def defaults_text(defaults: MemberDefaults) -> str:
    if defaults.empty:
        return (
            "You have no defaults of your own: each mode's defaults apply. "
            "Set some with `/ltx settings preset:… width:… height:… fps:… enhance_prompt:…`."
        )
    parts = [
        f"{label} **{getattr(defaults, key)}**"
        for key, label in SHOWN
        if getattr(defaults, key) is not None
    ]
    if defaults.enhance_prompt is not None:
        parts.append(f"prompt enhancer **{'on' if defaults.enhance_prompt else 'off'}**")
    return (
        "Your defaults on this server: " + ", ".join(parts) + ". They apply where a command "
        "leaves the option out; `/ltx settings reset:True` clears them."
    )


def add_settings_command(group: app_commands.Group, bot: "LtxBot") -> None:
    # No `from __future__ import annotations` here: discord.py evaluates the
    # command's annotations, and the size ranges are local to this function.
    limits = bot.config.limits
    side_w = Range[int, MIN_SIDE, limits.max_width]
    side_h = Range[int, MIN_SIDE, limits.max_height]

    @group.command(name="settings", description="Your own defaults for options you leave out.")
    @app_commands.describe(
        preset="Your default preset.",
        width="Your default width in pixels.",
        height="Your default height in pixels.",
        fps="Your default frames per second.",
        enhance_prompt="Let the model add detail to your prompts by default.",
        reset="Clear your defaults first.",
    )
    @app_commands.choices(preset=[Choice(name=p.capitalize(), value=p) for p in PRESETS])
    async def settings(
        interaction: discord.Interaction,
        preset: str | None = None,
        width: side_w | None = None,
        height: side_h | None = None,
        fps: Range[int, FPS_MIN, FPS_MAX] | None = None,
        enhance_prompt: bool | None = None,
        reset: bool = False,
    ) -> None:
        if interaction.guild_id is None:
            raise GuildOnly()
        engine = bot.engine
        given = (preset, width, height, fps, enhance_prompt)
        if reset or any(v is not None for v in given):
            defaults = await engine.set_member_defaults(
                interaction.guild_id,
                interaction.user.id,
                reset=reset,
                preset=preset,
                width=width,
                height=height,
                fps=fps,
                enhance_prompt=enhance_prompt,
            )
        else:
            defaults = await engine.member_defaults(interaction.guild_id, interaction.user.id)
        await interaction.response.send_message(defaults_text(defaults), ephemeral=True)
