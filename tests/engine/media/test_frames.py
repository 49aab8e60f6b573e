"""write_mp4: one encode from the frames, the kind of file delivery only remuxes."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from engine.media import fit_to_limit
from engine.media.frames import can_write, write_mp4, yuv420
from tests.engine.media import corpus

MiB = 1024 * 1024


def _gradient(frames: int, height: int, width: int) -> torch.Tensor:
    """A smooth picture that moves: easy to compare after a lossy encode."""
    x = torch.linspace(0, 1, width).view(1, 1, width)
    y = torch.linspace(0, 1, height).view(1, height, 1)
    t = torch.arange(frames).view(frames, 1, 1) / max(frames, 1)
    r = (0.8 * x + 0.2 * t).expand(frames, height, width)
    g = y.expand(frames, height, width)
    b = (0.5 * x + 0.5 * y).expand(frames, height, width)
    return torch.stack([r, g, b], dim=-1).contiguous()


def _noise(frames: int, height: int, width: int) -> torch.Tensor:
    return torch.rand(frames, height, width, 3, generator=torch.Generator().manual_seed(3))


def _tone(seconds: float, rate: int = 48_000) -> torch.Tensor:
    t = torch.arange(int(seconds * rate)) / rate
    return (0.3 * torch.sin(2 * math.pi * 440 * t)).view(1, 1, -1).repeat(1, 2, 1)


def _decoded(path: Path) -> tuple[list[np.ndarray], av.video.stream.VideoStream, bool]:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(v)]
        return frames, v, bool(c.streams.audio)


def test_yuv_planes_match_ffmpegs_own_bt709_conversion():
    rgb = _gradient(2, 32, 48)
    ours = yuv420(rgb).numpy()
    assert ours.shape == (2, 48, 48) and ours.dtype == np.uint8
    for i in range(2):
        src = (rgb[i] * 255).round().to(torch.uint8).numpy()
        frame = av.VideoFrame.from_ndarray(src, format="rgb24")
        ref = frame.reformat(
            format="yuv420p", dst_colorspace=av.video.reformatter.Colorspace.ITU709
        )
        want = ref.to_ndarray()
        assert np.abs(ours[i][:32].astype(int) - want[:32].astype(int)).max() <= 2  # luma
        assert np.abs(ours[i][32:].astype(int) - want[32:].astype(int)).mean() < 1.5  # chroma


def test_a_clip_that_fits_is_one_encode_and_the_fit_only_remuxes(tmp_path):
    images = _gradient(33, 128, 192)
    report = write_mp4(
        images, 24.0, tmp_path / "a.mp4", audio=(_tone(2.0), 48_000), budget_bytes=10 * MiB
    )
    assert report.capped and report.frames == 33 and report.fps == Fraction(24)
    frames, v, has_audio = _decoded(report.path)
    assert len(frames) == 33 and has_audio
    assert (v.codec_context.width, v.codec_context.height) == (192, 128)
    assert v.codec_context.name == "h264" and v.codec_context.pix_fmt == "yuv420p"
    assert v.average_rate == 24
    boxes = corpus.top_level_boxes(report.path)
    assert boxes.index("moov") < boxes.index("mdat")  # faststart
    # the pictures are the frames given (colours survive the conversion)
    for i in (0, 16, 32):
        want = (images[i] * 255).numpy()
        assert np.abs(frames[i].astype(float) - want).mean() < 4.0
    fitted = fit_to_limit(report.path, tmp_path / "fit.mp4", 10 * MiB)
    assert fitted.rungs_tried == 0  # remuxed, not encoded again


def test_sound_is_cut_to_the_pictures_as_savevideo_cuts_it(tmp_path):
    report = write_mp4(
        _gradient(25, 64, 64), 25.0, tmp_path / "s.mp4", audio=(_tone(3.0)[0], 48_000)
    )
    assert report.has_audio and not report.capped
    with av.open(str(report.path)) as c:
        a = c.streams.audio[0]
        assert a.codec_context.name == "aac" and a.codec_context.sample_rate == 48_000
        samples = sum(f.samples for f in c.decode(a))
    assert 48_000 <= samples <= 48_000 + 2 * 1024  # 1 s of 3, plus AAC's padding


def test_no_sound_and_mono_sound(tmp_path):
    silent = write_mp4(_gradient(9, 32, 32), 8.0, tmp_path / "n.mp4")
    assert not silent.has_audio and not _decoded(silent.path)[2]
    mono = write_mp4(_gradient(9, 32, 32), 8.0, tmp_path / "m.mp4", audio=(_tone(2)[:, :1], 16000))
    with av.open(str(mono.path)) as c:
        assert c.streams.audio[0].codec_context.channels == 1


def test_noise_is_held_under_the_budget_and_crf_alone_is_not(tmp_path):
    """Fresh noise every frame needs far more bits than the budget: the cap
    holds the file to it, and without the cap the same encode overshoots."""
    images = _noise(48, 256, 384)
    budget = 1 * MiB
    capped = write_mp4(images, 24.0, tmp_path / "c.mp4", budget_bytes=budget)
    assert capped.capped and capped.size_bytes <= budget
    free = write_mp4(images, 24.0, tmp_path / "f.mp4")
    assert not free.capped and free.size_bytes > 2 * budget
    assert fit_to_limit(capped.path, tmp_path / "fit.mp4", budget).rungs_tried == 0


def test_a_budget_the_native_size_cannot_meet_leaves_the_size_to_the_fit(tmp_path):
    """Where the ladder would lower the resolution, write_mp4 keeps the frames
    at full quality and the fit steps down as before."""
    images = _noise(48, 256, 384)
    report = write_mp4(images, 24.0, tmp_path / "l.mp4", budget_bytes=40 * 1024)
    assert not report.capped
    fitted = fit_to_limit(report.path, tmp_path / "fit.mp4", 40 * 1024)
    assert fitted.rungs_tried >= 1 and fitted.width < 384


@pytest.mark.parametrize("shape", [(4, 31, 32, 3), (4, 32, 33, 3), (0, 32, 32, 3), (4, 32, 32, 4)])
def test_frames_it_cannot_take_are_refused(tmp_path, shape):
    images = torch.zeros(shape)
    assert not can_write(images)
    with pytest.raises(ValueError, match="not"):
        write_mp4(images, 8.0, tmp_path / "x.mp4")
