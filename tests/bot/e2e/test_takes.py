"""Variations and Final on a result, end to end on the wire-level fake.

Each is pressed by the owner, another member (refused) and an admin; each is
refused before anything is queued when the queue is paused, the member is
banned, or the quota or queue cap has no room; and both work on a result
posted by a previous life of the bot.
"""

from __future__ import annotations

import re

from engine.jobs import JobStatus, QuotaScope
from tests.bot.e2e._helpers import card_of, reply_text, submit, wait_job, wait_result
from tests.bot.e2e.conftest import SMALL, running_world
from tests.fakes.discord import FakeDiscord


def job_ids(text: str) -> list[str]:
    return re.findall(r"job `([a-z0-9]+)`", text)


def without_seed(params) -> dict:
    return {k: v for k, v in params.items() if k != "seed"}


async def vary(world, user, result, job_id: str, count: int) -> str:
    ix = await world.fake.click(user, result, f"ltx:vary:{job_id}", values=[str(count)])
    await ix.response()
    assert ix.latency < 1.5
    return await reply_text(ix)


async def final(world, user, result, job_id: str) -> str:
    ix = await world.fake.click(user, result, f"ltx:final:{job_id}")
    await ix.response()
    assert ix.latency < 1.5
    return await reply_text(ix)


async def test_variations_owner_gets_n_takes_each_a_reply_to_the_parent(world):
    first = await submit(world, world.alice, "t2v", {"prompt": "a heron", "seed": 11, **SMALL})
    result = await wait_result(world, first)

    assert "belongs to" in await vary(world, world.bob, result, first, 2)
    assert len(await world.store.list()) == 1

    takes = job_ids(await vary(world, world.alice, result, first, 2))
    assert len(takes) == 2
    for take in takes:
        await wait_result(world, take)
    await world.drain()
    parent = await world.store.get(first)
    children = [await world.store.get(t) for t in takes]
    seeds = {parent.params["seed"], *(c.params["seed"] for c in children)}
    assert len(seeds) == 3  # a new seed each
    for child in children:
        assert child.retry_of == first and child.user_id == world.alice.id
        assert child.status is JobStatus.SUCCEEDED
        assert without_seed(child.params) == without_seed(parent.params)
        # The take's card replies to the parent's result: the thread reads down.
        assert card_of(world, child.id).message_reference["message_id"] == str(result.id)

    (by_admin,) = job_ids(await vary(world, world.mod, result, first, 1))
    job = await wait_job(world, by_admin, lambda j: j.terminal)
    assert job.user_id == world.mod.id and job.retry_of == first  # the admin's quota
    await world.drain()


async def test_variations_beyond_the_quota_queue_none(world):
    first = await submit(world, world.alice, "t2v", {"prompt": "a fern", **SMALL})
    result = await wait_result(world, first)
    await world.drain()

    await world.store.set_quota(
        world.guild.id, QuotaScope.USER, world.alice.id, jobs_per_day=3, gpu_seconds_per_day=None
    )
    text = await vary(world, world.alice, result, first, 4)
    assert "4 takes" in text and "daily quota" in text and "room for 2" in text, text
    assert len(await world.store.list()) == 1  # none queued

    await world.store.set_quota(
        world.guild.id, QuotaScope.USER, world.alice.id, jobs_per_day=1, gpu_seconds_per_day=None
    )
    text = await vary(world, world.alice, result, first, 1)  # no room at all
    assert "quota" in text and "resets <t:" in text, text
    assert len(await world.store.list()) == 1


async def test_variations_beyond_the_queue_cap_queue_none(runtime, e2e_dir, tmp_path):
    async with running_world(runtime, e2e_dir, tmp_path, max_queued_per_user=3) as w:
        first = await submit(w, w.alice, "t2v", {"prompt": "a moss", **SMALL})
        result = await wait_result(w, first)
        await w.drain()
        text = await vary(w, w.alice, result, first, 4)
        assert "4 takes" in text and "queue cap" in text and "room for 3" in text, text
        assert len(await w.store.list()) == 1
        takes = job_ids(await vary(w, w.alice, result, first, 3))  # what fits, fits
        assert len(takes) == 3
        await w.drain()


async def test_variations_and_final_refused_when_paused_or_banned(world):
    first = await submit(world, world.alice, "t2v", {"prompt": "a gate", **SMALL})
    result = await wait_result(world, first)
    await world.drain()

    await world.store.update_guild_settings(world.guild.id, paused=True)
    assert "paused" in await vary(world, world.alice, result, first, 2)
    assert "paused" in await final(world, world.mod, result, first)
    await world.store.update_guild_settings(world.guild.id, paused=False)

    await world.store.ban(world.guild.id, world.alice.id, reason="spam")
    assert "banned" in await vary(world, world.alice, result, first, 1)
    assert "banned" in await final(world, world.alice, result, first)
    assert len(await world.store.list()) == 1


async def test_final_keeps_seed_and_prompt_at_quality_and_larger(world):
    first = await submit(world, world.alice, "t2v", {"prompt": "a lantern", "seed": 5, **SMALL})
    result = await wait_result(world, first)

    assert "belongs to" in await final(world, world.bob, result, first)
    text = await final(world, world.alice, result, first)
    (take,) = job_ids(text)
    assert "Quality" in text
    final_result = await wait_result(world, take)
    await world.drain()
    parent, job = await world.store.get(first), await world.store.get(take)
    assert job.status is JobStatus.SUCCEEDED and job.retry_of == first
    assert job.params["seed"] == parent.params["seed"] == 5
    assert job.params["prompt"] == parent.params["prompt"]
    assert job.params["preset"] == "quality"
    assert job.params["width"] > parent.params["width"]
    assert job.params["height"] > parent.params["height"]
    assert card_of(world, take).message_reference["message_id"] == str(result.id)

    # An admin may press it too; the server's maxima bound the size.
    await world.store.update_guild_settings(world.guild.id, max_width=320, max_height=320)
    (by_admin,) = job_ids(await final(world, world.mod, final_result, take))
    job = await wait_job(world, by_admin, lambda j: j.terminal)
    assert job.user_id == world.mod.id and job.params["width"] <= 320
    assert job.params["height"] <= 320
    await world.drain()


async def test_final_refused_when_the_quota_is_spent(world):
    first = await submit(world, world.alice, "t2v", {"prompt": "a comet", **SMALL})
    result = await wait_result(world, first)
    await world.drain()
    await world.store.set_quota(
        world.guild.id, QuotaScope.USER, world.alice.id, jobs_per_day=1, gpu_seconds_per_day=None
    )
    assert "quota" in await final(world, world.alice, result, first)
    assert len(await world.store.list()) == 1


async def test_variations_and_final_work_after_a_restart(runtime, e2e_dir, tmp_path):
    """The result was posted by a previous life of the bot; its components are
    parsed back from their custom ids by the new one."""
    async with FakeDiscord() as fake:
        async with running_world(runtime, e2e_dir, tmp_path, fake=fake) as first_life:
            job_id = await submit(first_life, first_life.alice, "t2v", {"prompt": "owl", **SMALL})
            result = await wait_result(first_life, job_id)
            await first_life.drain()
        async with running_world(runtime, e2e_dir, tmp_path, again=first_life) as w:
            assert "belongs to" in await vary(w, w.bob, result, job_id, 1)
            takes = job_ids(await vary(w, w.alice, result, job_id, 2))
            (final_take,) = job_ids(await final(w, w.mod, result, job_id))
            for take in [*takes, final_take]:
                await wait_result(w, take)
            await w.drain()
            assert len(takes) == 2
            for take in [*takes, final_take]:
                assert (await w.store.get(take)).retry_of == job_id
            assert (await w.store.get(final_take)).user_id == w.mod.id
