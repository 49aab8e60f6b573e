"""Tell what a file is from its first bytes, never from its name.

Discord derives an attachment's content type from the file name, and names lie
(a JPEG renamed `clip.mp4`). The leading bytes decide which decoder may touch the
file at all, and which FFmpeg demuxer is forced when it is probed, so FFmpeg never
guesses a format (its guessing is how playlist formats that fetch other files sneak
in).
"""

from __future__ import annotations

from dataclasses import dataclass

# How many leading bytes `sniff` needs; callers read this much.
HEAD_BYTES = 256


@dataclass(frozen=True)
class Detected:
    """What the leading bytes say. `demuxer` is the FFmpeg format to force
    (None for images, which Pillow opens); `label` (with its article) is for messages."""

    name: str
    label: str
    family: str  # "image" | "audio" | "av" (a container that may hold audio and/or video)
    demuxer: str | None = None


PNG = Detected("png", "a PNG image", "image")
JPEG = Detected("jpeg", "a JPEG image", "image")
WEBP = Detected("webp", "a WEBP image", "image")
GIF = Detected("gif", "a GIF image", "image")
BMP = Detected("bmp", "a BMP image", "image")
TIFF = Detected("tiff", "a TIFF image", "image")
HEIF = Detected("heif", "an HEIC/AVIF image", "image")
WAV = Detected("wav", "a WAV audio file", "audio", "wav")
FLAC = Detected("flac", "a FLAC audio file", "audio", "flac")
MP3 = Detected("mp3", "an MP3 audio file", "audio", "mp3")
ADTS = Detected("aac", "an AAC audio file", "audio", "aac")
OGG = Detected("ogg", "an OGG audio file", "audio", "ogg")
MP4 = Detected("mp4", "an MP4/MOV/M4A file", "av", "mov")
MATROSKA = Detected("matroska", "a WEBM/MKV file", "av", "matroska")
AVI = Detected("avi", "an AVI video", "av")
MPEGTS = Detected("mpegts", "an MPEG-TS video", "av")

# ISO BMFF brands that are still images, not movies.
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif"}
_HEIF_BRANDS |= {b"avis"}
# Top-level atoms an old QuickTime file may open with instead of `ftyp`.
_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
# Fixed signatures at offset 0; none is a prefix of another, nor of RIFF or BM.
_MAGIC: tuple[tuple[bytes | tuple[bytes, ...], Detected], ...] = (
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    ((b"GIF87a", b"GIF89a"), GIF),
    ((b"II*\0", b"MM\0*"), TIFF),
    (b"fLaC", FLAC),
    (b"OggS", OGG),
    (b"ID3", MP3),
    (b"\x1a\x45\xdf\xa3", MATROSKA),
)


def sniff(head: bytes) -> Detected | None:
    """Classify a file by its first `HEAD_BYTES` bytes; None when unknown."""
    for magic, detected in _MAGIC:
        if head.startswith(magic):
            return detected
    if head[:4] == b"RIFF" and len(head) >= 12:
        return {b"WEBP": WEBP, b"WAVE": WAV, b"AVI ": AVI}.get(head[8:12])
    if head.startswith(b"BM") and len(head) >= 14 and head[6:10] == b"\0\0\0\0":
        return BMP
    return _movie_or_stream(head)


def _movie_or_stream(head: bytes) -> Detected | None:
    """What has no magic at offset 0: ISO BMFF / QuickTime boxes, MPEG-TS packets,
    bare MPEG audio frames."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return HEIF if head[8:12] in _HEIF_BRANDS else MP4
    if len(head) >= 8 and head[4:8] in _QT_ATOMS:
        return MP4
    if len(head) >= 189 and head[0] == 0x47 and head[188] == 0x47:
        return MPEGTS
    return _mpeg_audio(head)


def _mpeg_audio(head: bytes) -> Detected | None:
    """A bare MPEG audio frame header: 11 sync bits, then version and layer.
    Layer bits 00 mean ADTS (AAC); anything else is MPEG-1/2 audio (MP3)."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    if layer == 0:
        return ADTS if head[1] & 0xF6 == 0xF0 else None
    if version == 0b01:  # reserved
        return None
    bitrate_index = head[2] >> 4
    rate_index = (head[2] >> 2) & 0b11
    if bitrate_index in (0, 15) or rate_index == 3:
        return None
    return MP3
