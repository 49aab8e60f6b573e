"""Which model files a mode needs, and where on the Hub each one lives.

The files are read off the workflow itself: the loader nodes' file inputs. Their
Hugging Face locations and sizes come from the manifest the workflow generator
writes (taken from the official templates' `properties.models`). A workflow
directory without a manifest (an operator's own exports) uses the bundled one;
a file no manifest knows is reported with an empty `repo_id`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.workflows.load import load_workflow

MANIFEST = "manifest.json"
BUNDLED_WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"

# Loader inputs that name a model file, and the ComfyUI folder it is looked up in.
LOADER_INPUTS: Mapping[tuple[str, str], str] = {
    ("CheckpointLoaderSimple", "ckpt_name"): "checkpoints",
    ("LTXVAudioVAELoader", "ckpt_name"): "checkpoints",
    ("LTXAVTextEncoderLoader", "ckpt_name"): "checkpoints",
    ("LTXAVTextEncoderLoader", "text_encoder"): "text_encoders",
    ("LoraLoader", "lora_name"): "loras",
    ("LoraLoaderModelOnly", "lora_name"): "loras",
    ("LatentUpscaleModelLoader", "model_name"): "latent_upscale_models",
    ("LoadMoGeModel", "model_name"): "geometry_estimation",
    ("UNETLoader", "unet_name"): "diffusion_models",
    ("VAELoader", "vae_name"): "vae",
    ("CLIPLoader", "clip_name"): "text_encoders",
}


@dataclass(frozen=True)
class ModelFile:
    """One model file: `name` as the workflow names it, `folder` the ComfyUI
    folder type it is loaded from, and its Hub location (`repo_id` is empty for
    a file no manifest knows)."""

    name: str
    folder: str
    repo_id: str
    path_in_repo: str
    size_bytes: int
    revision: str = "main"


def load_manifest(workflows_dir: Path) -> dict:
    for candidate in (Path(workflows_dir) / MANIFEST, BUNDLED_WORKFLOWS / MANIFEST):
        if candidate.is_file():
            return json.loads(candidate.read_text(encoding="utf-8"))
    return {"models": {}}


def _model_file(name: str, folder: str, known: Mapping[str, dict]) -> ModelFile:
    entry = known.get(name)
    if entry is None:
        return ModelFile(name, folder, "", "", 0)
    return ModelFile(
        name=name,
        folder=entry.get("folder", folder),
        repo_id=entry["repo_id"],
        path_in_repo=entry["path_in_repo"],
        size_bytes=int(entry.get("size_bytes", 0)),
        revision=entry.get("revision", "main"),
    )


def files_in_prompt(prompt: Mapping[str, dict], known: Mapping[str, dict]) -> list[ModelFile]:
    """The model files an API-format prompt loads, in first-use order."""
    found: dict[str, ModelFile] = {}
    for node in prompt.values():
        class_type = node.get("class_type", "")
        for input_name, value in (node.get("inputs") or {}).items():
            if not isinstance(value, str) or value in found:
                continue
            folder = LOADER_INPUTS.get((class_type, input_name))
            if folder is None and value in known:
                folder = known[value].get("folder", "")
            if folder is not None:
                found[value] = _model_file(value, folder, known)
    return list(found.values())


def required_files(mode: str, workflows_dir: Path) -> list[ModelFile]:
    """The model files `<workflows_dir>/<mode>.json` needs."""
    known = load_manifest(workflows_dir).get("models", {})
    return files_in_prompt(load_workflow(mode, workflows_dir), known)
