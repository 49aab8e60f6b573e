"""Fit a finished video under an upload limit: H.264 + AAC mp4 Discord plays inline.

The full-quality result stays where it is; this writes a delivery copy. When
the source already is a small enough H.264/AAC mp4 it is only remuxed (moov moved
to the front). Otherwise the quality ladder (`_ladder`) picks the size, rate and
bitrates, x264 encodes, and the size is checked; an overshoot lowers the aim and
tries again. `shrink` is for the bot's one retry after Discord answers 413: each
step aims a quarter lower and skips the remux shortcut. Blocking and thread-safe
(each call owns its containers); the caller runs it in a worker thread.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av

from engine.errors import OutputTooLarge
from engine.media import _ladder
from engine.media._transcode import (
    AudioSpec,
    VideoSpec,
    first_frames,
    open_input,
    stream_facts,
    transcode_mp4,
)

SHRINK_STEP = 0.75
MAX_ENCODES = 6
# After an overshoot, aim this far below the exact correction.
_OVERSHOOT_MARGIN = 0.93
_REMUX_CODECS = {"video": {"h264"}, "audio": {"aac"}}


@dataclass(frozen=True)
class EncodeReport:
    """What was delivered. `rungs_tried` counts encodes (0: remuxed as is)."""

    path: Path
    size_bytes: int
    width: int
    height: int
    fps: float
    video_bitrate: int
    audio_bitrate: int
    rungs_tried: int
    seconds: float


def fit_to_limit(src: Path, dst: Path, limit_bytes: int, *, shrink: int = 0) -> EncodeReport:
    """Write `dst` (mp4, H.264 yuv420p + AAC, faststart) no larger than
    `limit_bytes × 0.75**shrink`. Raises OutputTooLarge when nothing fits."""
    if limit_bytes <= 0 or shrink < 0:
        raise ValueError("limit_bytes must be positive and shrink non-negative")
    started = time.perf_counter()
    cap = int(limit_bytes * SHRINK_STEP**shrink)
    with open_input(str(src), None) as container:
        facts = stream_facts(container)
        rotation = first_frames(container, ("video",)).get("video", {}).get("rotation", 0)
    video = facts["video"]
    if video is None:
        raise ValueError(f"{src} has no video stream")
    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex}.part")
    try:
        if shrink == 0 and src.stat().st_size <= cap and _remuxable(facts, rotation):
            _remux(src, tmp)
            if tmp.stat().st_size <= cap:
                os.replace(tmp, dst)
                return _remux_report(dst, facts, started)
        report = _ladder_encode(src, tmp, facts, rotation, cap, started)
        os.replace(tmp, dst)
        return replace(report, path=dst)
    finally:
        tmp.unlink(missing_ok=True)


def _ladder_encode(
    src: Path, tmp: Path, facts: dict, rotation: int, cap: int, started: float
) -> EncodeReport:
    video = facts["video"]
    width, height = video["width"], video["height"]
    if round(rotation / 90) % 2:
        width, height = height, width
    fps = Fraction(*video["fps"]) if video["fps"] else Fraction(24)
    fps = fps.limit_denominator(1001)
    duration = _duration(facts, fps)
    has_audio = facts["audio"] is not None
    rungs = _ladder.ladder(width, height, fps)
    aim, start, size = float(cap), 0, 0
    for tries in range(1, MAX_ENCODES + 1):
        attempt = _ladder.plan(aim, duration, rungs, has_audio, start)
        spec = VideoSpec(
            width=attempt.rung.width,
            height=attempt.rung.height,
            fps=attempt.rung.fps,
            rotation=rotation,
            bitrate=attempt.video_bps,
            buffer_s=_ladder.VBV_BUFFER_S,
        )
        audio = AudioSpec(bitrate=attempt.audio_bps) if has_audio else None
        with open_input(str(src), None) as container:
            written = transcode_mp4(container, str(tmp), spec, audio)
        size = tmp.stat().st_size
        if size <= cap:
            return EncodeReport(
                path=tmp,
                size_bytes=size,
                width=written.width,
                height=written.height,
                fps=written.fps,
                video_bitrate=attempt.video_bps,
                audio_bitrate=attempt.audio_bps if written.has_audio else 0,
                rungs_tried=tries,
                seconds=time.perf_counter() - started,
            )
        aim *= cap / size * _OVERSHOOT_MARGIN
        start = attempt.index
    raise OutputTooLarge(size_bytes=size, limit_bytes=cap, rungs_tried=MAX_ENCODES)


def _duration(facts: dict, fps: Fraction) -> float:
    known = [
        d
        for d in (
            facts["duration_s"],
            facts["video"]["duration_s"],
            (facts["audio"] or {}).get("duration_s"),
        )
        if d
    ]
    return max(known) if known else 10.0


def _remuxable(facts: dict, rotation: int) -> bool:
    video, audio = facts["video"], facts["audio"]
    return (
        facts["format"].startswith("mov")
        and rotation == 0
        and video["codec"] in _REMUX_CODECS["video"]
        and video["pix_fmt"] == "yuv420p"
        and (audio is None or audio["codec"] in _REMUX_CODECS["audio"])
    )


def _remux(src: Path, dst: Path) -> None:
    """Copy the packets of the first video/audio streams, moov first."""
    with (
        open_input(str(src), None) as inp,
        av.open(str(dst), "w", format="mp4", container_options={"movflags": "+faststart"}) as out,
    ):
        streams = [inp.streams.video[0], *inp.streams.audio[:1]]
        mapping = {s: out.add_stream_from_template(s) for s in streams}
        for packet in inp.demux(*streams):
            if packet.dts is None:
                continue
            packet.stream = mapping[packet.stream]
            out.mux(packet)


def _remux_report(dst: Path, facts: dict, started: float) -> EncodeReport:
    with open_input(str(dst), None) as c:
        v = c.streams.video[0]
        a = c.streams.audio[0] if c.streams.audio else None
        rate = v.average_rate or v.guessed_rate
        return EncodeReport(
            path=dst,
            size_bytes=dst.stat().st_size,
            width=v.codec_context.width,
            height=v.codec_context.height,
            fps=float(rate) if rate else 0.0,
            video_bitrate=v.codec_context.bit_rate or 0,
            audio_bitrate=(a.codec_context.bit_rate or 0) if a else 0,
            rungs_tried=0,
            seconds=time.perf_counter() - started,
        )
