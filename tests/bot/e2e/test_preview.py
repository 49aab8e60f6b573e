"""The live preview on the wire: a t2v job on the bundled LTX-2.3 workflow
(tiny random-weight stand-ins, Gemma's encode stood in) shows the member a
still of its latent on the card while the sampler runs, and the still goes
once the job has moved on."""

from __future__ import annotations

import io
import sys

import pytest
from PIL import Image

from engine.comfy.runtime import Runtime
from ltxbot.app import runtime_config
from ltxbot.settings import Settings
from tests.bot.e2e._helpers import card_of, card_status, submit, wait_result
from tests.bot.e2e.conftest import make_settings, running_world
from tests.engine.modes.test_ltx_graphs import StandInText
from tests.standins import text_node

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
BUNDLED = Settings.model_fields["workflows_dir"].default


@pytest.fixture
async def real_world(tmp_path, monkeypatch, standin_cache):
    monkeypatch.setenv("HF_HUB_CACHE", str(standin_cache))
    monkeypatch.delenv("HF_HOME", raising=False)
    data = tmp_path / "data"
    runtime = Runtime(runtime_config(make_settings(data, workflows_dir=BUNDLED)))
    await runtime.start()
    text_node.register(sys.modules["nodes"])
    try:
        async with running_world(runtime, data, tmp_path, workflows_dir=BUNDLED) as world:
            world.engine.worker.preparer = StandInText(world.engine.worker.preparer)
            yield world
    finally:
        text_node.unregister(sys.modules["nodes"])
        await runtime.close()


async def test_the_card_shows_the_video_taking_shape_then_lets_it_go(real_world):
    world = real_world
    options = {"prompt": "a lighthouse at dusk", "width": 384, "height": 256, "fps": 8}
    job_id = await submit(world, world.alice, "t2v", {**options, "duration_s": 1.0})
    await wait_result(world, job_id)
    await world.drain()
    revisions = card_of(world, job_id).history
    running = [r for r in revisions if "Running" in card_status(r.embeds)]
    stills = [r for r in running if r.attachments]
    assert stills, [card_status(r.embeds) for r in revisions]
    # No still before the sampler made one; each edit that shows one carries
    # it as the card's only attachment, referenced by the embed.
    # (Card edits are throttled: the first that carries a still may already
    # show a later stage than the sampler that made it, never an earlier one.)
    assert not running[0].attachments
    assert not any("Preparing" in card_status(r.embeds) for r in stills)
    for revision in stills:
        (still,) = revision.attachments
        assert still.filename == "preview.jpg"
        assert revision.embeds[0]["image"]["url"] == "attachment://preview.jpg"
        picture = Image.open(io.BytesIO(still.data))
        assert (picture.format, picture.size) == ("JPEG", (384, 256))
    # Uploading and Done: the still is gone from the card and its embed.
    for revision in revisions[revisions.index(stills[-1]) + 1 :]:
        if "Running" not in card_status(revision.embeds):
            assert revision.attachments == () and "image" not in revision.embeds[0]
    assert "Done" in card_status(revisions[-1].embeds)
