"""Images: open with Pillow (PNG, JPEG, WEBP only), bound the pixels, re-encode.

Pillow decodes in-process, so its exposure is kept small: only three plugins
may open the file, the header's size is checked before a single pixel is
decoded, and truncated files are refused rather than padded. What ComfyUI gets
is a fresh RGB PNG written by us: upright (EXIF orientation applied), no
metadata, no alpha, 8 bits per channel.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import numpy as np
from PIL import Image, ImageOps

from engine.errors import InputRejected
from engine.media.limits import MediaLimits

PILLOW_FORMATS = ("PNG", "JPEG", "WEBP")

Reject = Callable[[str], NoReturn]


def normalize_image(
    src: Path, dst: Path, limits: MediaLimits, *, label: str, reject: Reject
) -> tuple[int, int]:
    """Write `src` as an RGB PNG to `dst`; return its (width, height).

    `reject(reason)` raises the caller's InputRejected. Any decoder failure is
    a refusal: the file is untrusted and Pillow's exceptions are many.
    """
    try:
        with Image.open(src, formats=PILLOW_FORMATS) as im:
            width, height = im.size
            if max(width, height) > limits.max_image_side:
                reject(f"the image is {width}x{height} px")
            if width * height > limits.max_image_pixels:
                reject(f"the image has {width * height / 1e6:.1f} megapixels ({width}x{height})")
            im.load()
            upright = ImageOps.exif_transpose(im)
            rgb = _to_rgb(upright)
        rgb.save(dst, format="PNG", compress_level=1)
    except InputRejected:
        raise
    except Image.DecompressionBombError:
        reject("the image has far too many pixels")
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, ...
        if "truncated" in str(exc):
            reject(f"the file looks like {label} but is cut short")
        reject(f"the file looks like {label} but could not be read")
    return rgb.size


def _to_rgb(im: Image.Image) -> Image.Image:
    """8-bit RGB; transparent areas become white, 16-bit samples are scaled."""
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        values = np.asarray(im, dtype=np.float64)
        peak = 65535.0 if values.max(initial=0) > 255 else 255.0
        im = Image.fromarray(np.clip(values * (255.0 / peak), 0, 255).astype(np.uint8))
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return im.convert("RGB")
