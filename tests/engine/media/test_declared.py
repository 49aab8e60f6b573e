from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import InputRejected
from engine.media import CappedDownload, MediaLimits, check_declared


def test_declared_size_over_the_limit_is_refused_before_download(limits: MediaLimits) -> None:
    with pytest.raises(InputRejected) as err:
        check_declared("image", 50 * 1024 * 1024, "image/png", "image", limits)
    assert err.value.input_name == "image"
    assert "50.0 MiB" in err.value.reason
    assert "up to 4 MiB" in err.value.accepted
    assert "PNG, JPEG or WEBP" in err.value.accepted


def test_declared_empty_file_is_refused(limits: MediaLimits) -> None:
    with pytest.raises(InputRejected, match="empty"):
        check_declared("audio", 0, "audio/wav", "audio", limits)


def test_non_media_content_type_is_refused(limits: MediaLimits) -> None:
    with pytest.raises(InputRejected) as err:
        check_declared("video", 1000, "text/plain; charset=utf-8", "video", limits)
    assert err.value.reason == "this is a text/plain file"
    assert "MP4, MOV, WEBM or MKV" in err.value.accepted


@pytest.mark.parametrize("content_type", ["video/mp4", "application/octet-stream", None, ""])
def test_media_type_mismatch_is_left_to_the_bytes(
    limits: MediaLimits, content_type: str | None
) -> None:
    # A PNG named clip.mp4 is labelled video/mp4 by Discord and is still a fine image.
    assert check_declared("image", 1000, content_type, "image", limits) is None
    assert check_declared("image", None, content_type, "image", limits) is None


def test_unknown_slot_kind_is_a_programming_error(limits: MediaLimits) -> None:
    with pytest.raises(ValueError, match="slot_kind"):
        check_declared("x", 10, None, "document", limits)


def test_capped_download_keeps_a_download_within_the_limit(
    tmp_path: Path, limits: MediaLimits
) -> None:
    path = tmp_path / "dl" / "part"
    with CappedDownload(path, "image", limits, input_name="image") as sink:
        for _ in range(4):
            sink.write(b"x" * 1024 * 1024)
    assert sink.size == limits.max_bytes
    assert path.stat().st_size == limits.max_bytes


def test_capped_download_stops_a_lying_download_and_removes_it(
    tmp_path: Path, limits: MediaLimits
) -> None:
    path = tmp_path / "part"
    sink = CappedDownload(path, "video", limits, input_name="clip")
    with pytest.raises(InputRejected) as err, sink:
        for _ in range(100):
            sink.write(b"x" * 1024 * 1024)
    assert err.value.input_name == "clip"
    assert "passed 4 MiB" in err.value.reason
    assert sink.size <= limits.max_bytes + 1024 * 1024
    assert not path.exists()


def test_capped_download_refuses_an_empty_body(tmp_path: Path, limits: MediaLimits) -> None:
    path = tmp_path / "part"
    with (
        pytest.raises(InputRejected, match="empty"),
        CappedDownload(path, "audio", limits, input_name="a"),
    ):
        pass
    assert not path.exists()
