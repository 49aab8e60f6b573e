"""PyAV plumbing shared by the ingest sandbox and delivery encoding.

This module imports only the standard library and PyAV: the sandbox child
(`_child.py`) loads it as a plain sibling module, without the `engine` package.
Everything that reads a file forces the demuxer named by the caller and allows
only the `file` protocol, so a crafted file cannot make FFmpeg open URLs or
other files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import av.container
import av.filter

# Packets read while looking for the first decodable frame of each stream.
_PROBE_PACKETS = 600
_AUDIO_FRAME = 1024  # AAC frame size


class TooLong(Exception):
    """The decoded media ran past the duration it was allowed."""

    def __init__(self, seconds: float):
        super().__init__(f"longer than {seconds:.1f} s")
        self.seconds = seconds


class NoFrames(Exception):
    """A stream was there but nothing in it decoded."""


@dataclass(frozen=True)
class VideoSpec:
    """H.264 output. Either `crf` (quality, for normalized inputs) or `bitrate`
    (average bitrate held by a VBV buffer of `buffer_s` seconds, for delivery,
    where the size must be predictable). `rotation` is the counter-clockwise
    display rotation found on the source frames; it is baked into the pixels."""

    width: int
    height: int
    fps: Fraction
    rotation: int = 0
    crf: int | None = None
    bitrate: int | None = None
    buffer_s: float = 0.5
    preset: str = "veryfast"
    threads: int = 0


@dataclass(frozen=True)
class AudioSpec:
    bitrate: int
    rate: int = 48_000
    layout: str = "stereo"


@dataclass(frozen=True)
class Written:
    frames: int
    duration_s: float
    width: int
    height: int
    fps: float
    has_audio: bool


def open_input(path: str, demuxer: str | None) -> av.container.InputContainer:
    """Open a local file for reading with FFmpeg's guessing and protocols off."""
    url = "file:" + os.path.abspath(path)
    return av.open(url, format=demuxer, container_options={"protocol_whitelist": "file"})


def stream_facts(container: av.container.InputContainer) -> dict:
    """What the container headers claim (nothing decoded yet), as plain data."""
    facts: dict = {
        "format": container.format.name,
        "duration_s": container.duration / 1_000_000 if container.duration else None,
        "video": None,
        "audio": None,
    }
    if container.streams.video:
        v = container.streams.video[0]
        rate = v.average_rate or v.guessed_rate
        facts["video"] = {
            "codec": v.codec_context.name,
            "width": v.codec_context.width,
            "height": v.codec_context.height,
            "pix_fmt": v.codec_context.pix_fmt,
            "fps": [rate.numerator, rate.denominator] if rate else None,
            "duration_s": _seconds(v.duration, v.time_base),
        }
    if container.streams.audio:
        a = container.streams.audio[0]
        facts["audio"] = {
            "codec": a.codec_context.name,
            "rate": a.codec_context.sample_rate,
            "channels": a.codec_context.channels,
            "duration_s": _seconds(a.duration, a.time_base),
        }
    return facts


def first_frames(container: av.container.InputContainer, kinds: tuple[str, ...]) -> dict:
    """Decode until each wanted stream gave one frame. Returns which did, and
    the rotation and real size of the first video frame."""
    streams: list[av.stream.Stream] = []
    if "video" in kinds and container.streams.video:
        streams.append(container.streams.video[0])
    if "audio" in kinds and container.streams.audio:
        streams.append(container.streams.audio[0])
    found: dict = {}
    for n, packet in enumerate(container.demux(*streams)):
        for frame in packet.decode():
            if isinstance(frame, av.VideoFrame) and "video" not in found:
                found["video"] = {
                    "rotation": int(frame.rotation or 0),
                    "width": frame.width,
                    "height": frame.height,
                }
            elif isinstance(frame, av.AudioFrame):
                found.setdefault("audio", {"rate": frame.sample_rate})
        if len(found) == len(streams) or n >= _PROBE_PACKETS:
            break
    return found


def transcode_mp4(
    container: av.container.InputContainer,
    dst: str,
    video: VideoSpec,
    audio: AudioSpec | None,
    *,
    max_s: float | None = None,
) -> Written:
    """Re-encode the first video (and audio) stream to an H.264/AAC mp4, yuv420p,
    moov first, at exactly `video.width`x`video.height` and `video.fps`."""
    vin = container.streams.video[0]
    vin.thread_type = "AUTO"
    ain = container.streams.audio[0] if audio and container.streams.audio else None
    out = av.open(dst, "w", format="mp4", container_options={"movflags": "+faststart"})
    try:
        vout = _add_video_stream(out, video)
        aout = resampler = None
        if ain is not None and audio is not None:
            aout = out.add_stream("aac", rate=audio.rate, layout=audio.layout)
            aout.bit_rate = audio.bitrate
            resampler = av.AudioResampler("fltp", audio.layout, audio.rate, _AUDIO_FRAME)
        graph = _video_graph(vin, video)
        frames = samples = 0
        t0: float | None = None
        tb = Fraction(1, 1) / video.fps
        for packet in container.demux(*(s for s in (vin, ain) if s is not None)):
            for frame in packet.decode():
                if packet.stream is vin and isinstance(frame, av.VideoFrame):
                    t0 = _check_time(frame, t0, max_s)
                    graph.push(frame)
                    for f in _drain(graph):
                        f.pts, f.time_base = frames, tb
                        frames += 1
                        out.mux(vout.encode(f))
                elif resampler is not None and isinstance(frame, av.AudioFrame):
                    for af in resampler.resample(frame):
                        samples = _mux_audio(out, aout, af, samples, max_s)
        graph.push(None)
        for f in _drain(graph):
            f.pts, f.time_base = frames, tb
            frames += 1
            out.mux(vout.encode(f))
        if frames == 0:
            raise NoFrames("no video frame decoded")
        out.mux(vout.encode(None))
        if resampler is not None and aout is not None:  # set together
            for af in resampler.resample(None):
                samples = _mux_audio(out, aout, af, samples, None)
            out.mux(aout.encode(None))
    finally:
        out.close()
    return Written(
        frames=frames,
        duration_s=float(frames / video.fps),
        width=video.width,
        height=video.height,
        fps=float(video.fps),
        has_audio=samples > 0,
    )


def _add_video_stream(
    out: av.container.OutputContainer, video: VideoSpec
) -> av.video.stream.VideoStream:
    """The H.264 output stream: yuv420p at the spec's size and rate, by CRF and/or
    a capped bitrate."""
    vout = out.add_stream("libx264", rate=video.fps)
    vout.width, vout.height, vout.pix_fmt = video.width, video.height, "yuv420p"
    vout.codec_context.thread_count = video.threads
    options = {"preset": video.preset}
    if video.crf is not None:
        options["crf"] = str(video.crf)
    if video.bitrate:
        vout.bit_rate = video.bitrate
        options["maxrate"] = str(video.bitrate)
        options["bufsize"] = str(max(1, int(video.bitrate * video.buffer_s)))
    vout.codec_context.options = options
    return vout


def transcode_wav(container: av.container.InputContainer, dst: str, *, max_s: float) -> float:
    """Decode the first audio stream to 48 kHz stereo 16-bit WAV; returns seconds."""
    ain = container.streams.audio[0]
    out = av.open(dst, "w", format="wav")
    samples = 0
    try:
        aout = out.add_stream("pcm_s16le", rate=48_000, layout="stereo")
        resampler = av.AudioResampler("s16", "stereo", 48_000)
        for packet in container.demux(ain):
            for frame in packet.decode():
                for f in resampler.resample(frame):
                    samples = _mux_audio(out, aout, f, samples, max_s)
        for f in resampler.resample(None):
            samples = _mux_audio(out, aout, f, samples, max_s)
        if samples == 0:
            raise NoFrames("no audio decoded")
        out.mux(aout.encode(None))
    finally:
        out.close()
    return samples / 48_000


def _video_graph(vin: av.video.stream.VideoStream, video: VideoSpec) -> av.filter.Graph:
    """buffer → undo rotation → constant fps → scale → square pixels → yuv420p."""
    graph = av.filter.Graph()
    nodes = [graph.add_buffer(template=vin)]
    turn = round(video.rotation / 90) * 90 % 360
    steps: list[tuple[str, str]] = {
        90: [("transpose", "cclock")],
        180: [("hflip", ""), ("vflip", "")],
        270: [("transpose", "clock")],
    }.get(turn, [])
    steps += [
        ("fps", f"fps={video.fps.numerator}/{video.fps.denominator}"),
        ("scale", f"{video.width}:{video.height}"),
        ("setsar", "1"),
        ("format", "yuv420p"),
    ]
    for name, args in steps:
        nodes.append(graph.add(name, args or None))
    nodes.append(graph.add("buffersink"))
    graph.link_nodes(*nodes).configure()
    return graph


def _drain(graph: av.filter.Graph) -> Iterator[av.VideoFrame]:
    while True:
        try:
            yield graph.vpull()
        except (BlockingIOError, EOFError):
            return


def _mux_audio(out, aout, frame: av.AudioFrame, samples: int, max_s: float | None) -> int:
    frame.pts, frame.time_base = samples, Fraction(1, frame.sample_rate)
    samples += frame.samples
    if max_s is not None and samples / frame.sample_rate > max_s:
        raise TooLong(samples / frame.sample_rate)
    out.mux(aout.encode(frame))
    return samples


def _check_time(frame: av.VideoFrame, t0: float | None, max_s: float | None) -> float | None:
    t = frame.time
    if t is None:
        return t0
    if t0 is None:
        return t
    if max_s is not None and t - t0 > max_s:
        raise TooLong(t - t0)
    return t0


def _seconds(duration: int | None, time_base: Fraction | None) -> float | None:
    if not duration or not time_base:
        return None
    return float(duration * time_base)
