"""Random-weight stand-ins of `ltx-2.3-22b-{dev,distilled}-fp8.safetensors`.

One file holds what the real one does, under the prefixes ComfyUI reads:
- `model.diffusion_model.*`: the AV transformer (CheckpointLoaderSimple);
- `text_embedding_projection.*`: the post-Gemma projection
  (LTXAVTextEncoderLoader reads it from `ckpt_name`);
- `vae.*`: the video VAE; `audio_vae.*` and `vocoder.*`: the audio VAE and
  the vocoder with BWE (LTXVAudioVAELoader);
- `__metadata__["config"]`: the JSON config ComfyUI sizes every part from.

Keys and shapes come from ComfyUI's own classes built from that config, so a
stand-in loads exactly as the real file does. At full scale the transformer
blocks' linear layers are fp8 scaled (`weight` float8_e4m3fn, `weight_scale`
and `input_scale` float32 scalars, `comfy_quant` JSON bytes), as in the real
files; everything else is bf16.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import torch

from tools.standins import Scale
from tools.standins import _ltx_config as cfgs
from tools.standins._ltx_stream import Entry, planned_size, write

Variant = Literal["dev", "distilled"]

tiny_config = cfgs.tiny_config

# The real fp8 files carry 2924 `*_scale` keys: 1462 fp8 layers, which is all
# 34 linear layers of 43 of the 48 blocks. Which 5 blocks stay bf16 is not in
# the facts; the first and the last four is this stand-in's guess.
_BF16_BLOCKS_FULL = frozenset({0, 44, 45, 46, 47})
_BLOCK = re.compile(r"^transformer_blocks\.(\d+)\.")
_FP8_QUANT = torch.tensor(list(json.dumps({"format": "float8_e4m3fn"}).encode()), dtype=torch.uint8)
_WEIGHT_STD = 0.02


def _param_entry(name: str, shape: tuple[int, ...], dtype: torch.dtype = torch.bfloat16) -> Entry:
    """Random values that keep activations finite: norms at 1, biases at 0."""
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "bias" or leaf in ("alpha", "beta"):  # snake alpha/beta are log-scale
        return Entry(name, shape, dtype, "zeros")
    if leaf == "weight" and len(shape) == 1:
        return Entry(name, shape, dtype, "ones")
    if leaf == "learnable_registers":
        return Entry(name, shape, dtype, "normal", std=1.0)
    return Entry(name, shape, dtype, "normal", std=_WEIGHT_STD)


def _buffer_entry(name: str, value: torch.Tensor) -> Entry:
    shape = tuple(value.shape)
    if name.endswith("std-of-means"):
        return Entry(name, shape, torch.bfloat16, "ones")
    if name.endswith("mean-of-means"):
        return Entry(name, shape, torch.bfloat16, "zeros")
    dtype = torch.float32 if value.dtype == torch.float32 else torch.bfloat16
    return Entry(name, shape, dtype, "data", data=value.detach().cpu())


def _module_entries(prefix: str, module: torch.nn.Module) -> Iterator[Entry]:
    buffers = dict(module.named_buffers())
    for name, value in module.state_dict().items():
        if name in buffers and value.device.type != "meta":
            yield _buffer_entry(prefix + name, value)
        else:
            yield _param_entry(prefix + name, tuple(value.shape))


def _is_fp8(name: str, shape: tuple[int, ...], fp8: bool) -> bool:
    match = _BLOCK.match(name)
    return (
        fp8
        and match is not None
        and int(match.group(1)) not in _BF16_BLOCKS_FULL
        and name.endswith(".weight")
        and len(shape) == 2
    )


def _transformer_entries(model: torch.nn.Module, fp8: bool) -> Iterator[Entry]:
    prefix = "model.diffusion_model."
    for name, value in model.state_dict().items():
        shape = tuple(value.shape)
        if not _is_fp8(name, shape, fp8):
            yield _param_entry(prefix + name, shape)
            continue
        layer = prefix + name[: -len(".weight")]
        yield Entry(layer + ".weight", shape, torch.float8_e4m3fn, "fp8normal")
        yield Entry(layer + ".weight_scale", (), torch.float32, "const", std=_WEIGHT_STD)
        yield Entry(layer + ".input_scale", (), torch.float32, "const", std=1.0)
        yield Entry(
            layer + ".comfy_quant", tuple(_FP8_QUANT.shape), torch.uint8, "data", data=_FP8_QUANT
        )


def plan(
    scale: Scale, comfy_dir: Path, fp8: bool | None = None
) -> tuple[list[Entry], dict[str, str]]:
    """Every tensor of the checkpoint, in file order, and its header metadata.

    `fp8` defaults to the real format at full scale and bf16 at tiny scale (a
    CPU test can ask for tiny fp8 to check the scaled layers load).
    """
    cfg = cfgs.config(scale)
    fp8 = scale == "full" if fp8 is None else fp8
    entries = list(_transformer_entries(cfgs.transformer(cfg, comfy_dir), fp8))
    entries += _module_entries("text_embedding_projection.", cfgs.text_projection(cfg, comfy_dir))
    entries += _module_entries("vae.", cfgs.video_vae(cfg, comfy_dir))
    audio = cfgs.audio_vae(cfg, comfy_dir)
    entries += _module_entries("audio_vae.", audio.autoencoder)
    entries += _module_entries("vocoder.", audio.vocoder)
    return entries, {"config": json.dumps(cfg)}


def planned_bytes(scale: Scale, comfy_dir: Path, variant: Variant = "dev") -> int:
    """The size the checkpoint file would have, without writing it.

    Both variants share one architecture, so `variant` changes nothing yet; it
    is accepted so callers need not know that.
    """
    del variant
    entries, metadata = plan(scale, comfy_dir)
    return planned_size(entries, metadata)


def write_checkpoint(
    path: Path, scale: Scale, comfy_dir: Path, variant: Variant = "dev", fp8: bool | None = None
) -> None:
    """Either variant, optionally overriding the fp8 default of `plan`."""
    entries, metadata = plan(scale, comfy_dir, fp8)
    write(path, entries, metadata, seed=f"ltx-2.3-{variant}-{scale}")


def write_dev_checkpoint(path: Path, scale: Scale, comfy_dir: Path) -> None:
    """`ltx-2.3-22b-dev-fp8.safetensors`."""
    write_checkpoint(path, scale, comfy_dir, "dev")


def write_distilled_checkpoint(path: Path, scale: Scale, comfy_dir: Path) -> None:
    """`ltx-2.3-22b-distilled-fp8.safetensors`: same layout, other values."""
    write_checkpoint(path, scale, comfy_dir, "distilled")


def describe(scale: Scale) -> dict[str, Any]:
    """The transformer dims of a scale, for code that sizes inputs to them."""
    t = cfgs.config(scale)["transformer"]
    return {
        "video_dim": t["num_attention_heads"] * t["attention_head_dim"],
        "audio_dim": t["audio_num_attention_heads"] * t["audio_attention_head_dim"],
        "context_dim": t["cross_attention_dim"] + t["audio_cross_attention_dim"],
        "num_layers": t["num_layers"],
    }
