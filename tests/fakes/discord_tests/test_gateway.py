"""Gateway: login, READY/GUILD_CREATE, heartbeats, RECONNECT, drops, RESUME replay."""

from __future__ import annotations

import aiohttp
import discord
import pytest

from tests.fakes.discord import BOT_DEFAULT, EVERYONE_DEFAULT, FakeDiscord

from .conftest import World
from .minibot import MiniBot


async def test_login_ready_and_guild_create(world: World, bot: MiniBot) -> None:
    fake = world.fake
    # REST at login, in order, then the sync from on_ready.
    assert [(c.method, c.route) for c in fake.requests[:3]] == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
        ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands"),
    ]
    assert fake.unknown_routes == []

    session = fake.session
    assert session is not None and session.connected
    assert session.identify["intents"] == discord.Intents.default().value
    assert session.events[:2] == [(1, "READY"), (2, "GUILD_CREATE")]
    # discord.py asked for zlib-stream and decoded our frames: it got through READY.
    ws_query = {k: v for k, v in session.connection.request.query.items()}
    assert ws_query == {"v": "10", "encoding": "json", "compress": "zlib-stream"}
    heartbeats = [f for f in fake.gateway_frames if f.direction == "in" and f.op == 1]
    acks = [f for f in fake.gateway_frames if f.direction == "out" and f.op == 11]
    assert heartbeats and len(acks) == len(heartbeats)

    client = bot.client
    assert client.user is not None and client.user.id == fake.bot.id
    assert client.application_id == fake.application_id
    guild = client.get_guild(world.guild.id)
    assert guild is not None and guild.name == "Studio"
    assert [c.name for c in guild.text_channels] == ["general"]
    assert guild.me.guild_permissions.value == BOT_DEFAULT | EVERYONE_DEFAULT
    assert guild.me.guild_permissions.value == fake.permissions(world.guild, fake.bot.id)
    assert guild.get_role(world.mods.id).permissions.manage_guild


async def test_reconnect_then_drop_resume_and_replay_missed_events(
    world: World, bot: MiniBot
) -> None:
    fake = world.fake
    session = fake.session
    msg = await bot.client.get_channel(world.channel.id).send("react to me")
    stored = fake.all_messages[msg.id]

    await fake.reconnect()  # op 7: the client closes and RESUMEs on resume_gateway_url
    assert fake.session is session and session.resumes == 1
    await bot.wait_event("resumed")

    await fake.drop_connection(wait=False)  # TCP cut, no close frame
    assert not session.connected
    assert await fake.react(world.alice, stored, "🔥")  # buffered while the bot is away
    missed_seq = session.seq
    await fake.wait_for_resume(session, 2)

    got = await bot.wait_event("reaction", lambda v: v[2] == "🔥")
    assert got == (world.alice.id, msg.id, "🔥")
    resume = [f for f in fake.gateway_frames if f.direction == "in" and f.op == 6][-1]
    assert resume.d["session_id"] == session.id and resume.d["seq"] < missed_seq
    replayed = [f for f in fake.gateway_frames if f.direction == "out" and f.s == missed_seq]
    assert len(replayed) == 1 and replayed[0].t == "MESSAGE_REACTION_ADD"
    assert replayed[0].time > resume.time
    assert session.events[-1][1] == "RESUMED" and len(fake.sessions) == 1


async def test_invalid_session_makes_the_bot_identify_again(world: World, bot: MiniBot) -> None:
    fake = world.fake
    first = fake.session
    await fake.invalidate_session(resumable=True)  # op 9 true: reconnect and RESUME
    assert fake.session is first and first.resumes == 1 and len(fake.sessions) == 1
    await fake.invalidate_session()
    assert len(fake.sessions) == 2 and fake.session is not first
    assert first.invalidated and fake.session.connected
    assert fake.session.events[0] == (1, "READY")

    # A RESUME of the dead session is refused with op 9 (plain JSON, no compression).
    async with aiohttp.ClientSession() as http, http.ws_connect(fake.gateway_url + "?v=10") as ws:
        hello = await ws.receive_json(timeout=5)
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
        await ws.send_json(
            {"op": 6, "d": {"token": fake.token, "session_id": first.id, "seq": first.seq}}
        )
        assert await ws.receive_json(timeout=5) == {"op": 9, "d": False}
    zstd = fake.gateway_url + "?v=10&compress=zstd-stream"  # not supported: refused
    async with aiohttp.ClientSession() as http, http.ws_connect(zstd) as ws:
        closed = await ws.receive(timeout=5)
        assert closed.type is aiohttp.WSMsgType.CLOSE and ws.close_code == 4002


async def test_bad_token_and_disallowed_intents_are_refused() -> None:
    async with FakeDiscord(privileged_intents=()) as fake:
        guild = fake.add_guild()
        with fake.patch_discord_py():
            client = discord.Client(intents=discord.Intents.default())
            with pytest.raises(discord.LoginFailure):
                await client.start("wrong-token")
            await client.close()
            assert fake.calls("GET", "/users/@me", status=401)

            bot = MiniBot(fake, guild, intents=discord.Intents.all())
            with pytest.raises(RuntimeError, match="privileged intents"):
                await bot.start()
            identifies = [f for f in fake.gateway_frames if f.direction == "in" and f.op == 2]
            assert len(identifies) == 1 and fake.sessions == []  # closed with 4014
