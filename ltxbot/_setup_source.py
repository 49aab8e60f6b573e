"""ComfyUI from a source archive or folder instead of a git clone.

Where GitHub is out of reach (CI here, air-gapped boxes) the pinned tree comes
as a tarball or an unpacked folder. It is copied into the same place a clone
would go (`comfyui/ComfyUI`), so every later step finds ComfyUI exactly as it
would after `ltx-bot setup` cloned it. A stamp file in the tree records which
source made it: a second run with the same source does nothing, and a folder
that setup did not make is never overwritten.

Standard library only, like `ltxbot.setup` (the Dockerfile runs it before the
project is installed).
"""

from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import TextIO

from engine.comfy.locate import is_comfy_tree, read_version

STAMP_FILE = ".ltxbot-source.json"


class SourceError(Exception):
    """The source cannot give the pinned tree; `fix` says what to do."""

    def __init__(self, reason: str, fix: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


def _identity(source: Path) -> dict[str, object]:
    """What the stamp compares: the source's path, size and modification time
    (hashing a 40 MB archive on every test run would cost seconds for nothing)."""
    stat = source.stat()
    return {"source": str(source), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def read_stamp(dest: Path) -> dict[str, object] | None:
    try:
        return json.loads((dest / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def kept_from_source(dest: Path, version: str, out: TextIO) -> bool:
    """True when `dest` is a tree an earlier `setup --source` unpacked, at the
    pin's version: a later setup without the source keeps it (cloning would
    need the network the source stood in for). A tree of another version is
    refused, since the workflows are generated for the pin's nodes."""
    stamp = read_stamp(dest) if dest.is_dir() else None
    if stamp is None or not is_comfy_tree(dest):
        return False
    found = read_version(dest)
    if version and found != version:
        raise SourceError(
            f"{dest} is ComfyUI {found} unpacked from {stamp.get('source')}; the pin is {version}",
            f"run setup with a source of the pin (--source or LTXBOT_COMFYUI_SOURCE), "
            f"or delete {dest} to clone the pin",
        )
    print(
        f"ComfyUI {found} in {dest}, unpacked from {stamp.get('source')}: kept "
        f"(delete the folder to clone the pin instead).",
        file=out,
    )
    return True


def _tree_root(top: Path) -> Path:
    """The ComfyUI tree in an unpacked source: the folder itself, or its only
    subfolder (archives pack one top-level folder, whatever its name)."""
    if is_comfy_tree(top):
        return top
    children = [p for p in top.iterdir() if p.is_dir()]
    if len(children) == 1 and is_comfy_tree(children[0]):
        return children[0]
    raise SourceError(
        f"{top.name} holds no ComfyUI tree (no execution.py and comfy/ at its top)",
        "pass an archive or folder of the ComfyUI repository",
    )


def _unpack(source: Path, into: Path) -> Path:
    if source.is_dir():
        root = _tree_root(source)
        copied = into / "tree"
        shutil.copytree(root, copied, symlinks=True)
        return copied
    if tarfile.is_tarfile(source):
        with tarfile.open(source) as archive:
            # "data" refuses absolute paths, links out of the tree and devices.
            archive.extractall(into, filter="data")
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            archive.extractall(into)
    else:
        raise SourceError(
            f"{source} is neither a folder, a tar archive nor a zip file",
            "pass a .tar.xz/.tar.gz/.zip of the ComfyUI tree, or a folder",
        )
    return _tree_root(into)


def install_from_source(source: Path, dest: Path, version: str, out: TextIO) -> bool:
    """Put the tree from `source` at `dest`. Returns False when `dest` already
    came from this very source (nothing done), True after a fresh copy.

    `version` is the pin's: a source of another ComfyUI version is refused,
    since the workflows are generated for the pin's nodes."""
    source = source.expanduser().resolve()
    if not source.exists():
        raise SourceError(f"{source} does not exist", "check the path of the ComfyUI source")
    identity = _identity(source)
    stamp = read_stamp(dest) if dest.exists() else None
    if stamp == identity and is_comfy_tree(dest):
        print(f"ComfyUI {read_version(dest)} from {source} in {dest}: nothing to do.", file=out)
        return False
    if dest.exists() and stamp is None and (not dest.is_dir() or any(dest.iterdir())):
        raise SourceError(
            f"{dest} exists and was not made from a source by ltx-bot setup",
            f"move it away (or delete it) and run again, or set LTXBOT_COMFYUI_DIR={dest}",
        )
    print(f"Unpacking ComfyUI from {source} into {dest}.", file=out, flush=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".ComfyUI-", dir=dest.parent) as tmp:
        root = _unpack(source, Path(tmp))
        found = read_version(root)
        if version and found != version:
            raise SourceError(
                f"{source} is ComfyUI {found}, the pin is {version}",
                "use a source of the pinned commit (comfyui/pin.toml)",
            )
        (root / STAMP_FILE).write_text(json.dumps(identity), encoding="utf-8")
        if dest.exists():
            shutil.rmtree(dest)
        root.rename(dest)
    print(f"ComfyUI {found} ready in {dest}.", file=out)
    return True
