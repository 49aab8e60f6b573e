"""Answers that cost the bot more than the member: bounded per member.

A refusal reply to 🔁 is a channel message; `/ltx show` of a finished job is a
video re-encode. Neither may be had without limit, and two shows of one job at
once must each get their own, whole file."""

from __future__ import annotations

import asyncio

from bot.ltx.cog import SHOWS_PER_WINDOW
from tests.bot.e2e import _media
from tests.bot.e2e._helpers import reply_text, run_command, submit, wait_result
from tests.bot.e2e.conftest import SMALL


def refusals_to(world, user) -> list:
    return [m for m in world.fake.messages(world.channel) if m.content.startswith(f"<@{user.id}>")]


async def test_refusals_of_retry_reactions_are_replied_once_per_window(world):
    w = world
    job_id = await submit(w, w.alice, "t2v", {"prompt": "a drum", **SMALL})
    result = await wait_result(w, job_id)
    await w.drain()

    for _ in range(4):  # bob 🔁s alice's result again and again
        assert await w.fake.react(w.bob, result, "🔁")
        await w.fake.wait_for_message(
            lambda m: m.content.startswith(f"<@{w.bob.id}>"), channel=w.channel
        )
        result.reactions["🔁"].remove(w.bob.id)  # he takes it back, to react again
    await asyncio.sleep(0.5)
    await w.drain()
    (refusal,) = refusals_to(w, w.bob)
    assert "belongs to" in refusal.content
    assert len(await w.store.list()) == 1  # and nothing was queued


async def test_show_re_encodes_are_bounded_per_member(world):
    w = world
    job_id = await submit(w, w.alice, "t2v", {"prompt": "a bell", **SMALL})
    await wait_result(w, job_id)
    await w.drain()
    for _ in range(SHOWS_PER_WINDOW):
        ix = await run_command(w, w.alice, "show", {"job": job_id})
        (msg,) = await ix.wait_followups(1, timeout=20)
        assert msg.attachments, msg.content
    ix = await run_command(w, w.alice, "show", {"job": job_id})
    text = await reply_text(ix)
    assert "You can re-post a video with /ltx show again in" in text
    # Bob has his own allowance.
    ix = await run_command(w, w.bob, "show", {"job": job_id})
    (msg,) = await ix.wait_followups(1, timeout=20)
    assert msg.attachments and msg.ephemeral


async def test_concurrent_shows_of_one_job_each_get_a_whole_video(world):
    w = world
    job_id = await submit(w, w.alice, "t2v", {"prompt": "a gong", **SMALL})
    await wait_result(w, job_id)
    await w.drain()
    shows = await asyncio.gather(
        run_command(w, w.alice, "show", {"job": job_id}),
        run_command(w, w.bob, "show", {"job": job_id}),
        run_command(w, w.mod, "show", {"job": job_id}),
    )
    for ix in shows:
        (msg,) = await ix.wait_followups(1, timeout=30)
        facts = _media.decode_mp4(msg.attachments[0].data)
        assert facts["video_codec"] == "h264", facts
    # Every temporary encode is removed once its upload returned (the bot
    # deletes it just after the fake has answered, so give it a moment).
    work_dir = w.bot.config.delivery_dir
    async with asyncio.timeout(5):
        while list(work_dir.glob("*.mp4")):  # noqa: ASYNC110 - files send no events
            await asyncio.sleep(0.02)
