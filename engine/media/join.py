"""One video from a clip and its continuation (Extend): the seam shown once, the sound continuous.

An Extend job (engine/extend.py) renders a continuation whose first frame is
conditioned on the parent clip's last frame, so that frame would appear twice
at the seam: the continuation's first frame is dropped. The pictures are
re-encoded (H.264 yuv420p at CRF `DEFAULT_CRF`, the parent's size and rate;
a continuation of another size is scaled to it), since two independent x264
streams cannot simply be concatenated into one mp4 track. The sound is decoded to
48 kHz stereo and laid end to end, each part cut to its own pictures (the
continuation's first frame's worth of samples dropped with that frame), and a
part without sound is silence for its length: where either part made sound, the
joined video has one continuous track; where neither did, it has none.

The file written is the job's full-quality result; delivery fits it under the
upload limit like any other (`fit_to_limit`). Our own results only, never an
attachment: this runs in the engine's process, not the sandbox. Blocking; run
it in a worker thread.
"""

from __future__ import annotations

import math
import os
import uuid
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from engine.media._transcode import (
    _AUDIO_FRAME,
    NoFrames,
    VideoSpec,
    _add_video_stream,
    _mux_audio,
    open_input,
)
from engine.media.frames import DEFAULT_CRF, UNCAPPED_AUDIO_BPS

AUDIO_RATE = 48_000


@dataclass(frozen=True)
class Joined:
    """What `join_videos` wrote: `frames` = `first_frames` + `added_frames`
    (the continuation less its first frame)."""

    path: Path
    frames: int
    first_frames: int
    added_frames: int
    width: int
    height: int
    fps: Fraction
    has_audio: bool


def last_frame_png(src: Path, dst: Path) -> tuple[int, int]:
    """Write the last frame of `src`'s video as an RGB PNG; its (width, height).
    Decodes the whole stream: mp4 seeking lands on keyframes, and our clips
    are short."""
    last: av.VideoFrame | None = None
    with open_input(str(src), None) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            last = frame
    if last is None:
        raise NoFrames(f"{src} has no video frame")
    last.to_image().save(dst, format="PNG")
    return last.width, last.height


def join_videos(first: Path, second: Path, dst: Path, *, crf: int = DEFAULT_CRF) -> Joined:
    """Write `first` then `second` less its first frame to `dst` (mp4, moov first)."""
    with open_input(str(first), None) as c:
        v = c.streams.video[0]
        width, height = v.codec_context.width, v.codec_context.height
        rate = v.average_rate or v.guessed_rate or Fraction(24)
    fps = Fraction(rate).limit_denominator(1001)
    sound = [_decoded_audio(first), _decoded_audio(second)]
    spec = VideoSpec(width=width, height=height, fps=fps, crf=crf)
    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex}.part")
    try:
        with av.open(
            str(tmp), "w", format="mp4", container_options={"movflags": "+faststart"}
        ) as out:
            vout = _add_video_stream(out, spec)
            aout = None
            if any(s is not None for s in sound):
                aout = out.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
                aout.bit_rate = UNCAPPED_AUDIO_BPS
            n1 = _encode_frames(out, vout, first, spec, start=0, skip=0)
            n2 = _encode_frames(out, vout, second, spec, start=n1, skip=1)
            out.mux(vout.encode(None))
            if aout is not None:
                seam = math.ceil(AUDIO_RATE / fps)
                head = _span(sound[0], 0, _samples(n1, fps))
                tail = _span(sound[1], seam, _samples(n2, fps))
                wave = np.concatenate([head, tail], axis=1)
                _encode_audio(out, aout, wave)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return Joined(dst, n1 + n2, n1, n2, width, height, fps, aout is not None)


def _encode_frames(
    out: Any, vout: Any, src: Path, spec: VideoSpec, *, start: int, skip: int
) -> int:
    """Encode `src`'s frames after the first `skip`, numbered on from `start`;
    how many were encoded."""
    tb = Fraction(1) / spec.fps
    count = seen = 0
    with open_input(str(src), None) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            seen += 1
            if seen <= skip:
                continue
            picture = frame.reformat(width=spec.width, height=spec.height, format="yuv420p")
            picture.pts, picture.time_base = start + count, tb
            out.mux(vout.encode(picture))
            count += 1
    if count == 0:
        raise NoFrames(f"{src} has no video frame after the first {skip}")
    return count


def _encode_audio(out: Any, aout: Any, wave: Any) -> None:
    """`wave` (float32 (2, S) at 48 kHz) as AAC, in the encoder's frame size."""
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(wave, dtype=np.float32), format="fltp", layout="stereo"
    )
    frame.sample_rate = AUDIO_RATE
    resampler = av.AudioResampler("fltp", "stereo", AUDIO_RATE, _AUDIO_FRAME)
    samples = 0
    for chunk in [*resampler.resample(frame), *resampler.resample(None)]:
        samples = _mux_audio(out, aout, chunk, samples, None)
    out.mux(aout.encode(None))


def _decoded_audio(src: Path) -> Any:
    """The first audio stream as float32 (2, S) at 48 kHz; None without one."""
    with open_input(str(src), None) as container:
        if not container.streams.audio:
            return None
        resampler = av.AudioResampler("fltp", "stereo", AUDIO_RATE)
        parts = [
            f.to_ndarray()
            for frame in container.decode(container.streams.audio[0])
            for f in resampler.resample(frame)
        ]
        parts += [f.to_ndarray() for f in resampler.resample(None)]
    return np.concatenate(parts, axis=1) if parts else None


def _samples(frames: int, fps: Fraction) -> int:
    return math.ceil(AUDIO_RATE * frames / fps)


def _span(wave: Any, skip: int, length: int) -> Any:
    """`length` samples of `wave` from `skip`, padded with silence (all
    silence when there is no sound)."""
    out = np.zeros((2, length), dtype=np.float32)
    if wave is not None:
        part = wave[:, skip : skip + length]
        out[:, : part.shape[1]] = part
    return out
