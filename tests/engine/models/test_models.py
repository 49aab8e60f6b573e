"""Model registry and the Hugging Face cache, on a small local cache (no network)."""

from __future__ import annotations

import io
import json

import pytest

from engine.errors import DownloadFailed
from engine.models import (
    ModelFile,
    comfy_model_dirs,
    download,
    hub_cache_dir,
    local_path,
    missing_files,
    required_files,
)
from engine.models.registry import files_in_prompt
from tools._paths import WORKFLOWS_DIR

REV = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hub(tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def put(cache, file: ModelFile, data: bytes = b"weights") -> None:
    """Lay a file out the way huggingface_hub does: snapshot + refs/main."""
    repo = cache / ("models--" + file.repo_id.replace("/", "--"))
    target = repo / "snapshots" / REV / file.path_in_repo
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(REV)


def test_required_files_come_from_the_loaders_and_the_manifest():
    files = {f.name: f for f in required_files("t2v", WORKFLOWS_DIR)}
    assert set(files) == {
        "ltx-2.3-22b-dev-fp8.safetensors",
        "ltx_2.3_22b_distilled_1.1_lora_dynamic_fro09_avg_rank_111_bf16.safetensors",
        "ltx-2.3-spatial-upscaler-x2-1.1.safetensors",
        "gemma_3_12B_it_fp4_mixed.safetensors",
        "gemma-3-12b-it-abliterated_lora_rank64_bf16.safetensors",
    }
    gemma = files["gemma_3_12B_it_fp4_mixed.safetensors"]
    assert (gemma.folder, gemma.repo_id, gemma.path_in_repo) == (
        "text_encoders",
        "Comfy-Org/ltx-2",
        "split_files/text_encoders/gemma_3_12B_it_fp4_mixed.safetensors",
    )
    assert gemma.size_bytes == 8_800_000_000
    style = {f.name: f for f in required_files("style", WORKFLOWS_DIR)}
    assert style["moge_2_vitl_normal_fp16.safetensors"].folder == "geometry_estimation"
    every = {
        f.name: f.size_bytes
        for m in ("t2v", "keyframe", "style")
        for f in required_files(m, WORKFLOWS_DIR)
    }
    assert round(sum(every.values()) / 1e9, 1) == 68.8


def test_model_free_workflows_need_no_files():
    from tests.engine.modes.test_model_free import TEST_WORKFLOWS

    assert required_files("t2v", TEST_WORKFLOWS) == []


def test_an_operators_own_file_is_reported_without_a_location():
    prompt = {"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "mine.sft"}}}
    (f,) = files_in_prompt(prompt, {})
    assert (f.name, f.folder, f.repo_id, f.size_bytes) == ("mine.sft", "checkpoints", "", 0)
    assert local_path(f) is None


def test_presence_in_the_cache(hub, tmp_path):
    assert hub_cache_dir() == hub
    files = required_files("keyframe", WORKFLOWS_DIR)
    assert [f.name for f in missing_files("keyframe", WORKFLOWS_DIR)] == [f.name for f in files]
    gemma = next(f for f in files if f.folder == "text_encoders")
    put(hub, gemma)
    path = local_path(gemma)
    assert path is not None and path.read_bytes() == b"weights"
    assert path.parts[-3:] == ("split_files", "text_encoders", gemma.name)
    assert gemma not in missing_files("keyframe", WORKFLOWS_DIR)
    assert comfy_model_dirs(WORKFLOWS_DIR) == [("text_encoders", path.parent)]


def test_hf_home_is_honoured(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    assert hub_cache_dir() == tmp_path / "home" / "hub"


def test_comfy_dirs_cover_every_mode_and_folder(hub):
    for mode in ("t2v", "style"):
        for f in required_files(mode, WORKFLOWS_DIR):
            put(hub, f)
    dirs = comfy_model_dirs(WORKFLOWS_DIR)
    folders = {folder for folder, _ in dirs}
    assert folders == {
        "checkpoints",
        "loras",
        "text_encoders",
        "latent_upscale_models",
        "geometry_estimation",
    }
    for folder, directory in dirs:
        assert directory.is_dir() and any(directory.iterdir()), folder
    assert missing_files("keyframe", WORKFLOWS_DIR) == []  # its files are a subset


def test_download_announces_the_total_then_respects_offline(hub):
    files = required_files("t2v", WORKFLOWS_DIR)
    put(hub, files[0])
    out = io.StringIO()
    with pytest.raises(DownloadFailed) as err:
        download(files, out=out)
    assert "HF_HUB_OFFLINE" in err.value.reason
    text = out.getvalue()
    todo = sum(f.size_bytes for f in files[1:])
    assert text.startswith(f"Downloading {len(files) - 1} model files, {todo / 1e9:.1f} GB")
    assert files[0].name not in text


def test_download_of_present_files_fetches_nothing(hub):
    files = required_files("keyframe", WORKFLOWS_DIR)
    for f in files:
        put(hub, f)
    out = io.StringIO()
    paths = download(files, out=out)
    assert sorted(p.name for p in paths) == sorted(f.name for f in files)
    assert "All 3 model files are present" in out.getvalue()


def test_download_refuses_unknown_locations(hub):
    with pytest.raises(DownloadFailed, match="no Hugging Face location"):
        download([ModelFile("mine.sft", "checkpoints", "", "", 0)], progress=False)


def test_manifest_of_a_custom_directory_wins(tmp_path):
    prompt = {"1": {"class_type": "LoraLoaderModelOnly", "inputs": {"lora_name": "x.safetensors"}}}
    (tmp_path / "t2v.json").write_text(json.dumps(prompt))
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "models": {
                    "x.safetensors": {
                        "folder": "loras",
                        "repo_id": "me/loras",
                        "path_in_repo": "x.safetensors",
                        "size_bytes": 5,
                    }
                }
            }
        )
    )
    (f,) = required_files("t2v", tmp_path)
    assert (f.repo_id, f.size_bytes, f.revision) == ("me/loras", 5, "main")
