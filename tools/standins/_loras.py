"""Random-weight stand-ins of the LoRAs the LTX-2.3 workflows load.

Keys use the generic `lora_A` / `lora_B` naming (`lora_A.weight` is
`[rank, in]`, `lora_B.weight` is `[out, rank]`) under the prefixes ComfyUI's
`comfy/lora.py` maps without any model-specific table:
`diffusion_model.<module>` for the transformer and
`text_encoders.gemma3_12b.transformer.<module>` for the Gemma text encoder.
Which modules a LoRA covers is read off ComfyUI's own classes (on the meta
device), so every key lands on a real layer.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import torch

from tools.standins import Scale
from tools.standins import _ltx_config as cfgs
from tools.standins._ltx_stream import Entry, planned_size, write

# Ranks at full scale, picked so sizes come near the real files' (the real
# distilled LoRA is "dynamic, avg rank 111": its rank varies per layer).
_DISTILLED_RANK = 111
_IC_RANK = 27
_GEMMA_RANK = 64
_TINY_RANK = 4
# "ref0.5": the union-control IC LoRA was trained on references at half size.
IC_REFERENCE_DOWNSCALE_FACTOR = 2
_GEMMA_PREFIX = "text_encoders.gemma3_12b.transformer."


def _lora_pairs(prefix: str, linears: dict[str, tuple[int, int]], rank: int) -> Iterator[Entry]:
    for module, (out_dim, in_dim) in linears.items():
        yield Entry(f"{prefix}{module}.lora_A.weight", (rank, in_dim), torch.bfloat16, std=0.02)
        yield Entry(f"{prefix}{module}.lora_B.weight", (out_dim, rank), torch.bfloat16, std=0.02)


def transformer_linears(scale: Scale, comfy_dir: Path) -> dict[str, tuple[int, int]]:
    """`module -> (out, in)` of every linear layer of the transformer."""
    model = cfgs.transformer(cfgs.config(scale), comfy_dir)
    return {
        name[: -len(".weight")]: tuple(v.shape)
        for name, v in model.state_dict().items()
        if name.endswith(".weight") and v.dim() == 2
    }


def gemma_linears(comfy_dir: Path, layers: int | None = None) -> dict[str, tuple[int, int]]:
    """`module -> (out, in)` of Gemma 3 12B's attention and MLP projections."""
    ops = cfgs.comfy_modules(comfy_dir)
    llama = importlib.import_module("comfy.text_encoders.llama")
    with torch.device("meta"):
        gemma = llama.Gemma3_12B({}, torch.bfloat16, "meta", ops.disable_weight_init)
    linears = {}
    for name, v in gemma.model.state_dict().items():
        parts = name.split(".")
        if parts[0] != "layers" or not name.endswith("_proj.weight"):
            continue
        if layers is not None and int(parts[1]) >= layers:
            continue
        linears["model." + name[: -len(".weight")]] = tuple(v.shape)
    return linears


def _distilled_plan(scale: Scale, comfy_dir: Path) -> list[Entry]:
    rank = _DISTILLED_RANK if scale == "full" else _TINY_RANK
    return list(_lora_pairs("diffusion_model.", transformer_linears(scale, comfy_dir), rank))


def _ic_plan(scale: Scale, comfy_dir: Path) -> tuple[list[Entry], dict[str, str]]:
    rank = _IC_RANK if scale == "full" else _TINY_RANK
    entries = list(_lora_pairs("diffusion_model.", transformer_linears(scale, comfy_dir), rank))
    return entries, {"reference_downscale_factor": str(IC_REFERENCE_DOWNSCALE_FACTOR)}


def _gemma_plan(scale: Scale, comfy_dir: Path) -> list[Entry]:
    # In CPU tests Gemma is never loaded: one layer at real shapes stays valid.
    if scale == "full":
        return list(_lora_pairs(_GEMMA_PREFIX, gemma_linears(comfy_dir), _GEMMA_RANK))
    return list(_lora_pairs(_GEMMA_PREFIX, gemma_linears(comfy_dir, layers=1), _TINY_RANK))


def planned_lora_bytes(kind: str, scale: Scale, comfy_dir: Path) -> int:
    """Size of the `kind` ("distilled", "ic" or "gemma") LoRA file, unwritten."""
    if kind == "distilled":
        return planned_size(_distilled_plan(scale, comfy_dir))
    if kind == "ic":
        return planned_size(*_ic_plan(scale, comfy_dir))
    if kind == "gemma":
        return planned_size(_gemma_plan(scale, comfy_dir))
    raise ValueError(f"unknown LoRA kind {kind!r}")


def write_distilled_lora(path: Path, scale: Scale, comfy_dir: Path) -> None:
    """`ltx_2.3_22b_distilled_1.1_lora_dynamic_fro09_avg_rank_111_bf16.safetensors`."""
    write(path, _distilled_plan(scale, comfy_dir), seed=f"distilled-lora-{scale}")


def write_ic_lora(path: Path, scale: Scale, comfy_dir: Path) -> None:
    """`ltx-2.3-22b-ic-lora-union-control-ref0.5.safetensors`, with the
    `reference_downscale_factor` metadata `GetICLoRAParameters` reads."""
    entries, metadata = _ic_plan(scale, comfy_dir)
    write(path, entries, metadata, seed=f"ic-lora-{scale}")


def write_gemma_lora(path: Path, scale: Scale, comfy_dir: Path) -> None:
    """`gemma-3-12b-it-abliterated_lora_rank64_bf16.safetensors`."""
    write(path, _gemma_plan(scale, comfy_dir), seed=f"gemma-lora-{scale}")
