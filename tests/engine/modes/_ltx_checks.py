"""What a delivered mp4 must be, and every way it can differ.

Kept apart from the tests so the proof that a broken binding is caught uses
the very check the mode tests use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

from engine.modes.build import BuiltWorkflow


@dataclass(frozen=True)
class Expected:
    width: int
    height: int
    fps: int
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps


def expected_output(built: BuiltWorkflow) -> Expected:
    return Expected(built.width, built.height, built.fps, built.frames)


def mismatches(path: Path, want: Expected) -> list[str]:
    """Each difference between the mp4 at `path` and `want`, as text; [] if none.
    Every mode's result carries sound (generated or the input's, kept)."""
    problems: list[str] = []
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        size = (video.codec_context.width, video.codec_context.height)
        if size != (want.width, want.height):
            problems.append(f"size {size}, asked {(want.width, want.height)}")
        if abs(float(video.average_rate) - want.fps) > 0.01:
            problems.append(f"fps {float(video.average_rate)}, asked {want.fps}")
        frames = sum(1 for _ in container.decode(video))
        if frames != want.frames:
            problems.append(f"{frames} frames, asked {want.frames}")
        seconds = float(container.duration or 0) / av.time_base
        if abs(seconds - want.duration_s) > 1.5 / want.fps + 0.05:
            problems.append(f"{seconds:.3f} s long, asked {want.duration_s:.3f} s")
        if not container.streams.audio:
            problems.append("no audio stream")
    return problems
