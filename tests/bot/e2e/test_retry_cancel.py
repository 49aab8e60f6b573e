"""Retry (button and 🔁) and cancel (button, running and queued) end to end."""

from __future__ import annotations

from engine.jobs import JobStatus, QuotaScope
from tests.bot.e2e._helpers import (
    card_of,
    card_status,
    job_id_in,
    reply_text,
    results_of,
    submit,
    wait_card,
    wait_job,
    wait_job_created,
    wait_result,
)
from tests.bot.e2e.conftest import SMALL, slow


async def test_retry_button_queues_the_same_job_with_a_new_seed(world):
    first = await submit(world, world.alice, "t2v", {"prompt": "a kite", "seed": 7, **SMALL})
    result = await wait_result(world, first)

    ix = await world.fake.click(world.bob, result, f"ltx:retry:{first}")
    await ix.response()
    assert "belongs to" in await reply_text(ix)  # not Bob's job

    ix = await world.fake.click(world.alice, result, f"ltx:retry:{first}")
    await ix.response()
    assert ix.callback.type == 5 and ix.latency < 1.5
    second = job_id_in(await reply_text(ix))
    retried = await wait_result(world, second)
    await world.drain()

    old, new = await world.store.get(first), await world.store.get(second)
    assert new.retry_of == first and new.status is JobStatus.SUCCEEDED
    assert new.params["seed"] != old.params["seed"]
    assert {k: v for k, v in new.params.items() if k != "seed"} == {
        k: v for k, v in old.params.items() if k != "seed"
    }
    assert retried.message_reference["message_id"] == str(card_of(world, second).id)
    assert f"from {first}" in card_of(world, second).embeds[0]["footer"]["text"]


async def test_retry_reaction_queues_again_and_refusals_are_replies(world):
    first = await submit(world, world.alice, "t2v", {"prompt": "a drum", **SMALL})
    result = await wait_result(world, first)
    await world.drain()

    assert await world.fake.react(world.bob, result, "🔁")  # not the owner: refused
    refusal = await world.fake.wait_for_message(
        lambda m: m.content.startswith(f"<@{world.bob.id}>"), channel=world.channel
    )
    assert "belongs to" in refusal.content
    assert refusal.message_reference["message_id"] == str(result.id)

    assert await world.fake.react(world.alice, result, "🔁")
    retry = await wait_job_created(world, first)
    await wait_result(world, retry.id)
    await world.drain()
    assert (await world.store.get(retry.id)).user_id == world.alice.id

    # Quotas apply to retries: with the day's quota spent, 🔁 is refused with the reset time.
    await world.store.set_quota(
        world.guild.id, QuotaScope.USER, world.alice.id, jobs_per_day=2, gpu_seconds_per_day=None
    )
    second_result = results_of(world, retry.id)[0]
    assert await world.fake.react(world.alice, second_result, "🔁")
    refusal = await world.fake.wait_for_message(
        lambda m: "quota" in m.content and m.content.startswith(f"<@{world.alice.id}>"),
        channel=world.channel,
    )
    assert "resets <t:" in refusal.content
    assert len(await world.store.list()) == 2


async def test_cancel_button_stops_a_running_job(world):
    job_id = await submit(world, world.alice, "t2v", {"prompt": "long", **slow()})
    card = await wait_card(world, job_id, lambda c: "Running" in card_status(c.embeds))

    ix = await world.fake.click(world.bob, card, f"ltx:cancel:{job_id}")
    await ix.response()
    assert "belongs to" in await reply_text(ix)

    ix = await world.fake.click(world.mod, card, f"ltx:cancel:{job_id}")  # an admin may
    await ix.response()
    assert ix.latency < 1.5
    text = await reply_text(ix)
    assert f"`{job_id}`" in text and ("Stopping" in text or "cancelled" in text)

    card = await wait_card(world, job_id, lambda c: "Cancelled" in card_status(c.embeds))
    assert card.components == []
    job = await wait_job(world, job_id, lambda j: j.result_message_id is not None)
    assert job.status is JobStatus.CANCELLED
    await world.drain()
    assert results_of(world, job_id) == []  # no video for a cancelled job


async def test_cancel_button_on_a_queued_job(world):
    running = await submit(world, world.alice, "t2v", {"prompt": "long", **slow()})
    queued = await submit(world, world.alice, "t2v", {"prompt": "next", **SMALL})
    card = await wait_card(world, queued, lambda c: "Queued" in card_status(c.embeds))

    ix = await world.fake.click(world.alice, card, f"ltx:cancel:{queued}")
    await ix.response()
    assert await reply_text(ix) == f"Job `{queued}` is cancelled."
    await wait_card(world, queued, lambda c: "Cancelled" in card_status(c.embeds))
    await wait_result(world, running)
    await world.drain()
    assert (await world.store.get(queued)).started_at is None  # never ran
    assert results_of(world, queued) == []
