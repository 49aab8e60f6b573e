"""The warm-up's pure rules: which modes warm on which card and cache, the
setting's forms, and the tiny job itself (no ComfyUI run here; those are in
test_warmup.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from engine.warmup import cache_keeps_both, holds_both, model_bytes, warmup_job
from ltxbot.app import warmup_modes
from ltxbot.settings import REPO_ROOT, Settings
from ltxbot.startup import StartupError

H100 = 85_032_042_496  # what torch gives for an H100 80GB (79.2 GiB)
H200 = 150_754_820_096  # an H200 (143771 MiB)
LRU = ["--cache-lru", "100"]
WORKFLOWS = REPO_ROOT / "workflows"


def _modes(vram, **settings):
    runtime = SimpleNamespace(info=SimpleNamespace(vram_bytes=vram))
    built = Settings(_env_file=None, **settings)
    return warmup_modes(built, runtime, WORKFLOWS)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("setting", "vram", "args", "expected"),
    [
        ("auto", None, LRU, ()),  # a CPU box: the first job loads the models
        ("on", None, LRU, ("t2v",)),  # memory unknown: one family
        ("off", H200, LRU, ()),
        ("auto", H100, LRU, ("t2v",)),  # both families do not fit beside a job
        ("auto", H200, LRU, ("t2v", "keyframe")),
        ("on", H200, LRU, ("t2v", "keyframe")),
        # ComfyUI's default cache would drop t2v's models for keyframe's.
        ("auto", H200, [], ("t2v",)),
        ("auto", H200, ["--cache-lru", "32"], ("t2v",)),
    ],
)
def test_the_warm_up_follows_the_setting_the_card_and_the_cache(setting, vram, args, expected):
    assert _modes(vram, warmup=setting, comfy_args=args) == expected


def test_the_rule_weighs_both_families_files_against_the_card():
    both = model_bytes(WORKFLOWS, ("t2v", "keyframe"))
    assert both == 67_538_700_000  # the dev and distilled checkpoints, Gemma, its LoRA, ...
    assert not holds_both(both, H100) and holds_both(both, H200)
    assert holds_both(both, int(both / 0.75)) and not holds_both(both, int(both / 0.75) - 1)
    assert not holds_both(None, H200) and not holds_both(both, None)
    assert model_bytes(WORKFLOWS, ("t2v", "no-such-mode")) is None


def test_only_a_big_enough_lru_cache_keeps_both():
    assert cache_keeps_both(["--cache-lru", "100"]) and cache_keeps_both(["--cache-lru=500"])
    assert not cache_keeps_both([]) and not cache_keeps_both(["--cache-lru", "99"])
    assert not cache_keeps_both(["--cache-lru", "x"]) and not cache_keeps_both(["--fast"])


def test_the_warm_up_modes_named_are_honoured_in_order():
    assert _modes(H100, warmup_modes=["keyframe", "t2v", "keyframe"]) == ("keyframe", "t2v")
    assert _modes(None, warmup="on", warmup_modes=["i2v"]) == ("i2v",)
    assert _modes(None, warmup_modes=["i2v"]) == ()  # auto on a CPU box: still off


def test_a_warm_up_mode_that_is_no_mode_stops_the_start():
    with pytest.raises(StartupError, match=r"LTXBOT_WARMUP_MODES names no such mode: t2x \("):
        _modes(H100, warmup_modes=["t2v", "t2x"])


@pytest.mark.parametrize("value", ["t2v,keyframe", " t2v , keyframe ", '["t2v", "keyframe"]'])
def test_the_warm_up_modes_setting_takes_commas_or_json(monkeypatch, value):
    monkeypatch.setenv("LTXBOT_WARMUP_MODES", value)
    assert Settings(_env_file=None).warmup_modes == ["t2v", "keyframe"]


def test_the_warm_up_job_is_the_smallest_default_t2v():
    job = warmup_job("t2v")
    assert (job.params["width"], job.params["height"]) == (256, 256)
    assert job.params["preset"] == "balanced" and not job.params["enhance_prompt"]
