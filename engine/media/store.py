"""The content-addressed input store: `<store_dir>/<sha256[:2]>/<sha256>.<ext>`.

The address is the hash of the *normalized* file, so a job row only needs the
hash to run again later, and the same picture uploaded twice is stored once.
A JSON sidecar keeps what was learned while normalizing (size, duration, ...),
so `lookup` does not need to decode anything. Writers race safely: files land
under a temporary name and are renamed into place, and identical content under
one name is harmless.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from dataclasses import asdict
from pathlib import Path

from engine.media.limits import MEDIA_KINDS, StoredInput

EXTENSIONS = {"image": ".png", "audio": ".wav", "video": ".mp4"}
_SHA256 = re.compile(r"[0-9a-f]{64}")


def temp_path(store_dir: Path, kind: str) -> Path:
    """A unique scratch name inside the store, on the same file system, so the
    final rename is atomic."""
    store_dir.mkdir(parents=True, exist_ok=True)
    return store_dir / f".tmp-{uuid.uuid4().hex}{EXTENSIONS[kind]}"


def put(store_dir: Path, normalized: Path, facts: dict) -> StoredInput:
    """Move a normalized file into the store under its hash. `facts` holds the
    StoredInput fields other than sha256 and path."""
    with normalized.open("rb") as f:
        sha = hashlib.file_digest(f, "sha256").hexdigest()
    kind = facts["kind"]
    final = store_dir / sha[:2] / f"{sha}{EXTENSIONS[kind]}"
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(normalized, final)
    stored = StoredInput(sha256=sha, path=final, **facts)
    _write_sidecar(final.with_suffix(".json"), stored)
    return stored


def lookup(store_dir: Path, sha256: str) -> StoredInput:
    """The stored input with this hash. Raises FileNotFoundError when it is
    gone (or was never stored) and ValueError for something that is not a hash."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a sha256 hex digest: {sha256!r}")
    sidecar = store_dir / sha256[:2] / f"{sha256}.json"
    data = json.loads(sidecar.read_text(encoding="utf-8"))
    if data.get("kind") not in MEDIA_KINDS:
        raise ValueError(f"corrupt sidecar {sidecar}")
    path = sidecar.with_suffix(EXTENSIONS[data["kind"]])
    if not path.is_file():
        raise FileNotFoundError(path)
    data.pop("sha256", None)
    data.pop("path", None)
    return StoredInput(sha256=sha256, path=path, **data)


def _write_sidecar(path: Path, stored: StoredInput) -> None:
    data = asdict(stored)
    data["path"] = path.with_suffix(EXTENSIONS[stored.kind]).name
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}.json")
    tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
