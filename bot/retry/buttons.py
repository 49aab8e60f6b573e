"""Components that survive restarts: Retry, Final, Extend and Variations on
results, Cancel on cards.

Each is a `ui.DynamicItem` with the job id in a template custom_id
(`ltx:retry:<job_id>`, `ltx:final:<job_id>`, `ltx:extend:<job_id>` (opens a
modal: bot/retry/extend.py), `ltx:vary:<job_id>` (a select of how many takes:
1 to 4), `ltx:cancel:<job_id>`). The bot registers the classes
once with `Client.add_dynamic_items`; a click on any message, however old and
from whichever process posted it, is parsed back into the job id and resolved
through the database. No view is kept in memory per message.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import ui

from bot.errors import send_error
from bot.moderation.buttons import ReportButton
from bot.retry.extend import extend_pressed
from bot.retry.takes import final_interaction, variations_interaction
from engine.jobs import MAX_TAKES

if TYPE_CHECKING:
    from bot.client import LtxBot

RETRY_EMOJI = "🔁"
FINAL_EMOJI = "✨"
EXTEND_EMOJI = "⏩"
JOB_ID = r"(?P<job_id>[a-z0-9]{1,32})"


class RetryButton(ui.DynamicItem[ui.Button[Any]], template=rf"ltx:retry:{JOB_ID}"):
    def __init__(self, job_id: str) -> None:
        super().__init__(
            ui.Button(
                label="Retry",
                emoji=RETRY_EMOJI,
                style=discord.ButtonStyle.secondary,
                custom_id=f"ltx:retry:{job_id}",
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> RetryButton:
        return cls(match["job_id"])

    async def callback(self, interaction: discord.Interaction[LtxBot]) -> None:  # type: ignore[override]
        try:
            await interaction.client.retry_from_interaction(interaction, self.job_id)
        except Exception as exc:  # noqa: BLE001 - a button never crashes: every failure becomes an ephemeral message
            await send_error(interaction, exc)


class FinalButton(ui.DynamicItem[ui.Button[Any]], template=rf"ltx:final:{JOB_ID}"):
    """The same seed and prompt again at Quality and larger."""

    def __init__(self, job_id: str) -> None:
        super().__init__(
            ui.Button(
                label="Final",
                emoji=FINAL_EMOJI,
                style=discord.ButtonStyle.primary,
                custom_id=f"ltx:final:{job_id}",
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> FinalButton:
        return cls(match["job_id"])

    async def callback(self, interaction: discord.Interaction[LtxBot]) -> None:  # type: ignore[override]
        try:
            await final_interaction(interaction.client, interaction, self.job_id)
        except Exception as exc:  # noqa: BLE001 - as Retry: the user gets the error, ephemeral
            await send_error(interaction, exc)


class ExtendButton(ui.DynamicItem[ui.Button[Any]], template=rf"ltx:extend:{JOB_ID}"):
    """More of the clip from its last frame, delivered joined onto it."""

    def __init__(self, job_id: str) -> None:
        super().__init__(
            ui.Button(
                label="Extend",
                emoji=EXTEND_EMOJI,
                style=discord.ButtonStyle.secondary,
                custom_id=f"ltx:extend:{job_id}",
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> ExtendButton:
        return cls(match["job_id"])

    async def callback(self, interaction: discord.Interaction[LtxBot]) -> None:  # type: ignore[override]
        try:
            await extend_pressed(interaction.client, interaction, self.job_id)
        except Exception as exc:  # noqa: BLE001 - as Retry: the user gets the error, ephemeral
            await send_error(interaction, exc)


class VariationsSelect(ui.DynamicItem[ui.Select[Any]], template=rf"ltx:vary:{JOB_ID}"):
    """How many more takes (new seeds, same parameters): picking one queues them."""

    def __init__(self, job_id: str) -> None:
        super().__init__(
            ui.Select(
                placeholder="Variations: more takes with new seeds…",
                custom_id=f"ltx:vary:{job_id}",
                options=[
                    discord.SelectOption(label=f"{n} more take{'s' if n > 1 else ''}", value=str(n))
                    for n in range(1, MAX_TAKES + 1)
                ],
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> VariationsSelect:
        return cls(match["job_id"])

    async def callback(self, interaction: discord.Interaction[LtxBot]) -> None:  # type: ignore[override]
        try:
            count = int(self.item.values[0]) if self.item.values else 1
            await variations_interaction(interaction.client, interaction, self.job_id, count)
        except Exception as exc:  # noqa: BLE001 - as Retry: the user gets the error, ephemeral
            await send_error(interaction, exc)


class CancelButton(ui.DynamicItem[ui.Button[Any]], template=rf"ltx:cancel:{JOB_ID}"):
    def __init__(self, job_id: str) -> None:
        super().__init__(
            ui.Button(
                label="Cancel",
                style=discord.ButtonStyle.danger,
                custom_id=f"ltx:cancel:{job_id}",
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> CancelButton:
        return cls(match["job_id"])

    async def callback(self, interaction: discord.Interaction[LtxBot]) -> None:  # type: ignore[override]
        try:
            await interaction.client.cancel_from_interaction(interaction, self.job_id)
        except Exception as exc:  # noqa: BLE001 - as Retry: the user gets the error, ephemeral
            await send_error(interaction, exc)


def result_view(job_id: str) -> ui.View:
    """The components of a result message."""
    view = ui.View(timeout=None)
    view.add_item(RetryButton(job_id))
    view.add_item(FinalButton(job_id))
    view.add_item(ExtendButton(job_id))
    view.add_item(ReportButton(job_id))
    view.add_item(VariationsSelect(job_id))
    return view


def card_view(job_id: str) -> ui.View:
    """The components of a card while its job can still be cancelled."""
    view = ui.View(timeout=None)
    view.add_item(CancelButton(job_id))
    return view
