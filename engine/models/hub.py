"""Model files in the Hugging Face cache: presence, download, ComfyUI folders.

Files stay where `huggingface_hub` puts them (`models--org--name/snapshots/...`);
ComfyUI is pointed at those folders (`comfy_model_dirs`) rather than given
copies. The cache location follows huggingface_hub's environment variables
(HF_HUB_CACHE, HF_HOME), read at call time.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from engine.errors import DownloadFailed
from engine.models.registry import ModelFile, required_files
from engine.workflows.load import workflow_path

MODE_FILES = ("t2v", "a2v", "i2v", "lipsync", "keyframe", "style")
_TRUE = {"1", "true", "yes", "on"}


def hub_cache_dir() -> Path:
    """huggingface_hub's cache folder, by its own rules, from the current env."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "huggingface" / "hub"


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def local_path(file: ModelFile) -> Path | None:
    """Where the cached copy of `file` is, or None if it is not cached."""
    if not file.repo_id:
        return None
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(
        file.repo_id, file.path_in_repo, cache_dir=hub_cache_dir(), revision=file.revision
    )
    if isinstance(found, str) and Path(found).is_file():
        return Path(found)
    return None


def missing_files(mode: str, workflows_dir: Path) -> list[ModelFile]:
    return [f for f in required_files(mode, workflows_dir) if local_path(f) is None]


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB"


def download(
    files: Iterable[ModelFile], *, progress: bool = True, out: TextIO | None = None
) -> list[Path]:
    """Fetch every file not cached yet (interrupted downloads resume; HF_TOKEN is
    used for gated repos). The total is announced before the first byte."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

    out = out or sys.stderr
    wanted = list({f.name: f for f in files}.values())
    unknown = [f.name for f in wanted if not f.repo_id]
    if unknown:
        raise DownloadFailed(name=", ".join(unknown), reason="no Hugging Face location known")
    todo = [f for f in wanted if local_path(f) is None]
    paths = [p for p in (local_path(f) for f in wanted) if p is not None]
    if not todo:
        if progress:
            print(f"All {len(wanted)} model files are present.", file=out)
        return paths
    total = sum(f.size_bytes for f in todo)
    if progress:
        print(f"Downloading {len(todo)} model files, {_gb(total)} in total:", file=out)
        for f in todo:
            print(f"  {f.name} ({_gb(f.size_bytes)}) from {f.repo_id}", file=out)
    if offline():
        raise DownloadFailed(name=todo[0].name, reason="HF_HUB_OFFLINE is set")
    if not progress:
        disable_progress_bars()
    try:
        for f in todo:
            try:
                got = hf_hub_download(
                    f.repo_id,
                    f.path_in_repo,
                    revision=f.revision,
                    cache_dir=hub_cache_dir(),
                    token=os.environ.get("HF_TOKEN") or None,
                )
            except Exception as exc:  # network, auth, disk: all end the same way
                raise DownloadFailed(name=f.name, reason=f"{type(exc).__name__}: {exc}") from exc
            paths.append(Path(got))
    finally:
        if not progress:
            enable_progress_bars()
    return paths


def comfy_model_dirs(workflows_dir: Path) -> list[tuple[str, Path]]:
    """(ComfyUI folder type, directory) for every present model file of every
    mode with a workflow in `workflows_dir`, for `folder_paths.add_model_folder_path`."""
    dirs: dict[tuple[str, Path], None] = {}
    for mode in MODE_FILES:
        if not workflow_path(mode, workflows_dir).is_file():
            continue
        for f in required_files(mode, workflows_dir):
            path = local_path(f)
            if path is not None:
                dirs[(f.folder, path.parent)] = None
    return sorted(dirs, key=lambda d: (d[0], str(d[1])))
