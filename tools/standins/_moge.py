"""Stand-in for `moge_2_vitl_normal_fp16.safetensors`, MoGe-2 ViT-L with normals.

`LoadMoGeModel` infers the whole config from the state dict (DINOv2 width from
`cls_token`, depth from the block count, heads = width / 64, intermediate
layers spread evenly over the depth, each ConvStack from its conv shapes), so
a smaller file loads as a smaller model. The file is written in the original
MoGe naming (`encoder.backbone.blocks.N.attn.qkv.*`, `ls1.gamma`, ...), which
ComfyUI renames and splits on load; here ComfyUI's own `MoGeModelV2` is built
on the meta device and its keys are mapped back, fusing Q/K/V.

`tiny` keeps the switches of the real file (plain DINOv2 with mask token, no
registers, 1370 position tokens since ComfyUI fixes image_size 518; four
intermediate layers; neck and heads with 5 levels, conv-transpose x3 then
bilinear resamplers, no norms; normal head; metric-scale MLP) at width 64
(one head), depth 4 and 16-32 channel convs.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from tools.standins import Scale
from tools.standins._safetensors import (
    Spec,
    comfy_import,
    constant,
    fan_in,
    fixed,
    normal,
    planned_size,
    write_file,
)

FILE = "moge_2_vitl_normal_fp16.safetensors"
DTYPE = torch.float16
RESAMPLERS = ["conv_transpose", "conv_transpose", "conv_transpose", "bilinear"]
_DIMS = {
    # width, depth, encoder dim_out, level widths, neck res blocks, head res blocks, scale MLP
    "full": (1024, 24, 1024, [1024, 256, 128, 64, 32], [0, 2, 2, 2, 0], [0, 1, 1, 1, 0], 1024),
    "tiny": (64, 4, 32, [32, 16, 16, 16, 16], [0, 1, 1, 1, 0], [0, 1, 1, 1, 0], 32),
}


def config(scale: Scale) -> dict:
    """`MoGeModelV2` arguments, in the form ComfyUI's detector reconstructs."""
    width, depth, dim_out, levels, neck_res, head_res, mlp = _DIMS[scale]

    def stack(dim_in, res_blocks, out):
        return {
            "dim_in": dim_in,
            "dim_res_blocks": levels,
            "dim_out": [None] * 4 + [out],
            "num_res_blocks": res_blocks,
            "resamplers": RESAMPLERS,
            "res_block_in_norm": "none",
            "res_block_hidden_norm": "none",
        }

    neck = stack([dim_out + 2, 2, 2, 2, 2], neck_res, None)
    neck["dim_out"] = [None] * 5
    return {
        "encoder": {
            "backbone": {
                "hidden_size": width,
                "num_attention_heads": width // 64,
                "num_hidden_layers": depth,
                "layer_norm_eps": 1e-6,
                "use_swiglu_ffn": False,
            },
            "intermediate_layers": [(depth // 4) * (i + 1) - 1 for i in range(4)],
            "dim_out": dim_out,
        },
        "neck": neck,
        "points_head": stack(levels, head_res, 3),
        "mask_head": stack(levels, head_res, 1),
        "normal_head": stack(levels, head_res, 3),
        "scale_head": {"dims": [width, mlp, mlp, 1]},
    }


def meta_model(scale: Scale, comfy_dir: Path) -> torch.nn.Module:
    ops = comfy_import(comfy_dir, "comfy.ops")
    moge = comfy_import(comfy_dir, "comfy.ldm.moge.model")
    with torch.device("meta"):
        return moge.MoGeModelV2(
            **config(scale), dtype=DTYPE, device="meta", operations=ops.manual_cast
        )


_BACKBONE = "encoder.backbone."
_TOP = {
    "embeddings.patch_embeddings.projection.weight": "patch_embed.proj.weight",
    "embeddings.patch_embeddings.projection.bias": "patch_embed.proj.bias",
    "embeddings.cls_token": "cls_token",
    "embeddings.position_embeddings": "pos_embed",
    "embeddings.mask_token": "mask_token",
    "layernorm.weight": "norm.weight",
    "layernorm.bias": "norm.bias",
}
_BLOCK = [
    ("layer_scale1.lambda1", "ls1.gamma"),
    ("layer_scale2.lambda1", "ls2.gamma"),
    ("attention.output.dense.", "attn.proj."),
]


def original_shapes(model: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    """The meta model's keys in MoGe's own naming, with Q/K/V fused into qkv."""
    out: dict[str, tuple[int, ...]] = {}
    for key, tensor in model.state_dict().items():
        shape = tuple(tensor.shape)
        if not key.startswith(_BACKBONE):
            out[key] = shape
            continue
        rel = key[len(_BACKBONE) :]
        if rel in _TOP:
            out[_BACKBONE + _TOP[rel]] = shape
            continue
        _, _, idx, sub = rel.split(".", 3)  # encoder.layer.<i>.<sub>
        base = f"{_BACKBONE}blocks.{idx}."
        if sub.startswith("attention.attention."):
            part, tail = sub.removeprefix("attention.attention.").split(".")
            if part == "query":  # key and value fold into the same tensor
                out[f"{base}attn.qkv.{tail}"] = (3 * shape[0], *shape[1:])
            continue
        for new, old in _BLOCK:
            sub = sub.replace(new, old)
        out[base + sub] = shape
    return out


def _fill(name: str, shape: tuple[int, ...]):
    if name.endswith(("image_mean", "image_std")):
        mean_std = [0.485, 0.456, 0.406] if name.endswith("mean") else [0.229, 0.224, 0.225]
        return fixed(torch.tensor(mean_std).view(shape))
    if name.endswith(("norm1.weight", "norm2.weight", "norm.weight")):
        return constant(1.0)
    if name.endswith(("ls1.gamma", "ls2.gamma")):
        return constant(0.1)  # DINOv2's small layer scale keeps the residual stream tame
    if name.endswith(("cls_token", "pos_embed", "mask_token")):
        return normal(0.02)
    if len(shape) <= 1:
        return constant(0.0)
    if ".resamplers." in name and name.endswith(".0.weight") and len(shape) == 4:
        # ConvTranspose2d weights are (in, out, kh, kw): fan-in is in * kh * kw / 4.
        return normal(1.0 / math.sqrt(shape[0]))
    return normal(1.0 / math.sqrt(fan_in(shape)))


def specs(scale: Scale, comfy_dir: Path) -> tuple[list[Spec], dict[str, str]]:
    shapes = original_shapes(meta_model(scale, comfy_dir))
    out = [Spec(name, DTYPE, shape, _fill(name, shape)) for name, shape in shapes.items()]
    return out, {"format": "pt"}


def planned_bytes(scale: Scale, comfy_dir: Path) -> int:
    return planned_size(*specs(scale, comfy_dir))


def write_moge(path: Path, scale: Scale, comfy_dir: Path) -> None:
    write_file(Path(path), *specs(scale, comfy_dir))
