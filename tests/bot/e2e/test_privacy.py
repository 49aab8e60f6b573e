"""Privacy: jobs from a channel a member cannot see stay invisible to them;
`/ltx show` of someone else's job (or in another channel) answers privately."""

from __future__ import annotations

import pytest

from tests.bot.e2e import _media
from tests.bot.e2e._helpers import reply_text, run_command, submit, wait_result
from tests.bot.e2e.conftest import SMALL, running_world

SEE = ["view_channel", "read_message_history"]


@pytest.fixture
async def idle_world(runtime, e2e_dir, tmp_path):
    async with running_world(runtime, e2e_dir, tmp_path, start_engine=False) as w:
        yield w


async def hide_other_channel(w) -> None:
    """#random becomes a mods-only channel (bob and the bot may post there too)."""
    ch = w.other_channel
    w.fake.set_overwrite(ch, w.guild.everyone, deny=SEE)
    w.fake.set_overwrite(ch, w.mods, allow=SEE)
    for user in (w.bob, w.fake.bot):
        w.fake.set_overwrite(ch, user, allow=[*SEE, "send_messages"])

    def cached() -> bool:
        channel = w.bot.get_channel(ch.id)
        return channel is not None and len(channel.overwrites) == 4

    await w.fake.wait_for(cached, 10, "the bot's cache of the overwrites")


async def test_queue_lists_only_jobs_from_channels_the_member_can_see(idle_world):
    w = idle_world
    await hide_other_channel(w)
    public = await submit(w, w.alice, "t2v", {"prompt": "out in the open", **SMALL})
    secret = await submit(
        w, w.bob, "t2v", {"prompt": "mods only", **SMALL}, channel=w.other_channel
    )
    text = await reply_text(await run_command(w, w.alice, "queue"))
    assert f"`{public}`" in text and f"`{secret}`" not in text, text
    assert f"<@{w.bob.id}>" not in text
    assert "1 more in channels you cannot see" in text
    text = await reply_text(await run_command(w, w.mod, "queue"))
    assert f"`{public}`" in text and f"`{secret}`" in text, text
    text = await reply_text(await run_command(w, w.bob, "queue", channel=w.other_channel))
    assert f"`{secret}`" in text and "yours" in text

    text = await reply_text(await run_command(w, w.alice, "show", {"job": secret}))
    assert f"no job `{secret}`" in text  # as if it did not exist
    assert "mods only" not in text


async def test_show_of_another_members_job_or_in_another_channel_is_private(world):
    w = world
    job_id = await submit(w, w.alice, "t2v", {"prompt": "mine", **SMALL})
    await wait_result(w, job_id)
    await w.drain()
    posts_before = len([m for m in w.fake.messages() if not m.ephemeral])

    for user, channel in ((w.bob, w.channel), (w.bob, w.other_channel), (w.alice, w.other_channel)):
        ix = await run_command(w, user, "show", {"job": job_id}, channel=channel)
        assert ix.callback.type == 5 and ix.callback.data["flags"] & 64  # private from the start
        (msg,) = await ix.wait_followups(1, timeout=20)
        assert msg.ephemeral, (user.name, channel.name)
        assert _media.decode_mp4(msg.attachments[0].data)["video_codec"] == "h264"
    assert len([m for m in w.fake.messages() if not m.ephemeral]) == posts_before

    # The member's own job, in its own channel: brought back publicly there.
    ix = await run_command(w, w.alice, "show", {"job": job_id})
    (msg,) = await ix.wait_followups(1, timeout=20)
    assert not msg.ephemeral and msg.channel_id == w.channel.id


async def test_a_channel_where_the_bot_cannot_post_is_refused_before_the_ack(idle_world):
    w = idle_world
    w.fake.set_overwrite(w.channel, w.fake.bot, deny=["attach_files", "embed_links"])
    ix = await run_command(w, w.alice, "t2v", {"prompt": "nowhere to go", **SMALL})
    assert ix.callback.type == 4 and ix.callback.data["flags"] & 64  # refused, not deferred
    text = await reply_text(ix)
    assert "cannot post videos in this channel" in text
    assert "embed links" in text and "attach files" in text
    assert await w.store.list() == []
    # Another channel is fine.
    await submit(w, w.alice, "t2v", {"prompt": "here", **SMALL}, channel=w.other_channel)
