"""Pure decisions about an audio/video input, made from what the probe saw.

Kept apart from the process plumbing so the rules (which stream, how long,
what size and rate the normalized copy gets) are easy to read and test.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from engine.media.limits import MediaLimits

# Containers round durations; a "10 s" clip may say 10.02 s.
DURATION_SLACK_S = 0.5
NORMALIZED_CRF = 18
NORMALIZED_AUDIO_BITRATE = 192_000


@dataclass(frozen=True)
class VideoPlan:
    """Size, rate and rotation of the normalized copy of a video."""

    width: int
    height: int
    fps: Fraction
    rotation: int


def quarter_turns(rotation: float) -> int:
    """Display rotation in degrees, snapped to 0/90/180/270."""
    return round(rotation / 90) * 90 % 360


def declared_duration(facts: dict, kind: str) -> float | None:
    """The longest duration the headers claim for the stream of `kind` (or the
    container); the decode enforces the limit again, since headers can lie."""
    candidates = [facts.get("duration_s")]
    stream = facts.get(kind)
    if stream:
        candidates.append(stream.get("duration_s"))
    known = [d for d in candidates if d is not None and d > 0]
    return max(known) if known else None


def plan_video(
    width: int, height: int, rotation: int, fps: Fraction | None, limits: MediaLimits
) -> VideoPlan:
    """Fit the upright picture inside `video_max_side` (never upscale), keep
    the aspect ratio with even sides (yuv420p needs them), and cap the rate."""
    turn = quarter_turns(rotation)
    w, h = (height, width) if turn in (90, 270) else (width, height)
    scale = min(1.0, limits.video_max_side / max(w, h))
    out_w = max(2, round(w * scale / 2) * 2)
    out_h = max(2, round(h * scale / 2) * 2)
    cap = Fraction(limits.video_max_fps).limit_denominator(1001)
    rate = cap if fps is None or fps <= 0 or fps > cap else fps.limit_denominator(1001)
    return VideoPlan(width=out_w, height=out_h, fps=rate, rotation=turn)
