"""Stand-ins laid out as a Hugging Face cache, so the engine finds them unchanged.

huggingface_hub stores a download as
`models--{org}--{name}/snapshots/{commit}/{path_in_repo}` with
`refs/{revision}` holding the commit; `try_to_load_from_cache` (what
`engine.models.hub.local_path` calls) needs nothing else. Real downloads keep
the bytes under `blobs/` and link to them from the snapshot; the stand-ins
are written straight into the snapshot, which the lookup treats the same and
which works on file systems without symlinks.

The commit is derived from the repo id, so every stand-in of one repo lands
in one snapshot and a second run finds (and skips) what the first wrote.
"""

from __future__ import annotations

import hashlib
import importlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from engine.models.registry import BUNDLED_WORKFLOWS, load_manifest
from tools.standins import Scale, Writer


def _lazy(module: str, function: str) -> Writer:
    """A writer imported on first use, so this registry imports before every
    writer module exists (and the heavy ones load only when needed)."""

    def write(path: Path, scale: Scale, comfy_dir: Path) -> None:
        target = getattr(importlib.import_module(f"tools.standins.{module}"), function)
        target(path, scale, comfy_dir)

    write.__name__ = write.__qualname__ = function
    return write


WRITERS: dict[str, Writer] = {
    "gemma-3-12b-it-abliterated_lora_rank64_bf16.safetensors": _lazy("_loras", "write_gemma_lora"),
    "gemma_3_12B_it_fp4_mixed.safetensors": _lazy("_gemma", "write_gemma"),
    "ltx-2.3-22b-dev-fp8.safetensors": _lazy("_ltx", "write_dev_checkpoint"),
    "ltx-2.3-22b-distilled-fp8.safetensors": _lazy("_ltx", "write_distilled_checkpoint"),
    "ltx-2.3-22b-ic-lora-union-control-ref0.5.safetensors": _lazy("_loras", "write_ic_lora"),
    "ltx-2.3-spatial-upscaler-x2-1.1.safetensors": _lazy("_upscaler", "write_upscaler"),
    "ltx_2.3_22b_distilled_1.1_lora_dynamic_fro09_avg_rank_111_bf16.safetensors": _lazy(
        "_loras", "write_distilled_lora"
    ),
    "moge_2_vitl_normal_fp16.safetensors": _lazy("_moge", "write_moge"),
}


@dataclass(frozen=True)
class Written:
    """What `write_cache` did for one file (`skipped`: it was already there)."""

    name: str
    path: Path
    size: int
    seconds: float
    skipped: bool


def commit_for(repo_id: str) -> str:
    """A stable 40-hex "commit" for a repo's stand-in snapshot."""
    return hashlib.sha1(f"ltx-bot standin {repo_id}".encode()).hexdigest()


def repo_folder(cache_dir: Path, repo_id: str) -> Path:
    return Path(cache_dir) / ("models--" + repo_id.replace("/", "--"))


def snapshot_path(cache_dir: Path, repo_id: str, revision: str, path_in_repo: str) -> Path:
    """Where the file goes, after pointing `refs/{revision}` at the snapshot."""
    folder = repo_folder(cache_dir, repo_id)
    commit = commit_for(repo_id)
    ref = folder / "refs" / revision
    ref.parent.mkdir(parents=True, exist_ok=True)
    if not ref.is_file() or ref.read_text().strip() != commit:
        ref.write_text(commit)
    return folder / "snapshots" / commit / path_in_repo


def write_cache(
    cache_dir: Path,
    scale: Scale,
    comfy_dir: Path,
    names: Iterable[str] | None = None,
    *,
    workflows_dir: Path = BUNDLED_WORKFLOWS,
    on_file: Callable[[Written], None] | None = None,
) -> list[Path]:
    """Write the stand-in of every manifest model file (or only `names`) into
    `cache_dir`; files already there are skipped. Returns their paths."""
    models = load_manifest(workflows_dir).get("models", {})
    wanted = list(dict.fromkeys(names)) if names is not None else sorted(models)
    unknown = [n for n in wanted if n not in models or n not in WRITERS]
    if unknown:
        raise KeyError(f"no manifest entry or stand-in writer for: {', '.join(unknown)}")
    paths: list[Path] = []
    for name in wanted:
        entry = models[name]
        path = snapshot_path(
            cache_dir, entry["repo_id"], entry.get("revision", "main"), entry["path_in_repo"]
        )
        started = time.perf_counter()
        skipped = path.is_file()
        if not skipped:
            path.parent.mkdir(parents=True, exist_ok=True)
            WRITERS[name](path, scale, Path(comfy_dir))
        if on_file is not None:
            seconds = time.perf_counter() - started
            on_file(Written(name, path, path.stat().st_size, seconds, skipped))
        paths.append(path)
    return paths
