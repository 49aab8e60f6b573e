"""The command tree as synced, validation before acknowledgement, and the
non-generating /ltx commands (queue, cancel, show, quota)."""

from __future__ import annotations

import contextlib

import pytest

from engine.jobs import JobStatus, QuotaScope
from tests.bot.e2e import _media
from tests.bot.e2e._helpers import (
    card_of,
    card_status,
    custom_ids,
    job_id_in,
    reply_text,
    result_ids,
    run_command,
    submit,
    wait_card,
    wait_job,
    wait_result,
)
from tests.bot.e2e.conftest import SMALL, running_world

ATTACHMENT, SUB_COMMAND, SUB_COMMAND_GROUP = 11, 1, 2


@pytest.fixture
async def idle_world(runtime, e2e_dir, tmp_path):
    """A world whose engine does not run jobs: they stay queued."""
    async with running_world(runtime, e2e_dir, tmp_path, start_engine=False) as w:
        yield w


def options_of(command: dict, sub: str) -> dict[str, dict]:
    (leaf,) = [o for o in command["options"] if o["name"] == sub]
    return {o["name"]: o for o in leaf.get("options", [])}


async def test_synced_tree_has_typed_described_bounded_options(world):
    ltx = world.fake.command("ltx")
    subs = {o["name"]: o["type"] for o in ltx["options"]}
    assert subs == {
        name: SUB_COMMAND
        for name in (
            "t2v", "a2v", "i2v", "lipsync", "keyframe", "style", "queue", "cancel", "show",
            "quota", "settings", "history",
        )
    }  # fmt: skip
    for sub in ltx["options"]:
        assert sub["description"]
        for option in sub.get("options", []):
            assert option["description"], (sub["name"], option["name"])

    t2v = options_of(ltx, "t2v")
    assert t2v["prompt"]["required"] and t2v["prompt"]["max_length"] == 2000
    assert (t2v["width"]["min_value"], t2v["width"]["max_value"]) == (256, 512)  # settings
    assert t2v["duration_s"]["max_value"] == 5.0
    assert [c["value"] for c in t2v["preset"]["choices"]] == ["fast", "balanced", "quality"]
    keyframe = options_of(ltx, "keyframe")
    assert keyframe["first_image"]["type"] == ATTACHMENT and keyframe["first_image"]["required"]
    assert "duration_s" not in options_of(ltx, "style")
    assert options_of(ltx, "show")["job"]["autocomplete"] is True

    admin = world.fake.command("ltxadmin")
    assert admin["default_member_permissions"] == str(1 << 5)  # Manage Server
    assert admin["dm_permission"] is False  # guild only
    groups = {o["name"]: o["type"] for o in admin["options"]}
    assert groups["quota"] == SUB_COMMAND_GROUP and groups["pause"] == SUB_COMMAND
    assert groups["rule"] == SUB_COMMAND_GROUP
    assert {"agegate", "reports", "log", "retention", "audit"} <= set(groups)
    rule = {o["name"]: o for o in admin["options"] if o["name"] == "rule"}["rule"]
    assert {o["name"] for o in rule["options"]} == {"add", "remove", "list", "test"}

    def described(option: dict, path: str) -> None:
        assert option["description"], path
        for child in option.get("options", []):
            described(child, f"{path} {child['name']}")

    described(admin, "ltxadmin")  # every group, subcommand and option


async def test_bad_values_are_refused_ephemerally_before_any_acknowledgement(world):
    await world.store.update_guild_settings(world.guild.id, max_width=256, max_duration_s=1.0)
    ix = await run_command(world, world.alice, "t2v", {"prompt": "x", "width": 512})
    assert ix.callback.type == 4  # an answer, not a deferral
    text = await reply_text(ix)
    assert "**width**" in text and "`512`" in text and "256..256" in text

    ix = await run_command(world, world.alice, "t2v", {"prompt": "x", "duration_s": 3.0})
    assert "duration_s" in await reply_text(ix) and "at most 1 s" in await reply_text(ix)

    text_file = {"image": ("notes.txt", b"not an image", "text/plain")}
    ix = await run_command(world, world.alice, "i2v", {"prompt": "x"}, attachments=text_file)
    assert ix.callback.type == 4
    assert "**image** was refused" in await reply_text(ix) and "PNG" in await reply_text(ix)
    assert world.fake.cdn_fetches == []  # refused on its declared type: never downloaded

    # A PNG that is not one is found out after the download, then refused too.
    broken = {"image": ("cat.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")}
    ix = await run_command(world, world.alice, "i2v", {"prompt": "x", **SMALL}, attachments=broken)
    assert ix.callback.type == 5
    assert "**image** was refused" in await reply_text(ix)

    assert await world.store.list() == []  # nothing was queued
    assert [m for m in world.fake.messages(world.channel) if not m.ephemeral] == []


async def test_queue_shows_positions_and_cancel_removes_a_waiting_job(idle_world):
    w = idle_world
    first = await submit(w, w.alice, "t2v", {"prompt": "one", **SMALL})
    second = await submit(w, w.bob, "t2v", {"prompt": "two", **SMALL})
    card = await wait_card(w, second, lambda c: "position **2**" in card_status(c.embeds))
    assert "<t:" in card_status(card.embeds)

    text = await reply_text(await run_command(w, w.alice, "queue"))
    lines = text.splitlines()
    assert f"`{first}`" in lines[0] and "#1" in lines[0] and "yours" in lines[0]
    assert f"`{second}`" in lines[1] and "#2" in lines[1] and f"<@{w.bob.id}>" in lines[1]

    # Bob may not cancel Alice's job; Alice cancels her latest without naming it.
    text = await reply_text(await run_command(w, w.bob, "cancel", {"job": first}))
    assert "belongs to" in text
    text = await reply_text(await run_command(w, w.alice, "cancel"))
    assert text == f"Job `{first}` is cancelled."
    card = await wait_card(w, first, lambda c: "Cancelled" in card_status(c.embeds))
    assert card.components == []
    job = await wait_job(w, first, lambda j: j.result_message_id is not None)
    assert job.status is JobStatus.CANCELLED and job.result_message_id == card.id
    quota = await w.store.quota_status(w.guild.id, w.alice.id, [])
    assert quota.used_jobs == 0  # cancelled before it started: refunded


async def test_quota_command_shows_remaining_and_reset(world):
    await world.store.set_quota(
        world.guild.id, QuotaScope.GUILD, None, jobs_per_day=2, gpu_seconds_per_day=None
    )
    job_id = await submit(world, world.alice, "t2v", {"prompt": "one", **SMALL})
    await wait_result(world, job_id)
    text = await reply_text(await run_command(world, world.alice, "quota"))
    assert "1 used, 1 left of 2" in text and "<t:" in text and ":R>" in text

    await submit(world, world.alice, "t2v", {"prompt": "two", **SMALL})
    ix = await run_command(world, world.alice, "t2v", {"prompt": "three", **SMALL})
    assert ix.callback.type == 5 and ix.callback.data["flags"] & 64  # private from the start
    text = await reply_text(ix)
    assert "daily job quota (2 of 2)" in text and "resets <t:" in text
    await world.drain()


async def test_show_brings_back_a_result_with_its_retry_button(world):
    job_id = await submit(world, world.alice, "t2v", {"prompt": "again", **SMALL})
    await wait_result(world, job_id)
    await world.drain()
    ix = await run_command(world, world.alice, "show", {"job": job_id})
    assert ix.callback.type == 5
    (msg,) = await ix.wait_followups(1, timeout=20)
    assert not msg.ephemeral and f"`{job_id}`" in msg.content
    assert _media.decode_mp4(msg.attachments[0].data)["video_codec"] == "h264"
    assert custom_ids(msg.components) == result_ids(job_id)

    text = await reply_text(await run_command(world, world.alice, "show", {"job": "nope1234"}))
    assert "no job `nope1234`" in text


async def test_show_of_an_unfinished_job_is_its_card(idle_world):
    job_id = await submit(idle_world, idle_world.alice, "t2v", {"prompt": "wait", **SMALL})
    ix = await run_command(idle_world, idle_world.alice, "show", {"job": job_id})
    assert ix.callback.type == 4 and ix.callback.data["flags"] & 64
    (embed,) = ix.callback.data["embeds"]
    assert embed["title"].endswith(f"job {job_id}") and "Queued" in str(embed["fields"])
    with contextlib.suppress(AssertionError):
        card_of(idle_world, job_id)


async def test_a_slow_card_does_not_hold_the_queued_reply(idle_world):
    w = idle_world
    # Discord holds the card's post (a 429 of 3 s on channel messages).
    hold = w.fake.rate_limit("POST", r"/channels/\d+/messages$", retry_after=3.0)
    ix = await run_command(w, w.alice, "t2v", {"prompt": "patience", **SMALL})
    (reply,) = await ix.wait_followups(1, timeout=20)
    # The followup fills the deferral's "thinking" placeholder: its first text.
    first = next(r.content for r in reply.history if r.content)
    assert first.startswith("Queued as job") and "https://" not in first
    job_id = job_id_in(first)
    await w.fake.wait_for(lambda: "https://" in reply.content, 30, "the card link edit")
    card = card_of(w, job_id)
    assert reply.content.endswith(f"/{card.id}")
    assert hold.hits and reply.ephemeral
