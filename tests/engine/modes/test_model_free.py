"""Each mode's model-free test workflow, built by build_workflow, really runs on
the pinned ComfyUI's executor (CPU, no weights) and yields what BuiltWorkflow says."""

from __future__ import annotations

import wave
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from engine.modes import MODE_NAMES, Limits, MediaInfo, build_workflow, get_mode, parse_params
from engine.workflows.validate import check_workflow

TEST_WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
AUDIO_S = 2.0
VIDEO_S = 2.0
SRC_FPS = 8


def write_inputs(folder: Path) -> dict[str, MediaInfo]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, colour in (("image", "red"), ("first_image", "blue"), ("last_image", "green")):
        Image.new("RGB", (120, 80), colour).save(folder / f"{name}.png")
    Image.new("RGB", (64, 64), "purple").save(folder / "style_image.png")
    rate = 16000
    tone = (np.sin(np.arange(int(rate * AUDIO_S)) / 8) * 12000).astype("<i2")
    with wave.open(str(folder / "audio.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(tone.tobytes())
    with av.open(str(folder / "video.mp4"), "w") as out:
        vs = out.add_stream("libx264", rate=SRC_FPS)
        vs.width, vs.height, vs.pix_fmt = 96, 64, "yuv420p"
        aus = out.add_stream("aac", rate=rate)
        for i in range(int(VIDEO_S * SRC_FPS)):
            frame = av.VideoFrame.from_ndarray(np.full((64, 96, 3), i * 12, np.uint8), "rgb24")
            out.mux(vs.encode(frame))
        out.mux(vs.encode())
        chunk = 1024
        for start in range(0, len(tone) - chunk, chunk):
            af = av.AudioFrame.from_ndarray(tone[None, start : start + chunk], "s16", "mono")
            af.sample_rate = rate
            out.mux(aus.encode(af))
        out.mux(aus.encode())
    return {
        "image": MediaInfo("image", 120, 80),
        "first_image": MediaInfo("image", 120, 80),
        "last_image": MediaInfo("image", 120, 80),
        "style_image": MediaInfo("image", 64, 64),
        "audio": MediaInfo("audio", duration_s=AUDIO_S, has_audio=True),
        "video": MediaInfo("video", 96, 64, duration_s=VIDEO_S, has_audio=True, fps=SRC_FPS),
    }


def file_names(mode: str) -> dict[str, str]:
    ext = {"image": "png", "audio": "wav", "video": "mp4"}
    return {s.name: f"{s.name}.{ext[s.kind]}" for s in get_mode(mode).media}


@pytest.mark.parametrize("mode", MODE_NAMES)
async def test_model_free_workflow_runs_and_matches_the_build(runtime, mode):
    info = write_inputs(runtime.input_dir)
    spec = get_mode(mode)
    raw = {"prompt": "test", "width": 256, "height": 256, "fps": 8, "seed": 1}
    if spec.timed:
        raw["duration_s"] = 1.0
    media = {s.name: info[s.name] for s in spec.media}
    params = parse_params(mode, raw, Limits(), media)
    built = build_workflow(mode, params, file_names(mode), TEST_WORKFLOWS)
    assert check_workflow(built.prompt, await runtime.object_info()) == []

    await runtime.validate(built.prompt, built.output_node_ids)
    result = await runtime.run(built.prompt, prompt_id=f"mf-{mode}", outputs=built.output_node_ids)

    (video,) = [o for o in result.outputs if o.kind == "video"]
    with av.open(str(video.path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (stream.codec_context.width, stream.codec_context.height) == (256, 256)
        assert float(stream.average_rate) == pytest.approx(built.fps)
        has_audio = bool(container.streams.audio)
    assert (built.width, built.height) == (256, 256)
    assert frames == built.frames
    assert has_audio == (spec.audio_slot is not None)
