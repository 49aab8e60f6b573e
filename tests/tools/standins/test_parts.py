"""The upscaler, MoGe and Gemma stand-ins, and the Hugging Face cache layout.

Tiny files are loaded by ComfyUI's own loader nodes (booted once per process,
on CPU, the engine's way) and run; the full Gemma is checked by plan only
(8.9 GB), against ComfyUI's own Gemma 3 12B class and quant formats.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from engine.comfy.boot import boot
from engine.comfy.locate import find_comfy_dir
from engine.comfy.types import RuntimeConfig
from engine.models.hub import missing_files
from engine.models.registry import BUNDLED_WORKFLOWS, load_manifest, required_files
from tools.standins import _gemma, _hub, _moge, _upscaler
from tools.standins._safetensors import (
    Spec,
    comfy_import,
    planned_size,
    read_header,
    write_file,
)

FACTS = Path("/work/shared/comfyui/ltx-2.3-model-facts.json")
GEMMA_FACT_BYTES = 8_800_000_000  # facts' file_sizes_bytes, also the manifest's size


@pytest.fixture(scope="module")
def comfy_dir() -> Path:
    return find_comfy_dir()


@pytest.fixture(scope="module")
def booted(comfy_dir, tmp_path_factory):
    """ComfyUI booted on CPU with the tiny upscaler and MoGe in its folders."""
    models = tmp_path_factory.mktemp("models")
    dirs = {"latent_upscale_models": models / "up", "geometry_estimation": models / "geo"}
    config = RuntimeConfig.under(
        comfy_dir,
        tmp_path_factory.mktemp("comfy"),
        device="cpu",
        model_dirs=tuple(dirs.items()),
    )
    done = boot(config)
    _upscaler.write_upscaler(dirs["latent_upscale_models"] / _upscaler.FILE, "tiny", comfy_dir)
    _moge.write_moge(dirs["geometry_estimation"] / _moge.FILE, "tiny", comfy_dir)
    return done


# ---- the streaming writer ----------------------------------------------------


def test_writer_round_trips_through_safetensors(tmp_path, monkeypatch):
    from safetensors import safe_open

    import tools.standins._safetensors as st

    monkeypatch.setattr(st, "_SLAB_BYTES", 64)  # force the slab path
    specs = [
        Spec("a", torch.bfloat16, (40, 3), lambda s, d: torch.arange(3.0).expand(s)),
        Spec("b", torch.float8_e4m3fn, (5, 2), lambda s, d: torch.ones(s)),
        Spec("c", torch.float32, (), lambda s, d: torch.tensor(2.5)),
    ]
    path = tmp_path / "x.safetensors"
    size = write_file(path, specs, {"k": "v"}, device=torch.device("cpu"))
    assert size == planned_size(specs, {"k": "v"}) == path.stat().st_size
    with safe_open(str(path), "pt") as f:
        assert f.metadata() == {"k": "v"}
        assert torch.equal(f.get_tensor("a").float(), torch.arange(3.0).expand(40, 3))
        assert f.get_tensor("b").dtype == torch.float8_e4m3fn
        assert f.get_tensor("c").item() == 2.5


# ---- x2 latent upscaler -------------------------------------------------------


def test_upscaler_header_config_matches_facts(comfy_dir):
    facts = json.loads(FACTS.read_text())
    assert _upscaler.config("full") == facts["latent_upscaler_x2_header_config"]
    planned = _upscaler.planned_bytes("full", comfy_dir)
    assert abs(planned - facts["file_sizes_bytes"][_upscaler.FILE]) < 0.01 * planned


def test_tiny_upscaler_loads_and_doubles_h_and_w(booted):
    from comfy_extras.nodes_hunyuan import LatentUpscaleModelLoader
    from comfy_extras.nodes_lt_upsampler import LTXVLatentUpsampler

    patcher = LatentUpscaleModelLoader.execute(_upscaler.FILE).args[0]
    header = read_header(
        Path(booted.folder_paths.get_full_path("latent_upscale_models", _upscaler.FILE))
    )
    assert json.loads(header["__metadata__"]["config"])["in_channels"] == 128

    class Stats:  # the VAE's per-channel statistics, as identity
        def un_normalize(self, x):
            return x

        normalize = un_normalize

    class Vae:
        class first_stage_model:  # mirrors ComfyUI's attribute name
            per_channel_statistics = Stats()

    latent = {"samples": torch.randn(1, 128, 2, 4, 6)}
    out = LTXVLatentUpsampler.execute(latent, patcher, Vae()).args[0]["samples"]
    assert out.shape == (1, 128, 2, 8, 12)
    assert torch.isfinite(out).all() and out.std() > 0.1


# ---- MoGe-2 -------------------------------------------------------------------


def test_moge_full_plan_is_the_real_file(comfy_dir):
    """Byte-exact against the real file's size: every shape is right."""
    facts = json.loads(FACTS.read_text())
    assert _moge.planned_bytes("full", comfy_dir) == facts["file_sizes_bytes"][_moge.FILE]


def test_moge_keys_round_trip_through_comfy_renaming(comfy_dir):
    model = _moge.meta_model("tiny", comfy_dir)
    _remap_state_dict = comfy_import(comfy_dir, "comfy.ldm.moge.model")._remap_state_dict
    shapes = _moge.original_shapes(model)
    assert "encoder.backbone.blocks.0.attn.qkv.weight" in shapes
    fake = {k: torch.empty(s, device="meta") for k, s in shapes.items()}
    remapped = {k: tuple(v.shape) for k, v in _remap_state_dict(fake).items()}
    assert remapped == {k: tuple(v.shape) for k, v in model.state_dict().items()}


def test_tiny_moge_loads_and_infers_finite(booted):
    from comfy_extras.nodes_moge import LoadMoGeModel, MoGeInference

    model = LoadMoGeModel.execute(_moge.FILE).args[0]
    assert model.version == "v2"
    assert model.model.encoder.backbone.embed_dim == 64
    image = torch.rand(1, 48, 64, 3)
    geo = MoGeInference.execute(model, image, 0, 0.0, 1, True, False).args[0]
    for field in ("points", "depth", "normal", "intrinsics"):
        assert torch.isfinite(geo[field]).all(), field
    assert geo["points"].shape == (1, 48, 64, 3) and geo["normal"].shape == (1, 48, 64, 3)


# ---- Gemma 3 12B fp4 mixed ----------------------------------------------------


def test_gemma_full_plan_size_and_keys(comfy_dir):
    sd = comfy_import(comfy_dir, "comfy.sd")
    utils = comfy_import(comfy_dir, "comfy.utils")
    QUANT_ALGOS = comfy_import(comfy_dir, "comfy.quant_ops").QUANT_ALGOS

    specs, _ = _gemma.specs("full", comfy_dir)
    planned = planned_size(specs, _)
    assert abs(planned - GEMMA_FACT_BYTES) <= 0.05 * GEMMA_FACT_BYTES
    assert planned == _gemma.planned_bytes("full", comfy_dir)

    model = _gemma.meta_model(comfy_dir)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    by_name = {s.name: s for s in specs}
    quant = _gemma.quantized_layers(model)
    assert len(quant) == 48 * 7
    extras = {f"{layer}.{p}" for layer in quant for p in ("weight_scale", "weight_scale_2")}
    extras |= {f"{layer}.comfy_quant" for layer in quant}
    assert set(by_name) == set(expected) | extras | {"spiece_model"}
    assert {"weight_scale", "weight_scale_2"} <= QUANT_ALGOS["nvfp4"]["parameters"]
    for layer in quant:
        rows, cols = expected[f"{layer}.weight"]
        assert by_name[f"{layer}.weight"].shape == (rows, cols // 2)
        assert by_name[f"{layer}.weight"].dtype == QUANT_ALGOS["nvfp4"]["storage_t"]
        assert by_name[f"{layer}.weight_scale"].shape == (rows, cols // 16)
    for name, shape in expected.items():
        if name.rsplit(".", 1)[0] not in quant:
            assert by_name[name].shape == shape and by_name[name].dtype == torch.bfloat16
    # ComfyUI's own detection: Gemma 3 12B, with mixed quantized layers.
    keys = dict.fromkeys(by_name)
    assert sd.detect_te_model(keys) == sd.TEModel.GEMMA_3_12B
    assert utils.detect_layer_quantization(keys, "") == {"mixed_ops": True}


def test_gemma_full_keys_load_into_comfys_ltxav_text_encoder(comfy_dir):
    """ComfyUI's own loader code, on the meta device: the LTX-AV text encoder
    built as `load_clip` builds it (mixed ops detected from the file) takes
    every tensor, NVFP4 layers become QuantizedTensors, nothing is missing."""
    lt = comfy_import(comfy_dir, "comfy.text_encoders.lt")
    hunyuan = comfy_import(comfy_dir, "comfy.text_encoders.hunyuan_video")
    specs, _ = _gemma.specs("full", comfy_dir)
    real = {s.name for s in specs if s.name.endswith(".comfy_quant")}
    sd = {
        s.name: s.fill(s.shape, torch.device("cpu")).to(s.dtype)
        if s.name in real
        else torch.empty(s.shape, dtype=s.dtype, device="meta")
        for s in specs
    }
    detected = hunyuan.llama_detect(sd)
    assert detected["llama_quantization_metadata"] == {"mixed_ops": True}
    with torch.device("meta"):
        te = lt.ltxav_te(**detected)(device="meta", dtype=torch.bfloat16, model_options={})
    te.gemma3_12b.can_assign_sd = True
    missing, unexpected = te.load_sd(sd)
    assert missing == []
    assert unexpected == ["spiece_model"]  # read as tokenizer data, as with the real file
    gate = te.gemma3_12b.transformer.model.layers[47].mlp.gate_proj
    assert gate.quant_format == "nvfp4" and tuple(gate.weight.shape) == (15360, 3840)


def test_gemma_nvfp4_layer_loads_in_comfy_ops_and_stays_unit_scale(comfy_dir):
    ops_module = comfy_import(comfy_dir, "comfy.ops")
    rows, cols = 256, 512
    sd = {
        s.name.removeprefix("l."): s.fill(s.shape, torch.device("cpu")).to(s.dtype)
        for s in _gemma._nvfp4_specs("l", (rows, cols))
    }
    ops = ops_module.mixed_precision_ops({}, compute_dtype=torch.float32, disabled=["nvfp4"])
    linear = ops.Linear(cols, rows, bias=False, device="cpu", dtype=torch.float32)
    linear.load_state_dict(sd, strict=False)
    assert linear.quant_format == "nvfp4"
    y = linear(torch.randn(8, cols))
    assert y.shape == (8, rows) and torch.isfinite(y).all()
    assert 0.5 < y.std().item() < 2.0


def test_gemma_tokenizer_protobuf_has_gemma_vocab():
    """Walks the protobuf by hand (sentencepiece may be absent): 262144 pieces,
    the special ones where Gemma has them."""
    blob = _gemma.tokenizer_model()
    pieces, pos = [], 0

    def varint(i):
        n = shift = 0
        while True:
            b = blob[i]
            n |= (b & 0x7F) << shift
            i, shift = i + 1, shift + 7
            if b < 0x80:
                return n, i

    while pos < len(blob):
        tag, pos = varint(pos)
        assert tag & 7 == 2
        length, pos = varint(pos)
        if tag >> 3 == 1:
            body = blob[pos : pos + length]
            pieces.append(body[2 : 2 + body[1]].decode() if body[1] < 0x80 else "?")
        pos += length
    assert len(pieces) == _gemma.SPIECE_VOCAB == 262144
    assert (pieces[0], pieces[1], pieces[2], pieces[105], pieces[106]) == (
        "<pad>",
        "<eos>",
        "<bos>",
        "<start_of_turn>",
        "<end_of_turn>",
    )
    assert len(set(pieces)) == len(pieces)


def test_gemma_tokenizer_loads_in_sentencepiece():
    spm = pytest.importorskip("sentencepiece")
    sp = spm.SentencePieceProcessor(model_proto=_gemma.tokenizer_model())
    assert sp.get_piece_size() == 262144
    assert (sp.pad_id(), sp.eos_id(), sp.bos_id(), sp.unk_id()) == (0, 1, 2, 3)
    ids = sp.encode("<start_of_turn>user\nhello<end_of_turn>")
    assert ids[0] == 105 and ids[-1] == 106


def test_gemma_tokenizer_works_in_comfys_ltxav_tokenizer(comfy_dir):
    pytest.importorskip("sentencepiece")
    lt = comfy_import(comfy_dir, "comfy.text_encoders.lt")
    blob = torch.frombuffer(bytearray(_gemma.tokenizer_model()), dtype=torch.uint8)
    tok = lt.LTXAVGemmaTokenizer(tokenizer_data={"spiece_model": blob})
    tokens = tok.tokenize_with_weights("a red fox", skip_template=False)["gemma3_12b"][0]
    ids = [t[0] for t in tokens if t[0] != 0]  # left padding to 1024 with pad id 0
    assert len(tokens) == 1024
    assert ids[0] == 2 and 105 in ids and ids[-1] != 1  # bos first, turn marker, no eos


def test_gemma_tiny_is_a_marked_placeholder(tmp_path, comfy_dir):
    path = tmp_path / _gemma.FILE
    _gemma.write_gemma(path, "tiny", comfy_dir)
    assert read_header(path)["__metadata__"]["standin"] == "placeholder"
    assert path.stat().st_size < 1024


# ---- the Hugging Face cache ---------------------------------------------------


def test_every_manifest_file_has_a_writer():
    assert set(_hub.WRITERS) == set(load_manifest(BUNDLED_WORKFLOWS)["models"])


def test_write_cache_makes_a_mode_complete(tmp_path, monkeypatch, comfy_dir):
    """The files land where huggingface_hub looks; the other worker's writers
    are stubbed here (their own tests cover them), ours run for real."""
    from huggingface_hub import try_to_load_from_cache

    mode = "style"
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert len(missing_files(mode, BUNDLED_WORKFLOWS)) == 5
    ours = {_gemma.FILE, _moge.FILE, _upscaler.FILE}
    stub_specs = [Spec("stub", torch.uint8, (1,), lambda s, d: torch.zeros(s))]
    for name in set(_hub.WRITERS) - ours:
        monkeypatch.setitem(
            _hub.WRITERS, name, lambda path, scale, comfy: write_file(path, stub_specs, {})
        )
    names = [f.name for f in required_files(mode, BUNDLED_WORKFLOWS)]
    paths = _hub.write_cache(tmp_path / "hub", "tiny", comfy_dir, names)
    assert missing_files(mode, BUNDLED_WORKFLOWS) == []
    entry = load_manifest(BUNDLED_WORKFLOWS)["models"][_moge.FILE]
    found = try_to_load_from_cache(
        entry["repo_id"], entry["path_in_repo"], cache_dir=tmp_path / "hub"
    )
    assert Path(found) in paths
    # A second run skips what is there.
    seen = []
    _hub.write_cache(tmp_path / "hub", "tiny", comfy_dir, names, on_file=seen.append)
    assert [w.skipped for w in seen] == [True] * len(names)
