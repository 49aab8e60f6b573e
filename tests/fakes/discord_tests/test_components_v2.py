"""Components V2 messages (flag 1<<15): what the fake accepts and refuses, as Discord does."""

from __future__ import annotations

from typing import Any

import aiohttp
import discord
from discord import ui

from .conftest import World
from .minibot import MiniBot

V2 = 1 << 15


def _text(n: int) -> dict[str, Any]:
    return {"type": 10, "content": f"line {n}"}


def _gallery(n: int) -> dict[str, Any]:
    return {"type": 12, "items": [{"media": {"url": f"https://x.test/{i}.png"}} for i in range(n)]}


async def test_a_layout_view_is_stored_as_sent(world: World, bot: MiniBot) -> None:
    channel = bot.client.get_partial_messageable(world.channel.id, guild_id=world.guild.id)
    view = ui.LayoutView()
    view.add_item(ui.TextDisplay("## Title"))
    view.add_item(ui.MediaGallery(discord.MediaGalleryItem("https://x.test/a.png")))
    view.add_item(ui.ActionRow(ui.Button(label="Go", custom_id="go")))
    sent = await channel.send(view=view)
    (msg,) = world.fake.messages(world.channel)
    assert msg.id == sent.id and msg.flags & V2 and msg.content == ""
    assert [c["type"] for c in msg.components] == [10, 12, 1]
    assert msg.custom_ids() == ["go"]


async def test_v2_bodies_are_refused_where_discord_refuses_them(world: World) -> None:
    fake = world.fake
    url = f"{fake.api_base}/channels/{world.channel.id}/messages"
    refused: list[dict[str, Any]] = [
        {"flags": V2, "content": "legacy", "components": [_text(0)]},
        {"flags": V2, "embeds": [{"title": "e"}], "components": [_text(0)]},
        {"flags": V2, "components": [_text(n) for n in range(41)]},  # over 40
        {"flags": V2, "components": [_gallery(0)]},
        {"flags": V2, "components": [_gallery(11)]},
        {"flags": V2, "components": [{"type": 12, "items": [{"media": {"url": "ftp://x"}}]}]},
        {"flags": V2, "components": [{"type": 10, "content": ""}]},
        {"flags": V2, "components": [{"type": 1, "components": [_text(0)]}]},  # not in a row
        {"components": [_text(0)]},  # V2 components without the flag
    ]
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        for body in refused:
            async with http.post(url, json=body) as r:
                assert (r.status, (await r.json())["code"]) == (400, 50035), body
        nested = [{"type": 17, "components": [_text(n) for n in range(39)]}]  # 40 in all
        async with http.post(url, json={"flags": V2, "components": nested}) as r:
            assert r.status == 200, await r.text()
        async with http.post(url, json={"flags": V2, "components": [_gallery(10)]}) as r:
            assert r.status == 200, await r.text()
    assert len(fake.messages(world.channel)) == 2
