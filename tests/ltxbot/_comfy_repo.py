"""A tiny ComfyUI-shaped git repository, served from a local bare repo.

These machines cannot reach GitHub, so setup tests fetch from here. The tree has
what `is_comfy_tree` and `read_version` look at, and a requirements.txt whose
every line is already satisfied here, except `torch<1`, which only a setup that
failed to keep the installed torch would try (and fail) to install.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

REQUIREMENTS = "# core\nnumpy\ntorch<1\nTorchVision\n\n#non essential dependencies:\npillow\n"


@dataclass(frozen=True)
class ComfyRepo:
    url: str  # file:// URL of the bare repository
    old: str  # commit with version 0.32.0
    pin: str  # commit with version 0.33.0


def _empty_config() -> str:
    """An empty file for git's global config: /dev/null is not always a device
    (in some sandboxes it is a plain file that others have written to)."""
    path = Path(tempfile.gettempdir()) / "ltxbot-test-empty.gitconfig"
    if not path.exists() or path.stat().st_size:
        path.write_text("")
    return str(path)


def git(*args: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "GIT_CONFIG_GLOBAL": _empty_config(),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def write_tree(root: Path, version: str) -> None:
    (root / "comfy").mkdir(parents=True, exist_ok=True)
    (root / "comfy" / "__init__.py").write_text("")
    (root / "execution.py").write_text("# the executor would be here\n")
    (root / "comfyui_version.py").write_text(f'__version__ = "{version}"\n')
    (root / "requirements.txt").write_text(REQUIREMENTS)


def make_repo(base: Path) -> ComfyRepo:
    work = base / "upstream"
    work.mkdir(parents=True)
    git("init", "-q", cwd=work)
    write_tree(work, "0.32.0")
    git("add", "-A", cwd=work)
    git("commit", "-qm", "0.32.0", cwd=work)
    old = git("rev-parse", "HEAD", cwd=work)
    write_tree(work, "0.33.0")
    (work / "nodes.py").write_text("NODE_CLASS_MAPPINGS = {}\n")
    git("add", "-A", cwd=work)
    git("commit", "-qm", "0.33.0", cwd=work)
    pin = git("rev-parse", "HEAD", cwd=work)
    # A later commit makes the pin a non-tip commit, as upstream's would be.
    (work / "README.md").write_text("later\n")
    git("add", "-A", cwd=work)
    git("commit", "-qm", "later", cwd=work)
    bare = base / "ComfyUI.git"
    git("clone", "-q", "--bare", str(work), str(bare), cwd=base)
    return ComfyRepo(url=bare.as_uri(), old=old, pin=pin)
