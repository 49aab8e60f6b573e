"""Generators for the media test corpus: good inputs and hostile ones.

Everything is made on the fly in tmp_path with Pillow, PyAV or plain bytes, so
no binary fixtures live in the repository. Content is deterministic (seeded).
"""

from __future__ import annotations

import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

RNG_SEED = 1234


def rng() -> np.random.Generator:
    return np.random.default_rng(RNG_SEED)


# --- images -------------------------------------------------------------------


def image(path: Path, fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB") -> Path:
    """A noisy picture in `fmt` (PNG, JPEG, WEBP, GIF, ...)."""
    w, h = size
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    pixels = rng().integers(0, 256, (h, w, channels), dtype=np.uint8)
    if mode == "RGBA":
        pixels[..., 3] = 0  # fully transparent: normalization must paint it white
    im = Image.fromarray(pixels.squeeze(-1) if channels == 1 else pixels, mode)
    im.save(path, format=fmt)
    return path


def png_chunks(path: Path, width: int, height: int, rows: int | None = None) -> Path:
    """A 1-bit grayscale PNG of `width`x`height` zeros written chunk by chunk, so
    a huge canvas costs a few hundred KB: a decompression bomb. With `rows`
    below `height`, the pixel data stops early (a truncated image)."""
    row = b"\0" * (1 + (width + 7) // 8)  # filter byte + packed bits
    comp = zlib.compressobj(9)
    parts = [comp.compress(row) for _ in range(height if rows is None else rows)]
    data = b"".join(parts) + (comp.flush() if rows is None else comp.flush(zlib.Z_SYNC_FLUSH))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    with path.open("wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(_chunk(b"IHDR", ihdr))
        f.write(_chunk(b"IDAT", data))
        f.write(_chunk(b"IEND", b""))
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def truncate(path: Path, fraction: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


# --- audio --------------------------------------------------------------------

# container format, codec, sample rate, channels
AUDIO_FORMATS = {
    "wav": ("wav", "pcm_s16le", 44_100, "mono"),
    "mp3": ("mp3", "mp3", 44_100, "stereo"),
    "flac": ("flac", "flac", 22_050, "mono"),
    "ogg": ("ogg", "libopus", 48_000, "stereo"),
    "m4a": ("mp4", "aac", 44_100, "stereo"),
    "webm": ("webm", "libopus", 48_000, "stereo"),
}


def audio(path: Path, kind: str, seconds: float, freq: float = 440.0) -> Path:
    """A sine tone in one of AUDIO_FORMATS."""
    fmt, codec, rate, layout = AUDIO_FORMATS[kind]
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        _write_tone(out, stream, seconds, freq)
    return path


def _write_tone(out, stream, seconds: float, freq: float) -> None:
    rate = stream.codec_context.sample_rate
    channels = stream.codec_context.layout.nb_channels
    total = int(seconds * rate)
    resampler = av.AudioResampler(
        stream.codec_context.format, stream.codec_context.layout, rate, stream.frame_size or 1024
    )
    for start in range(0, total, 4096):
        n = min(4096, total - start)
        t = (np.arange(start, start + n) / rate).astype(np.float32)
        wave = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(
            np.repeat(wave[None, :], channels, axis=0), format="fltp", layout=stream.layout
        )
        frame.sample_rate = rate
        for f in resampler.resample(frame):
            out.mux(stream.encode(f))
    for f in resampler.resample(None):
        out.mux(stream.encode(f))
    out.mux(stream.encode(None))


# --- video --------------------------------------------------------------------

# container format, video codec, audio codec
VIDEO_FORMATS = {
    "mp4": ("mp4", "libx264", "aac"),
    "mov": ("mov", "libx264", "aac"),
    "webm": ("webm", "libvpx", "libopus"),
    "mkv": ("matroska", "rawvideo", "pcm_s16le"),
}


def video(
    path: Path,
    kind: str,
    seconds: float,
    size: tuple[int, int] = (96, 64),
    fps: int = 12,
    *,
    with_audio: bool = True,
    rotation: int = 0,
    pattern: str = "noise",
    options: dict[str, str] | None = None,
) -> Path:
    """A clip in one of VIDEO_FORMATS. `pattern` "noise" is hard to compress;
    "halves" is a white left half and a black right half (to check rotation)."""
    fmt, vcodec, acodec = VIDEO_FORMATS[kind]
    w, h = size
    gen = rng()
    with av.open(str(path), "w", format=fmt, options=options or {}) as out:
        vs = out.add_stream(vcodec, rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        if rotation:
            vs.set_display_rotation(rotation)
        audio_stream = None
        if with_audio:
            rate = 48_000
            audio_stream = out.add_stream(acodec, rate=rate, layout="stereo")
        n_frames = round(seconds * fps)
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(_picture(gen, w, h, pattern), format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        if audio_stream is not None:
            _write_noise_audio(out, audio_stream, seconds, gen)
    return path


def _picture(gen: np.random.Generator, w: int, h: int, pattern: str) -> np.ndarray:
    """One yuv420p frame as the (h*3/2, w) plane stack PyAV expects."""
    if pattern == "noise":
        return gen.integers(0, 256, (h * 3 // 2, w), dtype=np.uint8)
    planes = np.full((h * 3 // 2, w), 128, dtype=np.uint8)
    planes[:h, : w // 2] = 235
    planes[:h, w // 2 :] = 16
    return planes


def _write_noise_audio(out, stream, seconds: float, gen: np.random.Generator) -> None:
    rate = stream.codec_context.sample_rate
    total = int(seconds * rate)
    resampler = av.AudioResampler(
        stream.codec_context.format, "stereo", rate, stream.frame_size or 1024
    )
    samples = (gen.random((2, total), dtype=np.float32) - 0.5).astype(np.float32)
    frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
    frame.sample_rate = rate
    for f in [*resampler.resample(frame), *resampler.resample(None)]:
        out.mux(stream.encode(f))
    out.mux(stream.encode(None))


def raw_noise_clip(path: Path, seconds: float, size=(1280, 720), fps=24, audio=True) -> Path:
    """Fresh random noise every frame, stored raw (fast to write, huge): the
    hardest thing to compress, so no byte limit is met by accident."""
    return video(path, "mkv", seconds, size, fps, with_audio=audio)


# --- container helpers ------------------------------------------------------------


def top_level_boxes(path: Path) -> list[str]:
    """The top-level ISO BMFF box types in order (to check faststart)."""
    boxes = []
    data = path.read_bytes()
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = len(data) - pos
        boxes.append(kind.decode("latin-1"))
        pos += size
    return boxes
