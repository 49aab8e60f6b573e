"""A bot in another OS process, killed with SIGKILL and started again against
the same fake: all state lives in the fake, reached over 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.fakes.discord import FakeDiscord, FakeGuild

BOT = """
import os, discord, yarl
from discord import app_commands

discord.http.Route.BASE = os.environ["LTXBOT_DISCORD_API_BASE"]
gateway = os.environ["LTXBOT_DISCORD_GATEWAY_URL"]
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)
tree = app_commands.CommandTree(client)

@tree.command(description="Which process answers")
async def whoami(interaction: discord.Interaction) -> None:
    await interaction.response.send_message(f"pid {os.getpid()}")

@client.event
async def on_ready() -> None:
    guild = discord.Object(int(os.environ["GUILD_ID"]))
    tree.copy_global_to(guild=guild)
    await tree.sync(guild=guild)

client.run(os.environ["LTXBOT_DISCORD_TOKEN"], log_handler=None)
"""


@asynccontextmanager
async def bot_process(
    fake: FakeDiscord, guild: FakeGuild
) -> AsyncIterator[asyncio.subprocess.Process]:
    env = {**os.environ, **fake.bot_env(), "GUILD_ID": str(guild.id)}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", BOT, env=env)
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def test_bot_process_survives_sigkill_and_restart() -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_guild()
        alice = fake.add_user("alice")
        fake.add_member(guild, alice)
        chan = guild.channels[0]
        pids: list[int] = []
        command_ids: list[str] = []
        for generation in (1, 2):
            async with bot_process(fake, guild) as proc:
                await fake.wait_for(
                    lambda g=generation: len(fake.command_syncs) >= g,
                    timeout=20,
                    what=f"bot #{generation} synced",
                )
                session = await fake.wait_for_ready(sessions=generation)
                ix = await fake.slash_command(alice, chan, "whoami")
                msg = await ix.wait_original()
                assert msg.content == f"pid {proc.pid}"
                pids.append(proc.pid)
                command_ids.append(fake.command("whoami", guild)["id"])
                proc.kill()  # SIGKILL: no close frame, no cleanup
                await proc.wait()
                await fake.wait_for(lambda s=session: not s.connected, what="socket closed")
                assert not session.invalidated  # still resumable, but nobody knows its id
        assert len(set(pids)) == 2 and len(fake.sessions) == 2
        assert [c["name"] for c in fake.synced_commands(guild)] == ["whoami"]
        assert len(set(command_ids)) == 1  # the re-sync kept Discord's command id
        assert fake.unknown_routes == []
