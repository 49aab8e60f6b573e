"""Live previews: a still of the video taking shape, from the sampler's latent.

ComfyUI's samplers call `latent_preview.prepare_callback`, which asks
`get_previewer` for something that turns the current denoised latent into a
picture; the picture travels to the progress hook with each step. Its
latent-to-RGB previewer needs no extra model: a 128x3 matrix per latent format
(LTX-2's are in `comfy.latent_formats`). Two things in it do not fit a Discord
card, so this module hands ComfyUI its own previewer instead:

- ComfyUI shows the *first* latent frame. In i2v, keyframe and style jobs that
  frame is pinned to the member's own picture and never changes; the middle
  frame is where the video takes shape.
- It decodes on every step (a GPU->CPU copy each time), while a card can show
  one still every few seconds. Decoding is spaced `every_s` apart, so a fast
  sampler pays for at most one small copy a second.

Latents are 32x smaller than the video (768x512 -> 24x16), so the still is
scaled up smoothly before it is encoded as a JPEG: blurry by nature, but the
colours and layout members watch for are there.
"""

from __future__ import annotations

import importlib
import io
import threading
import time
from collections.abc import Callable
from typing import Any

PREVIEW_LONG_SIDE = 384  # px: what a card's embed shows without upscaling
PREVIEW_EVERY_S = 1.0  # at most one decode a second per sampler
JPEG_QUALITY = 80

_installed = threading.Lock()
_state: dict[str, Any] = {}


def jpeg_of(image: Any, long_side: int = PREVIEW_LONG_SIDE) -> bytes:
    """A PIL image scaled (up or down) to `long_side` and encoded as JPEG."""
    from PIL import Image

    width, height = image.size
    scale = long_side / max(width, height, 1)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size != (width, height):
        image = image.resize(size, Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def preview_jpeg(preview: Any) -> bytes | None:
    """What the progress hook was given as `preview`, as JPEG bytes.

    ComfyUI passes `(format, PIL image, max size)`; anything else (no preview,
    a future format) is no preview rather than an error in a running job."""
    if not isinstance(preview, tuple) or len(preview) < 2:
        return None
    image = preview[1]
    if not hasattr(image, "size") or not hasattr(image, "save"):
        return None
    return jpeg_of(image)


def install(enabled: bool, *, every_s: float = PREVIEW_EVERY_S) -> None:
    """Point ComfyUI's samplers at this module's previewer (or at none).

    Safe to call again: the last call decides, since a process boots ComfyUI
    once but tests and `ltx-bot render` may switch previews on and off."""
    latent_preview = importlib.import_module("latent_preview")
    with _installed:
        _state["enabled"] = enabled
        _state["every_s"] = every_s
        _state["base"] = latent_preview.Latent2RGBPreviewer
        latent_preview.get_previewer = _get_previewer  # type: ignore[attr-defined]


def _get_previewer(device: Any, latent_format: Any) -> Any:
    """`latent_preview.get_previewer`, as ComfyUI calls it for each sampler."""
    del device  # the latent stays where it is; only a small slice is copied
    if not _state.get("enabled"):
        return None
    factors = getattr(latent_format, "latent_rgb_factors", None)
    if factors is None:
        return None
    base = _state["base"]
    previewer = base(
        factors,
        getattr(latent_format, "latent_rgb_factors_bias", None),
        getattr(latent_format, "latent_rgb_factors_reshape", None),
    )
    return _Spaced(previewer, every_s=float(_state["every_s"]))


class _Spaced:
    """Wraps ComfyUI's Latent2RGBPreviewer: middle frame, at most one decode
    every `every_s` seconds (None in between, which ComfyUI passes on as
    "no preview this step")."""

    def __init__(
        self, inner: Any, *, every_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.inner = inner
        self.every_s = every_s
        self.clock = clock
        self._last: float | None = None

    def decode_latent_to_preview_image(self, preview_format: str, x0: Any) -> Any:
        now = self.clock()
        if self._last is not None and now - self._last < self.every_s:
            return None
        self._last = now
        if getattr(x0, "ndim", 0) == 5 and x0.shape[2] > 1:
            middle = x0.shape[2] // 2
            x0 = x0[:1, :, middle : middle + 1]
        return self.inner.decode_latent_to_preview_image(preview_format, x0)
