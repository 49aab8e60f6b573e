"""The LTX-2.3 header config, real or shrunk, and ComfyUI's modules built from it.

The real config is what the real checkpoints carry in `__metadata__["config"]`
(`_ltx_header.REAL_CONFIG`). The tiny one keeps every switch of it (gated
attention, AV cross attention, cross-attention AdaLN, the embeddings connector
and its registers, the audio branch, the vocoder with BWE) and changes only
widths, depths and head counts. Channel counts that ComfyUI hard-codes
elsewhere stay real: 128 video latent channels, 8 x 16 audio latent bins, the
3840 x 49 Gemma hidden states the text projection reads.
"""

from __future__ import annotations

import copy
import importlib
import json
import sys
from pathlib import Path
from typing import Any

import torch

from tools.standins import Scale
from tools.standins._ltx_header import REAL_CONFIG

# Gemma 3 12B, fixed in ComfyUI: hidden size and hidden-state count (48 layers
# plus the embeddings) that the checkpoint's text projection reads.
GEMMA_HIDDEN = 3840
GEMMA_STATES = 49

_TINY_TRANSFORMER = {
    "num_layers": 2,
    "num_attention_heads": 2,
    "attention_head_dim": 16,
    "cross_attention_dim": 32,
    "audio_num_attention_heads": 2,
    "audio_attention_head_dim": 8,
    "audio_cross_attention_dim": 16,
    "connector_num_layers": 1,
    "connector_num_attention_heads": 2,
    "connector_attention_head_dim": 16,
    "audio_connector_num_attention_heads": 2,
    "audio_connector_attention_head_dim": 8,
}


def _tiny_blocks(blocks: list[Any]) -> list[Any]:
    """Same block kinds and multipliers, one layer per residual stage."""
    out = []
    for kind, opts in blocks:
        opts = dict(opts)
        if "num_layers" in opts:
            opts["num_layers"] = 1
        out.append([kind, opts])
    return out


def real_config() -> dict[str, Any]:
    """The config the real LTX-2.3 22B checkpoints carry (a copy to change freely)."""
    return copy.deepcopy(REAL_CONFIG)


def tiny_config() -> dict[str, Any]:
    """The real config with CPU-test widths and depths; every switch kept."""
    cfg = real_config()
    cfg["transformer"].update(_TINY_TRANSFORMER)
    vae = cfg["vae"]
    vae["encoder_blocks"] = _tiny_blocks(vae["encoder_blocks"])
    vae["decoder_blocks"] = _tiny_blocks(vae["decoder_blocks"])
    vae["encoder_base_channels"] = 8
    vae["decoder_base_channels"] = 8
    dd = cfg["audio_vae"]["model"]["params"]["ddconfig"]
    dd["ch"] = 8
    dd["num_res_blocks"] = 1
    voc = cfg["vocoder"]
    # Each upsample stage halves the channels: 64 / 2**6 and 32 / 2**5 stay >= 1.
    voc["vocoder"]["upsample_initial_channel"] = 64
    voc["bwe"]["upsample_initial_channel"] = 32
    return cfg


def config(scale: Scale) -> dict[str, Any]:
    return tiny_config() if scale == "tiny" else real_config()


def comfy_modules(comfy_dir: Path) -> Any:
    """Import ComfyUI's model code, booting nothing but its CLI defaults.

    When the project already booted ComfyUI the modules are simply reused;
    otherwise (the writer run on its own) `--cpu` is set before
    `comfy.model_management` picks a device, if there is no GPU.
    """
    root = str(comfy_dir)
    if root not in sys.path:
        sys.path.insert(0, root)
    if "comfy.model_management" not in sys.modules and not torch.cuda.is_available():
        importlib.import_module("comfy.cli_args").args.cpu = True
    return importlib.import_module("comfy.ops")


def transformer(cfg: dict[str, Any], comfy_dir: Path) -> torch.nn.Module:
    """ComfyUI's own LTXAV transformer, on the meta device: keys and shapes only."""
    ops = comfy_modules(comfy_dir)
    av = importlib.import_module("comfy.ldm.lightricks.av_model")
    with torch.device("meta"):
        return av.LTXAVModel(
            **cfg["transformer"],
            dtype=torch.bfloat16,
            device="meta",
            operations=ops.disable_weight_init,
        )


def video_vae(cfg: dict[str, Any], comfy_dir: Path) -> torch.nn.Module:
    comfy_modules(comfy_dir)
    vae = importlib.import_module("comfy.ldm.lightricks.vae.causal_video_autoencoder")
    return vae.VideoVAE(config=cfg["vae"])


def audio_vae(cfg: dict[str, Any], comfy_dir: Path) -> torch.nn.Module:
    """Autoencoder and vocoder (+ BWE), built on the host: their buffers
    (anti-aliasing filters, STFT bases) are real values, not weights."""
    comfy_modules(comfy_dir)
    audio = importlib.import_module("comfy.ldm.lightricks.vae.audio_vae")
    return audio.AudioVAE(metadata={"config": json.dumps(cfg)})


def text_projection(cfg: dict[str, Any], comfy_dir: Path) -> torch.nn.Module:
    """The post-Gemma dual projection `LTXAVTextEncoderLoader` reads from the checkpoint."""
    ops = comfy_modules(comfy_dir)
    lt = importlib.import_module("comfy.text_encoders.lt")
    t = cfg["transformer"]
    with torch.device("meta"):
        return lt.DualLinearProjection(
            GEMMA_HIDDEN * GEMMA_STATES,
            t["cross_attention_dim"],
            t["audio_cross_attention_dim"],
            dtype=torch.bfloat16,
            device="meta",
            operations=ops.disable_weight_init,
        )
