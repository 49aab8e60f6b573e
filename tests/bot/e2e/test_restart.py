"""Crashes: the bot process is killed with SIGKILL and started again against the
same fake Discord and data dir. Each result must reach Discord exactly once.

The narrowest window (Discord accepted the post, the store has not recorded it)
is hit deterministically in-process, by leaving the store in exactly the state
such a crash leaves.

The processes run the real CLI (`ltx-bot run`, i.e. `ltxbot.app.App`), so each
boots its own ComfyUI; the test drives users through the fake and reads the
store only while no bot runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from pathlib import Path

import pytest

from engine.jobs import JobStatus, JobStore
from tests.bot.e2e._helpers import (
    OneMemberWorld,
    results_of,
    submit,
    wait_job,
    wait_result,
)
from tests.bot.e2e._process import BOOT_S, BotProcess
from tests.bot.e2e.conftest import SMALL, WORKFLOWS, running_world
from tests.fakes.discord import FakeDiscord

pytestmark = pytest.mark.slow

LONG = {"width": 512, "height": 512, "duration_s": 6.0, "fps": 48}


def results_on_wire(fake: FakeDiscord, job_id: str) -> list:
    """Accepted posts that delivered `job_id`'s video."""
    return [
        c
        for c in fake.calls("POST", "/channels/{channel_id}/messages")
        if c.status == 200 and f"`{job_id}`" in ((c.json or {}).get("content") or "") and c.files
    ]


async def open_store(data_dir: Path) -> JobStore:
    return await JobStore.open(data_dir / "ltxbot.sqlite3")


async def wait_status(store: JobStore, job_id: str, status: JobStatus) -> None:
    async with asyncio.timeout(90):
        while True:
            job = await store.get(job_id)
            if job is not None and job.status is status:
                return
            await asyncio.sleep(0.05)


async def test_sigkill_at_every_state_then_restart_delivers_each_result_once(tmp_path):
    data_dir = tmp_path / "data"
    async with FakeDiscord() as fake:
        w = OneMemberWorld(fake, "Crashes")
        env = {
            **os.environ,
            **fake.bot_env(),
            "LTXBOT_DATA_DIR": str(data_dir),
            "LTXBOT_WORKFLOWS_DIR": str(WORKFLOWS),
            "LTXBOT_DEVICE": "cpu",
            "LTXBOT_MAX_WIDTH": "512",
            "LTXBOT_MAX_HEIGHT": "512",
            "LTXBOT_MAX_DURATION_S": "10",
            "LTXBOT_MAX_QUEUED_PER_USER": "10",
        }
        bots = [BotProcess(env, tmp_path / f"bot{i}.log") for i in range(2)]
        try:
            # --- first life: one job per state, then SIGKILL ---------------------------
            await bots[0].start()
            await fake.wait_for_ready(BOOT_S)
            delivered = await submit(w, w.alice, "t2v", {"prompt": "z", **SMALL})
            await wait_result(w, delivered)
            undelivered = await submit(w, w.alice, "t2v", {"prompt": "a", **LONG})
            running = await submit(w, w.alice, "t2v", {"prompt": "c", **LONG})
            queued = await submit(w, w.alice, "t2v", {"prompt": "d", **SMALL})
            # Every card is up; the next channel post (the first long job's result)
            # is held by a long 429, as if Discord were slow to accept it.
            hold = fake.rate_limit("POST", r"/channels/\d+/messages$", retry_after=300)
            await fake.wait_for(lambda: hold.hits, 90, "the held result post")
            store = await open_store(data_dir)  # a reader beside the bot (WAL)
            try:
                await wait_status(store, running, JobStatus.RUNNING)
                await bots[0].kill()
                states = {j.id: j for j in await store.list()}
            finally:
                await store.close()
            assert states[delivered].result_message_id is not None
            assert states[undelivered].status is JobStatus.SUCCEEDED
            assert states[undelivered].result_message_id is None
            assert states[running].status is JobStatus.RUNNING
            assert states[queued].status is JobStatus.QUEUED

            # --- second life: recovery delivers, requeues, runs the rest --------------
            fake.rate_limits.clear()
            await bots[1].start()
            await fake.wait_for_ready(BOOT_S, sessions=2)
            for job_id in (undelivered, running, queued):
                await wait_result(w, job_id)

            await asyncio.sleep(1.0)  # room for a wrong second post to show up
        finally:
            for bot in bots:
                await bot.kill()

        store = await open_store(data_dir)
        try:
            final = {j.id: j for j in await store.list()}
        finally:
            await store.close()
        for job_id in (delivered, undelivered, running, queued):
            assert len(results_on_wire(fake, job_id)) == 1, job_id
            (result,) = results_of(w, job_id)
            assert final[job_id].result_message_id == result.id
            cards = [m for m in fake.messages() if m.embeds and job_id in m.embeds[0]["title"]]
            assert len(cards) == 1, job_id
        assert final[running].attempts == 2  # requeued once, run again
        # The job keeps why it ran again; the card shows it while the job is
        # queued or running (tests/bot/cards), though a run that ends before
        # the card's next edit goes straight to Done: edits coalesce, the
        # latest state wins, so no wire-level check of that edit here.
        assert final[running].note == "restarted"  # the card: "... back in the queue."


async def test_restart_finds_a_result_that_reached_discord_but_not_the_store(
    runtime, e2e_dir, tmp_path
):
    """The crash window closed deterministically: the post is in the channel, the
    store has no record of it. On restart the bot finds its reply to the card
    in the channel's history and records it instead of posting again."""
    async with FakeDiscord() as fake:
        async with running_world(runtime, e2e_dir, tmp_path, fake=fake) as first:
            job_id = await submit(first, first.alice, "t2v", {"prompt": "once", **SMALL})
            result = await wait_result(first, job_id)
            await first.drain()
        db = sqlite3.connect(tmp_path / "jobs.sqlite3")  # the state such a crash leaves
        with contextlib.closing(db), db:
            db.execute("UPDATE jobs SET result_message_id = NULL WHERE id = ?", (job_id,))
        calls_before = len(fake.requests)

        async with running_world(runtime, e2e_dir, tmp_path, again=first) as second:
            job = await wait_job(second, job_id, lambda j: j.result_message_id is not None)
            await second.drain()
        assert job.result_message_id == result.id
        assert len(results_of(second, job_id)) == 1
        later = fake.requests[calls_before:]
        assert not [c for c in later if c.method == "POST" and "/messages" in c.path]
        assert any(c.method == "GET" and c.path.endswith("/messages") for c in later)


async def test_recovery_finds_the_result_behind_any_amount_of_chat(runtime, e2e_dir, tmp_path):
    """The crash window again, in a busy channel: 250 messages between the card
    and the result. The result must still be found, not posted a second time."""
    from tests.fakes.discord._validate import MessageBody

    async with FakeDiscord() as fake:
        async with running_world(
            runtime, e2e_dir, tmp_path, fake=fake, start_engine=False
        ) as first:
            job_id = await submit(first, first.alice, "t2v", {"prompt": "busy", **SMALL})
            await wait_job(first, job_id, lambda j: j.card_message_id is not None)
            for i in range(250):
                body = MessageBody({"content": f"chat {i}"}, None, ())
                fake.create_message(first.channel, body, author=first.bob)
            engine = asyncio.create_task(first.engine.worker.run_forever())
            try:
                result = await wait_result(first, job_id)
                await first.drain()
            finally:
                engine.cancel()
                await asyncio.gather(engine, return_exceptions=True)
        db = sqlite3.connect(tmp_path / "jobs.sqlite3")
        with contextlib.closing(db), db:
            db.execute("UPDATE jobs SET result_message_id = NULL WHERE id = ?", (job_id,))
        calls_before = len(fake.requests)

        async with running_world(runtime, e2e_dir, tmp_path, again=first) as second:
            job = await wait_job(second, job_id, lambda j: j.result_message_id is not None)
            await second.drain()
        assert job.result_message_id == result.id
        later = fake.requests[calls_before:]
        assert not [c for c in later if c.method == "POST" and "/messages" in c.path]


async def test_a_post_refused_with_403_is_given_up_for_good(runtime, e2e_dir, tmp_path):
    async with FakeDiscord() as fake:
        async with running_world(runtime, e2e_dir, tmp_path, fake=fake) as w:
            job_id = await submit(w, w.alice, "t2v", {"prompt": "no posting", **SMALL})
            await wait_job(w, job_id, lambda j: j.card_message_id is not None)
            fake.set_overwrite(w.channel, fake.bot, deny=["send_messages"])
            job = await wait_job(w, job_id, lambda j: j.result_message_id is not None)
            await w.drain()
        assert job.status is JobStatus.SUCCEEDED and job.result_message_id == 0
        assert not results_of(w, job_id)
        refused = len(fake.calls("POST", "/channels/{channel_id}/messages", status=403))
        assert refused == 1
        async with running_world(runtime, e2e_dir, tmp_path, again=w) as again:
            await again.drain()
            await asyncio.sleep(0.5)
        assert len(fake.calls("POST", "/channels/{channel_id}/messages", status=403)) == 1
