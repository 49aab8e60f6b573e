"""Live previews: the real LTX-2.3 graph, on its stand-in weights, hands the
engine stills of its latent while the sampler runs; and the previewer's own
rules (middle frame, spaced decodes)."""

from __future__ import annotations

import io
import itertools
import sys
from dataclasses import replace

import pytest
import torch
from PIL import Image

from engine.comfy import preview
from engine.comfy.runtime import Runtime
from engine.events import Progress
from engine.jobs import JobStore
from ltxbot.app import runtime_config, start_engine
from tests.engine.modes.test_ltx_graphs import StandInText, run_mode
from tests.engine.modes.test_ltx_graphs import settings as settings  # the fixture
from tests.standins import text_node


class Recorder:
    def __init__(self) -> None:
        self.progress: list[Progress] = []

    async def job_changed(self, job, progress=None) -> None:
        if progress is not None:
            self.progress.append(progress)


async def _run_t2v(settings, tmp_path, *, previews: bool, seed: int) -> list[Progress]:
    store = await JobStore.open(settings.data_dir / "jobs.sqlite3")
    runtime = Runtime(replace(runtime_config(settings), previews=previews))
    await runtime.start()
    text_node.register(sys.modules["nodes"])
    recorder = Recorder()
    try:
        _, eng = await start_engine(settings, store, runtime=runtime, events=recorder)
        eng.worker.preparer = StandInText(eng.worker.preparer)
        await run_mode(eng, settings, "t2v", tmp_path, width=384, height=256, seed=seed)
    finally:
        text_node.unregister(sys.modules["nodes"])
        await runtime.close()
        await store.close()
    return recorder.progress


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_a_t2v_job_reports_stills_of_its_latent_while_sampling(settings, tmp_path):
    seen = await _run_t2v(settings, tmp_path, previews=True, seed=11)
    stills = [p for p in seen if p.preview is not None]
    assert stills, [(p.stage, p.step) for p in seen]
    # The first still comes from the sampler (a stage of generation), not before.
    first = stills[0]
    assert first.stage in ("Generating", "Refining"), first.stage
    assert all(p.preview is None for p in seen[: seen.index(first)])
    image = Image.open(io.BytesIO(first.preview or b""))
    assert image.format == "JPEG"
    # 384x256 -> a 12x8 latent, scaled up to the card's size, the aspect kept.
    assert image.size == (preview.PREVIEW_LONG_SIDE, preview.PREVIEW_LONG_SIDE * 2 // 3)
    # Once made, the still stays on every later progress of the attempt.
    assert all(p.preview is not None for p in seen[seen.index(first) :])
    # Both samplers (stage 1, the refining stage 2) each give their own still.
    assert len({p.preview for p in stills}) >= 2


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_with_previews_off_no_still_is_made(settings, tmp_path):
    # Another seed: ComfyUI's cache lives as long as the process and would
    # answer the same graph without sampling.
    seen = await _run_t2v(settings, tmp_path, previews=False, seed=12)
    assert any(p.step is not None for p in seen)  # the sampler did report steps
    assert all(p.preview is None for p in seen)


class _Inner:
    def __init__(self) -> None:
        self.frames: list[tuple[int, ...]] = []

    def decode_latent_to_preview_image(self, fmt, x0):
        self.frames.append(tuple(x0.shape))
        return (fmt, x0[0, 0, 0, 0, 0].item(), 512)


def test_the_previewer_decodes_the_middle_frame_at_most_once_a_second():
    ticks = itertools.chain([0.0, 0.4, 0.9, 1.0, 1.2, 2.5])
    inner = _Inner()
    spaced = preview._Spaced(inner, every_s=1.0, clock=lambda: next(ticks))
    latent = torch.arange(7, dtype=torch.float32).reshape(1, 1, 7, 1, 1).repeat(1, 4, 1, 2, 3)
    shown = [spaced.decode_latent_to_preview_image("JPEG", latent) for _ in range(6)]
    # Decoded at 0.0, 1.0 and 2.5 s; None in between (no preview that step).
    assert [s is not None for s in shown] == [True, False, False, True, False, True]
    # The middle of seven latent frames (index 3), one frame, the batch's first.
    assert shown[0] == ("JPEG", 3.0, 512)
    assert inner.frames == [(1, 4, 1, 2, 3)] * 3


def test_a_still_is_scaled_to_the_card_and_anything_else_is_no_preview():
    tiny = Image.new("RGB", (24, 16), (200, 30, 30))
    jpeg = preview.preview_jpeg(("JPEG", tiny, 512))
    assert jpeg is not None
    shown = Image.open(io.BytesIO(jpeg))
    assert shown.size == (384, 256)
    red, green, blue = shown.convert("RGB").getpixel((192, 128))
    assert red > 150 and green < 80 and blue < 80
    assert preview.preview_jpeg(None) is None
    assert preview.preview_jpeg(("JPEG", "not a picture", 512)) is None
    assert preview.preview_jpeg(b"\xff\xd8") is None
