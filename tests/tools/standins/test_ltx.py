"""The tiny LTX-2.3 stand-ins load and run through ComfyUI's own loaders.

One module-wide ComfyUI (booted the project's way) reads the files written
under a tmp dir: checkpoint, its fp8 variant and the three LoRAs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from engine.comfy.boot import boot
from engine.comfy.locate import find_comfy_dir
from engine.comfy.types import RuntimeConfig
from tests.standins import text_node
from tools.standins import _loras, _ltx
from tools.standins._ltx_header import REAL_CONFIG

CKPT = "ltx-2.3-22b-dev-fp8.safetensors"
FP8_CKPT = "tiny-fp8.safetensors"
DISTILLED = "ltx_2.3_22b_distilled_1.1_lora_dynamic_fro09_avg_rank_111_bf16.safetensors"
IC = "ltx-2.3-22b-ic-lora-union-control-ref0.5.safetensors"
GEMMA = "gemma-3-12b-it-abliterated_lora_rank64_bf16.safetensors"
REPO = Path(__file__).resolve().parents[3]
FACTS = Path("/work/shared/comfyui/ltx-2.3-model-facts.json")
needs_facts = pytest.mark.skipif(not FACTS.exists(), reason="model facts file not on this machine")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("standins")
    comfy_dir = find_comfy_dir()
    ckpts, loras = root / "checkpoints", root / "loras"
    _ltx.write_dev_checkpoint(ckpts / CKPT, "tiny", comfy_dir)
    _ltx.write_checkpoint(ckpts / FP8_CKPT, "tiny", comfy_dir, fp8=True)
    _loras.write_distilled_lora(loras / DISTILLED, "tiny", comfy_dir)
    _loras.write_ic_lora(loras / IC, "tiny", comfy_dir)
    _loras.write_gemma_lora(loras / GEMMA, "tiny", comfy_dir)
    return root, comfy_dir


@pytest.fixture(scope="module")
def comfy(files):
    root, comfy_dir = files
    booted = boot(
        RuntimeConfig.under(
            comfy_dir,
            root / "io",
            device="cpu",
            model_dirs=(("checkpoints", root / "checkpoints"), ("loras", root / "loras")),
        )
    )
    text_node.register(booted.nodes)
    yield booted
    text_node.unregister(booted.nodes)


@pytest.fixture(scope="module")
def loaded(comfy):
    nodes = comfy.nodes.NODE_CLASS_MAPPINGS
    model, _, vae = nodes["CheckpointLoaderSimple"]().load_checkpoint(CKPT)[:3]
    audio_vae = nodes["LTXVAudioVAELoader"].execute(CKPT).result[0]
    return model, vae, audio_vae


def _file_keys(path: Path) -> tuple[set[str], dict[str, str]]:
    with safe_open(str(path), framework="pt") as f:
        return set(f.keys()), f.metadata()


def test_detected_as_ltx23_av_with_the_header_switches(files, loaded):
    import comfy.model_base

    model, _, _ = loaded
    root, _ = files
    keys, metadata = _file_keys(root / "checkpoints" / CKPT)
    header = json.loads(metadata["config"])["transformer"]
    assert header == _ltx.tiny_config()["transformer"]
    assert isinstance(model.model, comfy.model_base.LTXAV)
    unet = model.model.model_config.unet_config
    for switch in (
        "apply_gated_attention",
        "connector_apply_gated_attention",
        "cross_attention_adaln",
        "caption_proj_before_connector",
        "use_audio_video_cross_attention",
        "num_layers",
        "attention_head_dim",
        "audio_attention_head_dim",
    ):
        assert unet[switch] == header[switch], switch
    dm = model.model.diffusion_model
    assert len(dm.transformer_blocks) == header["num_layers"] == 2
    assert dm.transformer_blocks[0].attn1.to_gate_logits is not None
    assert dm.video_embeddings_connector.learnable_registers.shape == (
        128,
        header["cross_attention_dim"],
    )
    assert dm.audio_prompt_adaln_single is not None
    # Every transformer key of the file is a key of the model, and back.
    in_file = {k.removeprefix("model.") for k in keys if k.startswith("model.diffusion_model.")}
    in_model = {k for k in model.model.state_dict() if k.startswith("diffusion_model.")}
    assert in_file == in_model


def test_vaes_built_from_the_header(loaded):
    _, vae, audio_vae = loaded
    tiny = _ltx.tiny_config()
    assert vae.latent_channels == 128
    assert vae.first_stage_model.config == tiny["vae"]
    assert type(audio_vae.first_stage_model.vocoder).__name__ == "VocoderWithBWE"
    assert audio_vae.audio_sample_rate_output == 48000


def test_text_projection_is_what_the_real_loader_detects(files):
    import comfy.text_encoders.lt as lt
    import comfy.utils

    root, _ = files
    sd = comfy.utils.load_torch_file(str(root / "checkpoints" / CKPT))
    dims = _ltx.describe("tiny")
    assert lt.sd_detect([sd]) == {
        "text_projection_type": "dual_linear",
        "video_projection_dim": 32,
        "audio_projection_dim": 16,
        "video_projection_bias": True,
        "audio_projection_bias": True,
    }
    assert dims["context_dim"] == 48


def _sample(nodes, model, audio_vae, pos, neg, sigmas):
    """The t2v graph's first stage: 64x64 px, 9 frames of video and audio."""
    pos, neg = nodes["LTXVConditioning"].execute(pos, neg, 25.0).result
    video = nodes["EmptyLTXVLatentVideo"].execute(64, 64, 9, 1).result[0]
    audio = nodes["LTXVEmptyLatentAudio"].execute(
        frames_number=9, frame_rate=25, batch_size=1, audio_vae=audio_vae
    )
    av = nodes["LTXVConcatAVLatent"].execute(video, audio.result[0]).result[0]
    guider = nodes["CFGGuider"].execute(model, pos, neg, 1.0).result[0]
    noise = nodes["RandomNoise"].execute(0).result[0]
    sampler = nodes["KSamplerSelect"].execute("euler").result[0]
    out = (
        nodes["SamplerCustomAdvanced"]
        .execute(noise, guider, sampler, torch.tensor(sigmas), av)
        .result[0]
    )
    return nodes["LTXVSeparateAVLatent"].execute(out).result


def test_text_node_output_runs_a_two_step_av_sample_and_decodes(comfy, loaded):
    model, vae, audio_vae = loaded
    nodes = comfy.nodes.NODE_CLASS_MAPPINGS
    encode = nodes[text_node.NODE_NAME]().encode
    pos, neg = encode("a cat on a skateboard", CKPT)[0], encode("", CKPT)[0]
    cond, extra = pos[0]
    assert cond.shape == (1, text_node.pseudo_token_count("a cat on a skateboard"), 48)
    assert cond.dtype == torch.float32
    assert extra == {"pooled_output": None, "unprocessed_ltxav_embeds": True}
    assert torch.equal(cond, encode("a cat on a skateboard", CKPT)[0][0][0])
    assert not torch.equal(cond[:, :1], neg[0][0])

    v, a = _sample(nodes, model, audio_vae, pos, neg, [1.0, 0.5, 0.0])
    assert v["samples"].shape == (1, 128, 2, 2, 2)
    assert torch.isfinite(v["samples"]).all() and torch.isfinite(a["samples"]).all()
    with torch.inference_mode():
        images = nodes["VAEDecode"]().decode(vae, v)[0]
        waveform = nodes["LTXVAudioVAEDecode"].execute(a, audio_vae).result[0]["waveform"]
    assert images.shape == (9, 64, 64, 3)
    assert torch.isfinite(images).all()
    assert waveform.shape[:2] == (1, 2) and torch.isfinite(waveform).all()


def test_fp8_scaled_layers_load_as_quantized_and_sample(comfy, files, loaded):
    root, _ = files
    keys, _ = _file_keys(root / "checkpoints" / FP8_CKPT)
    scales = [k for k in keys if k.endswith("_scale")]
    # Block 0 stays bf16 (as 5 of 48 do in the real file); block 1's 34 linears are fp8.
    assert len(scales) == 2 * 34
    model = comfy.nodes.NODE_CLASS_MAPPINGS["CheckpointLoaderSimple"]().load_checkpoint(FP8_CKPT)[0]
    blocks = model.model.diffusion_model.transformer_blocks
    assert getattr(blocks[1].attn1.to_q, "quant_format", None) == "float8_e4m3fn"
    assert getattr(blocks[0].attn1.to_q, "quant_format", None) is None
    encode = comfy.nodes.NODE_CLASS_MAPPINGS[text_node.NODE_NAME]().encode
    pos, neg = encode("a", FP8_CKPT)[0], encode("", FP8_CKPT)[0]
    v, a = _sample(comfy.nodes.NODE_CLASS_MAPPINGS, model, loaded[2], pos, neg, [1.0, 0.0])
    assert torch.isfinite(v["samples"]).all() and torch.isfinite(a["samples"]).all()


def _lora_modules(path: Path) -> int:
    keys, _ = _file_keys(path)
    return len({k.rsplit(".lora_", 1)[0] for k in keys})


def test_distilled_lora_patches_every_module(comfy, files, loaded):
    root, _ = files
    model = loaded[0]
    patched = comfy.nodes.NODE_CLASS_MAPPINGS["LoraLoaderModelOnly"]().load_lora_model_only(
        model, DISTILLED, 0.5
    )[0]
    modules = _lora_modules(root / "loras" / DISTILLED)
    assert modules > 0
    assert len(patched.patches) == modules
    assert len(model.patches) == 0


def test_ic_lora_metadata_reaches_get_ic_lora_parameters(comfy, loaded):
    model = loaded[0]
    nodes = comfy.nodes.NODE_CLASS_MAPPINGS
    patched = nodes["LoraLoaderModelOnly"]().load_lora_model_only(model, IC, 1.0)[0]
    assert len(patched.patches) > 0
    params = nodes["GetICLoRAParameters"].execute(patched).result[0]
    assert params == {"reference_downscale_factor": _loras.IC_REFERENCE_DOWNSCALE_FACTOR}
    assert _loras.IC_REFERENCE_DOWNSCALE_FACTOR != 1  # else the check below proves nothing
    assert nodes["GetICLoRAParameters"].execute(model).result[0] == {
        "reference_downscale_factor": 1
    }


def test_gemma_lora_maps_onto_the_ltxav_text_encoder(comfy, files):
    import comfy.lora
    import comfy.text_encoders.lt as lt
    import comfy.utils

    root, _ = files
    with torch.device("meta"):
        te = lt.ltxav_te(
            text_projection_type="dual_linear", video_projection_dim=32, audio_projection_dim=16
        )(device="meta", dtype=torch.bfloat16)
    lora = comfy.utils.load_torch_file(str(root / "loras" / GEMMA))
    patches = comfy.lora.load_lora(lora, comfy.lora.model_lora_keys_clip(te, {}))
    assert len(patches) == _lora_modules(root / "loras" / GEMMA) == 7


def test_tiny_keeps_every_switch_of_the_real_config():
    tiny = _ltx.tiny_config()
    assert set(tiny) == set(REAL_CONFIG)
    for part in ("transformer", "vae"):
        for key, value in REAL_CONFIG[part].items():
            if isinstance(value, (bool, str)) or value is None:
                assert tiny[part][key] == value, (part, key)
    block_kinds = [kind for kind, _ in REAL_CONFIG["vae"]["decoder_blocks"]]
    assert [kind for kind, _ in tiny["vae"]["decoder_blocks"]] == block_kinds
    assert "bwe" in tiny["vocoder"]


@needs_facts
def test_embedded_header_config_is_the_facts_one():
    assert json.loads(FACTS.read_text())["checkpoint_header_config"] == REAL_CONFIG
    assert _ltx.tiny_config() != REAL_CONFIG


@needs_facts
def test_full_planned_bytes_near_the_real_file():
    facts = json.loads(FACTS.read_text())["file_sizes_bytes"][CKPT]
    planned = _ltx.planned_bytes("full", find_comfy_dir())
    assert abs(planned - facts) / facts < 0.05


def test_full_lora_sizes_near_the_real_files():
    comfy_dir = find_comfy_dir()
    manifest = json.loads((REPO / "workflows" / "manifest.json").read_text())["models"]
    for kind, name in (("distilled", DISTILLED), ("ic", IC)):
        real = manifest[name]["size_bytes"]
        assert abs(_loras.planned_lora_bytes(kind, "full", comfy_dir) - real) / real < 0.05, kind


def test_swap_text_encoding_replaces_only_ltxav_text_encodes():
    prompt = json.loads((REPO / "workflows" / "t2v.json").read_text())
    encodes = {k for k, v in prompt.items() if v["class_type"] == "CLIPTextEncode"}
    assert encodes
    # A text encode through a LoraLoader's clip, and one on an unrelated clip.
    prompt["x:lora"] = {
        "class_type": "LoraLoader",
        "inputs": {"clip": ["267:243", 0], "model": ["267:236", 0]},
    }
    prompt["x:via_lora"] = {
        "class_type": "CLIPTextEncode",
        "inputs": {"text": "t", "clip": ["x:lora", 1]},
    }
    prompt["x:clip"] = {"class_type": "CLIPLoader", "inputs": {"clip_name": "t5.safetensors"}}
    prompt["x:other"] = {
        "class_type": "CLIPTextEncode",
        "inputs": {"text": "u", "clip": ["x:clip", 0]},
    }
    swapped = text_node.swap_text_encoding(prompt)
    for nid in (*encodes, "x:via_lora"):
        assert swapped[nid]["class_type"] == text_node.NODE_NAME
        assert swapped[nid]["inputs"] == {"text": prompt[nid]["inputs"]["text"], "ckpt_name": CKPT}
    assert swapped["x:other"] == prompt["x:other"]
    assert prompt["x:via_lora"]["class_type"] == "CLIPTextEncode"  # the input is not mutated
    untouched = set(prompt) - encodes - {"x:via_lora"}
    assert all(swapped[k] == prompt[k] for k in untouched)
