"""Reading API-format workflow files.

A deployment may point `LTXBOT_WORKFLOWS_DIR` at its own exports; whatever is
there is read as `<mode>.json`. Editor-format files (what "Save" writes) are
refused with a hint, since only "Export (API)" output can be queued.
"""

from __future__ import annotations

import json
from pathlib import Path

from engine.errors import WorkflowMissing


def workflow_path(mode: str, workflows_dir: Path) -> Path:
    return Path(workflows_dir) / f"{mode}.json"


def read_prompt(path: Path, *, mode: str = "") -> dict:
    """An API-format prompt from `path`: `{node_id: {class_type, inputs, ...}}`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkflowMissing(mode=mode, path=str(path), reason="file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorkflowMissing(mode=mode, path=str(path), reason=f"unreadable: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("nodes"), list):
        raise WorkflowMissing(
            mode=mode,
            path=str(path),
            reason="editor format; export it from ComfyUI with 'Export (API)'",
        )
    if not isinstance(data, dict) or not data:
        raise WorkflowMissing(mode=mode, path=str(path), reason="not an API-format prompt")
    for node_id, node in data.items():
        if not isinstance(node, dict) or not isinstance(node.get("class_type"), str):
            raise WorkflowMissing(
                mode=mode, path=str(path), reason=f"node {node_id!r} has no class_type"
            )
        if not isinstance(node.get("inputs", {}), dict):
            raise WorkflowMissing(
                mode=mode, path=str(path), reason=f"node {node_id!r} has no inputs object"
            )
    return data


def load_workflow(mode: str, workflows_dir: Path) -> dict:
    return read_prompt(workflow_path(mode, workflows_dir), mode=mode)
