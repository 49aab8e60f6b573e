"""build_workflow: a job's values in the real and the model-free workflows."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from engine.errors import ParamInvalid, WorkflowMissing
from engine.modes import MODE_NAMES, Limits, build_workflow, get_mode, parse_params
from engine.modes.presets import DISTILLED_8, REFINE_3, REFINE_6
from engine.workflows.bindings import find_bindings
from tests.engine.modes.test_parse import MEDIA
from tools._paths import WORKFLOWS_DIR

TEST_WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
LIMITS = Limits()


def files(mode: str) -> dict[str, str]:
    return {s.name: f"in-{s.name}.bin" for s in get_mode(mode).media}


def bound(built, param: str) -> list:
    return [
        built.prompt[b.node_id]["inputs"][b.input_name] for b in find_bindings(built.prompt)[param]
    ]


def build(mode: str, directory: Path = WORKFLOWS_DIR, **raw):
    raw.setdefault("prompt", "a red fox in the snow")
    params = parse_params(mode, raw, LIMITS, MEDIA[mode])
    return params, build_workflow(mode, params, files(mode), directory)


@pytest.mark.parametrize("mode", MODE_NAMES)
@pytest.mark.parametrize("directory", [WORKFLOWS_DIR, TEST_WORKFLOWS], ids=["real", "test"])
def test_every_mode_builds(mode, directory):
    params, built = build(mode, directory, seed=7, negative_prompt="blur")
    assert built.mode == mode and built.preset == "balanced"
    assert (built.width, built.height, built.fps) == (params.width, params.height, params.fps)
    assert built.output_node_ids and all(i in built.prompt for i in built.output_node_ids)
    assert set(bound(built, "prompt")) == {"a red fox in the snow"}
    for slot in get_mode(mode).media:
        assert bound(built, slot.name) == [f"in-{slot.name}.bin"]
    if "seed" in find_bindings(built.prompt):
        assert set(bound(built, "seed")) == {7}
    if "negative_prompt" in find_bindings(built.prompt):
        assert bound(built, "negative_prompt") == ["blur"]


def graph_length(seconds: float, fps: int) -> set[int]:
    """The latent frames the graph keeps, whether it truncates or rounds."""
    return {
        8 * ((n - 1) // 8) + 1 for n in (math.floor(seconds * fps) + 1, round(seconds * fps) + 1)
    }


@pytest.mark.parametrize(
    ("mode", "duration", "fps"), [("t2v", 5, 25), ("t2v", 3.7, 30), ("a2v", 3.3, 24)]
)
def test_the_graph_produces_the_frames_announced(mode, duration, fps):
    _, built = build(mode, duration_s=duration, fps=fps)
    assert graph_length(bound(built, "duration_s")[0], fps) == {built.frames}
    assert bound(built, "fps") == [fps]


def test_model_free_workflow_gets_frames_directly():
    _, built = build("i2v", TEST_WORKFLOWS, duration_s=2, fps=8, width=256, height=256)
    assert built.frames == 17 and bound(built, "frames") == [17]
    assert bound(built, "width") == [256]


def test_presets_change_steps_stages_and_sampler():
    _, fast = build("t2v", preset="fast")
    _, balanced = build("t2v", preset="balanced")
    _, quality = build("t2v", preset="quality")
    assert bound(fast, "refine") == [False] and bound(balanced, "refine") == [True]
    assert bound(balanced, "sigmas") == [DISTILLED_8]
    assert bound(balanced, "refine_sigmas") == [REFINE_3]
    assert bound(quality, "refine_sigmas") == [REFINE_6]
    assert bound(quality, "sampler") == ["euler_ancestral"]
    _, style_fast = build("style", preset="fast")
    assert bound(style_fast, "steps") == [4] and bound(style_fast, "sampler") == ["euler"]
    _, key_quality = build("keyframe", preset="quality")
    assert len(bound(key_quality, "sigmas")[0].split(",")) == 13
    assert bound(key_quality, "eta") == [1.0]


def test_unset_negative_prompt_keeps_the_workflows_own():
    template_text = json.loads((WORKFLOWS_DIR / "t2v.json").read_text())["267:247"]["inputs"]
    _, built = build("t2v")
    assert bound(built, "negative_prompt") == [template_text["text"]]


def test_required_bindings_must_exist(tmp_path):
    prompt = json.loads((TEST_WORKFLOWS / "i2v.json").read_text())
    prompt["5"]["_meta"]["title"] = "Load Image"  # the image slot is no longer bound
    (tmp_path / "i2v.json").write_text(json.dumps(prompt))
    params = parse_params("i2v", {"prompt": "x"}, LIMITS)
    with pytest.raises(WorkflowMissing) as err:
        build_workflow("i2v", params, files("i2v"), tmp_path)
    assert "ltx:image" in err.value.reason
    with pytest.raises(WorkflowMissing, match="not found"):
        build_workflow("t2v", params, {}, tmp_path)


def test_optional_bindings_a_workflow_lacks_are_skipped(tmp_path):
    """An operator's export that binds only the prompt, the image and the output."""
    prompt = json.loads((TEST_WORKFLOWS / "i2v.json").read_text())
    for node_id in ("6", "7", "20"):
        prompt[node_id]["_meta"]["title"] = "mine"
    (tmp_path / "i2v.json").write_text(json.dumps(prompt))
    params = parse_params("i2v", {"prompt": "x", "width": 512}, LIMITS)
    built = build_workflow("i2v", params, files("i2v"), tmp_path)
    assert built.prompt["6"]["inputs"]["width"] == 64  # untouched
    assert built.prompt["5"]["inputs"]["image"] == "in-image.bin"


def test_missing_input_file_and_unparsed_params():
    params = parse_params("i2v", {"prompt": "x"}, LIMITS)
    with pytest.raises(ParamInvalid) as err:
        build_workflow("i2v", params, {}, WORKFLOWS_DIR)
    assert err.value.param == "image"
    raw = get_mode("t2v").params_model(prompt="x")  # no seed or size yet
    with pytest.raises(ParamInvalid):
        build_workflow("t2v", raw, {}, WORKFLOWS_DIR)


def test_startup_check_passes_for_both_workflow_sets_and_names_what_is_wrong(tmp_path):
    from engine.modes import check_workflows
    from tools._paths import load_object_info

    info = load_object_info()
    assert check_workflows(WORKFLOWS_DIR, info) == {}
    assert check_workflows(TEST_WORKFLOWS, info) == {}
    prompt = json.loads((TEST_WORKFLOWS / "t2v.json").read_text())
    prompt["21"]["_meta"]["title"] = "Save"
    (tmp_path / "t2v.json").write_text(json.dumps(prompt))
    found = check_workflows(tmp_path, info)
    assert set(found) == set(MODE_NAMES)
    assert [p.message for p in found["t2v"]] == ["no node is titled ltx:output"]
    assert found["i2v"][0].message == "workflow not loadable"
