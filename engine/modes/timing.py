"""`estimate_gpu_seconds`: how long a built job should take on a warm H200-class
GPU, for the timeout budget (the runtime clamps it and adds a cold-load allowance).

A transformer step costs about (tokens) x (1 - a + a x tokens/T0): linear layers
grow with the token count, attention with its square. The constants and where
they come from are in docs/modes.md ("Time estimates"); in short:

- S0: LTX-2 19B runs 8 steps at 768x512x121 in ~9.5 s in BF16 on an H100
  (1.19 s/step); LTX-2.3 is 22B (x1.16); an H200 is ~5% faster (bandwidth).
- a: attention's share of a step at T0 (~40% for a DiT at ~6k tokens).
- OVERHEAD_S: fixed so that the official t2v template at its defaults
  (1280x704, 121 frames, two stages, no prompt enhancement) lands on the ~30 s
  the original all-in-one app took on an H200.
"""

from __future__ import annotations

from engine.modes.build import BuiltWorkflow
from engine.modes.presets import preset_plan
from engine.workflows.bindings import find_bindings

T0_TOKENS = (768 // 32) * (512 // 32) * ((121 - 1) // 8 + 1)  # 6144
S0 = 9.5 / 8 * (22 / 19) / 1.05  # s per step at T0 on an H200, 22B
ATTENTION_SHARE = 0.4
TEXT_ENCODE_S = 1.0  # Gemma 3 12B (fp4), positive + negative
ENHANCE_S = 12.0  # Gemma generating a rewritten prompt (~300 tokens)
DECODE_S = 4.0  # tiled VAE decode of 1280x704x121, scaled by pixels
UPSAMPLE_S = 0.5  # latent x2 upsampler (two-stage modes)
MOGE_S_PER_FRAME = 0.06  # MoGe ViT-L depth per source frame (style)
IC_LORA_TOKENS = 1.25  # style: the control video at half size joins the sequence
OVERHEAD_S = 5.9  # node overhead, LoRA patching, muxing (calibration, see above)
_REF_PIXELS = 1280 * 704 * 121


def _tokens(width: int, height: int, frames: int) -> float:
    return (width / 32) * (height / 32) * ((frames - 1) // 8 + 1)


def step_seconds(tokens: float) -> float:
    r = tokens / T0_TOKENS
    return S0 * r * (1 - ATTENTION_SHARE + ATTENTION_SHARE * r)


def _enhancing(built: BuiltWorkflow) -> bool:
    for b in find_bindings(built.prompt).get("enhance_prompt", ()):
        if built.prompt[b.node_id]["inputs"].get(b.input_name) is True:
            return True
    return False


def estimate_gpu_seconds(built: BuiltWorkflow) -> float:
    plan = preset_plan(built.mode, built.preset)
    w, h, f = built.width, built.height, built.frames
    full = _tokens(w, h, f)
    seconds = OVERHEAD_S + TEXT_ENCODE_S + DECODE_S * (w * h * f) / _REF_PIXELS
    if built.mode == "style":
        seconds += plan.steps * step_seconds(full * IC_LORA_TOKENS) + MOGE_S_PER_FRAME * f
    elif built.mode == "keyframe":
        seconds += plan.steps * step_seconds(full)
    else:
        seconds += plan.steps * step_seconds(_tokens(w // 2, h // 2, f)) + UPSAMPLE_S
        seconds += plan.refine_steps * step_seconds(full)
    if _enhancing(built):
        seconds += ENHANCE_S
    return round(seconds, 1)
