from __future__ import annotations

from fractions import Fraction

from engine.media import MediaLimits
from engine.media._ladder import MIN_BPP, VBV_BUFFER_S, Rung, audio_bitrate, ladder, plan
from engine.media._plan import declared_duration, plan_video, quarter_turns

LIMITS = MediaLimits(video_max_side=1280, video_max_fps=30)


def test_video_plan_scales_the_long_side_down_and_keeps_sides_even() -> None:
    p = plan_video(1921, 1081, 0, Fraction(24), LIMITS)
    assert (p.width, p.height) == (1280, 720)
    assert p.fps == 24


def test_video_plan_never_upscales() -> None:
    p = plan_video(320, 240, 0, Fraction(30000, 1001), LIMITS)
    assert (p.width, p.height, p.fps) == (320, 240, Fraction(30000, 1001))


def test_video_plan_turns_portrait_phone_video_upright() -> None:
    p = plan_video(1920, 1080, -90, Fraction(60), LIMITS)
    assert (p.width, p.height) == (720, 1280)
    assert p.rotation == 270
    assert p.fps == 30  # capped


def test_video_plan_without_a_known_rate_uses_the_cap() -> None:
    assert plan_video(64, 64, 0, None, LIMITS).fps == 30


def test_quarter_turns_snap() -> None:
    assert [quarter_turns(r) for r in (0, 89.6, -90, 180, -180, 271)] == [0, 90, 270, 180, 180, 270]


def test_declared_duration_takes_the_longest_claim() -> None:
    facts = {"duration_s": 3.0, "audio": {"duration_s": 4.5}, "video": None}
    assert declared_duration(facts, "audio") == 4.5
    assert declared_duration({"duration_s": None, "video": None}, "video") is None


def test_ladder_goes_down_in_size_then_in_rate() -> None:
    rungs = ladder(1280, 720, Fraction(24))
    assert [(r.width, r.height) for r in rungs[:5]] == [
        (1280, 720),
        (960, 540),
        (854, 480),
        (640, 360),
        (426, 240),
    ]
    assert [r.fps for r in rungs[4:]] == [24, 15, 12, 8]
    assert all(r.width % 2 == 0 and r.height % 2 == 0 for r in rungs)


def test_ladder_for_portrait_and_small_sources() -> None:
    assert ladder(720, 1280, Fraction(24))[1] == Rung(540, 960, Fraction(24))
    small = ladder(200, 100, Fraction(10))
    assert [(r.width, r.height, r.fps) for r in small] == [(200, 100, 10), (200, 100, 8)]


def test_plan_keeps_full_size_when_the_budget_allows() -> None:
    rungs = ladder(1280, 720, Fraction(24))
    a = plan(10 * 2**20, 10.0, rungs, True, 0)
    assert a.index == 0
    assert a.audio_bps == 128_000
    # What x264 may spend in the worst case stays inside the budget.
    worst = (a.video_bps * (10 + VBV_BUFFER_S) + a.audio_bps * 10) / 8
    assert worst < 10 * 2**20


def test_plan_steps_down_when_bits_per_pixel_get_thin() -> None:
    rungs = ladder(1280, 720, Fraction(24))
    a = plan(2**20, 10.0, rungs, True, 0)
    assert a.index > 0
    r = a.rung
    assert a.video_bps / (r.width * r.height * float(r.fps)) >= MIN_BPP
    assert a.audio_bps < 128_000


def test_plan_never_climbs_back_above_start_and_ends_at_the_last_rung() -> None:
    rungs = ladder(1280, 720, Fraction(24))
    assert plan(10 * 2**20, 1.0, rungs, False, 2).index == 2
    tiny = plan(10_000, 60.0, rungs, True, 0)
    assert tiny.index == len(rungs) - 1
    assert tiny.video_bps > 0


def test_audio_gets_less_when_the_budget_is_tight() -> None:
    assert [audio_bitrate(b) for b in (5e6, 1e6, 5e5, 1e5)] == [128_000, 96_000, 64_000, 32_000]
