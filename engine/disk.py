"""The data disk: a low-space guard, retention, and partial-file cleanup.

- `check_free_space` refuses new jobs (LowDiskSpace) while the data dir's
  filesystem has less than `min_free_mb` free, before any write can fail.
- `sweep` deletes results, inputs and ComfyUI's copies older than `max_age_s`,
  then the oldest first while the total exceeds `max_total_bytes`. Files in
  `keep` (the inputs of queued and running jobs) are never deleted.
- `remove_partials` deletes `*.part` files left by a crash or a full disk.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.errors import LowDiskSpace

log = logging.getLogger(__name__)

MB = 1024 * 1024


def free_mb(path: Path) -> float:
    probe = Path(path)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free / MB


def check_free_space(path: Path, min_free_mb: float) -> None:
    if min_free_mb <= 0:
        return
    free = free_mb(path)
    if free < min_free_mb:
        raise LowDiskSpace(free_mb=free, min_free_mb=min_free_mb)


@dataclass(frozen=True)
class SweepReport:
    deleted: int
    freed_bytes: int
    kept_bytes: int


def _files(dirs: Iterable[Path]) -> list[tuple[float, int, Path]]:
    out = []
    for root in dirs:
        if not root.is_dir():
            continue
        for dirpath, _, names in os.walk(root):
            for name in names:
                path = Path(dirpath) / name
                try:
                    st = path.stat()
                except OSError:
                    continue
                out.append((st.st_mtime, st.st_size, path))
    out.sort()  # oldest first
    return out


def sweep(
    dirs: Sequence[Path],
    *,
    max_age_s: float | None,
    max_total_bytes: int | None,
    keep: Iterable[Path] = (),
    now: float | None = None,
) -> SweepReport:
    now = time.time() if now is None else now
    kept = {Path(p).resolve() for p in keep}
    files = _files(dirs)
    total = sum(size for _, size, _ in files)
    deleted = freed = 0
    for mtime, size, path in files:
        too_old = max_age_s is not None and now - mtime > max_age_s
        too_big = max_total_bytes is not None and total > max_total_bytes
        if not (too_old or too_big) or path.resolve() in kept:
            continue
        try:
            path.unlink()
        except OSError as err:
            log.warning("retention could not delete %s: %s", path, err)
            continue
        deleted, freed, total = deleted + 1, freed + size, total - size
    if deleted:
        log.info("retention deleted %d files (%.1f MB)", deleted, freed / MB)
    return SweepReport(deleted=deleted, freed_bytes=freed, kept_bytes=total)


def remove_partials(dirs: Iterable[Path]) -> int:
    """Delete every `*.part` file under `dirs` (at startup: none is being written)."""
    removed = 0
    for root in dirs:
        if not root.is_dir():
            continue
        for path in root.rglob("*.part"):
            try:
                path.unlink()
                removed += 1
            except OSError:
                pass
    if removed:
        log.info("removed %d partial files", removed)
    return removed
