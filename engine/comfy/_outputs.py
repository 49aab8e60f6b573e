"""Making sure a job gets its own output files, never another job's.

ComfyUI caches node outputs by input signature. Two identical jobs would share
every node, including the save node, and the second would be handed the first
one's file (or nothing at all). Giving each run's output nodes a prefix under
`ltxbot/<prompt_id>/` changes only their signature: the save node runs again,
upstream nodes still come from the cache, and collection accepts only files
under that run's folder (or, for save nodes without a prefix, files written
after the run started).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from engine.comfy.types import OutputFile

RUN_FOLDER = "ltxbot"

_KINDS = {
    ".mp4": "video",
    ".webm": "video",
    ".mov": "video",
    ".mkv": "video",
    ".gif": "video",
    ".webp": "image",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".wav": "audio",
    ".flac": "audio",
    ".mp3": "audio",
    ".ogg": "audio",
    ".opus": "audio",
}


def run_prefix(prompt_id: str) -> str:
    return f"{RUN_FOLDER}/{prompt_id}"


def isolate_outputs(prompt: dict[str, Any], outputs: list[str], prompt_id: str) -> dict[str, Any]:
    """Point every output node's `filename_prefix` into this run's own folder."""
    for node_id in outputs:
        inputs = prompt.get(node_id, {}).get("inputs", {})
        prefix = inputs.get("filename_prefix")
        if isinstance(prefix, str):
            name = PurePosixPath(prefix.replace("\\", "/")).name or "ltx"
            inputs["filename_prefix"] = f"{run_prefix(prompt_id)}/{name}"
    return prompt


def _base_dir(folder_paths: Any, folder_type: str) -> Path:
    if folder_type == "temp":
        return Path(folder_paths.get_temp_directory())
    if folder_type == "input":
        return Path(folder_paths.get_input_directory())
    return Path(folder_paths.get_output_directory())


def _file_entries(ui: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(ui, dict):
        for value in ui.values():
            if isinstance(value, list):
                found.extend(v for v in value if isinstance(v, dict) and "filename" in v)
    return found


def collect_outputs(
    folder_paths: Any,
    history: dict[str, Any],
    outputs: list[str],
    prompt_id: str,
    started_wall: float,
) -> tuple[OutputFile, ...]:
    """Files the run's output nodes reported, checked to belong to this run."""
    ui_outputs = history.get("outputs", {}) if isinstance(history, dict) else {}
    prefix = run_prefix(prompt_id)
    files: list[OutputFile] = []
    for node_id in outputs:
        for entry in _file_entries(ui_outputs.get(node_id)):
            subfolder = str(entry.get("subfolder") or "")
            base = _base_dir(folder_paths, str(entry.get("type") or "output"))
            path = (base / subfolder / str(entry["filename"])).resolve()
            if not path.is_file():
                continue
            own_folder = subfolder.replace("\\", "/").startswith(prefix)
            if not own_folder and path.stat().st_mtime < started_wall:
                continue  # another run's file, served from ComfyUI's cache
            kind = _KINDS.get(path.suffix.lower(), "file")
            files.append(OutputFile(node_id=node_id, path=path, kind=kind))
    return tuple(files)
