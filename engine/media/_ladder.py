"""Pure planning for fit-to-limit encoding: which size, rate and bitrates.

The byte budget and the duration give a bitrate. If that bitrate spread over
the picture is too thin (bits per pixel per frame below `MIN_BPP`), a smaller
picture looks better than a smeared big one, so the ladder steps down in
resolution first, and only at the smallest size drops the frame rate. x264
holds the average with a VBV buffer of `VBV_BUFFER_S`, so the worst case is
bitrate × (duration + buffer); the plan budgets for that.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

MIN_BPP = 0.05
VBV_BUFFER_S = 0.5
# mp4 boxes and per-sample tables, plus AAC overshoot.
OVERHEAD_FRACTION = 0.02
OVERHEAD_BYTES = 16 * 1024
MIN_VIDEO_BPS = 16_000
# Short-side caps tried in turn, then frame-rate caps at the smallest size.
SHORT_SIDES = (720, 540, 480, 360, 240)
LOW_RATES = (15, 12, 8)


@dataclass(frozen=True)
class Rung:
    width: int
    height: int
    fps: Fraction


@dataclass(frozen=True)
class Attempt:
    index: int
    rung: Rung
    video_bps: int
    audio_bps: int


def ladder(width: int, height: int, fps: Fraction) -> tuple[Rung, ...]:
    """Native first, then each smaller short side, then lower rates at the last."""
    rungs = [Rung(_even(width), _even(height), fps)]
    short = min(width, height)
    for side in SHORT_SIDES:
        if side < short:
            scale = side / short
            rungs.append(Rung(_even(width * scale), _even(height * scale), fps))
    smallest = rungs[-1]
    for rate in LOW_RATES:
        if rate < smallest.fps:
            rungs.append(Rung(smallest.width, smallest.height, Fraction(rate)))
    return tuple(rungs)


def audio_bitrate(total_bps: float) -> int:
    """Less sound when the whole budget is tight; it is the cheapest to keep."""
    if total_bps >= 2_000_000:
        return 128_000
    if total_bps >= 800_000:
        return 96_000
    if total_bps >= 300_000:
        return 64_000
    return 32_000


def plan(
    budget_bytes: float, duration_s: float, rungs: tuple[Rung, ...], has_audio: bool, start: int
) -> Attempt:
    """The first rung at or after `start` whose bits per pixel reach MIN_BPP
    (the last rung when none does), with the bitrates that fit the budget."""
    duration_s = max(duration_s, 0.1)
    bits = budget_bytes * 8 * (1 - OVERHEAD_FRACTION) - OVERHEAD_BYTES * 8
    audio_bps = audio_bitrate(bits / duration_s) if has_audio else 0
    video_bits = bits - audio_bps * duration_s
    video_bps = max(MIN_VIDEO_BPS, int(video_bits / (duration_s + VBV_BUFFER_S)))
    index = len(rungs) - 1
    for i in range(min(start, index), len(rungs)):
        r = rungs[i]
        if video_bps / (r.width * r.height * float(r.fps)) >= MIN_BPP:
            index = i
            break
    return Attempt(index=index, rung=rungs[index], video_bps=video_bps, audio_bps=audio_bps)


def _even(x: float) -> int:
    return max(2, round(x / 2) * 2)
