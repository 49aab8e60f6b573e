"""The Report button on results and the moderators' buttons on a report.

Like Retry and Cancel (bot/retry/buttons.py), `ui.DynamicItem`s whose
custom_id carries what they act on, so they work on any message however old
and after any restart; the bot registers them once.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import ui

from bot.errors import send_error

if TYPE_CHECKING:
    from bot.client import LtxBot

JOB_ID = r"(?P<job_id>[a-z0-9]{1,32})"
STYLES = {
    "delete": (discord.ButtonStyle.danger, "Delete result"),
    "ban": (discord.ButtonStyle.danger, "Ban member"),
    "dismiss": (discord.ButtonStyle.secondary, "Dismiss"),
}


class ReportButton(ui.DynamicItem[ui.Button[Any]], template=rf"ltx:report:{JOB_ID}"):
    def __init__(self, job_id: str) -> None:
        super().__init__(
            ui.Button(
                label="Report",
                emoji="🚩",
                style=discord.ButtonStyle.secondary,
                custom_id=f"ltx:report:{job_id}",
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> ReportButton:
        return cls(match["job_id"])

    async def callback(self, interaction: discord.Interaction[LtxBot]) -> None:  # type: ignore[override]
        try:
            await interaction.client.reports.report(interaction, self.job_id)
        except Exception as exc:  # noqa: BLE001 - a button never crashes: every failure becomes an ephemeral message
            await send_error(interaction, exc)


class ModActionButton(
    ui.DynamicItem[ui.Button[Any]],
    template=r"ltx:mod:(?P<action>delete|ban|dismiss):(?P<report_id>[0-9]{1,19})",
):
    def __init__(self, action: str, report_id: int) -> None:
        style, label = STYLES[action]
        super().__init__(
            ui.Button(label=label, style=style, custom_id=f"ltx:mod:{action}:{report_id}")
        )
        self.action = action
        self.report_id = report_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> ModActionButton:
        return cls(match["action"], int(match["report_id"]))

    async def callback(self, interaction: discord.Interaction[LtxBot]) -> None:  # type: ignore[override]
        try:
            await interaction.client.reports.act(interaction, self.report_id, self.action)
        except Exception as exc:  # noqa: BLE001 - as Report
            await send_error(interaction, exc)
