"""Encode a generated clip straight from its frames: one encode, already fitted.

ComfyUI's `SaveVideo` converts each frame to YUV on one CPU core and runs x264
at its `medium` preset, and delivery then fits that file under the upload
limit with a second encode. `write_mp4` does it once: the RGB → BT.709 YUV
4:2:0 conversion runs on the GPU in torch when there is one (else FFmpeg's
swscale, frame by frame), x264 runs at `veryfast` on every core, and the rate is CRF
`crf` capped by a VBV buffer at the bitrate the quality ladder plans for
`budget_bytes` (the upload budget). So a clip that needs fewer bits keeps its
CRF quality, one that needs more is held to what the fit would have given it,
and the file is an H.264 yuv420p + AAC mp4, moov first, that `fit_to_limit`
only remuxes. Where the ladder would lower the resolution (a long clip), the
cap is left off and the fit does that as before.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from av.video.reformatter import Colorspace

from engine.media import _ladder
from engine.media._transcode import VideoSpec, _add_video_stream, _mux_audio

DEFAULT_CRF = 20
UNCAPPED_AUDIO_BPS = 128_000  # FFmpeg's AAC default, what SaveVideo gets
_AUDIO_FRAME = 1024
_CHUNK = 16  # frames converted to YUV per step: bounds the extra memory
# BT.709 luma weights, and the limited ("MPEG") range of 8-bit video.
_KR, _KB = 0.2126, 0.0722
_KG = 1.0 - _KR - _KB
_BT709 = 1  # AVCOL_PRI_BT709 = AVCOL_TRC_BT709 = AVCOL_SPC_BT709
_RANGE_MPEG = 1
_ITU709 = Colorspace.ITU709


@dataclass(frozen=True)
class FramesReport:
    """What `write_mp4` wrote; `capped` says whether the VBV cap was applied."""

    path: Path
    size_bytes: int
    frames: int
    width: int
    height: int
    fps: Fraction
    has_audio: bool
    capped: bool
    video_bitrate_cap: int
    seconds: float


def can_write(images: Any) -> bool:
    """Whether `write_mp4` takes these frames: (N, H, W, 3) with even sides."""
    shape = tuple(getattr(images, "shape", ()))
    return len(shape) == 4 and shape[0] > 0 and shape[3] == 3 and not shape[1] % 2 + shape[2] % 2


def write_mp4(
    images: Any,
    fps: float | Fraction,
    dst: Path,
    *,
    audio: tuple[Any, int] | None = None,
    crf: int = DEFAULT_CRF,
    budget_bytes: int = 0,
) -> FramesReport:
    """Write `images` (a float tensor (N, H, W, 3) in [0, 1]) and `audio` (a
    waveform tensor (C, S) or (1, C, S) and its sample rate) to `dst`."""

    if not can_write(images):
        raise ValueError(f"frames of shape {tuple(images.shape)} are not (N, even H, even W, 3)")
    started = time.perf_counter()
    count, height, width = (int(x) for x in images.shape[:3])
    rate = Fraction(round(float(fps) * 1000), 1000).limit_denominator(1001)
    duration = float(count / rate)
    wave = _audio_samples(audio, count, rate)
    has_audio = wave is not None
    cap, audio_bps = 0, UNCAPPED_AUDIO_BPS
    if budget_bytes > 0:
        attempt = _ladder.plan(
            budget_bytes, duration, _ladder.ladder(width, height, rate), has_audio, 0
        )
        if attempt.index == 0:  # at native size: the fit would keep it, so cap here
            cap, audio_bps = attempt.video_bps, attempt.audio_bps
    spec = VideoSpec(
        width=width,
        height=height,
        fps=rate,
        crf=crf,
        bitrate=cap or None,
        buffer_s=_ladder.VBV_BUFFER_S,
    )
    with av.open(str(dst), "w", format="mp4", container_options={"movflags": "+faststart"}) as out:
        vout = _add_video_stream(out, spec)
        ctx = vout.codec_context
        ctx.color_primaries = ctx.color_trc = ctx.colorspace = _BT709
        ctx.color_range = _RANGE_MPEG
        aout = None if wave is None else _audio_stream(out, wave, audio, audio_bps)
        tb = Fraction(1) / rate
        for i, frame in enumerate(yuv_frames(images)):
            frame.pts, frame.time_base = i, tb
            out.mux(vout.encode(frame))
        out.mux(vout.encode(None))
        if aout is not None:
            _encode_audio(out, aout, wave)
    return FramesReport(
        path=dst,
        size_bytes=dst.stat().st_size,
        frames=count,
        width=width,
        height=height,
        fps=rate,
        has_audio=has_audio,
        capped=cap > 0,
        video_bitrate_cap=cap,
        seconds=time.perf_counter() - started,
    )


def yuv_frames(images: Any) -> Iterator[av.VideoFrame]:
    """The frames as BT.709 yuv420p VideoFrames. With a GPU, a few frames at a
    time go through `yuv420` there (the copy is small beside x264's time);
    without one, each frame goes through FFmpeg's swscale, which beats torch's
    elementwise kernels on a few CPU cores."""
    import torch

    device = images.device
    if device.type == "cpu" and torch.cuda.is_available():
        device = torch.device("cuda")
    if device.type == "cpu":
        for image in images:
            rgb = (image * 255).clamp(0, 255).to(torch.uint8).numpy()
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            yield frame.reformat(format="yuv420p", dst_colorspace=_ITU709)
        return
    for start in range(0, images.shape[0], _CHUNK):
        for plane in yuv420(images[start : start + _CHUNK].to(device)).cpu().numpy():
            yield av.VideoFrame.from_ndarray(plane, format="yuv420p")


def yuv420(rgb: Any) -> Any:
    """(N, H, W, 3) floats in [0, 1] → (N, H·3/2, W) uint8: each frame's Y plane,
    then U, then V (BT.709, limited range; chroma averaged over 2×2), the
    layout PyAV's `from_ndarray(format="yuv420p")` reads."""
    import torch

    x = rgb.float().clamp(0.0, 1.0).permute(0, 3, 1, 2)  # N, 3, H, W
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    y = 16.0 + 219.0 * (_KR * r + _KG * g + _KB * b)
    half = torch.nn.functional.avg_pool2d(x, 2)
    hr, hg, hb = half[:, 0], half[:, 1], half[:, 2]
    luma = _KR * hr + _KG * hg + _KB * hb
    u = 128.0 + 224.0 * (hb - luma) / (2.0 * (1.0 - _KB))
    v = 128.0 + 224.0 * (hr - luma) / (2.0 * (1.0 - _KR))
    n, h, w = y.shape
    flat = torch.cat([y.reshape(n, -1), u.reshape(n, -1), v.reshape(n, -1)], dim=1)
    return (flat + 0.5).clamp(0.0, 255.0).to(torch.uint8).reshape(n, h * 3 // 2, w)


def _audio_samples(audio: tuple[Any, int] | None, frames: int, rate: Fraction) -> Any:
    """The waveform as a float32 (C, S) numpy array, cut to the video's length
    as ComfyUI's SaveVideo cuts it; None when there is no sound."""
    if audio is None:
        return None
    wave, sample_rate = audio
    if wave is None or sample_rate <= 0:
        return None
    if wave.dim() == 3:
        wave = wave[0]
    wave = wave[:, : math.ceil(sample_rate / rate * frames)]
    if wave.shape[-1] == 0 or wave.shape[0] == 0:
        return None
    return wave.float().cpu().contiguous().numpy()


def _layout(wave: Any) -> str:
    return {1: "mono", 2: "stereo", 6: "5.1"}.get(wave.shape[0], "stereo")


def _audio_stream(out: Any, wave: Any, audio: Any, bitrate: int) -> Any:
    """The AAC stream, added before any packet is muxed (mp4 needs all its streams
    before its header)."""
    aout = out.add_stream("aac", rate=int(audio[1]), layout=_layout(wave))
    aout.bit_rate = bitrate
    return aout


def _encode_audio(out: Any, aout: Any, wave: Any) -> None:
    layout, sample_rate = _layout(wave), aout.codec_context.sample_rate
    if layout == "stereo":
        wave = wave[:2]  # any other channel count: its first two
    resampler = av.AudioResampler("fltp", layout, sample_rate, _AUDIO_FRAME)
    frame = av.AudioFrame.from_ndarray(wave, format="fltp", layout=layout)
    frame.sample_rate = sample_rate
    samples = 0
    for chunk in [*resampler.resample(frame), *resampler.resample(None)]:
        samples = _mux_audio(out, aout, chunk, samples, None)
    out.mux(aout.encode(None))
