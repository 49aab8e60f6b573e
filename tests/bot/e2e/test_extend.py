"""Extend on a result, end to end on the wire-level fake.

The press opens a modal (seconds, optional prompt); its submit queues an i2v
job from the parent's last frame, and the delivered result is one video: the
parent, then the continuation less its first frame, with the parent's sound
continued. Pressed by the owner, another member (refused: no modal), an
admin; refused without a modal when the queue is paused, the member banned
or the quota spent; and working on a result posted by a previous life of the
bot.
"""

from __future__ import annotations

import io

import av

from engine.jobs import JobStatus, QuotaScope
from engine.modes import binding_values, get_mode
from tests.bot.e2e import _media
from tests.bot.e2e._helpers import card_of, job_id_in, reply_text, submit, wait_job, wait_result
from tests.bot.e2e.conftest import SMALL, running_world
from tests.fakes.discord import FakeDiscord


def decoded(data: bytes) -> tuple[int, float | None]:
    """Frames, and seconds of sound (None: no audio track)."""
    with av.open(io.BytesIO(data)) as c:
        frames = sum(1 for _ in c.decode(video=0))
    with av.open(io.BytesIO(data)) as c:
        if not c.streams.audio:
            return frames, None
        rate = c.streams.audio[0].codec_context.sample_rate
        return frames, sum(f.samples for f in c.decode(audio=0)) / rate


def frames_of(job) -> int:
    """The frames the job's own graph renders, from its stored parameters."""
    params = get_mode(job.mode).params_model.model_validate(dict(job.params))
    return binding_values(job.mode, params, dict.fromkeys(job.inputs, "in.png"))["frames"]


async def press(world, user, result, job_id: str):
    """The press; returns the interaction (its modal, or its refusal)."""
    ix = await world.fake.click(user, result, f"ltx:extend:{job_id}")
    await ix.response()
    assert ix.latency < 1.5
    return ix


async def refused(world, user, result, job_id: str) -> str:
    ix = await press(world, user, result, job_id)
    assert ix.modal is None, "a refusal opens no modal"
    return await reply_text(ix)


async def extend(world, user, result, job_id: str, seconds: str, prompt: str = "") -> str:
    """Press, fill in the modal and submit it; what the member read."""
    ix = await press(world, user, result, job_id)
    assert ix.modal is not None, ix.callback
    done = await world.fake.submit_modal(ix, {"seconds": seconds, "prompt": prompt})
    await done.response()
    assert done.latency < 1.5
    return await reply_text(done)


async def test_owner_gets_one_joined_video_with_the_parents_sound(world):
    audio = {"audio": ("beat.wav", _media.wav(1.0))}
    first = await submit(
        world, world.alice, "a2v", {"prompt": "a drum solo", **SMALL}, attachments=audio
    )
    result = await wait_result(world, first)
    parent_frames, parent_sound = decoded(result.attachments[0].data)
    assert parent_sound is not None  # a2v keeps its sound

    assert "belongs to" in await refused(world, world.bob, result, first)
    assert len(await world.store.list()) == 1

    text = await extend(world, world.alice, result, first, "1")
    assert "Extend: +1 s" in text, text
    child_id = job_id_in(text)
    joined = await wait_result(world, child_id)
    await world.drain()

    parent, child = await world.store.get(first), await world.store.get(child_id)
    assert child.status is JobStatus.SUCCEEDED, child.error_detail
    assert (child.mode, child.extends, child.retry_of) == ("i2v", first, first)
    assert child.params["prompt"] == parent.params["prompt"]  # left empty: the same
    assert (child.params["width"], child.params["height"]) == (256, 256)
    assert child.params["duration_s"] == 1.0 and child.params["seed"] != parent.params["seed"]
    assert card_of(world, child_id).message_reference["message_id"] == str(result.id)

    frames, sound = decoded(joined.attachments[0].data)
    added = frames_of(child)
    assert added > 9
    assert frames == parent_frames + added - 1, (frames, parent_frames, added)
    # One sound track over both parts (AAC pads to 1024-sample frames).
    assert sound is not None and abs(sound - frames / 24) < 0.1, (sound, frames)


async def test_admin_may_extend_with_a_new_prompt_bounded_by_the_server(world):
    first = await submit(world, world.alice, "t2v", {"prompt": "a kite", **SMALL})
    result = await wait_result(world, first)
    await world.drain()

    await world.store.update_guild_settings(world.guild.id, max_duration_s=2.0)
    text = await extend(world, world.mod, result, first, "6")
    assert "seconds" in text and "at most 2" in text, text
    assert len(await world.store.list()) == 1

    text = await extend(world, world.mod, result, first, "+2 s", prompt="the kite falls")
    child = await wait_job(world, job_id_in(text), lambda j: j.terminal)
    await world.drain()
    assert child.status is JobStatus.SUCCEEDED, child.error_detail
    assert child.user_id == world.mod.id  # counted against the admin's quota
    assert child.params["prompt"] == "the kite falls" and child.extends == first


async def test_extend_refused_when_paused_banned_or_over_quota(world):
    first = await submit(world, world.alice, "t2v", {"prompt": "a bell", **SMALL})
    result = await wait_result(world, first)
    await world.drain()

    await world.store.update_guild_settings(world.guild.id, paused=True)
    assert "paused" in await refused(world, world.alice, result, first)
    await world.store.update_guild_settings(world.guild.id, paused=False)

    await world.store.ban(world.guild.id, world.alice.id, reason="spam")
    assert "banned" in await refused(world, world.alice, result, first)
    await world.store.unban(world.guild.id, world.alice.id)

    await world.store.set_quota(
        world.guild.id, QuotaScope.USER, world.alice.id, jobs_per_day=1, gpu_seconds_per_day=None
    )
    assert "quota" in await refused(world, world.alice, result, first)
    assert len(await world.store.list()) == 1


async def test_quota_spent_between_press_and_submit_queues_nothing(world):
    """The press's check is advisory: the engine decides again at the insert."""
    first = await submit(world, world.alice, "t2v", {"prompt": "a drum", **SMALL})
    result = await wait_result(world, first)
    await world.drain()
    ix = await press(world, world.alice, result, first)
    assert ix.modal is not None
    await world.store.set_quota(
        world.guild.id, QuotaScope.USER, world.alice.id, jobs_per_day=1, gpu_seconds_per_day=None
    )
    done = await world.fake.submit_modal(ix, {"seconds": "1"})
    await done.response()
    assert "quota" in await reply_text(done)
    assert len(await world.store.list()) == 1


async def test_extend_works_after_a_restart(runtime, e2e_dir, tmp_path):
    async with FakeDiscord() as fake:
        async with running_world(runtime, e2e_dir, tmp_path, fake=fake) as first_life:
            job_id = await submit(
                first_life, first_life.alice, "t2v", {"prompt": "a moth", **SMALL}
            )
            result = await wait_result(first_life, job_id)
            parent_frames, _ = decoded(result.attachments[0].data)
            await first_life.drain()
        async with running_world(runtime, e2e_dir, tmp_path, again=first_life) as w:
            assert "belongs to" in await refused(w, w.bob, result, job_id)
            child_id = job_id_in(await extend(w, w.alice, result, job_id, "1"))
            joined = await wait_result(w, child_id)
            await w.drain()
            child = await w.store.get(child_id)
            frames, sound = decoded(joined.attachments[0].data)
            assert frames == parent_frames + frames_of(child) - 1
            assert sound is None  # neither part made sound with these workflows
