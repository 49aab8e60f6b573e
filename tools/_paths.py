"""Where the generator's inputs and outputs live.

The ComfyUI node snapshot sits outside the repository (CI keeps it at
`../shared/comfyui/` next to the checkout), so it is found relative to the
repository root unless `LTXBOT_OBJECT_INFO` names the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.comfy import video_out

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS_DIR = REPO_ROOT / "workflows"
SNAPSHOT_NAME = "object_info-0.33.0.json"
SNAPSHOT_ENV = "LTXBOT_OBJECT_INFO"


def object_info_path() -> Path:
    override = os.environ.get(SNAPSHOT_ENV)
    if override:
        return Path(override).expanduser()
    return REPO_ROOT.parent / "shared" / "comfyui" / SNAPSHOT_NAME


def load_object_info() -> dict:
    """The registry the engine boots: the pin's snapshot (`object_info_path`)
    plus the node the engine adds (`engine.comfy.video_out`)."""
    path = object_info_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"ComfyUI node snapshot not found at {path}; set {SNAPSHOT_ENV} to its path"
        )
    return json.loads(path.read_text(encoding="utf-8")) | video_out.object_info()
