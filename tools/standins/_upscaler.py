"""Stand-in for `ltx-2.3-spatial-upscaler-x2-1.1.safetensors`, the x2 latent upscaler.

`LatentUpscaleModelLoader` recognises this file by its
`post_upsample_res_blocks.0.conv2.bias` key and builds `LatentUpsampler` from
the header's `config` JSON (not from shapes), so the header must carry a config
that matches the tensors. Keys and shapes come from ComfyUI's own
`LatentUpsampler` built on the meta device from that config; weights are bf16
as in the real file.

`tiny` keeps every switch of the real config (3D convs, spatial x2 by pixel
shuffle, no rational resampler, no temporal upsampling) and the 128 latent
channels of the video VAE, with 32 mid channels (GroupNorm needs multiples of
32) and 2 blocks per stage.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from tools.standins import Scale
from tools.standins._safetensors import (
    Spec,
    comfy_import,
    constant,
    fan_in,
    normal,
    planned_size,
    write_file,
)

FILE = "ltx-2.3-spatial-upscaler-x2-1.1.safetensors"
FULL_CONFIG = {
    "_class_name": "LatentUpsampler",
    "in_channels": 128,
    "mid_channels": 1024,
    "num_blocks_per_stage": 4,
    "dims": 3,
    "spatial_upsample": True,
    "temporal_upsample": False,
    "spatial_scale": 2.0,
    "rational_resampler": False,
}
TINY_CONFIG = {**FULL_CONFIG, "mid_channels": 32, "num_blocks_per_stage": 2}
DTYPE = torch.bfloat16


def config(scale: Scale) -> dict:
    return dict(FULL_CONFIG if scale == "full" else TINY_CONFIG)


def meta_model(scale: Scale, comfy_dir: Path) -> torch.nn.Module:
    ops = comfy_import(comfy_dir, "comfy.ops")
    upsampler = comfy_import(comfy_dir, "comfy.ldm.lightricks.latent_upsampler")
    with torch.device("meta"):
        return upsampler.LatentUpsampler.from_config(
            config(scale), operations=ops.disable_weight_init
        )


def specs(scale: Scale, comfy_dir: Path) -> tuple[list[Spec], dict[str, str]]:
    model = meta_model(scale, comfy_dir)
    norms = {
        f"{name}.{p}"
        for name, m in model.named_modules()
        if isinstance(m, torch.nn.GroupNorm)
        for p in ("weight", "bias")
    }
    out = []
    for name, tensor in model.state_dict().items():
        shape = tuple(tensor.shape)
        if name in norms:
            fill = constant(1.0 if name.endswith("weight") else 0.0)
        elif len(shape) <= 1:
            fill = constant(0.0)
        elif name.startswith("final_conv."):
            # The output is a latent, not fed to a norm: keep it near unit scale.
            fill = normal(1.0 / math.sqrt(fan_in(shape)))
        else:
            fill = normal(math.sqrt(2.0 / fan_in(shape)))
        out.append(Spec(name, DTYPE, shape, fill))
    return out, {"config": json.dumps(config(scale))}


def planned_bytes(scale: Scale, comfy_dir: Path) -> int:
    return planned_size(*specs(scale, comfy_dir))


def write_upscaler(path: Path, scale: Scale, comfy_dir: Path) -> None:
    write_file(Path(path), *specs(scale, comfy_dir))
