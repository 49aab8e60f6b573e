"""What Fast, Balanced and Quality change in the graph.

In the original app the presets changed nothing. Here each one sets bound
inputs: the sigma schedules (steps), whether the full-size refinement stage runs
(stages) and the sampler. Balanced is the official template as published.

The schedules are the LTX-2.3 distilled ones, subsetted (Fast) or with midpoints
inserted (Quality); they are a starting point for tuning, not measured optima.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The templates' schedules.
DISTILLED_8 = "1.0, 0.99375, 0.9875, 0.98125, 0.975, 0.909375, 0.725, 0.421875, 0.0"
REFINE_3 = "0.85, 0.7250, 0.4219, 0.0"
# Quality: the LTX-2 stage-2 distilled schedule with midpoints, 6 steps.
REFINE_6 = "0.909375, 0.8171875, 0.725, 0.5734375, 0.421875, 0.2109375, 0.0"
# One-stage modes: 4 steps kept from the 8; 12 steps with midpoints in the big gaps.
DISTILLED_4 = "1.0, 0.975, 0.725, 0.421875, 0.0"
DISTILLED_12 = (
    "1.0, 0.99375, 0.9875, 0.98125, 0.975, 0.9421875, 0.909375, 0.8171875, 0.725, "
    "0.5734375, 0.421875, 0.2109375, 0.0"
)


def steps_of(sigmas: str) -> int:
    return len([s for s in sigmas.split(",") if s.strip()]) - 1


@dataclass(frozen=True)
class PresetPlan:
    """What a preset runs for one mode: `values` are binding values; the rest
    describes them (for the docs and the time estimate)."""

    preset: str
    steps: int
    refine_steps: int
    sampler: str
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def stages(self) -> int:
        return 2 if self.refine_steps else 1


def _two_stage(preset: str) -> PresetPlan:
    if preset == "fast":
        return PresetPlan(
            "fast", 8, 0, "euler", {"refine": False, "sigmas": DISTILLED_8, "sampler": "euler"}
        )
    if preset == "quality":
        values = {
            "refine": True,
            "sigmas": DISTILLED_8,
            "refine_sigmas": REFINE_6,
            "sampler": "euler_ancestral",
        }
        return PresetPlan("quality", 8, 6, "euler_ancestral", values)
    values = {"refine": True, "sigmas": DISTILLED_8, "refine_sigmas": REFINE_3, "sampler": "euler"}
    return PresetPlan("balanced", 8, 3, "euler", values)


def _keyframe(preset: str) -> PresetPlan:
    # SamplerEulerAncestral with eta 0 is plain Euler; eta 1 is ancestral.
    table = {
        "fast": (DISTILLED_4, 0.0, "euler"),
        "balanced": (DISTILLED_8, 0.0, "euler"),
        "quality": (DISTILLED_12, 1.0, "euler_ancestral"),
    }
    sigmas, eta, name = table[preset]
    return PresetPlan(preset, steps_of(sigmas), 0, name, {"sigmas": sigmas, "eta": eta})


def _style(preset: str) -> PresetPlan:
    table = {
        "fast": (4, "euler"),
        "balanced": (8, "euler_ancestral"),
        "quality": (12, "euler_ancestral"),
    }
    steps, sampler = table[preset]
    return PresetPlan(preset, steps, 0, sampler, {"steps": steps, "sampler": sampler})


def preset_plan(mode: str, preset: str) -> PresetPlan:
    if mode == "keyframe":
        return _keyframe(preset)
    if mode == "style":
        return _style(preset)
    return _two_stage(preset)
