"""Sizes and frame counts as the LTX-2.3 graphs really produce them. Pure.

Width and height: the latent grid is 32 px; the two-stage graphs render at half
size and upscale 2x, so their output is a multiple of 64 (1280x720 asked gives
1280x704). Frames: the graph computes `length = seconds * fps + 1` and the latent
keeps `8 * floor((length - 1) / 8) + 1` frames.
"""

from __future__ import annotations

import math

MIN_SIDE = 256
DEFAULT_SIZE = (1280, 704)  # the templates' 1280x720, as the graphs render it
_EPS = 1e-6


def snap(value: int, multiple: int) -> int:
    """Round down to the grid, as the graph does."""
    return (int(value) // multiple) * multiple


def fit_size(
    aspect: float, max_w: int, max_h: int, multiple: int, area: int = 1280 * 720
) -> tuple[int, int]:
    """The default size for an input of this aspect ratio: about the templates'
    pixel count, inside the limits, on the grid."""
    w = math.sqrt(area * aspect)
    h = w / aspect
    scale = min(1.0, max_w / w, max_h / h)
    w, h = w * scale, h * scale
    return max(snap(round(w), multiple), MIN_SIDE), max(snap(round(h), multiple), MIN_SIDE)


def frames_for(duration_s: float, fps: int) -> int:
    """Frames the latent keeps for this duration: 8k+1 with 8k <= duration*fps."""
    return 8 * math.floor(duration_s * fps / 8 + _EPS) + 1


def graph_seconds(frames: int, fps: int) -> float:
    """The seconds to write into the graph so that `seconds * fps + 1` lands half a
    frame above `frames`: the same 8k+1 whether the graph truncates or rounds."""
    return (frames - 1 + 0.5) / fps


def window_frames(window_s: float, source_fps: float) -> int:
    """Frames kept from a source window of this length (style)."""
    n = math.floor(window_s * source_fps + _EPS)
    return 8 * max(0, (n - 1) // 8) + 1
