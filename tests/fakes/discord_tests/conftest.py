from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from tests.fakes.discord import FakeChannel, FakeDiscord, FakeGuild, FakeRole, FakeUser

from .minibot import MiniBot


@dataclass
class World:
    fake: FakeDiscord
    guild: FakeGuild
    channel: FakeChannel
    alice: FakeUser  # has the "mods" role (manage_guild)
    bob: FakeUser
    mods: FakeRole


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Studio")
        alice, bob = fake.add_user("alice"), fake.add_user("bob")
        fake.add_member(guild, alice)
        fake.add_member(guild, bob)
        mods = fake.add_role(guild, "mods", ["manage_guild"], members=[alice])
        with fake.patch_discord_py():
            yield World(fake, guild, guild.channels[0], alice, bob, mods)


@pytest.fixture
async def bot(world: World) -> AsyncIterator[MiniBot]:
    b = await MiniBot(world.fake, world.guild).start()
    try:
        yield b
    finally:
        await b.stop()
