"""What a running job is doing, in words a member understands.

The card names stages, not ComfyUI nodes: "Preparing" (loading models,
encoding the prompt, reading the inputs), "Generating" (the first sampler,
with its steps), "Refining" (the upscale and the second sampler of the
two-stage graphs), "Decoding" (latents to frames and sound), "Encoding" (the
video file). The stage comes from the node's *type*, never its id, so it
holds for the generated workflows, an operator's own exports and the
model-free test graphs alike; a type not listed here is preparation.
Uploading is the bot's own step, after the job.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

PREPARING = "Preparing"
GENERATING = "Generating"
REFINING = "Refining"
DECODING = "Decoding"
ENCODING = "Encoding"
UPLOADING = "Uploading"

# Nodes that run the diffusion steps (and report them).
SAMPLERS = frozenset({"SamplerCustomAdvanced", "SamplerCustom", "KSampler", "KSamplerAdvanced"})

NODE_STAGES: Mapping[str, str] = MappingProxyType(
    {
        "LTXVLatentUpsampler": REFINING,
        "LatentUpscale": REFINING,
        "LatentUpscaleBy": REFINING,
        "VAEDecode": DECODING,
        "VAEDecodeTiled": DECODING,
        "LTXVAudioVAEDecode": DECODING,
        "LTXVSeparateAVLatent": DECODING,
        "CreateVideo": ENCODING,
        "SaveVideo": ENCODING,
        "SaveWEBM": ENCODING,
        "LTXBotSaveVideo": ENCODING,
    }
)


def stage_of(node_type: str | None, samplers_before: int, *, two_stage: bool = True) -> str:
    """The stage of a node of `node_type`, given how many sampler nodes ran
    before it in this attempt: the first sampler generates; in a two-stage
    mode a later one refines the upscaled result."""
    if node_type in SAMPLERS:
        return REFINING if two_stage and samplers_before > 0 else GENERATING
    if node_type is None:
        return PREPARING
    return NODE_STAGES.get(node_type, PREPARING)
