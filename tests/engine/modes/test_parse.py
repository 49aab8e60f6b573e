"""parse_params: bounds, snapping, defaults and the errors users see."""

from __future__ import annotations

import pytest

from engine.errors import ParamInvalid
from engine.modes import MODE_NAMES, Limits, MediaInfo, get_mode, parse_params
from engine.modes.params import SEED_MAX

LIMITS = Limits(max_duration_s=10.0, max_width=1280, max_height=1280, max_prompt_chars=200)
IMAGE = MediaInfo("image", width=800, height=1200)
AUDIO = MediaInfo("audio", duration_s=3.3, has_audio=True)
VIDEO = MediaInfo("video", width=1920, height=1080, duration_s=7.5, has_audio=True, fps=30.0)
MEDIA = {
    "t2v": {},
    "a2v": {"audio": AUDIO},
    "i2v": {"image": IMAGE},
    "lipsync": {"image": IMAGE, "audio": AUDIO},
    "keyframe": {"first_image": IMAGE, "last_image": IMAGE},
    "style": {"style_image": IMAGE, "video": VIDEO},
}


def refused(mode, raw, media=None, limits=LIMITS) -> ParamInvalid:
    with pytest.raises(ParamInvalid) as err:
        parse_params(mode, raw, limits, media)
    return err.value


def test_template_default_size_is_what_the_graph_renders():
    p = parse_params("t2v", {"prompt": "a cat"}, LIMITS)
    assert (p.width, p.height) == (1280, 704)
    p = parse_params("t2v", {"prompt": "a cat", "width": 1280, "height": 720}, LIMITS)
    assert (p.width, p.height) == (1280, 704)  # two stages: multiples of 64
    p = parse_params("keyframe", {"width": 1000, "height": 720}, LIMITS)
    assert (p.width, p.height) == (992, 704)  # one stage: multiples of 32


def test_default_size_follows_the_input_and_one_side_derives_the_other():
    p = parse_params("i2v", {"prompt": "x"}, LIMITS, {"image": IMAGE})
    assert (p.width, p.height) == (768, 1152)
    assert p.width % 64 == 0 and abs(p.width / p.height - 800 / 1200) < 0.05
    p = parse_params("i2v", {"prompt": "x", "width": 512}, LIMITS, {"image": IMAGE})
    assert (p.width, p.height) == (512, 768)
    small = Limits(max_width=640, max_height=640)
    p = parse_params("t2v", {"prompt": "x"}, small)
    assert p.width <= 640 and p.height <= 640 and p.width % 64 == 0


def test_size_out_of_bounds_says_what_is_allowed():
    err = refused("t2v", {"prompt": "x", "width": 2048})
    assert (err.param, err.value) == ("width", 2048)
    assert err.allowed == "256..1280 px, snapped down to a multiple of 64"
    assert refused("keyframe", {"height": 100}).allowed.endswith("multiple of 32")


@pytest.mark.parametrize(
    ("duration", "fps", "frames"), [(5, 25, 121), (5, 24, 121), (3.3, 24, 73), (1, 8, 9)]
)
def test_duration_becomes_8k_plus_1_frames(duration, fps, frames):
    from engine.modes._geometry import frames_for

    assert frames_for(duration, fps) == frames
    p = parse_params("t2v", {"prompt": "x", "duration_s": duration, "fps": fps}, LIMITS)
    assert p.duration_s == duration


def test_duration_bounds():
    err = refused("t2v", {"prompt": "x", "duration_s": 12})
    assert (err.param, err.allowed) == ("duration_s", "more than 0 and at most 10 s")
    err = refused("t2v", {"prompt": "x", "duration_s": 0.2, "fps": 25})
    assert err.param == "duration_s" and "at least 0.32 s" in err.allowed
    assert refused("t2v", {"prompt": "x", "duration_s": -1}).param == "duration_s"


def test_audio_modes_cap_the_duration_to_the_audio_after_the_start():
    p = parse_params("a2v", {"prompt": "x"}, LIMITS, {"audio": AUDIO})
    assert p.duration_s == pytest.approx(3.3) and p.fps == 24
    p = parse_params(
        "a2v", {"prompt": "x", "duration_s": 9, "start_s": 1.0}, LIMITS, {"audio": AUDIO}
    )
    assert p.duration_s == pytest.approx(2.3)
    err = refused("lipsync", {"start_s": 4.0}, {"image": IMAGE, "audio": AUDIO})
    assert err.param == "start_s" and "3.30 s" in err.allowed
    err = refused("lipsync", {"start_s": 3.0}, {"image": IMAGE, "audio": AUDIO})
    assert err.param == "duration_s" and "too short" in err.allowed


def test_style_takes_its_length_and_pace_from_the_source_window():
    p = parse_params("style", {"start_s": 1.5}, LIMITS, MEDIA["style"])
    assert p.duration_s == pytest.approx(6.0)
    assert (p.fps, p.source_fps) == (30, 30.0)
    assert (p.width, p.height) == (1280, 704)
    long = MediaInfo("video", 1280, 720, duration_s=60.0, fps=24.0)
    p = parse_params("style", {}, LIMITS, {"style_image": IMAGE, "video": long})
    assert p.duration_s == 10.0 and p.fps == 24
    p = parse_params("style", {"fps": 12}, LIMITS, MEDIA["style"])
    assert p.fps == 12  # asked for: the clip is retimed


def test_seed_is_random_by_default_and_kept_when_given():
    seeds = {parse_params("t2v", {"prompt": "x"}, LIMITS).seed for _ in range(5)}
    assert len(seeds) > 1 and all(0 <= s <= SEED_MAX for s in seeds)
    assert parse_params("t2v", {"prompt": "x", "seed": 42}, LIMITS).seed == 42
    assert refused("t2v", {"prompt": "x", "seed": -1}).allowed == f"a whole number 0..{SEED_MAX}"


@pytest.mark.parametrize("mode", MODE_NAMES)
def test_parsing_a_parsed_dump_is_a_no_op(mode):
    p = parse_params(mode, {"prompt": "a fox", "preset": "Quality"}, LIMITS, MEDIA[mode])
    again = parse_params(mode, p.model_dump(mode="json"), LIMITS, MEDIA[mode])
    assert again == p
    assert p.preset == "quality"


def test_prompts_and_unknown_parameters():
    assert refused("t2v", {}).param == "prompt"
    assert refused("t2v", {"prompt": "   "}).param == "prompt"
    assert parse_params("keyframe", {}, LIMITS).prompt == ""
    err = refused("t2v", {"prompt": "x" * 201})
    assert (err.param, err.value, err.allowed) == ("prompt", "201 characters", "1..200 characters")
    err = refused("t2v", {"prompt": "x", "colour": "red"})
    assert err.param == "colour" and "negative_prompt" in err.allowed
    assert refused("t2v", {"prompt": "x", "preset": "turbo"}).allowed == "fast, balanced or quality"
    assert refused("t2v", {"prompt": "x", "fps": 61}).allowed == "a whole number 8..60"
    assert parse_params("t2v", {"prompt": "x", "seed": None}, LIMITS).seed is not None


def test_media_must_be_there_and_of_the_right_kind():
    err = refused("lipsync", {}, {"image": IMAGE})
    assert err.param == "audio" and err.value is None
    assert err.allowed == "an audio file. The speech to lip-sync; it is kept."
    err = refused("i2v", {"prompt": "x"}, {"image": AUDIO})
    assert (err.param, err.value) == ("image", "audio")
    # Without media info the checks wait (the bot's cheap first pass).
    assert parse_params("lipsync", {}, LIMITS).duration_s == 5.0


def test_modes_declare_their_slots():
    assert [s.name for s in get_mode("keyframe").media] == ["first_image", "last_image"]
    assert [s.name for s in get_mode("style").media] == ["style_image", "video"]
    assert get_mode("t2v").media == ()
    with pytest.raises(ParamInvalid) as err:
        get_mode("v2v")
    assert err.value.param == "mode"


@pytest.mark.parametrize("mode", MODE_NAMES)
def test_server_maxima_below_the_smallest_size_are_refused_not_exceeded(mode):
    small = Limits(max_duration_s=10.0, max_width=192, max_height=1280, max_prompt_chars=200)
    err = refused(mode, {"prompt": "p"}, MEDIA[mode], limits=small)
    assert err.param == "width" and "192 px" in err.allowed and "256 px" in err.allowed
    ok = Limits(max_duration_s=10.0, max_width=256, max_height=256, max_prompt_chars=200)
    params = parse_params(mode, {"prompt": "p"}, ok, MEDIA[mode])
    assert params.width <= 256 and params.height <= 256
