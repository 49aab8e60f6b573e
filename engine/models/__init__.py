"""Model files: what each mode needs, where they come from, whether they are here."""

from engine.models.hub import (
    comfy_model_dirs,
    download,
    hub_cache_dir,
    local_path,
    missing_files,
)
from engine.models.registry import LOADER_INPUTS, ModelFile, load_manifest, required_files

__all__ = [
    "LOADER_INPUTS",
    "ModelFile",
    "comfy_model_dirs",
    "download",
    "hub_cache_dir",
    "load_manifest",
    "local_path",
    "missing_files",
    "required_files",
]
