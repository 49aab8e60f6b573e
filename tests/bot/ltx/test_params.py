from pathlib import Path

from bot.ltx._params import split_options
from engine.media import StoredInput
from engine.modes import MediaInfo


def test_split_options_separates_media_and_drops_omitted_values():
    raw, files = split_options(
        {"prompt": "p", "width": None, "image": "ATTACHMENT", "seed": 0, "interaction": object()},
        ["image", "audio"],
    )
    assert raw == {"prompt": "p", "seed": 0}  # 0 is a value, None is "not given"
    assert files == {"image": "ATTACHMENT"}


def test_media_info_of_a_stored_input_carries_what_parsing_needs():
    stored = StoredInput("a" * 64, Path("x.mp4"), "video", 320, 240, 2.5, True, 24.0)
    info = MediaInfo.of(stored)
    assert (info.kind, info.width, info.height, info.duration_s) == ("video", 320, 240, 2.5)
    assert info.has_audio and info.fps == 24.0
