from __future__ import annotations

from pathlib import Path

import pytest

from engine.media._sniff import HEAD_BYTES, sniff
from tests.engine.media import corpus


@pytest.mark.parametrize(
    ("fmt", "name"), [("PNG", "png"), ("JPEG", "jpeg"), ("WEBP", "webp"), ("GIF", "gif")]
)
def test_images_are_told_by_their_bytes(tmp_path: Path, fmt: str, name: str) -> None:
    # The file name says .mp4: only the bytes count.
    path = corpus.image(tmp_path / "clip.mp4", fmt)
    assert sniff(path.read_bytes()[:HEAD_BYTES]).name == name


@pytest.mark.parametrize(
    ("kind", "name"),
    [("wav", "wav"), ("mp3", "mp3"), ("flac", "flac"), ("ogg", "ogg"), ("m4a", "mp4")],
)
def test_audio_containers(tmp_path: Path, kind: str, name: str) -> None:
    path = corpus.audio(tmp_path / "sound.png", kind, 0.2)
    assert sniff(path.read_bytes()[:HEAD_BYTES]).name == name


@pytest.mark.parametrize(("kind", "name"), [("mp4", "mp4"), ("mov", "mp4"), ("webm", "matroska")])
def test_video_containers(tmp_path: Path, kind: str, name: str) -> None:
    path = corpus.video(tmp_path / "v.jpg", kind, 0.2, with_audio=False)
    assert sniff(path.read_bytes()[:HEAD_BYTES]).name == name


def test_bare_mpeg_frames_split_into_mp3_and_adts() -> None:
    assert sniff(b"\xff\xfb\x90\x64" + b"\0" * 60).name == "mp3"
    assert sniff(b"\xff\xf1\x50\x80" + b"\0" * 60).name == "aac"
    # JPEG's marker also starts with 0xFF but is not an audio sync word.
    assert sniff(b"\xff\xd8\xff\xe0" + b"\0" * 60).name == "jpeg"
    assert sniff(b"\xff\xfb\xf0\x64" + b"\0" * 60) is None  # bitrate index 15 is invalid


def test_heif_brand_is_an_image_not_a_movie() -> None:
    assert sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic").name == "heif"
    assert sniff(b"\0\0\0\x18ftypisom\0\0\0\0isomiso2").name == "mp4"


def test_unknown_and_empty_bytes() -> None:
    assert sniff(b"") is None
    assert sniff(b"hello, world\n") is None
    assert sniff(b"RIFF\0\0\0\0XXXX") is None
