"""REST: injected 429s, upload limits, Discord's validation, headers, unknown routes."""

from __future__ import annotations

import asyncio
import io
import json

import aiohttp
import discord
import pytest

from tests.fakes.discord import FakeDiscord

from .conftest import World
from .minibot import MiniBot


def _channel(bot: MiniBot, world: World) -> discord.TextChannel:
    channel = bot.client.get_channel(world.channel.id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_edit_survives_429_then_succeeds(world: World, bot: MiniBot) -> None:
    fake = world.fake
    posting = fake.rate_limit("POST", r"^/channels/\d+/messages$", retry_after=0.1, global_=True)
    msg = await _channel(bot, world).send("v1")
    editing = fake.rate_limit("PATCH", r"/messages/\d+$", retry_after=0.2)
    await msg.edit(content="v2")

    stored = fake.all_messages[msg.id]
    assert [r.content for r in stored.history] == ["v1", "v2"]
    assert [(e.kind, e.message) for e in fake.message_events] == [
        ("create", stored),
        ("edit", stored),
    ]
    for rule, method, wait in ((posting, "POST", 0.1), (editing, "PATCH", 0.2)):
        calls = [c for c in fake.requests if c.method == method and "/messages" in c.path]
        assert [c.status for c in calls] == [429, 200]
        assert calls[0].response["retry_after"] == wait and calls[0].json == calls[1].json
        assert calls[1].time - calls[0].time >= wait
        assert len(rule.hits) == 1 and rule.remaining == 0
    assert fake.calls("POST", status=429)[0].response["global"] is True


async def test_buckets_drive_headers_and_429_on_overflow() -> None:
    async with FakeDiscord(rest_limit=(2, 30.0)) as fake:  # a window no stall outlasts
        guild = fake.add_guild()
        url = f"{fake.api_base}/channels/{guild.channels[0].id}/messages"
        async with aiohttp.ClientSession(headers={"Authorization": f"Bot {fake.token}"}) as http:
            seen = []
            for _ in range(3):
                async with http.post(url, json={"content": "x"}) as r:
                    seen.append((r.status, r.headers["X-RateLimit-Remaining"]))
                    body = await r.json()
            assert seen == [(200, "1"), (200, "0"), (429, "0")]
            assert body["global"] is False and 0 < body["retry_after"] <= 30.0

    async with FakeDiscord(rest_limit=(2, 0.25)) as fake:
        guild = fake.add_guild()
        with fake.patch_discord_py():
            bot = await MiniBot(fake, guild).start()
            try:
                channel = bot.client.get_channel(guild.channels[0].id)
                started = len(fake.requests)
                await asyncio.gather(*(channel.send(f"m{i}") for i in range(5)))
            finally:
                await bot.stop()
        sends = fake.calls("POST", "/channels/{channel_id}/messages")[-5:]
        assert len(fake.requests) > started and all(c.status == 200 for c in sends)
        assert sends[-1].time - sends[0].time >= 0.25  # discord.py obeyed the headers


async def test_oversized_upload_is_413(world: World, bot: MiniBot) -> None:
    fake = world.fake
    world.guild.upload_limit = 1024
    channel = _channel(bot, world)
    with pytest.raises(discord.HTTPException) as err:
        await channel.send(file=discord.File(io.BytesIO(b"x" * 2048), "big.mp4"))
    assert (err.value.status, err.value.code) == (413, 40005)
    assert fake.messages(world.channel) == []
    call = fake.calls("POST", "/channels/{channel_id}/messages")[-1]
    assert call.status == 413 and call.file("big.mp4").data == b"x" * 2048

    ok = await channel.send(file=discord.File(io.BytesIO(b"y" * 1024), "fits.mp4"))
    stored = fake.all_messages[ok.id].attachment("fits.mp4")
    assert stored.content_type == "video/mp4" and stored.size == 1024
    assert ok.attachments[0].url == stored.url
    assert await ok.attachments[0].read() == b"y" * 1024  # served by the fake CDN


async def test_message_validation_matches_discord(world: World, bot: MiniBot) -> None:
    fake = world.fake
    channel = _channel(bot, world)
    with pytest.raises(discord.HTTPException) as err:
        await channel.send("x" * 2001)
    assert (err.value.status, err.value.code) == (400, 50035)
    assert "content" in err.value.text

    url = f"{fake.api_base}/channels/{world.channel.id}/messages"
    headers = {"Authorization": f"Bot {fake.token}"}
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", json.dumps({"content": "many"}))
    for i in range(11):
        form.add_field(f"files[{i}]", b"z", filename=f"{i}.txt")
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(url, data=form) as r:
            assert (r.status, (await r.json())["code"]) == (400, 30015)
        async with http.post(url, json={"content": ""}) as r:
            assert (r.status, (await r.json())["code"]) == (400, 50006)
        async with http.post(
            url, data=b"{not json", headers={"Content-Type": "application/json"}
        ) as r:
            assert (r.status, (await r.json())["code"]) == (400, 50109)
        buttons = [{"type": 2, "style": 1, "label": "a", "custom_id": "same"}] * 2
        async with http.post(
            url, json={"content": "c", "components": [{"type": 1, "components": buttons}]}
        ) as r:
            assert (r.status, (await r.json())["code"]) == (400, 50035)

    msg = await channel.send("react")
    with pytest.raises(discord.HTTPException) as err:
        await msg.add_reaction("notanemoji")
    assert err.value.code == 10014
    fake.set_permissions(world.guild.role(fake.bot.name), ["view_channel"])
    fake.set_permissions(world.guild.everyone, ["view_channel"])
    with pytest.raises(discord.Forbidden) as denied:
        await channel.send("no send_messages any more")
    assert denied.value.code == 50013
    assert len(fake.messages(world.channel)) == 1


async def test_headers_auth_and_unknown_routes(world: World, bot: MiniBot) -> None:
    fake = world.fake
    async with aiohttp.ClientSession() as http:
        auth = {"Authorization": f"Bot {fake.token}"}
        async with http.get(f"{fake.api_base}/users/@me", headers=auth) as r:
            assert r.status == 200 and r.headers["Content-Type"] == "application/json"
            for h in (
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
                "X-RateLimit-Reset-After",
                "X-RateLimit-Bucket",
            ):
                assert h in r.headers
        async with http.get(f"{fake.api_base}/users/@me", headers={"Authorization": "Bot x"}) as r:
            assert (r.status, await r.json()) == (401, {"message": "401: Unauthorized", "code": 0})
        async with http.get(f"{fake.api_base}/guilds/{world.guild.id}/bans", headers=auth) as r:
            assert r.status == 404 and r.headers["Content-Type"] == "application/json"
            assert await r.json() == {"message": "404: Not Found", "code": 0}
    assert [(c.method, c.path) for c in fake.unknown_routes] == [
        ("GET", f"/guilds/{world.guild.id}/bans")
    ]

    with pytest.raises(discord.NotFound):
        await bot.client.fetch_channel(123)  # unknown channel is a known route: 10003
    assert fake.calls("GET", "/channels/{channel_id}")[-1].response["code"] == 10003
    assert len(fake.unknown_routes) == 1


async def test_invalid_command_schema_is_rejected(world: World, bot: MiniBot) -> None:
    http = bot.client.http
    app, guild = world.fake.application_id, world.guild.id
    bad = [{"name": "Shout", "description": "caps are not allowed", "type": 1}]
    with pytest.raises(discord.HTTPException) as err:
        await http.bulk_upsert_guild_commands(app, guild, payload=bad)
    assert (err.value.status, err.value.code) == (400, 50035)
    order = [
        {
            "name": "x",
            "description": "d",
            "options": [
                {"type": 3, "name": "a", "description": "d"},
                {"type": 3, "name": "b", "description": "d", "required": True},
            ],
        }
    ]
    with pytest.raises(discord.HTTPException, match="Required options"):
        await http.bulk_upsert_guild_commands(app, guild, payload=order)
    assert len(world.fake.command_syncs) == 1  # only the good sync from on_ready
