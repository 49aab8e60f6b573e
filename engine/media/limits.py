"""The values that cross the media boundary: limits in, stored inputs out.

`MediaLimits` is built by the composition root from `Settings` and passed to every
call; nothing here reads settings. `StoredInput` is what a job keeps: the sha256 of
the normalized file is enough to find it again (`engine.media.lookup`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

MediaKind = Literal["image", "audio", "video"]
MEDIA_KINDS: tuple[MediaKind, ...] = ("image", "audio", "video")

MiB = 1024 * 1024


@dataclass(frozen=True)
class MediaLimits:
    """Bounds on what an attachment may be, and on the sandbox that reads it.

    The `max_*` fields refuse; `video_max_side` and `video_max_fps` do not refuse,
    they bound the normalized copy (bigger videos are scaled down, faster ones
    dropped to that rate). `max_image_side` also refuses video frames, since a
    tiny file that declares a 30000 px frame is a decompression bomb too.

    `max_image_pixels` is 16 MP: LTX renders at most 1280 px on the long side
    (about 0.9 MP at 16:9), so anything bigger is only downscaled, yet a
    12 MP phone photo (4032x3024) and a 5K screenshot (5120x2880) still fit.
    Decoding costs the sandbox up to ~8 bytes a pixel at once (16-bit samples,
    their 8-bit copy, RGB), about 130 MB at the limit, well inside its cap.
    """

    max_bytes: int = 25 * MiB
    max_image_pixels: int = 16_000_000
    max_image_side: int = 16_384
    max_audio_s: float = 60.0
    max_video_s: float = 30.0
    probe_timeout_s: float = 15.0
    probe_memory_mb: int = 1536
    normalize_timeout_s: float = 180.0
    video_max_side: int = 1920
    video_max_fps: float = 30.0
    max_output_bytes: int = 1024 * MiB

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_image_pixels", "max_image_side", "probe_memory_mb"):
            if getattr(self, name) <= 0:
                raise ValueError(f"MediaLimits.{name} must be positive")
        if min(self.max_audio_s, self.max_video_s, self.probe_timeout_s) <= 0:
            raise ValueError("MediaLimits durations and timeouts must be positive")
        if self.video_max_side < 16 or self.video_max_fps <= 0:
            raise ValueError("MediaLimits.video_max_side/video_max_fps are too small")


@dataclass(frozen=True)
class StoredInput:
    """A normalized, content-addressed input. Fields that do not apply to the
    kind are None (an image has no duration, audio has no size)."""

    sha256: str
    path: Path
    kind: MediaKind
    width: int | None
    height: int | None
    duration_s: float | None
    has_audio: bool
    fps: float | None


_FORMATS: dict[str, str] = {
    "image": "PNG, JPEG or WEBP images",
    "audio": "WAV, MP3, FLAC, OGG (Vorbis/Opus), M4A/AAC or WEBM audio, or the sound of a video",
    "video": "MP4, MOV, WEBM or MKV videos with a video track",
}


def accepted(kind: str, limits: MediaLimits) -> str:
    """What an input slot of `kind` takes, spelled out from the limits, so every
    refusal tells the user what would have worked."""
    size = f"up to {_mib(limits.max_bytes)}"
    if kind == "image":
        return (
            f"{_FORMATS['image']}, {size}, at most {limits.max_image_pixels / 1e6:g} megapixels "
            f"and {limits.max_image_side} px per side"
        )
    if kind == "audio":
        return f"{_FORMATS['audio']}, {size}, at most {limits.max_audio_s:g} s long"
    if kind == "video":
        return f"{_FORMATS['video']}, {size}, at most {limits.max_video_s:g} s long"
    return "image, audio or video attachments"


def _mib(n: int) -> str:
    return f"{n / MiB:g} MiB"
