"""Finding a ComfyUI checkout without importing it.

Order: an explicit directory (LTXBOT_COMFYUI_DIR), then the tree made by
`ltx-bot setup` (`comfyui/ComfyUI` in the repo, cloned at the pin or unpacked
from a source archive). Tests and production run the same pinned tree.
"""

from __future__ import annotations

import re
from pathlib import Path

from engine.errors import EngineUnavailable

REPO_ROOT = Path(__file__).resolve().parents[2]
SETUP_DIR = REPO_ROOT / "comfyui" / "ComfyUI"


def is_comfy_tree(path: Path) -> bool:
    return (path / "execution.py").is_file() and (path / "comfy").is_dir()


def find_comfy_dir(explicit: Path | None = None) -> Path:
    if explicit is not None:
        path = explicit.expanduser().resolve()
        if not is_comfy_tree(path):
            raise EngineUnavailable(reason=f"{path} is not a ComfyUI checkout (no execution.py)")
        return path
    if is_comfy_tree(SETUP_DIR):
        return SETUP_DIR
    raise EngineUnavailable(
        reason=("no ComfyUI found: run `ltx-bot setup`, or set LTXBOT_COMFYUI_DIR to a checkout")
    )


def read_version(comfy_dir: Path) -> str:
    """The version string from comfyui_version.py, read as text (no import)."""
    version_file = comfy_dir / "comfyui_version.py"
    if version_file.is_file():
        match = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", version_file.read_text())
        if match:
            return match.group(1)
    return "unknown"


def version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("."):
        digits = re.match(r"\d+", piece)
        parts.append(int(digits.group()) if digits else 0)
    return tuple(parts)
