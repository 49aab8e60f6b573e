"""Generation commands end to end: every mode, the card's life, the delivered video."""

from __future__ import annotations

import asyncio
import itertools
import secrets

import pytest

from engine.jobs import JobStatus
from engine.media import lookup
from tests.bot.e2e import _media
from tests.bot.e2e._helpers import (
    card_of,
    card_status,
    custom_ids,
    embed_fields,
    result_ids,
    results_of,
    submit,
    wait_card,
    wait_result,
)
from tests.bot.e2e.conftest import EDIT_INTERVAL_S, SMALL, slow

SIZE = {k: SMALL[k] for k in ("width", "height", "fps")}
MODES = {
    "t2v": ({"prompt": "a red fox", **SMALL}, {}),
    "a2v": ({"prompt": "a drum solo", **SMALL}, {"audio": ("beat.wav", _media.wav(1.0))}),
    "i2v": ({"prompt": "the cube spins", **SMALL}, {"image": ("cube.png", _media.png())}),
    "lipsync": (
        SMALL,
        {"image": ("face.png", _media.png(64, 96)), "audio": ("speech.wav", _media.wav(1.0))},
    ),
    "keyframe": (
        SMALL,
        {
            "first_image": ("a.png", _media.png(colour=(0, 0, 255))),
            "last_image": ("b.png", _media.png(colour=(255, 255, 0))),
        },
    ),
    "style": (
        SIZE,
        {"style_image": ("look.png", _media.png()), "video": ("clip.mp4", _media.mp4(1.0))},
    ),
}


@pytest.mark.parametrize("mode", list(MODES))
async def test_every_mode_delivers_a_playable_video_replying_to_its_card(world, mode):
    options, attachments = MODES[mode]
    job_id = await submit(world, world.alice, mode, dict(options), attachments=attachments)
    # Attachments were fetched from the CDN at submit time, each exactly once.
    assert len(world.fake.cdn_fetches) == len(attachments)

    result = await wait_result(world, job_id)
    await world.drain()
    card = card_of(world, job_id)

    assert result.message_reference["message_id"] == str(card.id)
    assert f"<@{world.alice.id}>" in result.content
    assert result.allowed_mentions == {"parse": [], "users": [world.alice.id]}
    assert result.nonce == f"ltx-{job_id}", result.content
    assert custom_ids(result.components) == result_ids(job_id), result.content
    assert result.reactions == {"🔁": [world.fake.bot.id]}
    (video,) = result.attachments
    info = _media.decode_mp4(video.data)
    assert (info["video_codec"], info["pix_fmt"]) == ("h264", "yuv420p")
    assert (info["width"], info["height"]) == (256, 256)
    assert info["frames"] >= 9

    # The card ends "Done" with no Cancel button; the store knows both messages.
    assert "Done" in card_status(card.embeds) and card.components == []
    assert embed_fields(card.embeds[0])["By"] == f"<@{world.alice.id}>"
    job = await world.store.get(job_id)
    assert job.status is JobStatus.SUCCEEDED
    assert (job.card_message_id, job.result_message_id) == (card.id, result.id)
    assert sorted(job.inputs) == sorted(attachments)


async def test_card_shows_queue_then_throttled_progress_then_done(world):
    options = slow()
    job_id = await submit(world, world.alice, "t2v", {"prompt": "slow waves", **options})
    result = await wait_result(world, job_id)
    await world.drain()
    card = card_of(world, job_id)
    revisions = card.history

    first = card_status(revisions[0].embeds)
    assert "Queued" in first or "Running" in first
    assert custom_ids(revisions[0].components) == [f"ltx:cancel:{job_id}"]
    settings = embed_fields(revisions[0].embeds[0])["Settings"]
    assert f"{options['width']}×512" in settings and f"{options['duration_s']:g} s" in settings
    assert "seed " in settings
    running = [r for r in revisions if "Running" in card_status(r.embeds)]
    assert running and any("%" in card_status(r.embeds) for r in running)
    assert "<t:" in card_status(running[-1].embeds)  # the ETA counts down client-side
    # Progress edits are spaced by the throttle; only the edit when the job
    # ends ("Uploading") may come sooner. The card says "Done" once posted.
    times = [r.at for r in revisions[:-2]]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(g >= EDIT_INTERVAL_S * 0.95 for g in gaps), gaps
    assert "Uploading" in card_status(revisions[-2].embeds)
    assert "Done" in card_status(revisions[-1].embeds)
    assert revisions[-1].at - revisions[-2].at >= EDIT_INTERVAL_S * 0.95

    # On the wire: card post, its edits, the result reply, then the 🔁 reaction.
    calls = world.fake.requests

    def posted(message) -> int:
        return next(
            c.index
            for c in calls
            if c.method == "POST" and (c.response or {}).get("id") == str(message.id)
        )

    idx = {
        "card": posted(card),
        "result": posted(result),
        "react": next(c.index for c in calls if c.method == "PUT" and "/reactions/" in c.path),
    }
    edits = [c.index for c in calls if c.method == "PATCH" and c.path.endswith(str(card.id))]
    *live, done = edits
    assert idx["card"] < min(live) and max(live) < idx["result"] < idx["react"] < done
    result_call = next(c for c in calls if c.index == idx["result"])
    assert result_call.json["message_reference"]["message_id"] == card.id
    assert result_call.json["enforce_nonce"] is True
    assert result_call.files[0].filename == f"ltx-{job_id}.mp4"


async def test_a_failed_job_says_on_its_card_what_to_change(world):
    w = world
    busy = await submit(w, w.alice, "t2v", {"prompt": "first", **slow()})
    image = _media.png(colour=(secrets.randbelow(256), 7, 7))  # this test's own input
    job_id = await submit(w, w.alice, "i2v", {"prompt": "p", **SMALL}, attachments={
        "image": ("lost.png", image)
    })  # fmt: skip
    # While it waits, its stored input disappears from the data dir.
    job = await w.store.get(job_id)
    stored = lookup(w.settings.inputs_dir, job.inputs["image"])
    await asyncio.to_thread(stored.path.unlink)

    card = await wait_card(w, job_id, lambda c: "Failed" in card_status(c.embeds))
    notice = await wait_result(w, job_id)
    await wait_result(w, busy)
    await w.drain()
    status = card_status(card.embeds)
    assert "Attachment refused: image" in status and "submit the job again" in status
    assert card.components == []
    assert notice.message_reference["message_id"] == str(card.id)
    assert f"<@{w.alice.id}>" in notice.content and "submit the job again" in notice.content
    assert not notice.attachments and not notice.components
    job = await w.store.get(job_id)
    assert job.error_code == "input_rejected" and job.result_message_id == notice.id


async def test_card_says_uploading_while_the_result_is_posted(world):
    job_id = await submit(world, world.alice, "t2v", {"prompt": "a kite", **slow()})
    await wait_card(world, job_id, lambda c: "Running" in card_status(c.embeds))
    # Discord holds the result's post back for a second (a 429 on the channel's
    # message route): the member reads "Uploading" meanwhile, never "Done".
    rule = world.fake.rate_limit(
        "POST", rf"/channels/{world.channel.id}/messages$", retry_after=1.0
    )
    await world.fake.wait_for(lambda: rule.hits, 60, "the result's first post")
    held = card_of(world, job_id)
    assert "Uploading" in card_status(held.embeds), card_status(held.embeds)
    assert held.components == []  # nothing left to cancel
    assert not results_of(world, job_id)

    result = await wait_result(world, job_id)
    await world.drain()
    card = card_of(world, job_id)
    assert "Done" in card_status(card.embeds)
    (uploading,) = [r for r in card.history if "Uploading" in card_status(r.embeds)]
    assert uploading.at < rule.hits[0] < result.history[0].at
    assert result.attachments and len(results_of(world, job_id)) == 1
