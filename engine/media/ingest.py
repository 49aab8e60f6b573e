"""Turn an untrusted attachment into a normalized, stored input, or refuse it.

The order matters: cheap checks first (size, magic bytes), then the decoders,
which only ever see files whose type the bytes already proved. No decoder runs
in the bot's process: images are opened by Pillow (with a pixel bound read from
the header) and audio and video are probed and re-encoded by FFmpeg, each in a
sandboxed child (`sandbox.py`). Every refusal is an
`InputRejected` that names the input and says what is accepted. Blocking and
thread-safe: callers run it in a worker thread.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import NoReturn

from engine.errors import InputRejected
from engine.media import _plan, store
from engine.media._sniff import HEAD_BYTES, Detected, sniff
from engine.media.limits import MEDIA_KINDS, MediaLimits, StoredInput, accepted
from engine.media.sandbox import CHILD_THREADS, SandboxError, run_child

log = logging.getLogger(__name__)

# Formats (by `Detected.name`) each slot kind takes. An mp4/webm in an audio
# slot gives its sound track.
ACCEPTS: dict[str, frozenset[str]] = {
    "image": frozenset({"png", "jpeg", "webp"}),
    "audio": frozenset({"wav", "mp3", "flac", "ogg", "aac", "mp4", "matroska"}),
    "video": frozenset({"mp4", "matroska"}),
}


class _Refuser:
    """Builds the InputRejected for one input, so call sites give only a reason."""

    def __init__(self, input_name: str, slot_kind: str, limits: MediaLimits):
        self.input_name = input_name
        self.accepted = accepted(slot_kind, limits)

    def __call__(self, reason: str) -> NoReturn:
        raise InputRejected(input_name=self.input_name, reason=reason, accepted=self.accepted)


def ingest(
    data_path: Path, slot_kind: str, store_dir: Path, limits: MediaLimits, *, input_name: str
) -> StoredInput:
    """Check, normalize and store the file at `data_path` for a `slot_kind` slot.

    Images become RGB PNG, audio 48 kHz stereo WAV, video H.264/AAC mp4
    (yuv420p, at most `limits.video_max_side` px and `limits.video_max_fps`).
    `data_path` is left as it was; the caller owns it.
    """
    if slot_kind not in MEDIA_KINDS:
        raise ValueError(f"slot_kind must be one of {MEDIA_KINDS}, not {slot_kind!r}")
    reject = _Refuser(input_name, slot_kind, limits)
    detected = _detect(data_path, slot_kind, limits, reject)
    tmp = store.temp_path(store_dir, slot_kind)
    try:
        if slot_kind == "image":
            facts = _image(data_path, detected, tmp, limits, reject)
        elif slot_kind == "audio":
            facts = _audio(data_path, detected, tmp, limits, reject)
        else:
            facts = _video(data_path, detected, tmp, limits, reject)
        return store.put(store_dir, tmp, facts)
    finally:
        tmp.unlink(missing_ok=True)


def _detect(path: Path, slot_kind: str, limits: MediaLimits, reject: _Refuser) -> Detected:
    size = path.stat().st_size
    if size == 0:
        reject("the file is empty")
    if size > limits.max_bytes:
        reject(f"the file is {size / 2**20:.1f} MiB")
    with path.open("rb") as f:
        detected = sniff(f.read(HEAD_BYTES))
    if detected is None:
        reject("the file type was not recognized")
    if detected.name not in ACCEPTS[slot_kind]:
        reject(f"the file is {detected.label}")
    return detected


def _image(src: Path, detected: Detected, dst: Path, limits: MediaLimits, reject: _Refuser) -> dict:
    job = {"op": "image", "path": str(src), "dst": str(dst), "max_side": limits.max_image_side}
    job["max_pixels"] = limits.max_image_pixels
    done = _sandboxed(job, limits.probe_timeout_s, limits, reject, detected.label, None)
    width, height = done["width"], done["height"]
    if max(width, height) > limits.max_image_side:
        reject(f"the image is {width}x{height} px")
    if not done["written"]:
        reject(f"the image has {width * height / 1e6:.1f} megapixels ({width}x{height})")
    facts = {"kind": "image", "width": width, "height": height, "has_audio": False}
    return facts | {"duration_s": None, "fps": None}


def _audio(src: Path, detected: Detected, dst: Path, limits: MediaLimits, reject: _Refuser) -> dict:
    facts = _probe(src, detected, ("audio",), limits, reject)
    if not facts["audio"]:
        reject(f"the file is {detected.label} without an audio track")
    if "audio" not in facts["decoded"]:
        reject("its audio track could not be decoded")
    _check_duration(_plan.declared_duration(facts, "audio"), limits.max_audio_s, reject)
    max_s = limits.max_audio_s + _plan.DURATION_SLACK_S
    job: dict[str, object] = {
        "op": "audio",
        "path": str(src),
        "demuxer": detected.demuxer,
        "dst": str(dst),
    }
    job["max_s"] = max_s
    done = _sandboxed(job, limits.normalize_timeout_s, limits, reject, detected.label, max_s)
    return {
        "kind": "audio",
        "width": None,
        "height": None,
        "duration_s": round(done["duration_s"], 3),
        "has_audio": True,
        "fps": None,
    }


def _video(src: Path, detected: Detected, dst: Path, limits: MediaLimits, reject: _Refuser) -> dict:
    facts = _probe(src, detected, ("video", "audio"), limits, reject)
    video = facts["video"]
    if not video:
        reject(f"the file is {detected.label} without a video track")
    if max(video["width"], video["height"]) > limits.max_image_side:
        reject(f"its frames are {video['width']}x{video['height']} px")
    first = facts["decoded"].get("video")
    if first is None:
        reject("its video track could not be decoded")
    _check_duration(_plan.declared_duration(facts, "video"), limits.max_video_s, reject)
    fps = Fraction(*video["fps"]) if video["fps"] else None
    plan = _plan.plan_video(first["width"], first["height"], first["rotation"], fps, limits)
    max_s = limits.max_video_s + _plan.DURATION_SLACK_S
    job = {
        "op": "video",
        "path": str(src),
        "demuxer": detected.demuxer,
        "dst": str(dst),
        "max_s": max_s,
        "audio_bitrate": _plan.NORMALIZED_AUDIO_BITRATE if "audio" in facts["decoded"] else 0,
        "video": {
            "width": plan.width,
            "height": plan.height,
            "fps": [plan.fps.numerator, plan.fps.denominator],
            "rotation": plan.rotation,
            "crf": _plan.NORMALIZED_CRF,
            "preset": "veryfast",
            "threads": CHILD_THREADS,
        },
    }
    done = _sandboxed(job, limits.normalize_timeout_s, limits, reject, detected.label, max_s)
    return {
        "kind": "video",
        "width": done["width"],
        "height": done["height"],
        "duration_s": round(done["duration_s"], 3),
        "has_audio": done["has_audio"],
        "fps": round(done["fps"], 3),
    }


def _probe(src: Path, detected: Detected, kinds, limits: MediaLimits, reject: _Refuser) -> dict:
    job = {
        "op": "probe",
        "path": str(src),
        "demuxer": detected.demuxer,
        "kinds": list(kinds),
        "max_side": limits.max_image_side,
    }
    return _sandboxed(job, limits.probe_timeout_s, limits, reject, detected.label, None)


def _sandboxed(
    job: dict,
    timeout_s: float,
    limits: MediaLimits,
    reject: _Refuser,
    label: str,
    max_s: float | None,
) -> dict:
    """Run a child job; turn each way it can fail into a refusal a user can act on."""
    try:
        return run_child(
            job,
            timeout_s=timeout_s,
            memory_mb=limits.probe_memory_mb,
            max_output_bytes=limits.max_output_bytes,
        )
    except SandboxError as exc:
        log.info("media child refused %s (%s): %s", job["path"], job["op"], exc)
        if exc.kind == "timeout":
            reject(f"reading it took longer than {timeout_s:g} s")
        if exc.kind == "memory":
            reject(f"reading it needed more than {limits.probe_memory_mb} MB of memory")
        if exc.kind == "too_long" and max_s is not None:  # only a job given max_s runs long
            reject(f"it runs longer than {max_s - _plan.DURATION_SLACK_S:g} s")
        if exc.kind == "no_frames":
            reject("it has nothing that decodes")
        if exc.kind == "truncated":
            reject(f"the file looks like {label} but is cut short")
        if exc.kind == "bomb":
            reject("the image has far too many pixels")
        reject(f"the file looks like {label} but could not be read")


def _check_duration(seconds: float | None, limit_s: float, reject) -> None:
    if seconds is not None and seconds > limit_s + _plan.DURATION_SLACK_S:
        reject(f"it is {seconds:.1f} s long")
