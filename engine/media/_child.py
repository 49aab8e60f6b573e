"""Sandbox child: probe or normalize one untrusted media file, then exit.

Run by `sandbox.run_child` as `python -E -s _child.py '<json job>'` with a bare
environment (no bot token). It caps its own address space, CPU time, output file
size and core dumps *before* FFmpeg is loaded, so a hostile file that makes a
decoder allocate, spin or crash takes down only this process. It prints one
JSON line: the result, or {"error": kind, ...}. Imports only the standard
library and, for the op at hand, either Pillow/numpy (`_image`) or PyAV
(`_transcode`), so an image never maps FFmpeg and a video never maps Pillow.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import sys
from fractions import Fraction


def _drop_root(run_as: list[int] | None) -> None:
    """Become `run_as` (uid, gid), with no supplementary groups, for good.

    Done here, after the libraries are loaded and before the input is opened,
    rather than by the parent at exec: the bot's interpreter may live where
    that user cannot read (a root install under /root), and code that has
    not yet touched the input has nothing hostile in it. Raises PermissionError
    unless the drop is complete, so the child never decodes as root.
    """
    if run_as is None:
        return
    uid, gid = run_as
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getgroups() not in ([], [gid]):
        raise PermissionError(f"could not become uid {uid}")
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise PermissionError("root could be regained after the drop")


def _cap(memory_mb: int, cpu_s: int, fsize_bytes: int) -> None:
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_bytes, fsize_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Writing past RLIMIT_FSIZE then fails with EFBIG instead of killing us silently.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _run(job: dict) -> dict:
    # The child runs as a script from this folder, so its siblings are top-level
    # modules there (engine.media._transcode to the checker, which checks it so).
    import _transcode as t  # type: ignore[import-not-found]

    with t.open_input(job["path"], job["demuxer"]) as container:
        if job["op"] == "probe":
            facts = t.stream_facts(container)
            video = facts["video"]
            side = job["max_side"]
            if video and max(video["width"], video["height"]) > side:
                facts["decoded"] = {}  # too big to touch: the parent refuses it
            else:
                facts["decoded"] = t.first_frames(container, tuple(job["kinds"]))
            return facts
        if job["op"] == "audio":
            return {"duration_s": t.transcode_wav(container, job["dst"], max_s=job["max_s"])}
        if job["op"] == "video":
            v = job["video"]
            spec = t.VideoSpec(
                width=v["width"],
                height=v["height"],
                fps=Fraction(*v["fps"]),
                rotation=v["rotation"],
                crf=v["crf"],
                preset=v["preset"],
                threads=v["threads"],
            )
            audio = t.AudioSpec(bitrate=job["audio_bitrate"]) if job["audio_bitrate"] else None
            written = t.transcode_mp4(container, job["dst"], spec, audio, max_s=job["max_s"])
            return {
                "width": written.width,
                "height": written.height,
                "fps": written.fps,
                "duration_s": written.duration_s,
                "has_audio": written.has_audio,
                "frames": written.frames,
            }
    raise ValueError(f"unknown op {job['op']!r}")


def _load_failure(exc: BaseException) -> str:
    # Under RLIMIT_AS, loading shared libraries fails as "failed to map segment".
    return "memory" if isinstance(exc, MemoryError) or "map segment" in str(exc) else "crashed"


def _image(job: dict) -> dict:
    try:
        import _image  # type: ignore[import-not-found]  # a sibling, as in _run
        from PIL import Image

        Image.init()  # every plugin loaded now, while the library is still readable
    except (MemoryError, ImportError) as exc:
        return {"error": _load_failure(exc)}
    try:
        _drop_root(job["run_as"])
    except OSError as exc:
        return {"error": "crashed", "detail": f"cannot drop root: {exc}"}
    try:
        return _image.normalize(
            job["path"], job["dst"], max_side=job["max_side"], max_pixels=job["max_pixels"]
        )
    except _image.Refused as exc:
        return {"error": exc.kind, "detail": exc.detail}
    except MemoryError:
        return {"error": "memory"}


def preload_av() -> None:
    """Import every PyAV submodule now, while the library is still readable.

    PyAV imports some of its modules only when a stream needs them (a
    subtitle track makes `av.stream` import `av.subtitles`); after the drop
    to an unprivileged user, a library installed where that user cannot read
    (a virtualenv under a 0700 folder, a root install under /root) fails
    there with ModuleNotFoundError, so every input is refused."""
    import importlib
    import pkgutil

    import av

    for info in pkgutil.walk_packages(av.__path__, "av."):
        if info.name.split(".")[1] not in ("datasets", "__main__"):
            importlib.import_module(info.name)


def main() -> int:
    job = json.loads(sys.argv[1])
    _cap(job["memory_mb"], job["cpu_s"], job["fsize_bytes"])
    if job["op"] == "image":
        result = _image(job)
        print(json.dumps(result), flush=True)
        return 3 if "error" in result else 0
    try:
        import _transcode as t
        import av

        preload_av()
    except (MemoryError, ImportError) as exc:
        print(json.dumps({"error": _load_failure(exc)}), flush=True)
        return 3
    try:
        _drop_root(job["run_as"])
    except OSError as exc:
        print(json.dumps({"error": "crashed", "detail": f"cannot drop root: {exc}"}), flush=True)
        return 3
    try:
        result = _run(job)
    except t.TooLong as exc:
        result = {"error": "too_long", "seconds": exc.seconds}
    except t.NoFrames as exc:
        result = {"error": "no_frames", "detail": str(exc)}
    except MemoryError:  # includes FFmpeg's ENOMEM (av.error.MemoryError)
        result = {"error": "memory"}
    except (av.error.FFmpegError, OSError, ValueError, EOFError) as exc:
        # Threads and buffers that cannot be had under the cap fail as EAGAIN/ENOMEM.
        starved = getattr(exc, "errno", None) in (errno.EAGAIN, errno.ENOMEM)
        result = {"error": "memory" if starved else "invalid", "detail": str(exc)[:300]}
    print(json.dumps(result), flush=True)
    return 3 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main())
