from __future__ import annotations

import pytest

from engine.modes import Limits, build_workflow, estimate_gpu_seconds, get_mode, parse_params
from tests.engine.modes.test_parse import MEDIA
from tools._paths import WORKFLOWS_DIR


def estimate(mode: str, **raw) -> float:
    raw.setdefault("prompt", "x")
    p = parse_params(mode, raw, Limits(), MEDIA[mode])
    files = {s.name: "f" for s in get_mode(mode).media}
    return estimate_gpu_seconds(build_workflow(mode, p, files, WORKFLOWS_DIR))


def test_the_template_default_matches_the_published_30_s():
    assert estimate("t2v", duration_s=5, fps=25) == pytest.approx(30.0, abs=0.5)


@pytest.mark.parametrize("mode", ["t2v", "a2v", "i2v", "lipsync", "keyframe", "style"])
def test_presets_order_and_size_scale(mode):
    fast, balanced, quality = (estimate(mode, preset=p) for p in ("fast", "balanced", "quality"))
    assert 0 < fast < balanced < quality
    if mode != "style":
        assert estimate(mode, width=640, height=384) < balanced
        assert estimate(mode, duration_s=2) < balanced


def test_prompt_enhancement_costs_time():
    assert estimate("t2v", enhance_prompt=True) > estimate("t2v") + 5
