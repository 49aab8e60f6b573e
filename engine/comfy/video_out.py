"""`LTXBotSaveVideo`: the bundled workflows' output node, one fast encode.

It takes what ComfyUI's `SaveVideo` takes (a VIDEO and a filename prefix) and
writes the same kind of file where SaveVideo would (the output folder, its
`<prefix>_<counter>_.mp4` naming, the same `ui` entry), but through
`engine.media.frames.write_mp4`: frames converted to YUV in torch, x264
`veryfast` on every core, CRF `crf` capped at the bitrate that fits
`fit_bytes` (the upload budget; 0: no cap), so delivery only remuxes it.
Frames it cannot take that way (odd sides, 10-bit) go through ComfyUI's own
`save_to`, as SaveVideo would write them.

A classic (V1) node: its `/object_info` entry is plain data, so the workflow
generator validates the bundled workflows against the pinned snapshot plus
`object_info()` without booting ComfyUI. `register` adds it at boot.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from engine.comfy import compat
from engine.media.frames import DEFAULT_CRF, can_write, write_mp4

log = logging.getLogger(__name__)

NODE_NAME = "LTXBotSaveVideo"
DISPLAY_NAME = "Save Video (ltx-bot, one encode)"
_MAX_INT = 2**31 - 1


class LTXBotSaveVideo:
    DESCRIPTION = (
        "Saves the video as H.264 + AAC mp4 in one fast encode, at CRF `crf`, capped so "
        "the file fits `fit_bytes` (0: no cap)."
    )
    CATEGORY = "ltx-bot"
    RETURN_TYPES: tuple[str, ...] = ()
    FUNCTION = "save"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:
        return {
            "required": {
                "video": ("VIDEO", {"tooltip": "The video to save."}),
                "filename_prefix": ("STRING", {"default": "ltxbot/video"}),
                "crf": ("INT", {"default": DEFAULT_CRF, "min": 0, "max": 51}),
                "fit_bytes": ("INT", {"default": 0, "min": 0, "max": _MAX_INT}),
            }
        }

    def save(self, video: Any, filename_prefix: str, crf: int, fit_bytes: int) -> dict[str, Any]:
        import folder_paths

        width, height = video.get_dimensions()
        folder, name, counter, subfolder, _ = folder_paths.get_save_image_path(
            filename_prefix, folder_paths.get_output_directory(), width, height
        )
        file = f"{name}_{counter:05}_.mp4"
        path = Path(folder) / file
        write(video, path, crf=crf, fit_bytes=fit_bytes)
        entry = {"filename": file, "subfolder": subfolder, "type": "output"}
        return {"ui": {"images": [entry], "animated": (True,)}}


def write(video: Any, path: Path, *, crf: int, fit_bytes: int) -> None:
    """The fast path when the frames allow it, else ComfyUI's own encode."""
    bit_depth = getattr(video, "get_bit_depth", lambda: 8)()
    components = video.get_components()
    if bit_depth > 8 or not can_write(components.images):
        log.info("LTXBotSaveVideo: %s-bit or odd-sized frames, ComfyUI's encode", bit_depth)
        video.save_to(os.fspath(path))
        return
    sound = components.audio
    audio = None
    if sound is not None and sound.get("waveform") is not None:
        audio = (sound["waveform"], int(sound["sample_rate"]))
    report = write_mp4(
        components.images,
        components.frame_rate,
        path,
        audio=audio,
        crf=crf,
        budget_bytes=fit_bytes,
    )
    log.info(
        "LTXBotSaveVideo: %d frames %dx%d in %.2f s, %.2f MiB%s",
        report.frames,
        report.width,
        report.height,
        report.seconds,
        report.size_bytes / 2**20,
        f" (capped at {report.video_bitrate_cap} b/s)" if report.capped else "",
    )


def register(nodes_module: Any) -> None:
    """Add the node to ComfyUI's registry (idempotent)."""
    nodes_module.NODE_CLASS_MAPPINGS[NODE_NAME] = LTXBotSaveVideo
    nodes_module.NODE_DISPLAY_NAME_MAPPINGS[NODE_NAME] = DISPLAY_NAME


def object_info() -> dict[str, dict[str, Any]]:
    """`{NODE_NAME: entry}` in `/object_info` shape, as the live registry gives it."""
    registry = SimpleNamespace(NODE_CLASS_MAPPINGS={NODE_NAME: LTXBotSaveVideo})
    return {NODE_NAME: compat.node_info(registry, NODE_NAME)}
