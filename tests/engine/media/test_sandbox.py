"""The decoding child may hang, crash or run out of memory; the caller refuses
the input cleanly and carries on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from engine.errors import InputRejected
from engine.media import MediaLimits, StoredInput, ingest
from tests.engine.media import corpus


def _children() -> list[int]:
    """Our sandbox children still alive (or unreaped), from /proc."""
    me = str(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = stat.rsplit(")", 1)[1].split()[1]
        if ppid == me and b"_child.py" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.fixture(autouse=True)
def _no_children_left_behind():
    yield
    assert _children() == []


def _ingest_while(
    src: Path, store: Path, limits: MediaLimits, act: int
) -> tuple[InputRejected | StoredInput | None, bool]:
    """Ingest in a thread; send `act` to the normalizing child once it runs."""
    outcome: list = [None]

    def work() -> None:
        try:
            outcome[0] = ingest(src, "video", store, limits, input_name="video")
        except InputRejected as exc:
            outcome[0] = exc

    worker = threading.Thread(target=work)
    worker.start()
    hit = False
    deadline = time.monotonic() + 30
    while worker.is_alive() and time.monotonic() < deadline and not hit:
        for pid in _children():
            try:
                normalizing = b'"op": "video"' in Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:  # it ended between the listing and the read
                continue
            if normalizing:
                os.kill(pid, act)
                hit = True
        time.sleep(0.002)
    worker.join(60)
    return outcome[0], hit


@pytest.fixture
def slow_clip(tmp_path: Path) -> Path:
    # Raw noise at 720p: cheap to write, a second or more to normalize.
    return corpus.raw_noise_clip(tmp_path / "slow.mkv", 1.5, audio=False)


@pytest.fixture
def roomy(limits: MediaLimits) -> MediaLimits:
    return replace(limits, max_bytes=200 * 2**20, video_max_side=1280, video_max_fps=24)


def test_a_crashing_decoder_is_a_refusal(slow_clip: Path, store: Path, roomy) -> None:
    outcome, hit = _ingest_while(slow_clip, store, roomy, signal.SIGSEGV)
    assert hit, "the child finished before it could be crashed"
    assert isinstance(outcome, InputRejected)
    assert outcome.reason == "the file looks like a WEBM/MKV file but could not be read"


def test_a_hanging_decoder_is_killed_at_the_deadline(slow_clip: Path, store: Path, roomy) -> None:
    limits = replace(roomy, normalize_timeout_s=1.0)
    started = time.monotonic()
    outcome, hit = _ingest_while(slow_clip, store, limits, signal.SIGSTOP)
    assert hit
    assert isinstance(outcome, InputRejected)
    assert outcome.reason == "reading it took longer than 1 s"
    assert time.monotonic() - started < 10


def test_a_probe_past_its_time_budget_is_refused(
    tmp_path: Path, store: Path, limits: MediaLimits
) -> None:
    src = corpus.video(tmp_path / "v.mp4", "mp4", 0.5)
    with pytest.raises(InputRejected, match=r"took longer than 0\.01 s"):
        ingest(src, "video", store, replace(limits, probe_timeout_s=0.01), input_name="video")


def test_a_child_out_of_memory_is_refused_and_the_next_input_still_works(
    tmp_path: Path, store: Path, limits: MediaLimits
) -> None:
    src = corpus.video(tmp_path / "v.mp4", "mp4", 0.5)
    with pytest.raises(InputRejected) as err:
        ingest(src, "video", store, replace(limits, probe_memory_mb=48), input_name="video")
    assert err.value.reason == "reading it needed more than 48 MB of memory"
    stored = ingest(src, "video", store, limits, input_name="video")
    assert stored.kind == "video" and stored.path.is_file()


def test_every_pyav_module_is_loaded_before_the_child_drops_privileges():
    """After the drop to an unprivileged user the library may be unreadable
    (a venv under a 0700 folder): a module PyAV imports lazily, such as
    av.subtitles for a stream, must already be loaded. Failed before: every
    audio and video input was refused in such an install."""
    code = (
        "import sys, pkgutil; sys.path.insert(0, 'engine/media'); import _child; "
        "_child.preload_av(); import av; "
        "names = [i.name for i in pkgutil.walk_packages(av.__path__, 'av.') "
        "if i.name.split('.')[1] not in ('datasets', '__main__')]; "
        "missing = [n for n in names if n not in sys.modules]; "
        "print(len(names), missing)"
    )
    done = subprocess.run(
        [sys.executable, "-E", "-s", "-c", code],
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        check=True,
    )
    count, missing = done.stdout.split(" ", 1)
    assert int(count) > 10  # the walk found PyAV's modules at all
    assert missing.strip() == "[]"
