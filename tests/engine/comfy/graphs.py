"""API-format graphs of ComfyUI core nodes that need no weights, for engine tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

SAVE = "91"


def video(width: int = 64, height: int = 48, frames: int = 9, fps: float = 8.0) -> dict[str, Any]:
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": width, "height": height, "batch_size": frames, "color": 0x3366CC},
        },
        "90": {"class_type": "CreateVideo", "inputs": {"images": ["1", 0], "fps": fps}},
        SAVE: {
            "class_type": "SaveVideo",
            "inputs": {
                "video": ["90", 0],
                "filename_prefix": "t",
                "format": "mp4",
                "codec": "h264",
            },
            "_meta": {"title": "ltx:output"},
        },
    }


def slow(nodes: int = 10, size: int = 256, radius: int = 15) -> dict[str, Any]:
    """A chain of blur nodes (~0.15 s each on 2 cores): interrupt points between nodes."""
    graph = video(size, size, 8)
    prev = "1"
    for i in range(nodes):
        node_id = str(10 + i)
        graph[node_id] = {
            "class_type": "ImageBlur",
            "inputs": {"image": [prev, 0], "blur_radius": radius, "sigma": 1.0 + i / 100},
        }
        prev = node_id
    graph["90"]["inputs"]["images"] = [prev, 0]
    return graph


def upscaled(model_name: str, frames: int = 4) -> dict[str, Any]:
    """EmptyImage -> a real (tiny) upscale model: a node that reports steps."""
    graph = video(96, 96, frames)
    graph["2"] = {"class_type": "UpscaleModelLoader", "inputs": {"model_name": model_name}}
    graph["3"] = {
        "class_type": "ImageUpscaleWithModel",
        "inputs": {"upscale_model": ["2", 0], "image": ["1", 0]},
    }
    graph["90"]["inputs"]["images"] = ["3", 0]
    return graph


def write_tiny_upscaler(directory: Path, name: str = "tiny-x2.safetensors") -> str:
    """A real RealESRGAN-Compact checkpoint with 8 features (9 KB), made here:
    spandrel loads it like any downloaded upscaler."""
    from safetensors.torch import save_file
    from spandrel.architectures.Compact.__arch.SRVGG import SRVGGNetCompact

    torch.manual_seed(0)
    model = SRVGGNetCompact(num_in_ch=3, num_out_ch=3, num_feat=8, num_conv=2, upscale=2)
    directory.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, directory / name)
    return name
