"""A test-only stand-in for the LTX-2.3 text encoding, Gemma excluded.

Gemma 3 12B has a fixed config in ComfyUI, so it cannot be shrunk for CPU tests.
This node stands in for `CLIPTextEncode` on an `LTXAVTextEncoderLoader` clip:
it makes deterministic pseudo-random "Gemma hidden states" from the text (49
states of 3840, one row per pseudo-token, as Gemma's `layer="all"` output is)
and runs them through ComfyUI's real post-Gemma code, the `DualLinearProjection`
with the weights of the checkpoint the loader names. The output is what the
real encode returns: `[[cond, {"pooled_output": None,
"unprocessed_ltxav_embeds": True}]]`, `cond` float32 of shape
`[1, tokens, cross_attention_dim + audio_cross_attention_dim]`; the model's own
embeddings connectors then run on it inside the sampler, as for the real one.
"""

from __future__ import annotations

import copy
import hashlib
import math
from functools import lru_cache
from typing import Any

import torch

NODE_NAME = "LTXBotStandInTextEncode"
GEMMA_HIDDEN = 3840
GEMMA_STATES = 49
MAX_TOKENS = 1024
_PREFIX = "text_embedding_projection."


def pseudo_token_count(text: str) -> int:
    """BOS plus about one token per 4 bytes, as SentencePiece roughly gives."""
    return min(MAX_TOKENS, 1 + math.ceil(len(text.encode("utf-8")) / 4))


def gemma_hidden_states(text: str) -> torch.Tensor:
    """`[1, 49, tokens, 3840]` float32, the same for the same text."""
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little") >> 1
    gen = torch.Generator().manual_seed(seed)
    shape = (1, GEMMA_STATES, pseudo_token_count(text), GEMMA_HIDDEN)
    return torch.randn(shape, generator=gen, dtype=torch.float32)


@lru_cache(maxsize=4)
def _projection(path: str, mtime_ns: int) -> torch.nn.Module:
    """ComfyUI's `DualLinearProjection`, loaded from the checkpoint at `path`."""
    del mtime_ns  # part of the cache key only: a rewritten file is reloaded
    import comfy.ops
    import comfy.text_encoders.lt as lt
    from safetensors import safe_open

    with safe_open(path, framework="pt") as f:
        sd = {k[len(_PREFIX) :]: f.get_tensor(k).float() for k in f.keys() if k.startswith(_PREFIX)}  # noqa: SIM118 - safe_open is no dict
    video = sd["video_aggregate_embed.weight"]
    audio = sd["audio_aggregate_embed.weight"]
    proj = lt.DualLinearProjection(
        video.shape[1],
        video.shape[0],
        audio.shape[0],
        video_bias="video_aggregate_embed.bias" in sd,
        audio_bias="audio_aggregate_embed.bias" in sd,
        dtype=torch.float32,
        device="cpu",
        operations=comfy.ops.disable_weight_init,
    )
    proj.load_state_dict(sd, strict=True)
    return proj.eval()


def encode(text: str, checkpoint_path: str) -> torch.Tensor:
    """The conditioning tensor for `text`, with the projection of `checkpoint_path`."""
    import os

    proj = _projection(checkpoint_path, os.stat(checkpoint_path).st_mtime_ns)
    with torch.no_grad():
        return proj(gemma_hidden_states(text)).float()


class LTXBotStandInTextEncode:
    """`CLIPTextEncode` on the LTX-2.3 text encoder, with Gemma stood in."""

    CATEGORY = "testing"
    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "encode"

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:
        import folder_paths

        return {
            "required": {
                "text": ("STRING", {"multiline": True, "dynamicPrompts": True}),
                "ckpt_name": (folder_paths.get_filename_list("checkpoints"),),
            }
        }

    def encode(self, text: str, ckpt_name: str) -> tuple[list[list[Any]]]:
        import folder_paths

        path = folder_paths.get_full_path_or_raise("checkpoints", ckpt_name)
        cond = encode(text, path)
        return ([[cond, {"pooled_output": None, "unprocessed_ltxav_embeds": True}]],)


def register(nodes_module: Any) -> None:
    """Add the node to a booted ComfyUI's `nodes` registry."""
    nodes_module.NODE_CLASS_MAPPINGS[NODE_NAME] = LTXBotStandInTextEncode
    nodes_module.NODE_DISPLAY_NAME_MAPPINGS[NODE_NAME] = "LTX-Bot stand-in text encode"


def unregister(nodes_module: Any) -> None:
    """Take the node out again: ComfyUI's registry is process-wide, and a later
    test that compares it with the pin's `/object_info` must see only upstream."""
    nodes_module.NODE_CLASS_MAPPINGS.pop(NODE_NAME, None)
    nodes_module.NODE_DISPLAY_NAME_MAPPINGS.pop(NODE_NAME, None)


def _ltxav_clip_sources(prompt: dict[str, Any]) -> dict[tuple[str, int], Any]:
    """`(node id, output index)` of every CLIP that is an LTXAV text encoder,
    directly or through LoraLoaders, mapped to the loader's `ckpt_name`."""
    sources: dict[tuple[str, int], Any] = {
        (nid, 0): node["inputs"].get("ckpt_name")
        for nid, node in prompt.items()
        if node.get("class_type") == "LTXAVTextEncoderLoader"
    }
    grown = True
    while grown:
        grown = False
        for nid, node in prompt.items():
            clip = node.get("inputs", {}).get("clip")
            if node.get("class_type") != "LoraLoader" or not isinstance(clip, list):
                continue
            origin = (str(clip[0]), int(clip[1]))
            if origin in sources and (nid, 1) not in sources:
                sources[(nid, 1)] = sources[origin]
                grown = True
    return sources


def swap_text_encoding(prompt: dict[str, Any]) -> dict[str, Any]:
    """A copy of an API-format prompt whose LTXAV `CLIPTextEncode`s are this node.

    Same node ids and `text` inputs, so everything downstream is unchanged.
    """
    out = copy.deepcopy(prompt)
    sources = _ltxav_clip_sources(out)
    for node in out.values():
        clip = node.get("inputs", {}).get("clip")
        if node.get("class_type") != "CLIPTextEncode" or not isinstance(clip, list):
            continue
        ckpt = sources.get((str(clip[0]), int(clip[1])))
        if ckpt is None:
            continue
        node["class_type"] = NODE_NAME
        node["inputs"] = {"text": node["inputs"]["text"], "ckpt_name": ckpt}
    return out
