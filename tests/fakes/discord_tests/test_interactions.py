"""Interactions end to end: command sync, slash commands with attachments,
components, reactions, permissions, and Discord's acknowledgement rules."""

from __future__ import annotations

import aiohttp
import pytest

from tests.fakes.discord import InteractionFailed

from .conftest import World
from .minibot import MiniBot, transform

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


async def test_command_sync_payload(world: World, bot: MiniBot) -> None:
    fake, guild = world.fake, world.guild
    assert len(fake.command_syncs) == 1
    sync = fake.command_syncs[0]
    assert sync.guild_id == guild.id
    names = sorted(c["name"] for c in sync.payload)
    assert names == ["admin", "feedback", "ltx", "panel", "silent", "slow"]

    ltx = fake.command("ltx", guild)
    assert ltx["guild_id"] == str(guild.id) and ltx["description"] == "Make videos"
    subs = {o["name"]: o for o in ltx["options"]}
    assert {o["type"] for o in subs.values()} == {1}
    t2v = {o["name"]: o for o in subs["t2v"]["options"]}
    assert t2v["prompt"] == {
        "type": 3,
        "name": "prompt",
        "description": "What to show",
        "required": True,
        "min_length": 1,
        "max_length": 500,
    }
    assert t2v["duration"]["type"] == 10 and not t2v["duration"].get("required")
    assert (t2v["duration"]["min_value"], t2v["duration"]["max_value"]) == (1.0, 10.0)
    assert t2v["quality"]["choices"] == [
        {"name": "Fast", "value": "fast"},
        {"name": "High", "value": "high"},
    ]
    i2v = [o["type"] for o in subs["i2v"]["options"]]
    assert i2v == [11, 3]  # attachment, string

    admin = fake.command("admin", guild)
    assert admin["default_member_permissions"] == str(1 << 5)  # manage_guild
    assert sync.payload[[c["name"] for c in sync.payload].index("admin")]["contexts"] == [0]
    assert fake.synced_commands() == []  # nothing global

    # The ids Discord assigned came back to the client.
    fetched = await bot.tree.fetch_commands(guild=bot.client.get_guild(guild.id))
    assert {c.name: str(c.id) for c in fetched}["ltx"] == ltx["id"]


async def test_slash_command_attachment_round_trip(world: World, bot: MiniBot) -> None:
    fake, chan = world.fake, world.channel
    ix = await fake.slash_command(
        world.alice,
        chan,
        "ltx",
        subcommand="i2v",
        options={"prompt": "a cat"},
        attachments={"image": ("cat.png", PNG, "image/png")},
    )
    opts = ix.payload["data"]["options"]
    assert opts[0]["type"] == 1 and opts[0]["name"] == "i2v"
    att_id = opts[0]["options"][0]["value"]
    assert ix.payload["data"]["resolved"]["attachments"][att_id]["filename"] == "cat.png"

    cb = await ix.response()
    assert cb.type == 5  # deferred, thinking
    reply = await ix.wait_original()
    await bot.wait_event("i2v")
    assert bot.seen("i2v") == [("cat.png", "image/png", len(PNG))]

    # The client downloaded the upload from the fake CDN before acknowledging.
    assert [a for _, a in fake.cdn_fetches] == [int(att_id)]
    assert fake.cdn_fetches[0][0] < cb.at
    assert ix.latency is not None and ix.latency > 0 and ix.sent_at is not None

    # The first followup replaced the thinking placeholder (same message).
    assert ix.followups == [reply] and not reply.loading
    assert reply.content == "done: a cat" and reply.type == 20
    assert [r.flags & 128 for r in reply.history] == [128, 0]
    assert reply.attachment("result.bin").data == transform(PNG)

    posted = await fake.wait_for_message(lambda m: m.content == "posted", channel=chan)
    assert posted.attachments[0].data == PNG
    assert posted.message_reference["message_id"] == str(reply.id) and posted.type == 19
    await fake.wait_for(lambda: posted.reactions.get("🎬"))
    assert posted.reactions == {"🎬": [fake.bot.id]}

    after = [c for c in fake.requests if c.time >= ix.created_at]
    assert [(c.method, c.route, c.status) for c in after] == [
        ("POST", "/interactions/{interaction_id}/{token}/callback", 200),
        ("POST", "/webhooks/{application_id}/{token}", 200),
        ("POST", "/channels/{channel_id}/messages", 200),
        ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", 204),
    ]
    callback, followup, post, _ = after
    assert callback.query == {"with_response": "1"} and callback.json == {"type": 5}
    assert followup.json["content"] == "done: a cat"
    assert followup.file("result.bin").data == transform(PNG)
    assert post.files[0].field == "files[0]" and post.file("echo.png").data == PNG


async def test_member_permissions_reach_the_bot(world: World, bot: MiniBot) -> None:
    fake = world.fake
    with pytest.raises(ValueError, match="hides /admin from bob"):
        await fake.slash_command(world.bob, world.channel, "admin")  # default_member_permissions
    for user, expected in ((world.alice, True), (world.bob, False)):
        # validate=False: as if the server had granted bob the command anyway.
        ix = await fake.slash_command(user, world.channel, "admin", validate=False)
        assert int(ix.payload["member"]["permissions"]) & (1 << 5) == (expected << 5)
        msg = await ix.wait_original()
        assert msg.content == f"manage_guild={expected}"


async def test_global_commands_get_discords_contexts(world: World, bot: MiniBot) -> None:
    fake = world.fake
    payload = [
        {"name": "guildonly", "description": "d", "dm_permission": False, "contexts": None},
        {"name": "anywhere", "description": "d", "contexts": None},
    ]
    await bot.client.http.bulk_upsert_global_commands(fake.application_id, payload=payload)
    got = {c["name"]: (c["contexts"], c["dm_permission"]) for c in fake.synced_commands()}
    assert got == {"guildonly": ([0], False), "anywhere": ([0, 1], True)}

    dm = fake.dm_channel(world.alice)
    with pytest.raises(ValueError, match="not synced for DMs"):
        await fake.slash_command(world.alice, dm, "guildonly")
    ix = await fake.slash_command(world.alice, dm, "anywhere")
    assert ix.payload["context"] == 1 and "guild_id" not in ix.payload
    assert ix.payload["user"]["id"] == str(world.alice.id)
    assert ix.payload["channel"]["type"] == 1


async def test_options_are_checked_against_the_synced_tree(world: World, bot: MiniBot) -> None:
    fake = world.fake
    ix = await fake.slash_command(
        world.bob,
        world.channel,
        "ltx",
        subcommand="t2v",
        options={"prompt": "waves", "duration": 2.5, "quality": "high"},
    )
    msg = await ix.wait_original()
    assert msg.content == "t2v waves 2.5 high" and msg.ephemeral
    assert not [m for m in fake.messages() if m.id == msg.id and not m.ephemeral]
    with pytest.raises(ValueError, match="outside"):
        await fake.slash_command(
            world.bob,
            world.channel,
            "ltx",
            subcommand="t2v",
            options={"prompt": "x", "duration": 11.0},
        )
    with pytest.raises(ValueError, match="choices"):
        await fake.slash_command(
            world.bob,
            world.channel,
            "ltx",
            subcommand="t2v",
            options={"prompt": "x", "quality": "ultra"},
        )
    with pytest.raises(ValueError, match="not synced"):
        await fake.slash_command(world.bob, world.channel, "nope")


async def test_component_click_updates_the_message(world: World, bot: MiniBot) -> None:
    fake = world.fake
    ix = await fake.slash_command(world.alice, world.channel, "panel")
    panel = await ix.wait_original()
    assert panel.custom_ids() == ["bump"]

    click = await fake.click(world.bob, panel, "bump")
    assert (await click.response()).type == 7  # update the message in place
    assert click.original is panel
    await fake.wait_for(lambda: len(panel.history) == 2)
    assert [r.content for r in panel.history] == ["panel", "bumped by bob"]
    with pytest.raises(ValueError, match="no component"):
        await fake.click(world.bob, panel, "missing")


async def test_modal_round_trip(world: World, bot: MiniBot) -> None:
    fake = world.fake
    ix = await fake.slash_command(world.bob, world.channel, "feedback")
    assert (await ix.response()).type == 9 and ix.original is None
    assert ix.modal["title"] == "Feedback"
    with pytest.raises(ValueError, match="50"):
        await fake.submit_modal(ix, {"text": "x" * 51})
    submit = await fake.submit_modal(ix, {"text": "lovely"})
    assert (
        submit.payload["type"] == 5 and submit.payload["data"]["custom_id"] == ix.modal["custom_id"]
    )
    assert (await submit.wait_original()).content == "thanks: lovely"


async def test_reaction_add_reaches_the_bot(world: World, bot: MiniBot) -> None:
    fake = world.fake
    ix = await fake.slash_command(world.alice, world.channel, "panel")
    panel = await ix.wait_original()
    assert await fake.react(world.bob, panel, "👍")
    got = await bot.wait_event("reaction")
    assert got == (world.bob.id, panel.id, "👍")
    assert panel.reactions == {"👍": [world.bob.id]}

    channel = bot.client.get_channel(world.channel.id)
    fetched = await channel.fetch_message(panel.id)
    assert [(str(r.emoji), r.count, r.me) for r in fetched.reactions] == [("👍", 1, False)]
    assert [u.id async for u in fetched.reactions[0].users()] == [world.bob.id]


async def test_late_first_callback_is_unknown_interaction(world: World, bot: MiniBot) -> None:
    fake = world.fake
    fake.interaction_window_s = 0.2
    bot.slow_delay = 0.4
    ix = await fake.slash_command(world.alice, world.channel, "slow")
    with pytest.raises(InteractionFailed, match=r"Discord allows 0\.2s"):
        await ix.response()
    assert await bot.wait_event("late") == 10062
    assert [(r.type, r.status, r.code) for r in ix.rejected] == [(5, 404, 10062)]
    assert not ix.acked and ix.original is None


async def test_callback_and_webhook_rules_on_the_wire(world: World, bot: MiniBot) -> None:
    fake = world.fake
    ix = await fake.slash_command(world.alice, world.channel, "silent")
    await bot.wait_event("silent")
    app, base = fake.application_id, fake.api_base
    callback = f"{base}/interactions/{ix.id}/{ix.token}/callback?with_response=true"
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{base}/webhooks/{app}/{ix.token}?wait=true", json={"content": "too early"}
        ) as r:
            assert (r.status, (await r.json())["code"]) == (404, 10015)
        async with http.post(callback, json={"type": 7}) as r:  # update: not for commands
            assert (r.status, (await r.json())["code"]) == (400, 50035)
        async with http.post(callback, json={"type": 4, "data": {"content": "hi"}}) as r:
            assert r.status == 200 and r.headers["Content-Type"] == "application/json"
            body = await r.json()
        assert body["interaction"] == {
            "id": str(ix.id),
            "type": 2,
            "response_message_id": body["resource"]["message"]["id"],
            "response_message_loading": False,
            "response_message_ephemeral": False,
        }
        assert body["resource"]["type"] == 4 and body["resource"]["message"]["content"] == "hi"
        async with http.post(callback, json={"type": 5}) as r:
            assert (r.status, (await r.json())["code"]) == (400, 40060)
        async with http.post(
            f"{base}/interactions/{ix.id}/not-the-token/callback", json={"type": 4}
        ) as r:
            assert (r.status, (await r.json())["code"]) == (404, 10062)
        async with http.patch(
            f"{base}/webhooks/{app}/{ix.token}/messages/@original", json={"content": "edited"}
        ) as r:
            assert r.status == 200
    assert [h.content for h in ix.original.history] == ["hi", "edited"]
    assert [r.code for r in ix.rejected] == [50035, 40060]
