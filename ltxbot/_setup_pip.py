"""The pip step of `ltx-bot setup`: ComfyUI's requirements, torch kept.

A requirement on torch, torchvision or torchaudio that is already installed is
dropped and the installed version becomes a constraint, so neither
requirements.txt nor a dependency of another requirement can swap the
operator's CUDA build for another. Standard library only, like ltxbot/setup.py
(the Dockerfile runs both before the project is installed).
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TextIO

# Installed builds of these are kept whatever requirements.txt says.
KEEP = ("torch", "torchvision", "torchaudio")
# PEP 508 distribution name at the start of a requirement line.
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


def canonical_name(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def plan_requirements(
    lines: Iterable[str], installed: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """(requirement lines to install, constraint lines).

    A requirement on a kept package (torch and friends) that is installed is
    dropped, and the installed version becomes a constraint, so neither
    requirements.txt nor a dependency of another requirement can replace it.
    `installed` maps canonical names of the kept packages to their versions.
    """
    keep = {canonical_name(k): v for k, v in installed.items()}
    wanted = []
    for raw in lines:
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        match = _REQ_NAME.match(line)
        if match and not line.startswith("-") and canonical_name(match.group(1)) in keep:
            continue
        wanted.append(line)
    constraints = [f"{name}=={version}" for name, version in sorted(keep.items())]
    return wanted, constraints


def installed_kept() -> dict[str, str]:
    """Versions of the kept packages in this interpreter's environment."""
    found = {}
    for name in KEEP:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def run_pip(comfy_dir: Path, out: TextIO) -> int:
    """Install ComfyUI's requirements, keeping torch and friends; pip's exit code."""
    req = comfy_dir / "requirements.txt"
    if not req.is_file():
        print(f"  no requirements.txt in {comfy_dir}; nothing to install", file=out)
        return 0
    kept = installed_kept()
    wanted, constraints = plan_requirements(req.read_text().splitlines(), kept)
    if kept:
        listed = ", ".join(f"{k} {v}" for k, v in sorted(kept.items()))
        print(f"  keeping the installed {listed}", file=out)
    with tempfile.TemporaryDirectory(prefix="ltxbot-setup-") as tmp:
        req_file = Path(tmp) / "requirements.txt"
        con_file = Path(tmp) / "constraints.txt"
        req_file.write_text("\n".join(wanted) + "\n")
        con_file.write_text("\n".join(constraints) + "\n")
        cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]
        cmd += ["-r", str(req_file), "-c", str(con_file)]
        print(f"  pip install -r {req} ({len(wanted)} requirements)", file=out, flush=True)
        done = subprocess.run(cmd, check=False)
    return done.returncode
