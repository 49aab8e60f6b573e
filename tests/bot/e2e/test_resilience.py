"""What Discord throws at a bot: rate limits, gateway drops, uploads too large."""

from __future__ import annotations

import asyncio
from pathlib import Path

from engine.jobs import JobStatus
from tests.bot.e2e._helpers import (
    card_of,
    card_status,
    results_of,
    submit,
    wait_card,
    wait_job,
    wait_job_created,
    wait_result,
)
from tests.bot.e2e.conftest import SMALL, slow

EDIT = r"/channels/\d+/messages/\d+$"


async def test_a_429_on_a_progress_edit_is_waited_out_and_retried(world):
    rule = world.fake.rate_limit("PATCH", EDIT, retry_after=0.4)
    job_id = await submit(world, world.alice, "t2v", {"prompt": "rain", **slow()})
    await wait_result(world, job_id)
    await world.drain()
    card = card_of(world, job_id)

    patches = world.fake.calls("PATCH", "/channels/{channel_id}/messages/{message_id}")
    limited = [c for c in patches if c.status == 429]
    assert len(limited) == 1 and rule.remaining == 0 and len(rule.hits) == 1
    retry = next(c for c in patches if c.index > limited[0].index)
    assert retry.status == 200 and retry.path == limited[0].path
    assert retry.json == limited[0].json  # the same edit, sent again
    assert retry.time - limited[0].time >= 0.4
    assert "Running" in card_status(limited[0].json["embeds"])
    assert "Done" in card_status(card.embeds)
    assert len(results_of(world, job_id)) == 1


async def test_gateway_reconnect_and_drop_mid_job_lose_and_duplicate_nothing(world):
    fake = world.fake
    job_id = await submit(world, world.alice, "t2v", {"prompt": "storm", **slow()})
    await wait_card(world, job_id, lambda c: "Running" in card_status(c.embeds))
    session = fake.session
    await fake.reconnect()  # op 7: discord.py resumes
    await fake.drop_connection()  # a cut socket: discord.py resumes again
    assert fake.session is session and session.resumes >= 2

    result = await wait_result(world, job_id)
    # An event sent while the socket is down is replayed on RESUME, exactly once.
    await fake.drop_connection(wait=False)
    assert await fake.react(world.alice, result, "🔁")
    await fake.wait_for_resume(session, count=3)
    retry = await wait_job_created(world, job_id)
    await wait_result(world, retry.id)
    await world.drain()

    jobs = await world.store.list()
    assert [j.retry_of for j in jobs] == [None, job_id]
    assert all(j.status is JobStatus.SUCCEEDED for j in jobs)
    public = [m for m in fake.messages(world.channel) if not m.ephemeral]
    assert len(public) == 4  # two cards, two results: nothing lost, nothing twice
    for job in jobs:
        assert len(results_of(world, job.id)) == 1


async def test_an_upload_refused_as_too_large_is_shrunk_once_then_explained(world):
    job_id = await submit(world, world.alice, "t2v", {"prompt": "huge", **SMALL})
    world.guild.upload_limit = 600  # smaller than anything the bot can make
    job = await wait_job(world, job_id, lambda j: j.result_message_id is not None)
    await world.drain()

    posts = [
        c
        for c in world.fake.calls("POST", "/channels/{channel_id}/messages")
        if f"`{job_id}`" in ((c.json or {}).get("content") or "")
    ]
    assert [c.status for c in posts] == [413, 413, 200]
    first, smaller, note = posts
    assert first.files and smaller.files and not note.files
    (message,) = results_of(world, job_id)
    assert message.id == job.result_message_id
    assert "does not fit" in message.content and f"/ltx show job:{job_id}" in message.content
    assert await asyncio.to_thread(Path(job.result_path).is_file)  # full quality kept
