"""One recipe per mode: which template, which node binds which parameter, and
the few structural changes a mode needs.

Node ids are those comfy-cli gives the flattened template (`<subgraph
instance>:<interior id>`) in comfyui-workflow-templates-json 0.1.123.
"""

from __future__ import annotations

from engine.comfy.video_out import NODE_NAME as FAST_SAVE
from engine.media.frames import DEFAULT_CRF
from engine.media.upload import upload_limit
from tools._recipe import Add, Bind, Link, Recipe, Replace, Set, Wire

# Sizes of the model files, from the templates' "Model Links" notes (decimal
# GB/MB); the Hub cannot be reached from CI to ask.
MODEL_SIZES: dict[str, int] = {
    "ltx-2.3-22b-dev-fp8.safetensors": 27_140_000_000,
    "ltx-2.3-22b-distilled-fp8.safetensors": 27_500_000_000,
    "gemma_3_12B_it_fp4_mixed.safetensors": 8_800_000_000,
    "ltx_2.3_22b_distilled_1.1_lora_dynamic_fro09_avg_rank_111_bf16.safetensors": 2_550_000_000,
    "ltx-2.3-spatial-upscaler-x2-1.1.safetensors": 949_600_000,
    "gemma-3-12b-it-abliterated_lora_rank64_bf16.safetensors": 599_100_000,
    "ltx-2.3-22b-ic-lora-union-control-ref0.5.safetensors": 624_100_000,
    "moge_2_vitl_normal_fp16.safetensors": 631_200_000,
}

ENHANCER_LORA = "gemma-3-12b-it-abliterated_lora_rank64_bf16.safetensors"


def _output(node: str) -> Replace:
    """The template's SaveVideo becomes the engine's one-encode output node, fed
    the same VIDEO: CRF quality, capped to fit the default upload budget (what
    delivery fits to when a server's own limit is not known), so delivery only
    remuxes it (docs/benchmarks.md §7)."""
    return Replace(
        node,
        "SaveVideo",
        FAST_SAVE,
        {"filename_prefix": "ltxbot/video", "crf": DEFAULT_CRF, "fit_bytes": upload_limit()},
        "ltx:output",
        keep=("video",),
    )


def _float_duration(node: str) -> Replace:
    """The template's whole-second Duration becomes a float: any length can be
    asked for, and `length = seconds * fps + 1` is steered to an exact 8k+1."""
    return Replace(node, "PrimitiveInt", "PrimitiveFloat", {"value": 5.0}, "ltx:duration_s")


def _refine_switch(sep1: str, upsampler: str, sep2: str, vdec: str, adec: str) -> tuple:
    """Make the full-size refinement stage optional (`ltx:refine`).

    Two lazy switches choose what the decoders read: the refined latents, or the
    upsampled first-stage latents. Switches evaluate only the chosen branch, so
    with refine off the second sampler never runs (the Fast preset)."""
    return (
        Add("ltxbot:refine", "PrimitiveBoolean", {"value": True}, "ltx:refine"),
        Add(
            "ltxbot:refined_video",
            "ComfySwitchNode",
            {
                "switch": Link("ltxbot:refine"),
                "on_false": Link(upsampler, 0),
                "on_true": Link(sep2, 0),
            },
            "Refined or upsampled video latent",
        ),
        Add(
            "ltxbot:refined_audio",
            "ComfySwitchNode",
            {
                "switch": Link("ltxbot:refine"),
                "on_false": Link(sep1, 1),
                "on_true": Link(sep2, 1),
            },
            "Refined or first-stage audio latent",
        ),
        Wire(vdec, "VAEDecodeTiled", "samples", Link("ltxbot:refined_video")),
        Wire(adec, "LTXVAudioVAEDecode", "samples", Link("ltxbot:refined_audio")),
    )


T2V = Recipe(
    mode="t2v",
    template="video_ltx2_3_t2v",
    steps=(
        Bind("267:266", "PrimitiveStringMultiline", "prompt"),
        Bind("267:247", "CLIPTextEncode", "negative_prompt"),
        Bind("267:257", "PrimitiveInt", "width"),
        Bind("267:258", "PrimitiveInt", "height"),
        _float_duration("267:225"),
        Bind("267:260", "PrimitiveInt", "fps"),
        Bind("267:237", "RandomNoise", "seed"),
        Bind("267:330", "PrimitiveBoolean", "enhance_prompt"),
        Bind("267:209", "KSamplerSelect", "sampler"),
        Bind("267:252", "ManualSigmas", "sigmas"),
        Bind("267:211", "ManualSigmas", "refine_sigmas"),
        _output("75"),
        *_refine_switch("267:217", "267:253", "267:218", "267:251", "267:220"),
    ),
)

I2V = Recipe(
    mode="i2v",
    template="video_ltx2_3_i2v",
    steps=(
        Bind("269", "LoadImage", "image"),
        Bind("320:319", "PrimitiveStringMultiline", "prompt"),
        Bind("320:313", "CLIPTextEncode", "negative_prompt"),
        Bind("320:312", "PrimitiveInt", "width"),
        Bind("320:299", "PrimitiveInt", "height"),
        _float_duration("320:301"),
        Bind("320:300", "PrimitiveInt", "fps"),
        Bind("320:277", "RandomNoise", "seed"),
        Bind("320:328", "PrimitiveBoolean", "enhance_prompt"),
        Bind("320:291", "KSamplerSelect", "sampler"),
        Bind("320:306", "ManualSigmas", "sigmas"),
        Bind("320:281", "ManualSigmas", "refine_sigmas"),
        _output("75"),
        *_refine_switch("320:307", "320:287", "320:309", "320:315", "320:297"),
    ),
)

_IA2V_COMMON = (
    Bind("276", "LoadAudio", "audio"),
    Bind("340:332", "TrimAudioDuration", "start_s=start_index"),
    Bind("340:319", "PrimitiveStringMultiline", "prompt"),
    Bind("340:314", "CLIPTextEncode", "negative_prompt"),
    Bind("340:330", "PrimitiveInt", "width"),
    Bind("340:324", "PrimitiveInt", "height"),
    Bind("340:331", "PrimitiveFloat", "duration_s"),
    Bind("340:323", "PrimitiveInt", "fps"),
    Bind("340:286", "RandomNoise", "seed"),
    Bind("340:349", "PrimitiveBoolean", "enhance_prompt"),
    Bind("340:298", "KSamplerSelect", "sampler"),
    Bind("340:308", "ManualSigmas", "sigmas"),
    Bind("340:289", "ManualSigmas", "refine_sigmas"),
    _output("341"),
    *_refine_switch("340:309", "340:295", "340:311", "340:316", "340:303"),
)

LIPSYNC = Recipe(
    mode="lipsync",
    template="video_ltx2_3_ia2v",
    steps=(Bind("269", "LoadImage", "image"), *_IA2V_COMMON),
)

A2V = Recipe(
    mode="a2v",
    template="video_ltx2_3_ia2v",
    steps=(
        *_IA2V_COMMON,
        # The template's own switch: no image conditioning.
        Set("340:305", "PrimitiveBoolean", "value", True),
        # Nothing to load: a blank stands in for the (bypassed) image.
        Replace(
            "269",
            "LoadImage",
            "EmptyImage",
            {"width": 512, "height": 512, "batch_size": 1, "color": 0},
            "Empty Image",
        ),
        # Keep the original sound rather than its trip through the audio VAE.
        Wire("340:312", "CreateVideo", "audio", Link("340:332", 0)),
    ),
)

KEYFRAME = Recipe(
    mode="keyframe",
    template="video_ltx2_3_flf2v",
    steps=(
        Bind("31", "LoadImage", "first_image"),
        Bind("39", "LoadImage", "last_image"),
        Bind("129:112", "CLIPTextEncode", "negative_prompt"),
        Bind("129:113", "PrimitiveInt", "width"),
        Bind("129:98", "PrimitiveInt", "height"),
        _float_duration("129:102"),
        Bind("129:114", "PrimitiveInt", "fps"),
        Bind("129:100", "RandomNoise", "seed"),
        Bind("129:118", "ManualSigmas", "sigmas"),
        Bind("129:117", "SamplerEulerAncestral", "eta"),
        _output("68"),
        # The template has no prompt enhancer; add the one the other LTX-2.3
        # templates use (same LoRA, same settings), fed the first frame.
        Add("ltxbot:prompt", "PrimitiveStringMultiline", {"value": ""}, "ltx:prompt"),
        Add("ltxbot:enhance", "PrimitiveBoolean", {"value": False}, "ltx:enhance_prompt"),
        Add(
            "ltxbot:enhancer_lora",
            "LoraLoader",
            {
                "lora_name": ENHANCER_LORA,
                "strength_model": 1,
                "strength_clip": 1,
                "model": Link("129:127", 0),
                "clip": Link("129:103", 0),
            },
            "Load LoRA (Model and CLIP)",
        ),
        Add(
            "ltxbot:enhancer",
            "TextGenerateLTX2Prompt",
            {
                "prompt": Link("ltxbot:prompt"),
                "max_length": 2048,
                "sampling_mode": "on",
                "thinking": False,
                "use_default_template": True,
                "clip": Link("ltxbot:enhancer_lora", 1),
                "image": Link("129:124", 0),
                "sampling_mode.temperature": 0.7,
                "sampling_mode.top_k": 64,
                "sampling_mode.top_p": 0.95,
                "sampling_mode.min_p": 0.05,
                "sampling_mode.repetition_penalty": 1.05,
                "sampling_mode.seed": 0,
                "sampling_mode.presence_penalty": 0,
            },
            "Generate LTX2 Prompt",
        ),
        Add(
            "ltxbot:prompt_switch",
            "ComfySwitchNode",
            {
                "switch": Link("ltxbot:enhance"),
                "on_false": Link("ltxbot:prompt"),
                "on_true": Link("ltxbot:enhancer"),
            },
            "If/Else Switch",
        ),
        Wire("129:128", "CLIPTextEncode", "text", Link("ltxbot:prompt_switch")),
    ),
)

STYLE = Recipe(
    mode="style",
    template="video_ltx2_3_ic_lora",
    steps=(
        Bind("199", "LoadVideo", "video"),
        Bind("200", "LoadImage", "style_image"),
        Bind("692", "Video Slice", "start_s=start_time,duration_s=duration"),
        # Flattening leaves two copies of the prompt: the enhancer's input and
        # the switch's raw branch. Both are bound.
        Bind("129:209", "TextGenerateLTX2Prompt", "prompt=prompt"),
        Bind("129:211", "ComfySwitchNode", "prompt=on_false"),
        Bind("129:212", "PrimitiveBoolean", "enhance_prompt"),
        Bind("129:112", "CLIPTextEncode", "negative_prompt"),
        Bind("129:113", "PrimitiveInt", "width"),
        Bind("129:98", "PrimitiveInt", "height"),
        Bind("129:114", "PrimitiveInt", "fps"),
        Bind("129:704", "KSampler", "seed,steps,sampler"),
        _output("68"),
        # Keep the source video's sound (the window Video Slice cut).
        Wire("129:122", "CreateVideo", "audio", Link("697:70", 1)),
    ),
)

RECIPES: dict[str, Recipe] = {r.mode: r for r in (T2V, A2V, I2V, LIPSYNC, KEYFRAME, STYLE)}
