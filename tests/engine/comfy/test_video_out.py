"""LTXBotSaveVideo inside the real ComfyUI: the same kind of file as SaveVideo,
in one encode that delivery only remuxes."""

from __future__ import annotations

from typing import Any

import av
import pytest

from engine.comfy import video_out
from engine.errors import ExecutionFailed
from engine.media import fit_to_limit, upload_limit
from tests.engine.comfy import graphs


def _graph(width: int, height: int, frames: int, fps: float, save: str) -> dict[str, Any]:
    graph = graphs.video(width, height, frames=frames, fps=fps)
    graph["80"] = {
        "class_type": "EmptyAudio",
        "inputs": {"duration": frames / fps + 1.0, "sample_rate": 44100, "channels": 2},
    }
    graph["90"]["inputs"]["audio"] = ["80", 0]
    if save == video_out.NODE_NAME:
        graph[graphs.SAVE] = {
            "class_type": video_out.NODE_NAME,
            "inputs": {
                "video": ["90", 0],
                "filename_prefix": "t",
                "crf": 20,
                "fit_bytes": upload_limit(),
            },
            "_meta": {"title": "ltx:output"},
        }
    return graph


def _facts(path) -> dict[str, Any]:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        a = c.streams.audio[0]
        frames = sum(1 for _ in c.decode(v))
        return {
            "size": (v.codec_context.width, v.codec_context.height),
            "frames": frames,
            "fps": v.average_rate,
            "video": (v.codec_context.name, v.codec_context.pix_fmt),
            "audio": (a.codec_context.name, a.codec_context.sample_rate, a.codec_context.channels),
        }


async def test_same_kind_of_file_as_savevideo_and_the_fit_only_remuxes(runtime, tmp_path):
    ours = await runtime.run(
        _graph(96, 64, 25, 24.0, video_out.NODE_NAME), prompt_id="fast", outputs=[graphs.SAVE]
    )
    theirs = await runtime.run(
        _graph(96, 64, 25, 24.0, "SaveVideo"), prompt_id="comfy", outputs=[graphs.SAVE]
    )
    assert [o.kind for o in ours.outputs] == ["video"]
    path = ours.outputs[0].path
    assert path.suffix == ".mp4"
    assert path.is_relative_to(runtime.config.output_dir / "ltxbot" / "fast")
    assert _facts(path) == _facts(theirs.outputs[0].path)
    assert _facts(path)["frames"] == 25
    report = fit_to_limit(path, tmp_path / "fit.mp4", upload_limit())
    assert report.rungs_tried == 0


async def test_ten_bit_goes_through_comfyuis_own_encode(runtime):
    """What the fast path does not write (10-bit here) is written as SaveVideo writes it."""
    graph = _graph(64, 48, 9, 8.0, video_out.NODE_NAME)
    graph["90"]["inputs"]["bit_depth"] = 10
    result = await runtime.run(graph, prompt_id="deep", outputs=[graphs.SAVE])
    facts = _facts(result.outputs[0].path)
    assert facts["frames"] == 9 and facts["video"] == ("h264", "yuv420p10le")


@pytest.mark.parametrize("save", [video_out.NODE_NAME, "SaveVideo"])
async def test_odd_sizes_fail_as_savevideo_fails(runtime, save):
    """H.264 4:2:0 needs even sides: both nodes refuse 65×49 the same way."""
    with pytest.raises(ExecutionFailed, match="divisible by 2"):
        await runtime.run(_graph(65, 49, 9, 8.0, save), prompt_id=f"odd-{save}", outputs=["91"])


async def test_the_node_validates_like_any_other(runtime):
    await runtime.validate(_graph(64, 48, 9, 8.0, video_out.NODE_NAME), [graphs.SAVE])
    bad = _graph(64, 48, 9, 8.0, video_out.NODE_NAME)
    bad[graphs.SAVE]["inputs"]["crf"] = 99
    with pytest.raises(Exception, match="crf"):
        await runtime.validate(bad, [graphs.SAVE])
