"""Model-free t2v workflows sized for benchmarks, and a real upscaler checkpoint.

The graphs are ComfyUI core nodes only, so any ComfyUI can run them (the pin on
the CPU, the same on an H200). They bind like the production
workflows (`ltx:` titles), so the bot's whole job path runs them unchanged. One
difference on purpose: `seed` is bound to EmptyImage's colour, so giving each
job its own seed makes every node run again: neither the bot's path nor the raw
baseline can be served from ComfyUI's node cache.

Workloads:
- `blur`: EmptyImage -> a chain of ImageBlur nodes -> video. Torch conv2d on the
  torch device (ComfyUI moves the frames to the GPU and back for each node).
- `upscale`: EmptyImage -> UpscaleModelLoader + ImageUpscaleWithModel (a real
  RealESRGAN-Compact checkpoint through spandrel) -> ImageScaleBy -> video.
  The loader is what back-to-back jobs must not pay twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OUTPUT_NODE = "21"
SOURCE_NODE = "5"
LOADER_NODE = "30"
SEED_MAX = 0xFFFFFF  # EmptyImage's colour input takes 24 bits


@dataclass(frozen=True)
class Workload:
    """What a benchmark job computes. `frames` and `size` reach the graph through
    the job's own parameters (width, height, duration_s at 8 fps)."""

    kind: str  # "blur" | "upscale" | "plain"
    size: int = 256
    frames: int = 9  # 8k+1, as t2v jobs produce
    blur_nodes: int = 0
    blur_radius: int = 15
    model_name: str = ""
    scale_by: float = 1.0  # after the upscaler: keeps SaveVideo's encode small

    @property
    def duration_s(self) -> float:
        return (self.frames - 1) / FPS

    def describe(self) -> str:
        base = f"{self.size}x{self.size}x{self.frames} frames"
        if self.kind == "blur":
            return f"{base}, {self.blur_nodes} ImageBlur nodes (radius {self.blur_radius})"
        if self.kind == "upscale":
            scaled = f", then scaled by {self.scale_by:g}" if self.scale_by != 1.0 else ""
            return f"{base}, x2 RealESRGAN-Compact upscaler{scaled}"
        return base


FPS = 8


def graph(w: Workload) -> dict[str, Any]:
    """The API-format t2v workflow of this workload."""
    nodes: dict[str, Any] = {
        "1": {
            "class_type": "PrimitiveStringMultiline",
            "_meta": {"title": "ltx:prompt"},
            "inputs": {"value": "benchmark"},
        },
        SOURCE_NODE: {
            "class_type": "EmptyImage",
            "_meta": {"title": "ltx:width,height,frames=batch_size,seed=color"},
            "inputs": {"width": w.size, "height": w.size, "batch_size": w.frames, "color": 0},
        },
    }
    prev = SOURCE_NODE
    for i in range(w.blur_nodes if w.kind == "blur" else 0):
        node_id = str(100 + i)
        nodes[node_id] = {
            "class_type": "ImageBlur",
            "inputs": {"image": [prev, 0], "blur_radius": w.blur_radius, "sigma": 1.0 + i / 100},
        }
        prev = node_id
    if w.kind == "upscale":
        nodes[LOADER_NODE] = {
            "class_type": "UpscaleModelLoader",
            "inputs": {"model_name": w.model_name},
        }
        nodes["31"] = {
            "class_type": "ImageUpscaleWithModel",
            "inputs": {"upscale_model": [LOADER_NODE, 0], "image": [prev, 0]},
        }
        prev = "31"
        if w.scale_by != 1.0:
            nodes["32"] = {
                "class_type": "ImageScaleBy",
                "inputs": {
                    "image": [prev, 0],
                    "upscale_method": "bilinear",
                    "scale_by": w.scale_by,
                },
            }
            prev = "32"
    nodes["20"] = {
        "class_type": "CreateVideo",
        "_meta": {"title": "ltx:fps"},
        "inputs": {"images": [prev, 0], "fps": float(FPS)},
    }
    nodes[OUTPUT_NODE] = {
        "class_type": "SaveVideo",
        "_meta": {"title": "ltx:output"},
        "inputs": {
            "video": ["20", 0],
            "filename_prefix": "bench/t2v",
            "format": "auto",
            "codec": "auto",
            "format.codec": "auto",
        },
    }
    return nodes


def write_workflows(directory: Path, w: Workload) -> Path:
    """`<directory>/t2v.json` for this workload (the only mode it offers)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "t2v.json").write_text(json.dumps(graph(w), indent=1))
    return directory


def write_compact_upscaler(
    directory: Path, name: str, *, num_feat: int = 64, num_conv: int = 16, seed: int = 0
) -> Path:
    """A RealESRGAN-Compact x2 checkpoint (random weights, made here, never
    downloaded): spandrel detects and loads it like a published one. 64 features
    and 16 convolutions is the size of realesr-animevideov3 (~2.4 MB)."""
    import torch
    from safetensors.torch import save_file
    from spandrel.architectures.Compact import Compact

    torch.manual_seed(seed)
    model = Compact(num_in_ch=3, num_out_ch=3, num_feat=num_feat, num_conv=num_conv, upscale=2)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path)
    return path
