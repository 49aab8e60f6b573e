"""Child side of image ingestion: open with Pillow, bound the pixels, re-encode.

Imported only by `_child.py`, inside the sandbox: a decoder bomb that gets past
the header check runs into the child's address-space cap, not the bot's
memory. Only three Pillow plugins may open the file, the header's size is
checked before a single pixel is decoded, and truncated files are refused
rather than padded. What ComfyUI gets is a fresh RGB PNG: upright (EXIF
orientation applied), no metadata, no alpha, 8 bits per channel. Deep samples
are scaled with integer arithmetic a strip at a time, so a 16-bit image costs
one extra byte per pixel, not a float64 copy of itself. Imports only Pillow,
numpy and the standard library.
"""

from __future__ import annotations

import typing

import numpy as np
from PIL import Image, ImageOps

FORMATS = ("PNG", "JPEG", "WEBP")
DEEP_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")
# Pixels converted per strip: bounds the int64 scratch to 8 MiB.
STRIP_PIXELS = 1 << 20


class Refused(Exception):
    """The file cannot become an input; `kind` (truncated, bomb, invalid) is
    what the parent turns into a reason, `detail` is for its log."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail


def normalize(src: str, dst: str, *, max_side: int, max_pixels: int) -> dict:
    """Write `src` as an RGB PNG to `dst`.

    Returns {"width", "height", "written"}; `written` is False when the header
    alone shows the image is over `max_side` or `max_pixels` (nothing decoded:
    the parent refuses it). MemoryError passes through for the child to report.
    """
    try:
        with Image.open(src, formats=FORMATS) as im:
            width, height = im.size
            if max(width, height) > max_side or width * height > max_pixels:
                return {"width": width, "height": height, "written": False}
            im.load()
            ImageOps.exif_transpose(im, in_place=True)
            rgb = to_rgb(im)
        rgb.save(dst, format="PNG", compress_level=1)
    except MemoryError:
        raise
    except Image.DecompressionBombError as exc:
        raise Refused("bomb", str(exc)) from exc
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, ...
        kind = "truncated" if "truncated" in str(exc) else "invalid"
        raise Refused(kind, f"{type(exc).__name__}: {exc}"[:300]) from exc
    return {"width": rgb.width, "height": rgb.height, "written": True}


def to_rgb(im: Image.Image) -> Image.Image:
    """8-bit RGB; transparent areas become white, deep samples are scaled."""
    if im.mode in DEEP_MODES:
        im = Image.fromarray(to_eight_bit(im), "L")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return im.convert("RGB")


def to_eight_bit(im: Image.Image) -> np.ndarray:
    """One-band deep samples as uint8, rounded: v * 255 / peak.

    `peak` is 65535 when any sample exceeds 255, else 255 (an 8-bit picture
    stored in a 16-bit container keeps its values). Negative samples clip to 0.
    """
    _, high = typing.cast("tuple[float, float]", im.getextrema())  # one band: (low, high)
    peak = 65535 if high > 255 else 255
    width, height = im.size
    out = np.empty((height, width), dtype=np.uint8)
    rows = max(1, STRIP_PIXELS // max(1, width))
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        strip = np.asarray(im.crop((0, top, width, bottom)))
        if strip.dtype.kind == "f":  # mode F: never from PNG/JPEG/WEBP, but cheap to bound
            strip = np.nan_to_num(strip, nan=0.0, posinf=peak, neginf=0.0)
            strip = np.clip(strip, 0, peak)
        values = np.clip(strip.astype(np.int64), 0, peak)
        out[top:bottom] = (values * 255 + peak // 2) // peak
    return out
