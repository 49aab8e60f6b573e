from __future__ import annotations

from pathlib import Path

import pytest

from engine.media import MediaLimits


@pytest.fixture
def limits() -> MediaLimits:
    """Small bounds so refusals are cheap to provoke."""
    return MediaLimits(
        max_bytes=4 * 1024 * 1024,
        max_audio_s=2.0,
        max_video_s=2.0,
        video_max_side=128,
        video_max_fps=15,
    )


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"
