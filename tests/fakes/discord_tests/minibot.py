# ruff: noqa: ASYNC109  -- waits take `timeout=` by design (the brief's API), not asyncio.timeout
"""A minimal discord.py bot, written here (not the project's bot), to prove the
fake against the unmodified client: an app-command tree, a view, listeners."""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands

from tests.fakes.discord import FakeDiscord, FakeGuild
from tests.fakes.discord._notify import Notifier


def transform(data: bytes) -> bytes:
    """What /ltx i2v "renders": bytes the test can recompute."""
    return hashlib.sha256(data).digest() + data[::-1]


class BumpView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Bump", custom_id="bump")
    async def bump(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content=f"bumped by {interaction.user.name}")


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput = discord.ui.TextInput(label="Text", custom_id="text", max_length=50)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}")


class QuickClient(discord.Client):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py sleeps 5 s before a re-IDENTIFY (Discord's identify limit);
        the fake has no such limit, so tests skip the wait."""


class MiniBot:
    """Runs on the test's loop; `events` records what the client observed."""

    def __init__(
        self, fake: FakeDiscord, guild: FakeGuild, intents: discord.Intents | None = None
    ) -> None:
        self.fake, self.guild = fake, guild
        self.client = QuickClient(
            intents=intents or discord.Intents.default(), guild_ready_timeout=0.05
        )
        self.tree = app_commands.CommandTree(self.client)
        self.events: list[tuple[str, Any]] = []
        self.slow_delay = 0.0
        self._changed = Notifier()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._define_commands()
        client = self.client

        @client.event
        async def on_ready() -> None:
            target = discord.Object(guild.id)
            self.tree.copy_global_to(guild=target)
            await self.tree.sync(guild=target)
            self._ready.set()

        @client.event
        async def on_raw_reaction_add(payload: discord.RawReactionActionEvent) -> None:
            self.record("reaction", (payload.user_id, payload.message_id, str(payload.emoji)))

        @client.event
        async def on_resumed() -> None:
            self.record("resumed", None)

        @self.tree.error
        async def on_error(interaction: discord.Interaction, error: Exception) -> None:
            self.record("error", error)

    def record(self, name: str, value: Any) -> None:
        self.events.append((name, value))
        self._changed.notify()

    def seen(self, name: str) -> list[Any]:
        return [v for n, v in self.events if n == name]

    async def wait_event(
        self, name: str, pred: Callable[[Any], bool] = lambda v: True, timeout: float = 5.0
    ) -> Any:
        def find() -> list[Any]:
            return [v for v in self.seen(name) if pred(v)][:1]

        return (await self._changed.wait_for(find, timeout, f"bot event {name}"))[0]

    async def start(self) -> MiniBot:
        self._task = asyncio.create_task(self.client.start(self.fake.token))
        ready = asyncio.create_task(self._ready.wait())
        done, _ = await asyncio.wait(
            {ready, self._task}, timeout=10, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            await self.stop()
            raise RuntimeError(
                f"bot did not get ready: {self._task.exception() if done else 'timeout'}"
            )
        return self

    async def stop(self) -> None:
        await self.client.close()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    def _define_commands(self) -> None:
        bot = self
        ltx = app_commands.Group(name="ltx", description="Make videos")

        @ltx.command(name="t2v", description="Text to video")
        @app_commands.describe(prompt="What to show", duration="Seconds of video")
        @app_commands.choices(
            quality=[
                app_commands.Choice(name="Fast", value="fast"),
                app_commands.Choice(name="High", value="high"),
            ]
        )
        async def t2v(
            interaction: discord.Interaction,
            prompt: app_commands.Range[str, 1, 500],
            duration: app_commands.Range[float, 1.0, 10.0] = 5.0,
            quality: str = "fast",
        ) -> None:
            await interaction.response.send_message(
                f"t2v {prompt} {duration} {quality}", ephemeral=True
            )

        @ltx.command(name="i2v", description="Image to video")
        async def i2v(
            interaction: discord.Interaction, image: discord.Attachment, prompt: str
        ) -> None:
            data = await image.read()
            await interaction.response.defer(thinking=True)
            result = discord.File(io.BytesIO(transform(data)), "result.bin")
            reply = await interaction.followup.send(f"done: {prompt}", file=result, wait=True)
            assert interaction.channel is not None
            echo = discord.File(io.BytesIO(data), "echo.png")
            posted = await interaction.channel.send("posted", file=echo, reference=reply)
            await posted.add_reaction("🎬")
            bot.record("i2v", (image.filename, image.content_type, len(data)))

        @app_commands.command(name="admin", description="Needs Manage Server")
        @app_commands.default_permissions(manage_guild=True)
        @app_commands.guild_only()
        async def admin(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(
                f"manage_guild={interaction.permissions.manage_guild}"
            )

        @app_commands.command(name="panel", description="A message with a button")
        async def panel(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("panel", view=BumpView())

        @app_commands.command(name="slow", description="Answers too late")
        async def slow(interaction: discord.Interaction) -> None:
            await asyncio.sleep(bot.slow_delay)
            try:
                await interaction.response.defer()
            except discord.NotFound as e:
                bot.record("late", e.code)

        @app_commands.command(name="silent", description="Never answers")
        async def silent(interaction: discord.Interaction) -> None:
            bot.record("silent", interaction.id)

        @app_commands.command(name="feedback", description="Opens a modal")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(FeedbackModal())

        for cmd in (ltx, admin, panel, slow, silent, feedback):
            self.tree.add_command(cmd)
