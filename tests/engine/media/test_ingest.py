"""Good inputs go through the real ingestion path and come out normalized."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from engine.media import MediaLimits, ingest
from tests.engine.media import corpus


def _check_stored(stored, store: Path, ext: str) -> None:
    assert stored.path == store / stored.sha256[:2] / f"{stored.sha256}{ext}"
    assert hashlib.sha256(stored.path.read_bytes()).hexdigest() == stored.sha256


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_images_become_rgb_png(tmp_path: Path, store: Path, limits: MediaLimits, fmt: str) -> None:
    # Named .mp4 on purpose: the content decides.
    src = corpus.image(tmp_path / "upload.mp4", fmt, size=(80, 60))
    stored = ingest(src, "image", store, limits, input_name="image")
    assert (stored.kind, stored.width, stored.height) == ("image", 80, 60)
    assert stored.duration_s is None and stored.fps is None and not stored.has_audio
    _check_stored(stored, store, ".png")
    with Image.open(stored.path) as im:
        assert (im.format, im.mode, im.size) == ("PNG", "RGB", (80, 60))
        assert not im.info.get("exif")


def test_transparent_pixels_become_white(tmp_path: Path, store: Path, limits: MediaLimits) -> None:
    src = corpus.image(tmp_path / "a.png", "PNG", mode="RGBA")
    stored = ingest(src, "image", store, limits, input_name="image")
    with Image.open(stored.path) as im:
        assert np.asarray(im).min() == 255


def test_sixteen_bit_grayscale_is_scaled_to_eight(
    tmp_path: Path, store: Path, limits: MediaLimits
) -> None:
    src = tmp_path / "deep.png"
    Image.fromarray(np.full((8, 8), 65535, dtype=np.uint16)).save(src)
    stored = ingest(src, "image", store, limits, input_name="image")
    with Image.open(stored.path) as im:
        assert im.mode == "RGB"
        assert np.asarray(im).min() == 255


def test_exif_orientation_is_applied(tmp_path: Path, store: Path, limits: MediaLimits) -> None:
    src = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    Image.new("RGB", (40, 20), "red").save(src, exif=exif)
    stored = ingest(src, "image", store, limits, input_name="image")
    assert (stored.width, stored.height) == (20, 40)


@pytest.mark.parametrize("kind", sorted(corpus.AUDIO_FORMATS))
def test_audio_becomes_48k_stereo_wav(
    tmp_path: Path, store: Path, limits: MediaLimits, kind: str
) -> None:
    src = corpus.audio(tmp_path / "voice.bin", kind, 1.0)
    stored = ingest(src, "audio", store, limits, input_name="audio")
    assert stored.kind == "audio" and stored.has_audio
    assert stored.width is None and stored.height is None
    assert stored.duration_s == pytest.approx(1.0, abs=0.1)
    _check_stored(stored, store, ".wav")
    with av.open(str(stored.path)) as c:
        a = c.streams.audio[0]
        assert a.codec_context.name == "pcm_s16le"
        assert (a.codec_context.sample_rate, a.codec_context.channels) == (48_000, 2)
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(a)])
    assert pcm.size == pytest.approx(2 * 48_000 * stored.duration_s, rel=0.01)
    assert np.abs(pcm).max() > 8000  # the tone survived, not silence


def test_sound_of_a_video_is_taken_for_an_audio_slot(
    tmp_path: Path, store: Path, limits: MediaLimits
) -> None:
    src = corpus.video(tmp_path / "clip.mp4", "mp4", 1.0)
    stored = ingest(src, "audio", store, limits, input_name="audio")
    assert stored.kind == "audio"
    assert stored.path.suffix == ".wav"
    assert stored.duration_s == pytest.approx(1.0, abs=0.1)


def _video_summary(path: Path) -> dict:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = list(c.decode(v))
        audio = c.streams.audio[0].codec_context if c.streams.audio else None
        return {
            "codec": v.codec_context.name,
            "pix_fmt": v.codec_context.pix_fmt,
            "size": (v.codec_context.width, v.codec_context.height),
            "fps": float(v.average_rate),
            "frames": frames,
            "audio": (audio.name, audio.sample_rate, audio.channels) if audio else None,
        }


@pytest.mark.parametrize("with_audio", [True, False])
@pytest.mark.parametrize("kind", ["mp4", "mov", "webm"])
def test_video_becomes_h264_aac_mp4(
    tmp_path: Path, store: Path, limits: MediaLimits, kind: str, with_audio: bool
) -> None:
    src = corpus.video(tmp_path / "clip.png", kind, 1.0, with_audio=with_audio)
    stored = ingest(src, "video", store, limits, input_name="video")
    assert (stored.kind, stored.width, stored.height, stored.fps) == ("video", 96, 64, 12.0)
    assert stored.has_audio is with_audio
    assert stored.duration_s == pytest.approx(1.0, abs=0.1)
    _check_stored(stored, store, ".mp4")
    s = _video_summary(stored.path)
    assert (s["codec"], s["pix_fmt"], s["size"]) == ("h264", "yuv420p", (96, 64))
    assert len(s["frames"]) == 12
    assert s["audio"] == (("aac", 48_000, 2) if with_audio else None)


def test_big_fast_video_is_scaled_and_slowed_to_the_bounds(
    tmp_path: Path, store: Path, limits: MediaLimits
) -> None:
    src = corpus.video(tmp_path / "big.mp4", "mp4", 1.0, size=(320, 180), fps=30)
    stored = ingest(src, "video", store, limits, input_name="video")
    assert (stored.width, stored.height, stored.fps) == (128, 72, 15.0)
    s = _video_summary(stored.path)
    assert s["size"] == (128, 72)
    assert s["fps"] == 15.0
    assert len(s["frames"]) == 15


def test_rotated_phone_video_is_stored_upright(
    tmp_path: Path, store: Path, limits: MediaLimits
) -> None:
    # Stored landscape (white left half) with a display matrix of 90° counter-clockwise.
    src = corpus.video(
        tmp_path / "phone.mov", "mov", 0.5, size=(64, 32), rotation=90, pattern="halves"
    )
    stored = ingest(src, "video", store, limits, input_name="video")
    assert (stored.width, stored.height) == (32, 64)
    s = _video_summary(stored.path)
    luma = s["frames"][0].to_ndarray(format="gray")
    assert luma.shape == (64, 32)
    # Turning counter-clockwise puts the left half at the bottom.
    assert luma[40:, :].mean() > 200
    assert luma[:24, :].mean() < 50
    assert s["frames"][0].rotation == 0
