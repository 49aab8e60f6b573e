"""A corpus of hostile and broken inputs, each refused with a clear InputRejected."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import InputRejected
from engine.media import MediaLimits, check_declared, ingest
from engine.media.sandbox import SandboxError, run_child
from tests.engine.media import corpus

ACCEPTED = {
    "image": "PNG, JPEG or WEBP",
    "audio": "WAV, MP3, FLAC, OGG",
    "video": "MP4, MOV, WEBM or MKV",
}


def _random(path: Path, head: bytes = b"", n: int = 4096) -> Path:
    path.write_bytes(head + corpus.rng().bytes(n))
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _truncated_mp4(path: Path) -> Path:
    # Without faststart the index (moov) is at the end: cutting the tail loses it.
    corpus.video(path, "mp4", 1.0)
    return corpus.truncate(path, 0.6)


def _broken_crc(path: Path) -> Path:
    corpus.image(path, "PNG")
    data = bytearray(path.read_bytes())
    data[29] ^= 0xFF  # inside IHDR's CRC
    path.write_bytes(bytes(data))
    return path


Make = Callable[[Path], Path]
# (case id, slot kind, maker, expected words in the reason)
CORPUS: list[tuple[str, str, Make, str]] = [
    (
        "truncated-png",
        "image",
        lambda p: corpus.truncate(corpus.image(p, "PNG", (256, 256)), 0.5),
        "PNG image but is cut short",
    ),
    (
        "truncated-jpeg",
        "image",
        lambda p: corpus.truncate(corpus.image(p, "JPEG", (256, 256)), 0.5),
        "JPEG image but is cut short",
    ),
    ("png-bad-crc", "image", _broken_crc, "PNG image but could not be read"),
    (
        "jpeg-renamed-mp4",
        "video",
        lambda p: corpus.image(p.with_suffix(".mp4"), "JPEG"),
        "the file is a JPEG image",
    ),
    ("gif", "image", lambda p: corpus.image(p, "GIF"), "the file is a GIF image"),
    (
        "heic",
        "image",
        lambda p: _random(p, b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"),
        "HEIC/AVIF image",
    ),
    ("wav-in-image-slot", "image", lambda p: corpus.audio(p, "wav", 0.2), "a WAV audio file"),
    ("text", "audio", lambda p: _write(p, b"hello\n" * 100), "not recognized"),
    ("empty-image", "image", lambda p: _write(p, b""), "empty"),
    ("empty-audio", "audio", lambda p: _write(p, b""), "empty"),
    ("empty-video", "video", lambda p: _write(p, b""), "empty"),
    (
        "huge-canvas-30000",
        "image",
        lambda p: corpus.png_chunks(p, 30000, 30000),
        "far too many pixels",
    ),
    (
        "decompression-bomb",
        "image",
        lambda p: corpus.png_chunks(p, 12000, 12000),
        "144.0 megapixels",
    ),
    ("too-wide", "image", lambda p: corpus.png_chunks(p, 20000, 8), "20000x8 px"),
    ("audio-only-mp4", "video", lambda p: corpus.audio(p, "m4a", 0.5), "without a video track"),
    ("audio-only-webm", "video", lambda p: corpus.audio(p, "webm", 0.5), "without a video track"),
    (
        "silent-video-in-audio-slot",
        "audio",
        lambda p: corpus.video(p, "mp4", 0.5, with_audio=False),
        "without an audio track",
    ),
    ("audio-too-long", "audio", lambda p: corpus.audio(p, "wav", 3.0), "it is 3.0 s long"),
    ("mp3-too-long", "audio", lambda p: corpus.audio(p, "mp3", 4.0), "s long"),
    (
        "video-too-long",
        "video",
        lambda p: corpus.video(p, "mp4", 3.0, with_audio=False),
        "it is 3.0 s long",
    ),
    (
        "mp4-garbage-after-ftyp",
        "video",
        lambda p: _random(p, b"\0\0\0\x18ftypisom\0\0\0\0isomiso2"),
        "could not be read",
    ),
    ("mkv-garbage", "video", lambda p: _random(p, b"\x1a\x45\xdf\xa3"), "could not be read"),
    ("flac-garbage", "audio", lambda p: _random(p, b"fLaC"), "could not be read"),
    ("truncated-mp4", "video", _truncated_mp4, "could not be read"),
    ("random-bytes", "video", lambda p: _random(p), "not recognized"),
]


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(
    ("slot", "make", "words"), [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS]
)
def test_bad_input_is_refused(
    tmp_path: Path, store: Path, limits: MediaLimits, slot: str, make: Make, words: str
) -> None:
    src = make(tmp_path / "upload.bin")
    with pytest.raises(InputRejected) as err:
        ingest(src, slot, store, limits, input_name=f"my_{slot}")
    assert err.value.input_name == f"my_{slot}"
    assert words in err.value.reason
    assert ACCEPTED[slot] in err.value.accepted
    assert err.value.code == "input_rejected"
    # Nothing half-written is left in the store.
    assert [p for p in store.rglob("*") if p.is_file()] == []


def test_file_over_the_byte_limit_is_refused_even_without_a_declared_size(
    tmp_path: Path, store: Path, limits: MediaLimits
) -> None:
    src = _random(tmp_path / "big.png", b"\x89PNG\r\n\x1a\n", limits.max_bytes)
    with pytest.raises(InputRejected, match="MiB"):
        ingest(src, "image", store, limits, input_name="image")


def test_oversized_declared_size_is_refused(limits: MediaLimits) -> None:
    with pytest.raises(InputRejected) as err:
        check_declared("clip", limits.max_bytes + 1, "video/mp4", "video", limits)
    assert ACCEPTED["video"] in err.value.accepted


def test_duration_is_enforced_while_decoding_not_only_from_headers(tmp_path: Path) -> None:
    # Headers can lie, so the child counts what it decodes and stops at the bound.
    src = corpus.audio(tmp_path / "long.wav", "wav", 3.0)
    job = {"op": "audio", "path": str(src), "demuxer": "wav", "dst": str(tmp_path / "o.wav")}
    with pytest.raises(SandboxError) as err:
        run_child(job | {"max_s": 1.0}, timeout_s=30, memory_mb=1536, max_output_bytes=2**30)
    assert err.value.kind == "too_long"
    assert err.value.seconds == pytest.approx(1.0, abs=0.1)
