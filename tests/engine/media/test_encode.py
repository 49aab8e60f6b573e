"""fit_to_limit on hard-to-compress clips: always under the limit, always playable."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from engine.errors import OutputTooLarge
from engine.media import EncodeReport, fit_to_limit
from tests.engine.media import corpus

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[float, Path]:
    """Fresh 720p noise every frame, with noise audio, in two lengths. Stored raw,
    each is far over 25 MiB, so no limit is met by accident."""
    folder = tmp_path_factory.mktemp("clips")
    made = {s: corpus.raw_noise_clip(folder / f"noise-{s}s.mkv", s) for s in (1.0, 3.0)}
    assert all(p.stat().st_size > 25 * MiB for p in made.values())
    return made


def _check_playable(report: EncodeReport, limit: int, *, audio: bool) -> list[av.VideoFrame]:
    path = report.path
    assert report.size_bytes == path.stat().st_size <= limit
    boxes = corpus.top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat"), boxes  # faststart
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        assert v.codec_context.name == "h264"
        assert v.codec_context.pix_fmt == "yuv420p"
        assert (v.codec_context.width, v.codec_context.height) == (report.width, report.height)
        if audio:
            assert c.streams.audio[0].codec_context.name == "aac"
        else:
            assert not c.streams.audio
        return list(c.decode(v))


@pytest.mark.parametrize("limit_mib", [1, 10, 25])
@pytest.mark.parametrize("seconds", [1.0, 3.0])
def test_fits_each_limit_and_plays(
    tmp_path: Path, clips: dict[float, Path], seconds: float, limit_mib: int
) -> None:
    limit = limit_mib * MiB
    dst = tmp_path / "out.mp4"
    report = fit_to_limit(clips[seconds], dst, limit)
    assert report.path == dst
    frames = _check_playable(report, limit, audio=True)
    assert len(frames) == pytest.approx(seconds * report.fps, abs=1)
    assert report.rungs_tried >= 1
    assert report.audio_bitrate > 0 and report.video_bitrate > 0
    # The budget is used, not wasted: noise takes every bit it is given.
    assert report.size_bytes > 0.5 * limit or report.height == 720


def test_a_tight_limit_steps_down_the_resolution(tmp_path: Path, clips) -> None:
    limit = 256 * 1024
    report = fit_to_limit(clips[3.0], tmp_path / "small.mp4", limit)
    frames = _check_playable(report, limit, audio=True)
    assert report.height < 720
    assert frames[0].height == report.height
    assert report.audio_bitrate <= 64_000


def test_shrink_after_a_413_aims_lower(tmp_path: Path, clips) -> None:
    limit = 2 * MiB
    first = fit_to_limit(clips[1.0], tmp_path / "a.mp4", limit)
    retry = fit_to_limit(clips[1.0], tmp_path / "b.mp4", limit, shrink=1)
    assert retry.size_bytes <= 0.75 * limit
    assert retry.size_bytes < first.size_bytes
    _check_playable(retry, limit, audio=True)


def test_a_small_playable_mp4_is_only_remuxed(tmp_path: Path) -> None:
    # Written without faststart: the index sits at the end until fit_to_limit moves it.
    src = corpus.video(tmp_path / "src.mp4", "mp4", 1.0, size=(128, 96))
    assert corpus.top_level_boxes(src).index("moov") > corpus.top_level_boxes(src).index("mdat")
    report = fit_to_limit(src, tmp_path / "out.mp4", 10 * MiB)
    assert report.rungs_tried == 0
    assert (report.width, report.height, report.fps) == (128, 96, 12.0)
    frames = _check_playable(report, 10 * MiB, audio=True)
    assert len(frames) == 12


def test_silent_source_gives_silent_output(tmp_path: Path) -> None:
    src = corpus.raw_noise_clip(tmp_path / "silent.mkv", 1.0, size=(320, 240), audio=False)
    report = fit_to_limit(src, tmp_path / "out.mp4", MiB)
    assert report.audio_bitrate == 0
    _check_playable(report, MiB, audio=False)


def test_an_impossible_limit_is_reported_not_sent(tmp_path: Path) -> None:
    src = corpus.raw_noise_clip(tmp_path / "n.mkv", 1.0, size=(320, 240))
    dst = tmp_path / "out.mp4"
    with pytest.raises(OutputTooLarge) as err:
        fit_to_limit(src, dst, 4 * 1024)
    assert err.value.limit_bytes == 4 * 1024
    assert err.value.size_bytes > err.value.limit_bytes
    assert err.value.system_fault
    assert not dst.exists()
    assert list(tmp_path.glob(".out.mp4.*")) == []
