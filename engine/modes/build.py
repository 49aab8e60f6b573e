"""`build_workflow`: a mode's workflow file with a job's values bound in.

Rule for bindings a workflow lacks: the mode's required ones must be there
(`output`, every required media slot, and `prompt`); any other parameter the
workflow does not bind is skipped. That is what lets the model-free test graphs
(which bind no sampler) and an operator's own exports (which may bind only what
they care about) run the same jobs as the generated workflows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import ParamInvalid, WorkflowMissing
from engine.modes import _geometry as geo
from engine.modes.params import BaseParams
from engine.modes.presets import preset_plan
from engine.modes.spec import ModeSpec, get_mode
from engine.workflows.bindings import OUTPUT, apply_bindings, find_bindings
from engine.workflows.load import load_workflow, workflow_path


@dataclass(frozen=True)
class BuiltWorkflow:
    """A prompt ready to queue, and what it will produce."""

    mode: str
    prompt: dict
    output_node_ids: tuple[str, ...]
    frames: int
    width: int
    height: int
    fps: int
    preset: str


def required_bindings(mode: str) -> tuple[str, ...]:
    spec = get_mode(mode)
    return (OUTPUT, "prompt", *(s.name for s in spec.media if s.required))


def _frames(spec: ModeSpec, params: BaseParams, duration_s: float) -> int:
    """`duration_s` is `params.duration_s` once the caller has checked it is set."""
    if spec.timed:
        return geo.frames_for(duration_s, params.fps)
    return geo.window_frames(duration_s, getattr(params, "source_fps", None) or params.fps)


def binding_values(mode: str, params: BaseParams, input_files: Mapping[str, str]) -> dict[str, Any]:
    """Every value a workflow of this mode may bind, by parameter name."""
    spec = get_mode(mode)
    p = params
    if p.seed is None or p.width is None or p.height is None or p.duration_s is None:
        raise ParamInvalid(
            param="params", value=None, allowed="parameters completed by parse_params"
        )
    frames = _frames(spec, p, p.duration_s)
    values: dict[str, Any] = {
        "prompt": p.prompt,
        "width": p.width,
        "height": p.height,
        "fps": p.fps,
        "seed": p.seed,
        "enhance_prompt": p.enhance_prompt,
        "frames": frames,
        # Timed modes: steer `seconds * fps + 1` to exactly `frames`. Style: the
        # source window itself.
        "duration_s": geo.graph_seconds(frames, p.fps) if spec.timed else p.duration_s,
        **preset_plan(mode, p.preset).values,
    }
    if p.negative_prompt is not None:
        values["negative_prompt"] = p.negative_prompt
    if hasattr(p, "start_s"):
        values["start_s"] = p.start_s
    for slot in spec.media:
        if slot.name in input_files:
            values[slot.name] = input_files[slot.name]
        elif slot.required:
            raise ParamInvalid(param=slot.name, value=None, allowed=f"an input {slot.kind} file")
    return values


def build_workflow(
    mode: str, params: BaseParams, input_files: Mapping[str, str], workflows_dir: Path
) -> BuiltWorkflow:
    """Load `<workflows_dir>/<mode>.json` and bind the job's values into it.
    `input_files` maps media slots to file names in ComfyUI's input folder."""
    prompt = load_workflow(mode, workflows_dir)
    bindings = find_bindings(prompt)
    missing = [name for name in required_bindings(mode) if name not in bindings]
    if missing:
        raise WorkflowMissing(
            mode=mode,
            path=str(workflow_path(mode, workflows_dir)),
            reason="no node binds " + ", ".join(f"ltx:{m}" for m in missing),
        )
    values = binding_values(mode, params, input_files)
    bound = apply_bindings(prompt, {k: v for k, v in values.items() if k in bindings})
    return BuiltWorkflow(
        mode=mode,
        prompt=bound,
        output_node_ids=tuple(b.node_id for b in bindings[OUTPUT]),
        frames=values["frames"],
        width=values["width"],
        height=values["height"],
        fps=params.fps,
        preset=params.preset,
    )
