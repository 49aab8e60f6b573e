"""Joining a clip and its continuation (Extend), decoded back with PyAV."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from PIL import Image

from engine.media.join import AUDIO_RATE, join_videos, last_frame_png
from tests.engine.media.corpus import video


def decoded(path: Path) -> tuple[int, float | None, tuple[int, int]]:
    """Frames, seconds of sound (None: no audio track) and the picture size."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        size = (v.codec_context.width, v.codec_context.height)
        frames = sum(1 for _ in c.decode(video=0))
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return frames, None, size
        samples = sum(f.samples for f in c.decode(audio=0))
        return frames, samples / c.streams.audio[0].codec_context.sample_rate, size


def test_the_seam_frame_is_dropped_and_the_sound_spans_both(tmp_path: Path) -> None:
    parent = video(tmp_path / "a.mp4", "mp4", 13 / 12, fps=12, with_audio=True)
    more = video(tmp_path / "b.mp4", "mp4", 9 / 12, size=(64, 64), fps=12, with_audio=False)
    joined = join_videos(parent, more, tmp_path / "j.mp4")

    frames, sound_s, size = decoded(joined.path)
    assert (joined.first_frames, joined.added_frames) == (13, 8)
    assert frames == 13 + 9 - 1
    assert size == (96, 64)  # the continuation is scaled to the parent's size
    assert joined.has_audio and sound_s is not None
    # One track over the whole video: the parent's sound, then silence (AAC
    # pads to whole 1024-sample frames and adds its priming).
    assert abs(sound_s - frames / 12) < 3 * 1024 / AUDIO_RATE, sound_s


def test_no_sound_in_either_part_gives_no_audio_track(tmp_path: Path) -> None:
    parent = video(tmp_path / "a.mp4", "mp4", 1.0, fps=12, with_audio=False)
    more = video(tmp_path / "b.mp4", "mp4", 0.5, fps=12, with_audio=False)
    joined = join_videos(parent, more, tmp_path / "j.mp4")
    frames, sound_s, _ = decoded(joined.path)
    assert frames == 12 + 6 - 1 and sound_s is None and not joined.has_audio


def test_last_frame_is_the_clips_final_picture(tmp_path: Path) -> None:
    parent = video(tmp_path / "a.mp4", "mp4", 1.0, fps=12, with_audio=False)
    with av.open(str(parent)) as c:
        *_, last = c.decode(video=0)
        want = last.to_ndarray(format="rgb24").astype(int)
    assert last_frame_png(parent, tmp_path / "last.png") == (96, 64)
    got = np.asarray(Image.open(tmp_path / "last.png").convert("RGB")).astype(int)
    assert got.shape == want.shape and np.abs(got - want).mean() < 2
