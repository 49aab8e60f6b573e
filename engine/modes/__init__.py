"""The six LTX-2.3 modes: parameter models, limits, building a job's workflow,
and time estimates."""

from engine.modes._geometry import MIN_SIDE, frames_for, window_frames
from engine.modes.build import BuiltWorkflow, binding_values, build_workflow, required_bindings
from engine.modes.check import check_mode_workflow, check_workflows
from engine.modes.params import PRESETS
from engine.modes.parse import allowed_text, parse_params
from engine.modes.presets import PresetPlan, preset_plan
from engine.modes.spec import MODE_NAMES, MODES, Limits, MediaInfo, MediaSlot, ModeSpec, get_mode
from engine.modes.timing import estimate_gpu_seconds

__all__ = [
    "MIN_SIDE",
    "MODES",
    "MODE_NAMES",
    "PRESETS",
    "BuiltWorkflow",
    "Limits",
    "MediaInfo",
    "MediaSlot",
    "ModeSpec",
    "PresetPlan",
    "allowed_text",
    "binding_values",
    "build_workflow",
    "check_mode_workflow",
    "check_workflows",
    "estimate_gpu_seconds",
    "frames_for",
    "get_mode",
    "parse_params",
    "preset_plan",
    "required_bindings",
    "window_frames",
]
