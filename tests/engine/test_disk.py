"""The data disk on real filesystems: retention, partial files, and a truly
full disk (a 1 MiB tmpfs) under the heartbeat and the result copy."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine.disk import check_free_space, remove_partials, sweep
from engine.errors import LowDiskSpace
from engine.worker import Worker
from ltxbot.heartbeat import beat_forever, heartbeat_path, read_beat


def make(path: Path, size: int, age_s: float = 0.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    t = time.time() - age_s
    os.utime(path, (t, t))
    return path


def test_sweep_deletes_by_age_then_oldest_first_over_the_cap_and_spares_kept(tmp_path):
    old = make(tmp_path / "outputs" / "old.mp4", 100, age_s=40 * 86400)
    kept_old = make(tmp_path / "inputs" / "ab" / "abc.png", 100, age_s=40 * 86400)
    mid = make(tmp_path / "outputs" / "mid.mp4", 300, age_s=3 * 86400)
    new = make(tmp_path / "outputs" / "new.mp4", 300, age_s=60)
    report = sweep(
        [tmp_path / "outputs", tmp_path / "inputs"],
        max_age_s=30 * 86400,
        max_total_bytes=500,
        keep=[kept_old],
    )
    assert not old.exists() and not mid.exists()
    assert new.exists() and kept_old.exists()
    assert report.deleted == 2 and report.freed_bytes == 400 and report.kept_bytes == 400


def test_partial_files_are_removed(tmp_path):
    part = make(tmp_path / "outputs" / "job1.mp4.part", 10)
    whole = make(tmp_path / "outputs" / "job2.mp4", 10)
    assert remove_partials([tmp_path / "outputs", tmp_path / "absent"]) == 1
    assert not part.exists() and whole.exists()


def test_low_space_guard(tmp_path):
    check_free_space(tmp_path, 1)  # there is a megabyte free here
    with pytest.raises(LowDiskSpace) as caught:
        check_free_space(tmp_path / "not" / "yet", 10**12)  # a petabyte: refused
    assert caught.value.system_fault and "MB free" in str(caught.value)


@pytest.fixture
def full_disk(tmp_path):
    """A 1 MiB tmpfs, filled up (needs root: skipped elsewhere)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                          capture_output=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        filler = mnt / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as fh:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


async def test_a_full_disk_does_not_end_the_heartbeat(full_disk, caplog):
    path = heartbeat_path(full_disk / "data")
    with pytest.raises(OSError):
        (full_disk / "probe").write_text("x" * 10000)  # really full
    caplog.set_level(logging.WARNING)
    task = asyncio.create_task(beat_forever(path, interval_s=0.02))
    await asyncio.sleep(0.2)
    assert not task.done()  # ENOSPC did not end it
    assert "cannot write the heartbeat" in caplog.text
    assert caplog.text.count("cannot write the heartbeat") == 1  # once per streak
    (full_disk / "filler").unlink()  # space again: the beat comes back
    for _ in range(100):
        if read_beat(path) is not None:
            break
        await asyncio.sleep(0.02)
    assert read_beat(path) is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_result_copy_on_a_full_disk_leaves_no_part_file(full_disk, tmp_path):
    source = make(tmp_path / "comfy" / "out.mp4", 512 * 1024)
    worker = SimpleNamespace(outputs_dir=full_disk / "outputs")
    output = SimpleNamespace(kind="video", path=source)
    with pytest.raises(LowDiskSpace):
        Worker._keep_result(worker, "job1", [output])
    assert list((full_disk / "outputs").iterdir()) == []  # no .part left
    assert source.exists()  # ComfyUI's copy stays until the result is safe
